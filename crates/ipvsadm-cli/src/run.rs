//! Running a parsed action against a backend: listings, changes, `-R`
//! restore in batches, messages and exit codes.

use std::io::{BufRead, Write};

use ipvs::model::*;
use ipvs::{IpvsBackend, Op};

use crate::action::{Action, Diag};
use crate::format::{self, Format};
use crate::parse::parse;
use crate::resolve::{Names, Numeric, System};
use crate::usage::{usage, VERSION_LINE};

const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// Where a run writes and reads.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Standard input (for `-R`).
    pub input: &'a mut dyn BufRead,
}

/// Process exit requested from deep inside (ipvsadm's `exit()`).
struct Exit(i32);

struct Runner<'a, 'b> {
    backend: &'a mut dyn IpvsBackend,
    info: Info,
    program: String,
    io: &'a mut Io<'b>,
}

impl Runner<'_, '_> {
    fn names(&self, f: &Format) -> Box<dyn Names> {
        if f.numeric {
            Box::new(Numeric)
        } else {
            Box::new(System)
        }
    }

    fn err_line(&mut self, msg: &str) {
        let _ = self.io.out.flush();
        let _ = writeln!(self.io.err, "{msg}");
    }

    fn try_help(&mut self) -> Exit {
        let p = self.program.clone();
        self.err_line(&format!(
            "Try `{p} -h' or '{p} --help' for more information."
        ));
        Exit(255)
    }

