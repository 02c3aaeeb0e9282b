//! `piranha-gui`: the Piranha Configuration Tool's web server.
//! Parses flags, checks the password file, binds, detaches, drops
//! privileges, sets up logging and runs the library. Exit codes: 0 normal
//! end (SIGTERM/SIGINT), 1 start-up error (no password, cannot bind, no
//! such user), 2 usage.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use piranha_gui_core::{
    Settings, DEFAULT_LISTEN, DEFAULT_LVS_PIDFILE, DEFAULT_LVS_SOCKET, DEFAULT_PIDFILE,
    DEFAULT_PULSE_PIDFILE, DEFAULT_PULSE_SOCKET, DEFAULT_SESSION_TIMEOUT,
};

#[derive(Parser, Debug)]
#[command(
    name = "piranha-gui",
    version,
    about = "The Piranha Configuration Tool: a web interface to lvs.cf"
)]
struct Args {
    /// Address and port to listen on.
    #[arg(long = "listen", default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Configuration file edited by the panels.
    #[arg(short = 'c', long = "configfile", default_value = lvs_config::DEFAULT_CONFIG_FILE)]
    configfile: PathBuf,
    /// Password file written by piranha-passwd.
    #[arg(long = "passwd-file", default_value = piranha_auth::DEFAULT_PASSWD_FILE)]
    passwd_file: PathBuf,
    /// Client network allowed to connect (repeatable); without it every
    /// client that can reach the listen address is allowed.
    #[arg(long = "allow", value_name = "CIDR")]
    allow: Vec<ipnet::IpNet>,
    /// Run as this user after binding (default: piranha when that user
    /// exists and we start as root).
    #[arg(long = "user")]
    user: Option<String>,
    /// Idle seconds after which a login session ends.
    #[arg(long = "session-timeout", default_value_t = DEFAULT_SESSION_TIMEOUT, value_name = "SECS")]
    session_timeout: u64,
    /// pulse's control socket, asked for the director's status by the
    /// CONTROL/MONITORING panel.
    #[arg(long = "pulse-socket", default_value = DEFAULT_PULSE_SOCKET, value_name = "PATH")]
    pulse_socket: PathBuf,
    /// lvs's control socket: its status, and where the panel's drain,
    /// undrain and weight buttons send their requests.
    #[arg(long = "lvs-socket", default_value = DEFAULT_LVS_SOCKET, value_name = "PATH")]
    lvs_socket: PathBuf,
    /// pulse's pidfile, by which the panel finds pulse.
    #[arg(long = "pulse-pidfile", default_value = DEFAULT_PULSE_PIDFILE, value_name = "FILE")]
    pulse_pidfile: PathBuf,
    /// lvs's pidfile, by which the panel finds lvs.
    #[arg(long = "lvs-pidfile", default_value = DEFAULT_LVS_PIDFILE, value_name = "FILE")]
    lvs_pidfile: PathBuf,
    /// Deprecated and ignored: the panel no longer runs ipvsadm (the table
    /// comes from lvs's control socket).
    #[arg(long = "ipvsadm", value_name = "PATH", hide = true)]
    ipvsadm: Option<PathBuf>,
    /// Stay in the foreground and log to stdout too.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Pidfile.
    #[arg(long = "pidfile", default_value = DEFAULT_PIDFILE)]
    pidfile: PathBuf,
    /// Debug logging.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("piranha-gui: {msg}");
    log::error!("{msg}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(p) = &args.ipvsadm {
        // Kept so that an existing unit file still starts piranha-gui.
        eprintln!(
            "piranha-gui: warning: --ipvsadm {} is deprecated and ignored: the CONTROL/MONITORING panel shows the table lvs reports on its control socket",
            p.display()
        );
    }
    if args.session_timeout == 0 {
        eprintln!("piranha-gui: --session-timeout must be at least 1");
        return ExitCode::from(2);
    }
    if let Err(e) = piranha_gui_core::check_passwd(&args.passwd_file) {
        return fail(e);
    }
    let user = match piranha_gui_core::daemon::target_user(args.user.as_deref()) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let listener = match std::net::TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    let mut settings = Settings::new(args.configfile, args.passwd_file);
    settings.session_timeout = Duration::from_secs(args.session_timeout);
    settings.pulse_socket = args.pulse_socket;
    settings.lvs_socket = args.lvs_socket;
    settings.pulse_pidfile = args.pulse_pidfile;
    settings.lvs_pidfile = args.lvs_pidfile;
    if args.allow.is_empty() {
        settings.allow = vec![
            "0.0.0.0/0".parse().expect("literal"),
            "::/0".parse().expect("literal"),
        ];
    } else {
        settings.allow = args.allow;
    }
    let opts = piranha_gui_core::daemon::Options {
        nodaemon: args.nodaemon,
        verbose: args.verbose,
        pidfile: args.pidfile,
        user,
        listen_loopback: args.listen.ip().is_loopback(),
        allow_given: !settings.allow.iter().any(|n| n.prefix_len() == 0),
    };
    match piranha_gui_core::daemon::run(listener, settings, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
