//! The kernel's IPVS table behind one seam. lvs computes typed changes
//! ([`ipvs::Op`], see [`plan`](crate::plan) and [`quorum`](crate::quorum))
//! and reads the table as typed entries; a [`Kernel`] carries them out:
//!
//! - [`Netlink`]: the kernel over generic netlink, in-process, when lvs.cf's
//!   `ipvsadm` is our own program (the same requests, messages and modprobe
//!   retry as that program; COMPATIBILITY.md L9);
//! - [`Direct`]: any [`ipvs::IpvsBackend`], e.g. the in-memory
//!   [`ipvs::fake::FakeIpvs`] of the unit tests;
//! - [`foreign::Program`]: a foreign ipvsadm named in lvs.cf (an
//!   administrator's wrapper, Debian's ipvsadm), spoken to in its text:
//!   `-S -n` to read, `-R` for a batch, one invocation for a single change.
//!   This is the only place lvs makes or reads ipvsadm text;
//! - [`DryRun`]: `--test-start`, which logs each change in that text and
//!   makes none.
//!
//! [`Table`] is what the daemon holds: a kernel plus the program's name,
//! logging each refused change as `ipvsadm failed: <ipvsadm's message>`.

pub mod foreign;

use ipvs::{IpvsBackend, Op, ServiceEntry};

pub use piranha_runtime::quote::{argv_line, shell_word};

/// Why the table could not be read or changed at all (a refused change is
/// a [`Refused`], not this).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The program could not be started.
    #[error("failed to run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran and failed.
    #[error("{program} {args} failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// The arguments, joined.
        args: String,
        /// How it ended.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// The kernel could not be reached or read over netlink.
    #[error("{0}")]
    Kernel(String),
}

/// A change the kernel (or the foreign program) refused.
#[derive(Debug)]
pub enum Refused {
    /// The kernel's answer to a typed change (its error names the kind of
    /// change, in ipvsadm's words).
    Kernel(ipvs::Error),
    /// A line a foreign ipvsadm wrote on its standard error.
    Program(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Kernel(error) => f.write_str(&error.ipvsadm_message()),
            Refused::Program(line) => f.write_str(line),
        }
    }
}

/// What lvs needs of the kernel's table.
pub trait Kernel {
    /// Every service with its real servers.
    fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError>;
    /// Every service with its counters and its real servers with their
    /// weights and connections, but not their traffic counters: cheaper
    /// than [`Kernel::read`] on a large table (the status).
    fn read_brief(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        self.read()
    }
    /// Make `ops` in order, as one batch (`ipvsadm -R` for a program). A
    /// refused change does not stop the rest; the refusals are returned.
    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Refused>, TableError>;
    /// Make one change (a program runs once for it, as Piranha's lvsd ran
    /// ipvsadm for a sorry server).
    fn apply_one(&mut self, op: &Op) -> Result<Vec<Refused>, TableError> {
        self.apply(std::slice::from_ref(op))
    }
    /// The changes are made in this process (said in `-v` log lines).
    fn in_process(&self) -> bool {
        false
    }
}

/// Any [`IpvsBackend`] as the kernel: the fake in tests.
#[derive(Debug, Default)]
pub struct Direct<B>(pub B);

impl<B: IpvsBackend> Kernel for Direct<B> {
    fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        self.0
            .table()
            .map_err(|e| TableError::Kernel(e.ipvsadm_message()))
    }

    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Refused>, TableError> {
        Ok(refusals(self.0.apply(ops)))
    }
}

fn refusals(results: Vec<Result<(), ipvs::Error>>) -> Vec<Refused> {
    results
        .into_iter()
        .filter_map(|r| r.err().map(Refused::Kernel))
        .collect()
}

/// Give each service (from netlink) the real servers `/proc/net/ip_vs`
/// lists for it (a firewall mark matches by mark alone: the file does not
/// say its family).
fn merge_proc(services: Vec<ipvs::Service>, proc: Vec<ServiceEntry>) -> Vec<ServiceEntry> {
    type Id = (u16, u16, std::net::IpAddr, u16, u32);
    let id = |s: &ipvs::Service| -> Id {
        if s.fwmark != 0 {
            (0, 0, ipvs::unspecified(ipvs::AF_INET), 0, s.fwmark)
        } else {
            (s.af, s.protocol, s.addr, s.port, 0)
        }
    };
    let mut dests: std::collections::HashMap<Id, Vec<ipvs::Destination>> = proc
        .into_iter()
        .map(|e| (id(&e.service), e.dests))
        .collect();
    services
        .into_iter()
        .map(|service| {
            let dests = dests.remove(&id(&service)).unwrap_or_default();
            ServiceEntry { service, dests }
        })
        .collect()
}

/// The kernel over generic netlink. The socket opens on first use, with
/// our ipvsadm's modprobe retry, and opens again after a socket error.
#[derive(Default)]
pub struct Netlink {
    client: Option<ipvs::netlink::NetlinkIpvs>,
}

