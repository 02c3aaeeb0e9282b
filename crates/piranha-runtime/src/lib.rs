//! Daemon plumbing shared by the piranha-rs daemons (pulse, lvs, nanny).
//!
//! Each module is small and does one thing the way Piranha's daemons did it:
//!
//! * [`logger`]: a [`log::Log`] that writes to syslog (facility daemon, ident
//!   with the pid) and, in the foreground, also `ident: message` lines on stdout.
//! * [`arp`]: send_arp's arguments, the gratuitous ARP frame and the IPv6
//!   unsolicited neighbour advertisement (pnet, AF_PACKET), for send_arp
//!   and pulse's first announcement.
//! * [`daemon`]: detach from the terminal (double fork, `setsid`, stdio on
//!   `/dev/null`), and mark inherited descriptors close-on-exec.
//! * [`error`]: print an error with all its sources, `: `-separated.
//! * [`forkserver`]: start many copies of one program (lvs's nannies) by
//!   forking a pre-started copy instead of an `exec` each.
//! * [`net`]: addresses of both families and link state over
//!   rtnetlink (pulse's floating addresses; lvs asks whether a virtual IP
//!   is still here).
//! * [`notify`]: the service manager's notification socket (systemd
//!   `Type=notify`): ready, reloading, stopping and a status line.
//! * [`pidfile`]: a daemon's pidfile, refusing a live copy, written
//!   atomically, removed on exit.
//! * [`quote`]: commands in log lines, quoted as a shell needs them; bytes
//!   sent or received, escaped and capped to one log line.
//! * [`ready`]: a readiness byte from an exec'd child (lvs to pulse)
//!   through an inherited pipe named in the environment.
//! * [`signals`]: catch signals into flags plus a self-pipe, so one loop
//!   outside the handler can wait for "a signal or a deadline".
//! * [`spawn`]: run a helper program with default signal dispositions, stdin
//!   closed, bounded captured output and a deadline; describe wait statuses;
//!   reap every ended child with `waitpid(-1, WNOHANG)`.

pub mod arp;
pub mod daemon;
pub mod error;
pub mod forkserver;
pub mod logger;
pub mod net;
pub mod notify;
pub mod pidfile;
pub mod quote;
pub mod ready;
pub mod signals;
pub mod spawn;

/// Is `path` the program `name` installed next to the running executable
/// (compared after resolving links)?  pulse asks it of `--lvsd`: only our
/// own lvs speaks the readiness handshake and the standby role.
pub fn is_beside_me(path: &std::path::Path, name: &str) -> bool {
    let Ok(exe) = std::env::current_exe() else {
        return false;
    };
    match (
        std::fs::canonicalize(path),
        std::fs::canonicalize(exe.with_file_name(name)),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
