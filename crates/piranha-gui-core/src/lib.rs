//! The Piranha Configuration Tool (`piranha-gui`) as a library.
//!
//! [`router`] builds the whole web application (axum); the binary only
//! parses flags, checks the password file ([`check_passwd`]), binds and
//! calls [`serve`]. Tests drive the same router in-process.
//!
//! Every request goes through one gate ([`server`]): the client address is
//! checked against the allow-list first (403), then the request must belong
//! to a logged-in session (cookie) or carry HTTP Basic credentials of user
//! `piranha` (GET and HEAD only), and every POST must carry its session's
//! CSRF token (403 otherwise, before any handler runs). Only `/login` is
//! reachable without logging in.
//!
//! Modules: [`session`] (sessions, tokens, login back-off), [`store`]
//! (locked, validated, atomic lvs.cf changes), [`forms`] (what each panel
//! shows and changes), [`pages`] (HTML), [`control`] (status commands and
//! the process list), [`server`] (the gate and the handlers).

#![warn(missing_docs)]

pub mod control;
pub mod daemon;
pub mod forms;
pub mod pages;
pub mod server;
pub mod session;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use server::{router, serve, App};

use piranha_auth as auth;

/// Default listen address (Piranha's port, loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3636";
/// Default pidfile.
pub const DEFAULT_PIDFILE: &str = "/var/run/piranha-gui.pid";
/// Default idle session timeout, seconds.
pub const DEFAULT_SESSION_TIMEOUT: u64 = 900;

/// How the application runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// lvs.cf.
    pub configfile: PathBuf,
    /// The password file (read at every login, so `piranha-passwd` takes
    /// effect without a restart).
    pub passwd_file: PathBuf,
    /// Client networks allowed to connect; anything else gets 403.
    pub allow: Vec<ipnet::IpNet>,
    /// Idle time after which a session ends.
    pub session_timeout: Duration,
    /// First delay after a failed login; it doubles per failure.
    pub login_delay: Duration,
    /// Longest delay after failed logins.
    pub login_delay_max: Duration,
    /// `ipvsadm` for the CONTROL panel's table (run as `ipvsadm -L -n`).
    pub ipvsadm: PathBuf,
    /// The command whose output is the pulse status (fixed argv).
    pub pulse_status: Vec<String>,
    /// Deadline for the CONTROL panel's commands.
    pub command_timeout: Duration,
}

impl Settings {
    /// Settings for `configfile` and `passwd_file` with every other value
    /// at its default (loopback clients only).
    pub fn new(configfile: PathBuf, passwd_file: PathBuf) -> Self {
        Settings {
            configfile,
            passwd_file,
            allow: vec![
                "127.0.0.0/8".parse().expect("literal"),
                "::1/128".parse().expect("literal"),
            ],
            session_timeout: Duration::from_secs(DEFAULT_SESSION_TIMEOUT),
            login_delay: Duration::from_secs(1),
            login_delay_max: Duration::from_secs(30),
            ipvsadm: default_ipvsadm(),
            pulse_status: default_pulse_status(),
            command_timeout: Duration::from_secs(5),
        }
    }
}

/// `/sbin/ipvsadm`, or `/usr/sbin/ipvsadm` when only that exists.
pub fn default_ipvsadm() -> PathBuf {
    let sbin = Path::new("/sbin/ipvsadm");
    let usr = Path::new("/usr/sbin/ipvsadm");
    if !sbin.exists() && usr.exists() {
        usr.to_path_buf()
    } else {
        sbin.to_path_buf()
    }
}

/// `systemctl status pulse` under systemd, else the SysV script's `status`.
pub fn default_pulse_status() -> Vec<String> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
    if Path::new("/run/systemd/system").is_dir() {
        for s in ["/usr/bin/systemctl", "/bin/systemctl"] {
            if Path::new(s).exists() {
                return v(&[s, "--no-pager", "status", "pulse"]);
            }
        }
    }
    for s in ["/etc/rc.d/init.d/pulse", "/etc/init.d/pulse"] {
        if Path::new(s).exists() {
            return v(&[s, "status"]);
        }
    }
    v(&["/etc/init.d/pulse", "status"])
}

/// Why piranha-gui cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No usable password file.
    #[error("cannot read the password file {path}: {reason}; set the password with piranha-passwd first")]
    NoPasswdFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file has no entry for `piranha`.
    #[error("the password file {path} has no password for user piranha; set it with piranha-passwd first")]
    NoPassword {
        /// The file.
        path: String,
    },
}

/// Refuse to start without a password for `piranha` (Piranha had none by
/// default and let anyone in).
pub fn check_passwd(path: &Path) -> Result<(), StartError> {
    let f = auth::PasswdFile::load(path).map_err(|e| StartError::NoPasswdFile {
        path: path.display().to_string(),
        reason: if e.is_not_found() {
            "it does not exist".to_string()
        } else {
            piranha_runtime::error::chain(&e)
        },
    })?;
    match f.hash_for(auth::GUI_USER) {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(StartError::NoPassword {
            path: path.display().to_string(),
        }),
    }
}
