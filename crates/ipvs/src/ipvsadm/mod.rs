//! The `ipvsadm` command: a drop-in for ipvsadm 1.31.
//!
//! [`main`] is the whole program: connect (loading `ip_vs` with modprobe and
//! retrying once, as ipvsadm does), then parse argv with a popt-compatible
//! scanner, check options against ipvsadm's command/option matrix, and either
//! print a listing or apply one change. `-R` reads one command per line from
//! standard input; its changes go to the kernel in batches over the one
//! socket, and every message, exit code and output byte matches 1.31.
//!
//! Exit codes: 0 success; 1 listing failed; 2 invalid arguments or start-up
//! failure; 255 kernel refused a change, popt error, or "Try ... -h".

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
