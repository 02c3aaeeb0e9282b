//! Running as a daemon: detach, pidfile, drop privileges, serve until
//! SIGTERM or SIGINT.

use std::path::PathBuf;
use std::sync::Arc;

use nix::unistd::{Uid, User};
use piranha_runtime::daemon::{detach, Detached, Starter};
use piranha_runtime::logger::{self, Sinks};
use piranha_runtime::pidfile::{Pidfile, PidfileError};

use crate::{App, Settings};

/// The user piranha-gui runs as when started by root (Piranha's).
pub const DEFAULT_USER: &str = "piranha";

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// `--user` names no user.
    #[error("no user `{0}`")]
    NoUser(String),
    /// Looking a user up failed.
    #[error("cannot look up user `{0}`")]
    Lookup(String, #[source] nix::Error),
    /// Detaching failed.
    #[error("cannot detach")]
    Detach(#[source] piranha_runtime::daemon::DaemonError),
    /// Another piranha-gui runs.
    #[error(transparent)]
    Pidfile(PidfileError),
    /// Dropping privileges failed.
    #[error("cannot switch to user `{0}`")]
    Drop(String, #[source] nix::Error),
    /// The daemon ended before it was ready (see syslog).
    #[error("the daemon did not start; see syslog")]
    NotReady,
    /// The runtime or the listener failed.
    #[error("server failed")]
    Io(#[source] std::io::Error),
}

/// How to run.
#[derive(Debug)]
pub struct Options {
    /// Stay in the foreground.
    pub nodaemon: bool,
    /// Debug logging.
    pub verbose: bool,
    /// Pidfile.
    pub pidfile: PathBuf,
    /// Switch to this user after binding.
    pub user: Option<User>,
    /// The listen address is a loopback one.
    pub listen_loopback: bool,
    /// An allow-list narrower than "everyone" was given.
    pub allow_given: bool,
}

/// The user to run as: `--user NAME` (must exist); otherwise `piranha`
/// when it exists and we are root; otherwise none (stay as we are).
pub fn target_user(name: Option<&str>) -> Result<Option<User>, DaemonError> {
    match name {
        Some(n) => match User::from_name(n) {
            Ok(Some(u)) => Ok(Some(u)),
            Ok(None) => Err(DaemonError::NoUser(n.to_string())),
            Err(e) => Err(DaemonError::Lookup(n.to_string(), e)),
        },
        None if Uid::effective().is_root() => Ok(User::from_name(DEFAULT_USER).ok().flatten()),
        None => Ok(None),
    }
}

fn drop_to(u: &User) -> Result<(), DaemonError> {
    if u.uid == Uid::effective() && u.uid == Uid::current() {
        return Ok(());
    }
    let err = |e| DaemonError::Drop(u.name.clone(), e);
    let name = std::ffi::CString::new(u.name.clone()).map_err(|_| err(nix::Error::EINVAL))?;
    nix::unistd::initgroups(&name, u.gid).map_err(err)?;
    nix::unistd::setgid(u.gid).map_err(err)?;
    nix::unistd::setuid(u.uid).map_err(err)?;
    if nix::unistd::setuid(Uid::from_raw(0)).is_ok() && !u.uid.is_root() {
        return Err(err(nix::Error::EPERM));
    }
    Ok(())
}

/// What a running piranha-gui is called (`comm`), for its pidfile.
const PROGRAM: &[&str] = &["piranha-gui"];

/// Detach (unless `nodaemon`), write the pidfile, drop privileges and
/// serve on `listener` until SIGTERM or SIGINT.
pub fn run(
    listener: std::net::TcpListener,
    settings: Settings,
    opts: Options,
) -> Result<(), DaemonError> {
    // Readiness handshake: the starting process exits once the daemon has
    // written its pidfile and dropped privileges (one byte through a pipe),
    // or fails if the daemon dies first.
    Pidfile::check(&opts.pidfile, PROGRAM).map_err(DaemonError::Pidfile)?;
    // In the foreground stdout stays where it is (`detach` would point it
    // at /dev/null), so that `-n` shows the log.
    let starter = if opts.nodaemon {
        Starter::none()
    } else {
        match detach(false).map_err(DaemonError::Detach)? {
            Detached::Parent { ready: true } => return Ok(()),
            Detached::Parent { ready: false } => return Err(DaemonError::NotReady),
            Detached::Daemon(s) => s,
        }
    };
    logger::init(
        "piranha-gui",
        Sinks {
            syslog: true,
            stdout: opts.nodaemon,
        },
        opts.verbose,
    );
    piranha_runtime::daemon::cloexec_inherited_fds();
    let pidfile = match Pidfile::create(&opts.pidfile, PROGRAM) {
        Ok(p) => Some(p),
        Err(e @ PidfileError::Running { .. }) => return Err(DaemonError::Pidfile(e)),
        Err(e) => {
            log::warn!("{}", piranha_runtime::error::Chain(&e));
            None
        }
    };
    if let Some(u) = &opts.user {
        let _ = nix::unistd::chown(&opts.pidfile, Some(u.uid), Some(u.gid));
        drop_to(u)?;
    }
    if Uid::effective().is_root() {
        log::warn!("running as root: there is no user {DEFAULT_USER} and no --user was given");
    }
    if let Some(dir) = settings
        .configfile
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        if nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_err() {
            log::warn!(
                "uid {} cannot write {}: ACCEPT will fail (lvs.cf is replaced through a temporary file, lvs.cf.bak and lvs.cf.lock in that directory)",
                Uid::effective(),
                dir.display()
            );
        }
    }
    if !opts.listen_loopback && !opts.allow_given {
        log::warn!("listening on a non-loopback address without --allow: every client that can reach it may try to log in");
    }
    let addr = listener.local_addr().map_err(DaemonError::Io)?;
    log::info!(
        "listening on {addr} (http://{addr}/): the Piranha Configuration Tool for {}, as uid {}",
        settings.configfile.display(),
        Uid::effective()
    );
    listener.set_nonblocking(true).map_err(DaemonError::Io)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::Io)?;
    let app: Arc<App> = App::new(settings);
    let r = rt.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let l = tokio::net::TcpListener::from_std(listener)?;
        // Catch SIGTERM and SIGINT before telling the starter we are ready,
        // so an immediate `stop` ends us cleanly (pidfile removed).
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        starter.ready();
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        };
        crate::serve(l, app, stop).await
    });
    if let Some(p) = pidfile {
        p.remove();
    }
    log::info!("shutting down");
    r.map_err(DaemonError::Io)
}