impl Netlink {
    fn client(&mut self) -> Result<&mut ipvs::netlink::NetlinkIpvs, TableError> {
        if self.client.is_none() {
            let (c, _) = ipvsadm_cli::connect()
                .map_err(|e| TableError::Kernel(e.to_string().trim().to_string()))?;
            self.client = Some(c);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Forget the socket when an error may have left it unusable.
    fn check<T>(&mut self, failed: bool, v: T) -> T {
        if failed {
            self.client = None;
        }
        v
    }
}

impl Kernel for Netlink {
    fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        let r = self.client()?.table();
        let failed = matches!(r, Err(ipvs::Error::Socket { .. }));
        self.check(
            failed,
            r.map_err(|e| TableError::Kernel(e.ipvsadm_message())),
        )
    }

    /// One netlink dump of the services (with their counters), and the
    /// real servers from `/proc/net/ip_vs` in one read, instead of one
    /// dump per service.
    fn read_brief(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        let Ok(proc) = ipvs::procfs::read() else {
            return self.read();
        };
        let r = self.client()?.services();
        let failed = matches!(r, Err(ipvs::Error::Socket { .. }));
        let services = self.check(
            failed,
            r.map_err(|e| TableError::Kernel(e.ipvsadm_message())),
        )?;
        // /proc/net/ip_vs names a mark service by its mark alone: with an
        // IPv4 and an IPv6 service of one mark, only netlink tells their
        // real servers apart.
        let mut marks = std::collections::HashSet::new();
        if services
            .iter()
            .any(|s| s.fwmark != 0 && !marks.insert(s.fwmark))
        {
            return self.read();
        }
        Ok(merge_proc(services, proc))
    }

    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Refused>, TableError> {
        let results = self.client()?.apply(ops);
        let failed = results
            .iter()
            .any(|r| matches!(r, Err(ipvs::Error::Socket { .. })));
        let refused = refusals(results);
        Ok(self.check(failed, refused))
    }

    fn in_process(&self) -> bool {
        true
    }
}

/// `--test-start`: every change is logged as `[test-start] PROGRAM
/// WORDS` (the ipvsadm line Piranha would have run) and none is made; the
/// table reads empty.
pub struct DryRun {
    /// lvs.cf's `ipvsadm`.
    pub program: String,
}

impl Kernel for DryRun {
    fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        Ok(Vec::new())
    }

    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Refused>, TableError> {
        for op in ops {
            log::info!(
                "[test-start] {} {}",
                self.program,
                argv_line(&foreign::op_words(op))
            );
        }
        Ok(Vec::new())
    }
}

/// The table lvs programs: lvs.cf's `ipvsadm` and the kernel it stands for.
pub struct Table {
    /// lvs.cf's `ipvsadm` (a reload that changes it opens a new table).
    pub program: String,
    kernel: Box<dyn Kernel>,
}

impl Table {
    /// The table behind `program`: the kernel itself when it is our own
    /// ipvsadm, else that program; only logged in test-start mode.
    pub fn open(program: String, test_start: bool) -> Self {
        let kernel: Box<dyn Kernel> = if test_start {
            Box::new(DryRun {
                program: program.clone(),
            })
        } else if ipvsadm_cli::is_ours(&program) {
            Box::new(Netlink::default())
        } else {
            Box::new(foreign::Program {
                program: program.clone(),
            })
        };
        Table { program, kernel }
    }

    /// A table over any kernel (tests).
    pub fn with_kernel(program: String, kernel: Box<dyn Kernel>) -> Self {
        Table { program, kernel }
    }

    /// The changes are made in this process, and the table read from the
    /// kernel carries its counters.
    pub fn in_process(&self) -> bool {
        self.kernel.in_process()
    }

    /// Every service with its real servers, without the real servers'
    /// traffic counters ([`Kernel::read_brief`]).
    pub fn read_brief(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        self.kernel.read_brief()
    }

    /// Every service with its real servers.
    pub fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        self.kernel.read()
    }

    /// Make `ops` as one batch; each refusal is logged. True when every
    /// change was made.
    pub fn apply(&mut self, ops: &[Op]) -> bool {
        if ops.is_empty() {
            return true;
        }
        self.trace(ops);
        let r = self.kernel.apply(ops);
        report(r)
    }

    /// Make one change on its own; a refusal is logged. True when made.
    pub fn apply_one(&mut self, op: &Op) -> bool {
        self.trace(std::slice::from_ref(op));
        let r = self.kernel.apply_one(op);
        report(r)
    }

    /// With `-v`, each change as the ipvsadm line it stands for, as lvs
    /// logged it when it ran the program (`tests/lab/lvs.sh` greps it).
    fn trace(&self, ops: &[Op]) {
        if log::log_enabled!(log::Level::Debug) {
            for op in ops {
                log::debug!(
                    "{} {}{}",
                    self.program,
                    argv_line(&foreign::op_words(op)),
                    if self.kernel.in_process() {
                        " (in-process)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
}

fn report(r: Result<Vec<Refused>, TableError>) -> bool {
    match r {
        Ok(refused) => {
            for e in &refused {
                log::error!("ipvsadm failed: {e}");
            }
            refused.is_empty()
        }
        Err(e) => {
            log::error!("{e}");
            false
        }
    }
}

#[cfg(test)]
mod tests;
