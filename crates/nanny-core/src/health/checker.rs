//! The checker: one check kind, retries and its verdict.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lvs_config::checks::Check;
use piranha_runtime::spawn::Interrupt;

use crate::check::{program_argv, Checker, Outcome};

use super::dns::*;
use super::http::*;
use super::io::*;
use super::misc::*;
use super::smtp::*;

/// An extended check of one real server.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    /// The real server.
    pub addr: SocketAddr,
    /// What to check.
    pub check: Check,
    /// Deadline of one check.
    pub timeout: Duration,
    /// The configured weight, which exit 0 of a dynamic misc check
    /// restores.
    pub base_weight: i32,
    /// Why the last check failed (or what it found).
    pub detail: String,
    /// Weight the last misc check asked for (dynamic mode).
    pub weight: Option<i32>,
    /// Exit status of the last misc check when it was a success in dynamic
    /// mode (`None` after a failure): a weight is set only when it changes.
    pub last_code: Option<i32>,
}

impl HealthChecker {
    /// The check's name in log lines (`http`, `misc`, ...).
    pub fn name(&self) -> &'static str {
        self.check.name()
    }

    /// A checker of `addr` (a misc program gets its `%h` and `%p`).
    pub fn new(addr: SocketAddr, check: Check, timeout: Duration, base_weight: i32) -> Self {
        HealthChecker {
            addr,
            check,
            timeout,
            base_weight,
            detail: String::new(),
            weight: None,
            last_code: None,
        }
    }

    fn run(&mut self, intr: Option<&Interrupt<'_>>) -> Res<String> {
        match &self.check {
            Check::Tcp => {
                let deadline = Instant::now() + self.timeout;
                connect_tcp(self.addr, deadline, intr)?;
                Ok("connected".into())
            }
            Check::Http {
                tls,
                path,
                vhost,
                status,
                digest,
            } => {
                let get = HttpGet {
                    addr: self.addr,
                    path: path.clone(),
                    vhost: vhost.clone(),
                    tls: tls.clone(),
                    timeout: self.timeout,
                };
                let r = get.run(intr, 0)?;
                if !status_ok(r.status, status) {
                    return down(format!("status {} not accepted", r.status));
                }
                if let Some(want) = digest {
                    if *want != r.digest {
                        return down(format!(
                            "digest {} of {} body bytes, expected {want}",
                            r.digest, r.body_len
                        ));
                    }
                }
                Ok(format!("status {}", r.status))
            }
            Check::Smtp { helo } => {
                smtp_check(self.addr, helo, self.timeout, intr)?;
                Ok("220/250".into())
            }
            Check::Dns { name, qtype } => {
                dns_check(self.addr, name, qtype, self.timeout, intr)?;
                Ok(format!("{qtype} {name} answered"))
            }
            Check::Misc { command, dynamic } => {
                // keepalived (check_misc.c) sets the weight when the exit
                // status changes; we also set it at the first success after
                // a failure (the server re-enters at the weight its status
                // says, not through slow start).
                let prev = self.last_code.take();
                let argv = program_argv(command, self.addr.ip(), self.addr.port());
                let code = run_misc(&argv, self.timeout, intr)?;
                let changed = prev != Some(code);
                match misc_result(code, *dynamic) {
                    MiscResult::Up if *dynamic => {
                        // Exit 0 drops the dynamic part: the configured
                        // weight is back.
                        self.last_code = Some(code);
                        if changed {
                            self.weight = Some(self.base_weight);
                        }
                        Ok("exit 0".into())
                    }
                    MiscResult::Up => Ok("exit 0".into()),
                    MiscResult::UpWeight(w) => {
                        self.last_code = Some(code);
                        if changed {
                            self.weight = Some(w);
                        }
                        Ok(format!("exit {code}, weight {w}"))
                    }
                    MiscResult::Down => down(format!("exit {code}")),
                }
            }
        }
    }
}

impl Checker for HealthChecker {
    fn check(&mut self, intr: Option<&Interrupt<'_>>) -> Outcome {
        self.weight = None;
        match self.run(intr) {
            Ok(d) => {
                log::debug!("{} check of {}: {d}", self.name(), self.addr);
                self.detail = d;
                Outcome::Up
            }
            Err(f) => match f.into_reason() {
                Some(d) => {
                    log::debug!("{} check of {} failed: {d}", self.name(), self.addr);
                    self.detail = d;
                    Outcome::Down
                }
                None => Outcome::Interrupted,
            },
        }
    }

    fn detail(&self) -> Option<String> {
        Some(format!("{} check: {}", self.name(), self.detail))
    }

    fn dynamic_weight(&self) -> Option<i32> {
        self.weight
    }
}
