//! nanny: watch one real server of one virtual service and keep its entry
//! in the kernel's IPVS table true, by running ipvsadm, as Piranha's nanny
//! 0.8.6 did, without its failure modes (see `docs/nanny.8` and
//! `docs/COMPATIBILITY.md`).
//!
//! * [`args`]: the lvs→nanny contract: [`Options`](config::Options) to argv and back.
//! * [`config`]: the flags, Piranha's defaults and argument errors.
//! * [`translate`], [`expect`]: send/expect strings.
//! * [`cli`]: nanny's command line (flags, usage, version, exit status).
//! * [`check`]: one TCP/UDP or send-program check.
//! * [`load`]: load-average parsing and weight formulas.
//! * [`ipvsadm`]: the exact ipvsadm argv and the [`ipvsadm::Table`] seam.
//! * [`lvs_table`]: `--lvs-table`, lvs applies the changes (quorum).
//! * [`machine`]: the pure state machine.
//! * [`run`]: the loop, with time and signals behind [`run::Env`].
//!
//! [`start`] puts them together for the binary.

pub mod args;
pub mod check;
pub mod cli;
pub mod config;
pub mod expect;
pub mod health;
pub mod ipvsadm;
pub mod load;
pub mod lvs_table;
pub mod machine;
pub mod overridden;
pub mod run;
pub mod translate;

use std::net::SocketAddr;

use lvs_config::checks::Check;
use piranha_runtime::daemon::{cloexec_inherited_fds, detach, DaemonError, Detached, Starter};
use piranha_runtime::signals::{SignalError, SignalWaiter};

use crate::check::{program_argv, Checker, ProgramCheck, SocketCheck};
use std::time::Duration;

use crate::config::{Config, Expect, LoadMonitor, Probe};
use crate::expect::Matcher;
use crate::health::HealthChecker;
use crate::ipvsadm::{Dest, IpvsadmTable, NetlinkTable, Table};
use crate::machine::{LoadSource, Machine, NoLoad, Params};
use crate::run::{run_loop_with, CommandLoad, Policy, RealEnv, SIGNALS};

pub use crate::run::{EXIT_FAILURE, EXIT_OK};

