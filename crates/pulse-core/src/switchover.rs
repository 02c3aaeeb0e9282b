//! `pulse --switchover`: ask the running pulse of this director to hand the
//! active role to its partner and stay, passive (maintenance without a
//! stop).  The request is [`crate::daemon::switchover_signal`]; the answer
//! is what the administrator wants to know: the virtual addresses left this
//! director (the partner took them, make before break), or they did not.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use piranha_runtime::net::{Kernel, NetError, Netlink};

use crate::daemon::{
    floating_addresses, handover_bound_ms, load_config, switchover_signal, StartError,
};

/// Why a switch-over did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SwitchoverError {
    /// lvs.cf did not parse.
    #[error(transparent)]
    Config(#[from] StartError),
    /// No live pulse behind the pidfile.
    #[error("pulse is not running (no live pulse in {0})")]
    NotRunning(String),
    /// rtnetlink failed.
    #[error("failed to read this host's addresses")]
    Net(#[source] NetError),
    /// This director holds none of the floating addresses.
    #[error("this director is not active (it holds none of the virtual addresses): nothing to hand over")]
    NotActive,
    /// The signal could not be sent.
    #[error("failed to signal pulse {pid}")]
    Signal {
        /// pulse's pid.
        pid: i32,
        /// Why.
        #[source]
        source: nix::Error,
    },
    /// pulse ended while handing over.
    #[error("pulse {0} ended during the switch-over")]
    Died(i32),
    /// The addresses are still here.
    #[error("still active after {0} ms: the partner did not take over (see the system log)")]
    Timeout(u128),
}

/// The floating addresses of lvs.cf this host holds now and pulse added
/// (pulse adds them with a finite lifetime; one already present, "forever",
/// is not pulse's and never leaves).
fn held(kernel: &mut Netlink, floating: &[IpAddr]) -> Result<usize, SwitchoverError> {
    let here: HashSet<IpAddr> = kernel
        .addresses()
        .map_err(SwitchoverError::Net)?
        .into_iter()
        .filter(|a| a.lifetime.is_some())
        .map(|a| a.ip)
        .collect();
    Ok(floating.iter().filter(|ip| here.contains(ip)).count())
}

/// Hand the active role over; returns how long the addresses took to
/// leave.
pub fn switchover(configfile: &Path, pidfile: &Path) -> Result<Duration, SwitchoverError> {
    let cfg = load_config(configfile)?;
    let not_running = || SwitchoverError::NotRunning(pidfile.display().to_string());
    let pid = std::fs::read_to_string(pidfile)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|&p| p > 1)
        .ok_or_else(not_running)?;
    let alive = |pid: i32| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !alive(pid) || comm.trim() != "pulse" {
        return Err(not_running());
    }
    let floating: Vec<IpAddr> = floating_addresses(&cfg).iter().map(|f| f.ip).collect();
    let mut kernel = Netlink::open().map_err(SwitchoverError::Net)?;
    if held(&mut kernel, &floating)? == 0 {
        return Err(SwitchoverError::NotActive);
    }
    // SAFETY: a plain kill(2) of a real-time signal number.
    if unsafe { libc::kill(pid, switchover_signal()) } != 0 {
        return Err(SwitchoverError::Signal {
            pid,
            source: nix::Error::last(),
        });
    }
    // The daemon waits at most handover_ms for its partner; a little more
    // here for the round trip.
    let bound = Duration::from_millis(handover_bound_ms(&cfg)) + Duration::from_secs(2);
    let t0 = Instant::now();
    loop {
        if held(&mut kernel, &floating)? == 0 {
            return Ok(t0.elapsed());
        }
        if !alive(pid) {
            return Err(SwitchoverError::Died(pid));
        }
        if t0.elapsed() >= bound {
            return Err(SwitchoverError::Timeout(t0.elapsed().as_millis()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
