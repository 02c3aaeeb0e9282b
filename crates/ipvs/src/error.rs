//! Errors of the IPVS client and their ipvsadm wording.
//!
//! The kernel reports failures as an errno; what the user reads depends on the
//! operation that failed (`ESRCH` is "No such service" for `-E` but "Service not
//! defined" for `-a`). [`Error::ipvsadm_message`] reproduces ipvsadm 1.31's
//! wording, falling back to the C library's `strerror`.

use std::ffi::CStr;
use std::fmt;

/// The operation a request performed, used to pick the error wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Opening the socket and resolving the `IPVS` family.
    Init,
    /// `GET_INFO`.
    GetInfo,
    /// `FLUSH`.
    Flush,
    /// `NEW_SERVICE`.
    AddService,
    /// `SET_SERVICE`.
    EditService,
    /// `DEL_SERVICE`.
    DelService,
    /// `ZERO`.
    Zero,
    /// `NEW_DEST`.
    AddDest,
    /// `SET_DEST`.
    EditDest,
    /// `DEL_DEST`.
    DelDest,
    /// `SET_CONFIG` (timeouts).
    SetTimeouts,
    /// `NEW_DAEMON`.
    StartDaemon,
    /// `DEL_DAEMON`.
    StopDaemon,
    /// `GET_SERVICE` dump.
    GetServices,
    /// `GET_SERVICE` for one service.
    GetService,
    /// `GET_DEST` dump.
    GetDests,
    /// `GET_CONFIG`.
    GetTimeouts,
    /// `GET_DAEMON` dump.
    GetDaemons,
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            OpKind::Init => "initialise ipvs",
            OpKind::GetInfo => "get ipvs info",
            OpKind::Flush => "flush the table",
            OpKind::AddService => "add service",
            OpKind::EditService => "edit service",
            OpKind::DelService => "delete service",
            OpKind::Zero => "zero counters",
            OpKind::AddDest => "add real server",
            OpKind::EditDest => "edit real server",
            OpKind::DelDest => "delete real server",
            OpKind::SetTimeouts => "set timeouts",
            OpKind::StartDaemon => "start sync daemon",
            OpKind::StopDaemon => "stop sync daemon",
            OpKind::GetServices => "list services",
            OpKind::GetService => "get service",
            OpKind::GetDests => "list real servers",
            OpKind::GetTimeouts => "get timeouts",
            OpKind::GetDaemons => "list sync daemons",
        };
        f.write_str(s)
    }
}

/// A failed IPVS request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel (or the socket layer) refused the request with an errno.
    #[error("failed to {op}: {}", strerror(*errno))]
    Kernel {
        /// What was attempted.
        op: OpKind,
        /// Positive errno.
        errno: i32,
    },
    /// The netlink socket failed.
    #[error("failed to {op}: netlink socket error")]
    Socket {
        /// What was attempted.
        op: OpKind,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// A reply could not be decoded.
    #[error("failed to {op}: malformed netlink reply: {detail}")]
    Decode {
        /// What was attempted.
        op: OpKind,
        /// Decoder message.
        detail: String,
    },
}

impl Error {
    /// The operation that failed.
    pub fn op(&self) -> OpKind {
        match self {
            Error::Kernel { op, .. } | Error::Socket { op, .. } | Error::Decode { op, .. } => *op,
        }
    }

    /// The errno this error stands for (`EINVAL` for undecodable replies, as
    /// libipvs reports them).
    pub fn errno(&self) -> i32 {
        match self {
            Error::Kernel { errno, .. } => *errno,
            Error::Socket { source, .. } => source.raw_os_error().unwrap_or(libc::EINVAL),
            Error::Decode { .. } => libc::EINVAL,
        }
    }

    /// The message ipvsadm 1.31 prints for this failure.
    pub fn ipvsadm_message(&self) -> String {
        ipvs_strerror(self.op(), self.errno())
    }
}

/// ipvsadm's `ipvs_strerror`: the operation-specific text for `errno`, else
/// the generic one, else the C library's.
pub fn ipvs_strerror(op: OpKind, errno: i32) -> String {
    use OpKind::*;
    let specific = match (op, errno) {
        (AddService, libc::EEXIST) => Some("Service already exists"),
        (AddService | EditService, libc::ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (EditService | DelService | Zero, libc::ESRCH) => Some("No such service"),
        (AddDest | EditDest | DelDest, libc::ESRCH) => Some("Service not defined"),
        (AddDest, libc::EEXIST) => Some("Destination already exists"),
        (EditDest | DelDest, libc::ENOENT) => Some("No such destination"),
        (StartDaemon, libc::EEXIST) => Some("Daemon has already run"),
        (StopDaemon, libc::ESRCH) => Some("No daemon is running"),
        (GetServices | GetDests | GetService, libc::ESRCH) => Some("No such service"),
        _ => None,
    };
    if let Some(s) = specific {
        return s.to_string();
    }
    let generic = match errno {
        libc::EPERM => Some("Permission denied (you must be root)"),
        libc::EINVAL => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        libc::ENOPROTOOPT => Some("Protocol not available"),
        libc::ENOMEM => Some("Memory allocation problem"),
        libc::EOPNOTSUPP => Some("Operation not supported with IPv6"),
        libc::EAFNOSUPPORT => Some("Operation not supported with specified address family"),
        libc::EMSGSIZE => Some("Module is wrong version"),
        _ => None,
    };
    match generic {
        Some(s) => s.to_string(),
        None => strerror(errno),
    }
}

/// The C library's text for `errno` (e.g. "Numerical result out of range").
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that stays
    // valid until the next strerror call; it is copied out immediately and
    // this crate calls it from one thread at a time.
    unsafe {
        let p = libc::strerror(errno);
        if p.is_null() {
            return format!("Unknown error {errno}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_specific_wording() {
        assert_eq!(
            ipvs_strerror(OpKind::AddDest, libc::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            ipvs_strerror(OpKind::EditService, libc::ESRCH),
            "No such service"
        );
        assert_eq!(
            ipvs_strerror(OpKind::AddService, libc::ENOENT),
            "Scheduler or persistence engine not found"
        );
        assert_eq!(
            ipvs_strerror(OpKind::Init, libc::ENOPROTOOPT),
            "Protocol not available"
        );
        assert_eq!(
            ipvs_strerror(OpKind::AddDest, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(ipvs_strerror(OpKind::Flush, libc::ESRCH), "No such process");
    }
}