/// Why nanny could not start monitoring.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Detaching failed.
    #[error("failed to become a daemon")]
    Daemon(#[from] DaemonError),
    /// Signal handlers could not be installed.
    #[error("failed to set up signal handling")]
    Signals(#[from] SignalError),
}

fn matcher(e: &Expect) -> Result<Matcher, regex::Error> {
    if e.regex {
        let m = Matcher::regex(&e.text);
        if let Err(err) = &m {
            log::info!("Error '{err}' processing expected regular expression");
        }
        m
    } else {
        Ok(Matcher::prefix(&e.text))
    }
}

/// Build the checker for `config`.
pub fn build_checker(config: &Config) -> Box<dyn Checker> {
    if let Some(check) = &config.check {
        return Box::new(build_health_checker(config, check));
    }
    match &config.probe {
        Probe::Socket { send, expect } => Box::new(SocketCheck {
            addr: SocketAddr::new(config.rip, config.rport),
            udp: config.udp,
            send: send.clone(),
            expect: expect.as_ref().map(matcher),
            timeout: config.io_timeout,
        }),
        Probe::Program { command, expect } => Box::new(ProgramCheck {
            argv: program_argv(command, config.rip, config.rport),
            expect: expect.as_ref().map(matcher),
            name: SocketAddr::new(config.rip, config.rport).to_string(),
            timeout: config.io_timeout,
        }),
    }
}

/// Extension (issue 9): the checker of `--check`.
pub fn build_health_checker(config: &Config, check: &Check) -> HealthChecker {
    HealthChecker::new(
        SocketAddr::new(config.rip, config.rport),
        check.clone(),
        config.io_timeout,
        config.weight,
    )
}

/// Extension (issue 9): the loop policy: retries, and the warm-up drawn
/// at random in [0, warmup].
pub fn build_policy(config: &Config) -> Policy {
    let t = &config.timing;
    let first_delay = if t.warmup.is_zero() {
        Duration::ZERO
    } else {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        let ms = t.warmup.as_millis() as u64;
        Duration::from_millis(u64::from_ne_bytes(b) % ms.saturating_add(1))
    };
    Policy {
        retry: t.retry,
        retry_delay: t.retry_delay,
        first_delay,
    }
}

/// Build the state machine for `config`.
pub fn build_machine(config: &Config) -> Machine {
    Machine::new(Params {
        service_type: config.service_type,
        name: SocketAddr::new(config.rip, config.rport).to_string(),
        weight: config.weight,
        interval_secs: config.interval.as_secs().max(1),
        count_thresh: config.count_thresh,
        scale: config.scale,
        quiesce: config.quiesce,
        load_monitor: config.load != LoadMonitor::None,
    })
}

/// Daemonize unless `-n`, then monitor until told to stop.  Returns the exit
/// status (in the starting process of a daemon: 0 once it has caught its
/// signals, 1 if it died before).  Call it with one thread only.
pub fn start(config: &Config) -> Result<i32, StartError> {
    let mut starter = Starter::none();
    if !config.nodaemon {
        match detach(config.nofork)? {
            Detached::Parent { ready: true } => return Ok(EXIT_OK),
            Detached::Parent { ready: false } => return Ok(EXIT_FAILURE),
            Detached::Daemon(s) => starter = s,
        }
    }
    cloexec_inherited_fds();
    let waiter = SignalWaiter::new(&SIGNALS)?;
    starter.ready();
    for note in &config.notes {
        log::info!("{note}");
    }
    log::info!("{}", config.start_line());
    let mut checker = build_checker(config);
    let dest = Dest {
        ipvsadm: config.ipvsadm.clone(),
        service: config.service.clone(),
        rip: config.rip,
        rport: config.rport,
        forward: config.forward,
    };
    let mut table: Box<dyn Table> = if config.lvs_table {
        Box::new(lvs_table::LvsTable {
            name: SocketAddr::new(config.rip, config.rport).to_string(),
        })
    } else if !config.norun && ipvsadm_cli::is_ours(&config.ipvsadm) {
        Box::new(NetlinkTable::new(dest, config.verbose))
    } else {
        Box::new(IpvsadmTable {
            dest,
            norun: config.norun,
            verbose: config.verbose,
        })
    };
    // Extension (issue 20): under lvs, keep to the administrator's
    // overrides (lvs owns the entry itself with --lvs-table).
    if !config.lvs_table {
        if let Some(file) = piranha_status::overrides::Watched::from_env() {
            table = Box::new(overridden::Overridden::new(
                table,
                file,
                &config.service,
                SocketAddr::new(config.rip, config.rport).to_string(),
            ));
        }
    }
    let mut load: Box<dyn LoadSource> = match &config.load {
        LoadMonitor::None => Box::new(NoLoad),
        LoadMonitor::Command(cmd) => Box::new(CommandLoad {
            argv: crate::load::load_argv(cmd, config.rip).unwrap_or_default(),
            timeout: config.interval,
        }),
    };
    let mut m = build_machine(config);
    let mut env = RealEnv::new(waiter);
    if !config.lvs_table && !config.norun {
        // either family: `-V 10.0.0.100`, `-V 2001:db8::100`
        if let Some(vip) = config
            .vip
            .as_deref()
            .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        {
            env = env.hold_when_orphaned(vip);
        }
    }
    let policy = build_policy(config);
    if let Some(check) = &config.check {
        log::info!(
            "health check: {} (I/O timeout {} s, retry {}, first check in {} ms)",
            check.name(),
            config.io_timeout.as_secs(),
            policy.retry,
            policy.first_delay.as_millis()
        );
    }
    Ok(run_loop_with(
        &mut m,
        &mut env,
        checker.as_mut(),
        table.as_mut(),
        load.as_mut(),
        config.interval,
        &policy,
    ))
}
