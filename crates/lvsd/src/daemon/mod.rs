//! The lvs daemon: program the services, run one nanny per real server,
//! keep them alive, apply reloads, and tear everything down on SIGTERM.
//!
//! The files: `state` (the [`Lvsd`] state, [`Options`], [`Exit`]),
//! `main_loop` (start, the loop, shutdown), `forks` (the nanny fork
//! servers), `nannies` (their supervision and output lines),
//! `sorry_server` (sorry servers and their hold), `reload` (SIGHUP),
//! `quorums` (the quorum extension at run time), `readiness` (the
//! readiness byte, the standby role, the hold after pulse died) and
//! `control` (the control socket, the nannies' check reports, drains and
//! the other overrides).

mod announce;
mod control;
mod forks;
mod main_loop;
mod nannies;
mod quorums;
mod readiness;
mod reload;
mod sorry_server;
mod state;

pub use nannies::HARD_SHUTDOWN_DEATHS;
pub use state::{Exit, Lvsd, Options};
