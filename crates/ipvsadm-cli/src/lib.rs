//! ipvsadm 1.31's command line over the [`ipvs`] crate: a drop-in for the
//! `ipvsadm` program, usable in-process by lvs, nanny and pulse.
//!
//! [`main`] is the whole program: connect (loading `ip_vs` with modprobe and
//! retrying once, as ipvsadm does), then parse argv with a popt-compatible
//! scanner, check options against ipvsadm's command/option matrix, and either
//! print a listing or apply one change. `-R` reads one command per line from
//! standard input; its changes go to the kernel in batches over the one
//! socket, and every message, exit code and output byte matches 1.31.
//!
//! - [`parse`]: one argv (or one `-R` line) to an [`Action`], or the
//!   [`Diag`] ipvsadm would print; [`usage`] and [`VERSION_LINE`].
//! - [`run`]: one command against any [`ipvs::IpvsBackend`] (the fake in
//!   tests) with its output and input in an [`Io`]; returns the exit code.
//! - [`run_captured`], [`is_ours`], [`connect`]: what the daemons use to run
//!   "ipvsadm" in-process when the configured program is this one.
//! - [`format`](mod@format): `-L`/`-l` (with all modifiers), `-S`, `-c`,
//!   `--timeout`, `--daemon` output as pure functions over the model.
//! - [`resolve`]: host, service and number lookups the way ipvsadm does them
//!   (the C library's resolver, `inet_aton` syntax).
//!
//! Exit codes: 0 success; 1 listing failed; 2 invalid arguments or start-up
//! failure; 255 kernel refused a change, popt error, or "Try ... -h".
//!
//! The kernel side (the table model, the netlink client, the in-memory fake
//! and the kernel's error wording) stays in [`ipvs`].

pub mod format;
pub mod resolve;

mod action;
mod options;
mod parse;
mod popt;
mod program;
mod run;
mod usage;
mod values;

pub use action::{Action, Diag};
pub use options::Command;
pub use parse::parse;
pub use program::{connect, is_ours, main, run_captured, CannotInit, Captured};
pub use run::{run, Io};
pub use usage::{usage, VERSION_LINE};

#[cfg(test)]
mod tests;
