//! What one command line asks for ([`Action`]) and why parsing stopped
//! ([`Diag`]).

use ipvs::model::*;
use ipvs::Op;

use crate::format::Format;

/// What one invocation (or one `-R` line) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Change the table.
    Apply(Op),
    /// Full listing.
    ListAll(Format),
    /// One service.
    ListService(Service, Format),
    /// Connections from /proc.
    ListConn(Format),
    /// `--timeout`.
    ListTimeout,
    /// `--daemon`.
    ListDaemon,
    /// `-S`.
    Save(Format),
    /// `-R`.
    Restore,
    /// `-h`.
    Help,
    /// `-v`.
    Version,
}

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diag {
    /// ``Try `prog -h' ...``, exit 255.
    TryHelp,
    /// ipvsadm's `fail(2, ...)`: message, exit 2.
    Fail(String),
    /// A popt error after the command: message, the line/invocation returns -1.
    Popt(String),
}

pub(super) fn fail<T>(msg: impl Into<String>) -> Result<T, Diag> {
    Err(Diag::Fail(msg.into()))
}