    /// Run a parsed action (not Restore); Ok(return value) or Err(exit).
    fn exec(&mut self, action: Action) -> Result<i32, Exit> {
        match action {
            Action::Apply(op) => match self.backend.apply_one(&op) {
                Ok(()) => Ok(0),
                Err(e) => {
                    self.err_line(&e.ipvsadm_message());
                    Ok(-1)
                }
            },
            Action::ListAll(f) | Action::Save(f) => {
                self.list_all(&f)?;
                Ok(0)
            }
            Action::ListService(svc, f) => {
                let s = match self.backend.service(&svc) {
                    Ok(s) => s,
                    Err(e) => {
                        self.err_line(&e.ipvsadm_message());
                        return Err(Exit(1));
                    }
                };
                let dests = match self.backend.dests(&s) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = self.io.out.write_all(format::title(&f).as_bytes());
                        self.err_line(&e.ipvsadm_message());
                        return Err(Exit(1));
                    }
                };
                let names = self.names(&f);
                let text =
                    format::list_one(&ServiceEntry { service: s, dests }, &f, names.as_ref());
                let _ = self.io.out.write_all(text.as_bytes());
                Ok(0)
            }
            Action::ListConn(f) => {
                self.list_conn(&f)?;
                Ok(0)
            }
            Action::ListTimeout => match self.backend.timeouts() {
                Ok(t) => {
                    let _ = self.io.out.write_all(format::timeouts(&t).as_bytes());
                    Ok(0)
                }
                Err(_) => Err(Exit(1)),
            },
            Action::ListDaemon => match self.backend.daemons() {
                Ok(d) => {
                    let _ = self.io.out.write_all(format::daemons(&d).as_bytes());
                    Ok(0)
                }
                Err(_) => Err(Exit(1)),
            },
            Action::Help => {
                let _ = self.io.out.write_all(usage(&self.program).as_bytes());
                Err(Exit(0))
            }
            Action::Version => {
                let _ = writeln!(self.io.out, "{VERSION_LINE}");
                Err(Exit(0))
            }
            Action::Restore => self.restore(),
        }
    }

    fn list_all(&mut self, f: &Format) -> Result<(), Exit> {
        if !f.rule {
            let _ = self
                .io
                .out
                .write_all(format::version_header(&self.info).as_bytes());
        }
        let table = match self.backend.table() {
            Ok(t) => t,
            Err(e) => {
                self.err_line(&e.ipvsadm_message());
                return Err(Exit(1));
            }
        };
        let names = self.names(f);
        let mut entries = table;
        if !f.nosort {
            format::sort_entries(&mut entries);
        }
        let mut text = format::title(f);
        text.reserve(entries.len() * 200);
        for e in &entries {
            format::service_entry(&mut text, &e.service, &e.dests, f, names.as_ref());
        }
        let _ = self.io.out.write_all(text.as_bytes());
        Ok(())
    }

    fn list_conn(&mut self, f: &Format) -> Result<(), Exit> {
        let data = match std::fs::read(CONN_PROC_FILE) {
            Ok(d) => d,
            Err(_) => {
                self.err_line(&format!("cannot open file {CONN_PROC_FILE}"));
                return Err(Exit(1));
            }
        };
        let text = String::from_utf8_lossy(&data);
        let mut lines = text.split_inclusive('\n');
        if lines.next().is_none() {
            self.err_line(&format!("unexpected input from {CONN_PROC_FILE}"));
            return Err(Exit(1));
        }
        let names = self.names(f);
        let mut out = format::conn_header(f.persistent_conn);
        for l in lines {
            if let Some(s) = format::conn_line(l, f, names.as_ref()) {
                out.push_str(&s);
            }
        }
        let _ = self.io.out.write_all(out.as_bytes());
        Ok(())
    }

    /// Apply queued changes; print their errors in order; the last one's
    /// result is returned.
    fn flush_pending(&mut self, pending: &mut Vec<Op>) -> i32 {
        if pending.is_empty() {
            return 0;
        }
        let results = self.backend.apply(pending);
        pending.clear();
        let mut last = 0;
        for r in results {
            last = match r {
                Ok(()) => 0,
                Err(e) => {
                    self.err_line(&e.ipvsadm_message());
                    -1
                }
            };
        }
        last
    }

    fn restore(&mut self) -> Result<i32, Exit> {
        let mut result = 0;
        let mut pending: Vec<Op> = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match self.io.input.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&line);
            let mut argv = vec![self.program.clone()];
            argv.extend(
                text.split([' ', '\t', '\r', '\n'])
                    .filter(|t| !t.is_empty() && *t != "ipvsadm")
                    .map(str::to_string),
            );
            if argv.len() <= 1 {
                continue;
            }
            match parse(&argv, true) {
                Ok(Action::Apply(op)) => {
                    pending.push(op);
                    result = 0;
                }
                Ok(other) => {
                    self.flush_pending(&mut pending);
                    result = self.exec(other)?;
                }
                Err(d) => {
                    self.flush_pending(&mut pending);
                    match d {
                        Diag::TryHelp => return Err(self.try_help()),
                        Diag::Fail(m) => {
                            self.err_line(&m);
                            return Err(Exit(2));
                        }
                        Diag::Popt(m) => {
                            self.err_line(&m);
                            result = -1;
                        }
                    }
                }
            }
        }
        if !pending.is_empty() {
            result = self.flush_pending(&mut pending);
        }
        Ok(result)
    }
}

/// Run ipvsadm against a backend that is already connected (`info` from its
/// start-up `GET_INFO`); returns the exit code.
pub fn run(backend: &mut dyn IpvsBackend, info: Info, argv: &[String], io: &mut Io<'_>) -> i32 {
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    let mut r = Runner {
        backend,
        info,
        program,
        io,
    };
    if info.version < 0x010104 {
        let (a, b, c) = info.version_triple();
        let _ = write!(
            r.io.err,
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {a}.{b}.{c}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n"
        );
    }
    let code = if argv.len() <= 1 {
        match r.list_all(&Format::default()) {
            Ok(()) => 0,
            Err(Exit(c)) => c,
        }
    } else {
        match parse(argv, false) {
            Ok(action) => match r.exec(action) {
                Ok(v) => v,
                Err(Exit(c)) => c,
            },
            Err(Diag::TryHelp) => r.try_help().0,
            Err(Diag::Fail(m)) => {
                r.err_line(&m);
                2
            }
            Err(Diag::Popt(m)) => {
                r.err_line(&m);
                -1
            }
        }
    };
    let _ = r.io.out.flush();
    let _ = r.io.err.flush();
    code & 0xff
}
