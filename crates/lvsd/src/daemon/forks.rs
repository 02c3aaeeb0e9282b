//! The nanny fork servers: a pool of [`ForkServer`]s that start our own
//! nanny with a fork instead of an exec, used in turn, and given up for
//! fork+exec when they keep failing.

use std::path::PathBuf;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use piranha_runtime::error::Chain;
use piranha_runtime::forkserver::{ForkServer, ForkServerError};

/// Requests lvs keeps in flight to the fork server while starting many
/// nannies.
pub(super) const FORK_WINDOW: usize = 16;

/// How many times a fork server that died is started again before lvs
/// falls back to fork+exec for good.
const FORK_SERVER_STARTS: u32 = 3;

/// The nanny fork servers ([`piranha_runtime::forkserver`]): used for a
/// `client_monitor` that is the nanny installed next to this lvs (the same
/// file once symlinks are resolved), so that starting thousands of nannies
/// costs a fork each instead of an exec.  One server per CPU (at most 4),
/// used in turn, so that several forks proceed at once.  Any other monitor
/// program, and every nanny after a server fails, is started with
/// fork+exec.
pub(super) struct Forks {
    /// Our nanny, canonical; None disables the servers.
    program: Option<PathBuf>,
    /// The last `client_monitor` path asked about and whether it is our
    /// nanny (every real server of a typical lvs.cf names the same one).
    last: Option<(String, bool)>,
    /// The running servers, each with an id that is never reused, so that
    /// a request in flight names the server that owes its answer even when
    /// others fail or are replaced meanwhile.
    pub(super) servers: Vec<(u64, ForkServer)>,
    next_id: u64,
    /// How many servers to run.
    want: usize,
    /// The server the next request goes to.
    next: usize,
    starts: u32,
}

impl Forks {
    pub(super) fn new(enabled: bool) -> Self {
        let program = enabled
            .then(|| std::env::current_exe().ok())
            .flatten()
            .and_then(|exe| std::fs::canonicalize(exe.with_file_name("nanny")).ok());
        let want = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        Forks {
            program,
            last: None,
            servers: Vec::new(),
            next_id: 0,
            want,
            next: 0,
            starts: 0,
        }
    }

    /// A server (id and handle) for the next request, when `argv0` is
    /// our nanny; servers are started on first use.
    pub(super) fn for_program(&mut self, argv0: &str) -> Option<(u64, &ForkServer)> {
        let ours = self.program.as_ref()?;
        let is_ours = match &self.last {
            Some((path, is)) if path == argv0 => *is,
            _ => {
                let is = std::fs::canonicalize(argv0).ok().as_ref() == Some(ours);
                self.last = Some((argv0.to_string(), is));
                is
            }
        };
        if !is_ours {
            return None;
        }
        if self.servers.is_empty() {
            if self.starts >= FORK_SERVER_STARTS {
                return None;
            }
            self.starts += 1;
            for _ in 0..self.want {
                match ForkServer::start(ours, piranha_runtime::spawn::child_of_daemon) {
                    Ok(s) => {
                        log::debug!("nanny fork server running as pid {}", s.pid());
                        self.next_id += 1;
                        self.servers.push((self.next_id, s));
                    }
                    Err(e) => {
                        log::warn!("{}; starting nannies with exec", Chain(&e));
                        break;
                    }
                }
            }
            if self.servers.is_empty() {
                self.starts = FORK_SERVER_STARTS;
                return None;
            }
        }
        self.next = (self.next + 1) % self.servers.len();
        let (id, server) = &self.servers[self.next];
        Some((*id, server))
    }

    /// Server `id`, unless it failed or exited.
    pub(super) fn get(&self, id: u64) -> Option<&ForkServer> {
        self.servers.iter().find(|(i, _)| *i == id).map(|(_, s)| s)
    }

    /// Server `i` failed a request: stop using it.  Requests other servers
    /// still owe answers to are collected as usual, so no nanny they
    /// already started is started twice.
    pub(super) fn failed(&mut self, id: u64, e: &ForkServerError) {
        log::warn!("{}; starting this nanny with exec", Chain(e));
        if let Some(i) = self.servers.iter().position(|(i, _)| *i == id) {
            let (_, s) = self.servers.remove(i);
            let _ = kill(s.pid(), Signal::SIGKILL);
        }
    }

    /// `pid` was reaped: true if it was a server.
    pub(super) fn reaped(&mut self, pid: Pid) -> bool {
        if let Some(i) = self.servers.iter().position(|(_, s)| s.pid() == pid) {
            self.servers.remove(i);
            log::warn!("nanny fork server (pid {pid}) exited");
            return true;
        }
        false
    }
}
