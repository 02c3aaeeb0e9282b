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
//! shows and changes), [`pages`] (HTML), [`control`] (the daemons found by
//! their pidfiles, the director's status asked of their control sockets,
//! and the drain and weight requests sent to lvs), [`server`] (the gate
//! and the handlers).

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
/// Default control socket of pulse.
pub const DEFAULT_PULSE_SOCKET: &str = piranha_status::socket::PULSE_SOCKET;
/// Default control socket of lvs.
pub const DEFAULT_LVS_SOCKET: &str = piranha_status::socket::LVS_SOCKET;
/// Default pidfile of pulse.
pub const DEFAULT_PULSE_PIDFILE: &str = "/var/run/pulse.pid";
/// Default pidfile of lvs.
pub const DEFAULT_LVS_PIDFILE: &str = "/var/run/lvs.pid";
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
    /// pulse's control socket (its `status json` includes lvs's part).
    pub pulse_socket: PathBuf,
    /// lvs's control socket (status, and the drain and weight requests).
    pub lvs_socket: PathBuf,
    /// pulse's pidfile.
    pub pulse_pidfile: PathBuf,
    /// lvs's pidfile.
    pub lvs_pidfile: PathBuf,
    /// How long to wait for each read and write on a control socket.
    pub socket_timeout: Duration,
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
            pulse_socket: PathBuf::from(DEFAULT_PULSE_SOCKET),
            lvs_socket: PathBuf::from(DEFAULT_LVS_SOCKET),
            pulse_pidfile: PathBuf::from(DEFAULT_PULSE_PIDFILE),
            lvs_pidfile: PathBuf::from(DEFAULT_LVS_PIDFILE),
            socket_timeout: Duration::from_secs(3),
        }
    }
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
