//! lvs (Piranha's lvsd): read lvs.cf, program the kernel's virtual services
//! (over netlink, or through the ipvsadm program lvs.cf names), run one nanny per active real server, keep them alive,
//! apply a changed lvs.cf on SIGHUP, and tear everything down on SIGTERM.
//!
//! * [`key`]: how IPVS names a virtual service (`-t`, `-u`, `-f`).
//! * [`plan`]: pure: the services, nanny argv, start-up and reload changes.
//! * [`kernel`]: the IPVS table behind one seam: netlink, the fake, or a
//!   foreign ipvsadm program (the only place with ipvsadm text).
//! * [`sorry`]: live real servers from nanny state lines (sorry server).
//! * [`quorum`]: pure: the quorum extension's decisions and table changes.
//! * [`scripts`]: the `quorum_up` / `quorum_down` scripts, bounded.
//! * [`daemon`]: the process: supervision, signals, reload, shutdown.

pub mod bird;
pub mod daemon;
pub mod kernel;
pub mod key;
pub mod plan;
pub mod quorum;
pub mod scripts;
pub mod sorry;

use piranha_runtime::daemon::{cloexec_inherited_fds, detach, Detached, Starter};
use piranha_runtime::logger::{self, Sinks};
use piranha_runtime::pidfile::Pidfile;
use piranha_runtime::signals::SignalWaiter;

pub use daemon::{Exit, Options};

/// What a running lvs is called (`comm`), for its pidfile.
const LVS_NAMES: &[&str] = &["lvs", "lvsd"];

/// Exit status: stopped cleanly.
pub const EXIT_OK: u8 = 0;
/// Exit status: bad configuration, or could not start.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: shut down because a nanny kept dying (`hard_shutdown`).
pub const EXIT_HARD_SHUTDOWN: u8 = 3;

/// Run the daemon; returns the process exit status.
pub fn main(opts: Options) -> u8 {
    // pulse may signal the role (SIGUSR1/SIGUSR2) as soon as lvs runs;
    // until the handlers are in place below, ignoring them beats dying
    // (the role is what lvs reports, not what it does).
    // SAFETY: signal(2) with SIG_IGN, before any thread exists.
    unsafe {
        libc::signal(libc::SIGUSR1, libc::SIG_IGN);
        libc::signal(libc::SIGUSR2, libc::SIG_IGN);
    }
    let opened = lvs_config::read_file(&opts.config).and_then(|text| {
        let popts = lvs_config::ParseOptions::for_file(opts.config.display().to_string());
        lvs_config::parse_str(&text, &popts).map(|p| (text, p))
    });
    let (text, parsed) = match opened {
        Ok(p) => p,
        Err(d) => {
            for x in &d.0 {
                eprintln!("{x}");
            }
            let line = d.first_error().map(|e| e.span.line).unwrap_or(0);
            eprintln!(
                "lvs: error parsing {} on line {line}.",
                opts.config.display()
            );
            return EXIT_FAILURE;
        }
    };
    for w in &parsed.warnings {
        eprintln!("{w}");
    }
    // pulse's readiness pipe, before anything else can see the variable.
    let ready = piranha_runtime::ready::take_inherited();
    // The starting process exits once the pidfile is written (or with 1 if
    // the daemon dies before).
    let mut starter = Starter::none();
    if let Err(e) = Pidfile::check(&opts.pidfile, LVS_NAMES) {
        eprintln!("lvs: {e}");
        return EXIT_FAILURE;
    }
    if !opts.nodaemon {
        match detach(opts.nofork) {
            Ok(Detached::Parent { ready: true }) => return EXIT_OK,
            Ok(Detached::Parent { ready: false }) => return EXIT_FAILURE,
            Ok(Detached::Daemon(s)) => starter = s,
            Err(e) => {
                eprintln!("lvs: {e}");
                return EXIT_FAILURE;
            }
        }
    }
    cloexec_inherited_fds();
    logger::init(
        "lvs",
        Sinks {
            syslog: true,
            stdout: opts.nodaemon,
        },
        opts.verbose,
    );
    let signals = match SignalWaiter::new(&[
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGCHLD,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ]) {
        Ok(s) => s,
        Err(e) => {
            log::error!("{e}");
            return EXIT_FAILURE;
        }
    };
    let pidfile = match Pidfile::create(&opts.pidfile, LVS_NAMES) {
        Ok(p) => p,
        Err(e) => {
            log::error!("{}", piranha_runtime::error::Chain(&e));
            return EXIT_FAILURE;
        }
    };
    starter.ready();
    let mut d = daemon::Lvsd::new(opts, parsed.config, signals)
        .with_source(text, parsed.layout, parsed.warnings)
        .with_ready(ready);
    d.start();
    let exit = d.run();
    pidfile.remove();
    match exit {
        Exit::Stopped => EXIT_OK,
        Exit::HardShutdown => EXIT_HARD_SHUTDOWN,
    }
}
