//! The pulse process: startup checks, heartbeat sockets, the main loop, and
//! carrying out the state machine's actions (commands, lvs, floating
//! addresses, gratuitous ARPs, sync daemon).
//!
//! One thread runs the loop (poll on the heartbeat sockets and the signal
//! pipe, with a timeout to the machine's next deadline); lvs and the
//! `active_cmd`/`inactive_cmd` children are spawned from it, so lvs's
//! `PR_SET_PDEATHSIG` fires when pulse dies.  Gratuitous ARPs are sent by
//! short-lived threads (five `send_arp` runs per address, one second apart)
//! so they never delay a heartbeat.
//!
//! The files: `options` (the command line, errors, exit codes,
//! timings), `plan` (pure: what lvs.cf asks for), `director` (the
//! state the daemon owns), `main_loop` (the loop and the actions),
//! `sockets` (heartbeats), `children` (lvs, helpers, sync daemons,
//! send_arp), `roles` (taking and leaving the active role) and
//! `addresses` (the floating addresses).

mod addresses;
mod children;
mod control;
mod director;
mod main_loop;
mod options;
mod plan;
mod roles;
mod sockets;
mod status;

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use log::{info, warn};
use lvs_config::ServiceType;
use piranha_runtime::daemon::{detach, Detached, Starter};
use piranha_runtime::error::chain;
use piranha_runtime::notify::ServiceManager;
use piranha_runtime::pidfile::{Pidfile, PidfileError};
use piranha_runtime::signals::SignalWaiter;

use crate::lease::Lease;
use crate::machine::Machine;
use crate::net::{Kernel, Netlink};
use director::Director;
use options::LVS_RESTART_FIRST;
use plan::{effective_backup_active, settings_of};
use sockets::{heartbeat_setup, Heartbeat};

pub use options::{
    switchover_signal, Options, StartError, ARP_COUNT, DEFAULT_LVSD, DEFAULT_PIDFILE,
    DEFAULT_SEND_ARP, EXIT_FAILURE, EXIT_OK, LVS_PIDFILE, LVS_START_MS, LVS_STOP_GRACE,
};
pub use plan::{
    announcement_args, floating_addresses, floating_prefix, handover_bound_ms, load_config,
    lvs_argv, ready_bound_ms, sync_daemon_argvs, Floating, SyncCommands,
};

/// Run pulse; returns the exit code.  Call while single-threaded.
pub fn run(opts: Options) -> Result<u8, StartError> {
    let cfg = load_config(&opts.configfile)?;
    if cfg.service() == ServiceType::Fos {
        return Err(StartError::Fos);
    }
    if cfg.active_virtual_servers().next().is_none() {
        return Err(StartError::NoServices(
            opts.configfile.display().to_string(),
        ));
    }
    let mut kernel = Netlink::open().map_err(StartError::Net)?;
    let local: HashSet<IpAddr> = kernel
        .addresses()
        .map_err(StartError::Net)?
        .into_iter()
        .map(|a| a.ip)
        .collect();
    // bgp mode (issue 22): this director is the one of `directors` whose
    // address is here; no heartbeat, every director is active.
    let bgp_me = if cfg.bgp() {
        match cfg.directors().iter().find(|a| local.contains(a)) {
            Some(a) => Some(*a),
            None => {
                return Err(StartError::NotADirector {
                    config: opts.configfile.display().to_string(),
                    list: cfg
                        .directors()
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                })
            }
        }
    } else {
        None
    };
    let master = bgp_me.is_some() || local.contains(&cfg.primary());
    let hb = match bgp_me {
        Some(me) => Heartbeat::none(me),
        None => heartbeat_setup(&cfg, master)?,
    };
    let daemon = !opts.nodaemon;
    Pidfile::check(&opts.pidfile, &["pulse"]).map_err(StartError::Pidfile)?;
    // Readiness handshake: the starting process returns only once the
    // daemon has written its pidfile, so an init system that reads the
    // pidfile after it returns finds it.
    let mut starter = Starter::none();
    // Under systemd's Type=notify the process systemd started is the
    // daemon: no detaching, readiness through the notification socket.
    if daemon && !piranha_runtime::notify::expected() {
        match detach(false).map_err(StartError::Daemon)? {
            Detached::Parent { ready } => return Ok(if ready { EXIT_OK } else { EXIT_FAILURE }),
            Detached::Daemon(s) => starter = s,
        }
    }
    piranha_runtime::daemon::cloexec_inherited_fds();
    let pidfile = match Pidfile::create(&opts.pidfile, &["pulse"]) {
        Ok(p) => Some(p),
        Err(e @ PidfileError::Running { .. }) => return Err(StartError::Pidfile(e)),
        // As Piranha: a pidfile that cannot be written is only logged.
        Err(e) => {
            log::warn!("{}", chain(&e));
            None
        }
    };
    starter.ready();
    let signals = SignalWaiter::new(&[
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGCHLD,
        switchover_signal(),
    ])
    .map_err(StartError::Signals)?;

    if cfg.backup_active() && cfg.backup().is_unspecified() {
        info!("Undefined backup node marked as active? -- clearing that!");
    }
    let monitor_links = cfg.monitor_links() != 0 && effective_backup_active(&cfg);
    let settings = settings_of(&cfg, master);
    let start = Instant::now();
    if let Some(me) = bgp_me {
        info!("director_mode = bgp: director {me}, active beside the others; the routes go through BIRD");
    }
    let (machine, actions) = Machine::start(settings, 0, opts.forceactive || bgp_me.is_some());
    let opts_lvsd = opts.lvsd.clone();
    let mut d = Director {
        opts,
        pidfile,
        cfg,
        master,
        daemon,
        me_public: hb.me_public,
        me_private: hb.me_private,
        partner_ips: hb.partner_ips,
        channels: hb.channels,
        kernel,
        machine,
        lvs: None,
        lvs_restart_at: None,
        lvs_backoff: LVS_RESTART_FIRST,
        sync_running: (false, false),
        lvs_ours: piranha_runtime::is_beside_me(&opts_lvsd, "lvs"),
        exiting: false,
        sync_master_due: false,
        guard_armed: false,
        guard_until: None,
        guard_warned: false,
        helpers: Vec::new(),
        added: Vec::new(),
        lease: Lease::new(settings.keepalive_ms, settings.deadtime_ms, 0),
        arp_gen: Arc::new(AtomicU64::new(0)),
        arps_busy: Arc::new(AtomicBool::new(false)),
        auth: hb.auth,
        start,
        monitor_links,
        nics: Vec::new(),
        service_manager: ServiceManager::new(),
        control: director::Control::default(),
    };
    d.remember_nics();
    d.open_control();
    if d.cfg.hot_standby() && !d.lvs_ours && !d.opts.test_start {
        warn!(
            "hot_standby = 1 needs this suite's lvs; {} is another program: lvs starts at takeover",
            d.opts.lvsd.display()
        );
    }
    d.remove_stale_addresses();
    d.stop_stale_lvs();
    if d.cfg.syncdaemon() {
        // a guard left by a killed pulse
        let _ = crate::guard::remove();
    }
    if d.execute(actions) {
        d.cleanup_exit();
        return Ok(EXIT_OK);
    }
    if !d.machine.active() {
        d.want_standby_lvs();
        d.arm_guard();
    }
    let code = d.main_loop(&signals);
    d.cleanup_exit();
    Ok(code)
}
