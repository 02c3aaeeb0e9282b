//! Extension (issue 20): what pulse says of the director, on its control
//! socket (`/run/pulse.ctl`, root only; `pulse --status [--json]`) and,
//! when asked for (`--metrics ADDRESS:PORT`), as Prometheus metrics.
//! pulse's answer holds lvs's: pulse asks lvs's control socket.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use piranha_status::model::{self, Director as Status};
use piranha_status::protocol::{Answer, Request};
use piranha_status::socket::Listener;

use super::director::Director;
use crate::machine::Phase;

/// How long pulse waits for lvs's answer: the heartbeat loop waits with
/// it (lvs answers a table of 1,000 services in tens of milliseconds; see
/// docs/BENCHMARKS.md), so a stuck lvs must not hold it for long.
const LVS_ANSWER: Duration = Duration::from_millis(500);

/// The control side of pulse.
#[derive(Default)]
pub(super) struct Control {
    pub(super) listener: Option<Listener>,
    /// The metrics endpoint, when asked for.
    pub(super) metrics: Option<piranha_status::http::MetricsListener>,
    /// lvs's control socket.
    pub(super) lvs_socket: PathBuf,
    /// When the partner was last heard, per channel name.
    pub(super) heard: HashMap<&'static str, Instant>,
    /// The role shown, and since when.
    pub(super) role: (String, Option<Instant>),
    /// Times this director took the active role.
    pub(super) takeovers: u64,
    /// Times it gave the active role up.
    pub(super) handovers: u64,
}

impl Director {
    /// Listen at the control socket and the metrics address; a failure is
    /// logged, pulse runs on without it.
    pub(super) fn open_control(&mut self) {
        self.control.lvs_socket = self.opts.lvs_control.clone();
        if let Some(p) = self.opts.control.clone() {
            match Listener::bind_for(&p, self.opts.control_group.as_deref()) {
                Ok(l) => self.control.listener = Some(l),
                Err(e) => log::warn!("no control socket: cannot listen at {}: {e}", p.display()),
            }
        }
        if let Some(a) = self.opts.metrics {
            match piranha_status::http::MetricsListener::bind(a) {
                Ok(m) => {
                    log::info!("metrics at http://{a}/metrics");
                    self.control.metrics = Some(m);
                }
                Err(e) => log::warn!("no metrics: cannot listen at {a}: {e}"),
            }
        }
    }

    /// The role in a word.
    pub(super) fn role_word(&self) -> &'static str {
        match self.machine.phase() {
            Phase::Passive if self.lvs.as_ref().is_some_and(|l| l.standby) => "hot-standby",
            Phase::Passive => "backup",
            Phase::Activating { .. } => "taking-over",
            Phase::Active => "active",
            Phase::Leaving { .. } => "handing-over",
        }
    }

    /// Note the role once per pass of the loop (for "role for N s").
    pub(super) fn note_role(&mut self) {
        let w = self.role_word();
        if self.control.role.0 != w || self.control.role.1.is_none() {
            self.control.role = (w.to_string(), Some(Instant::now()));
        }
    }

    /// pulse's side of the status.
    fn pulse_status(&self) -> model::Pulse {
        let now = self.now();
        let partner = (!self.partner_ips.is_empty()
            && super::plan::effective_backup_active(&self.cfg))
        .then(|| model::Partner {
            address: self
                .partner_ips
                .first()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            alive: self.machine.partner_alive(now),
            channels: self
                .channels
                .iter()
                .map(|c| model::Channel {
                    name: format!("{} udp {}:{}", c.name, c.partner, self.cfg.heartbeat_port()),
                    last_heard: self
                        .control
                        .heard
                        .get(c.name)
                        .map(|t| t.elapsed().as_secs_f64()),
                })
                .collect(),
        });
        model::Pulse {
            pid: std::process::id(),
            role: self.role_word().into(),
            phase: self.role_line(),
            role_for: self
                .control
                .role
                .1
                .map(|t| t.elapsed().as_secs_f64())
                .unwrap_or_default(),
            takeovers: self.control.takeovers,
            handovers: self.control.handovers,
            partner,
            addresses: self
                .added
                .iter()
                .map(|a| model::Address {
                    address: format!("{}/{}", a.ip, a.prefix),
                    device: a.label.clone(),
                })
                .collect(),
        }
    }

    /// The whole director: pulse, and lvs when it runs.
    pub(super) fn status(&self) -> Status {
        let mut s = Status {
            pulse: Some(self.pulse_status()),
            ..Status::now()
        };
        if self.lvs.is_some() {
            match piranha_status::socket::ask(&self.control.lvs_socket, "status json", LVS_ANSWER) {
                Ok(a) if a.ok => match Status::from_json(&a.text) {
                    Ok(l) => s.lvs = l.lvs,
                    Err(e) => s.notes.push(format!("lvs's answer did not read: {e}")),
                },
                Ok(a) => s.notes.push(format!("lvs refused: {}", a.text.trim_end())),
                Err(e) => s.notes.push(format!("lvs did not answer: {e}")),
            }
        }
        s
    }

    /// Serve the waiting control connections and metrics scrapes.
    pub(super) fn serve_control(&mut self) {
        while let Some(inc) = self.control.listener.as_ref().and_then(|l| l.accept()) {
            let answer = match inc.line.as_deref().map(Request::parse) {
                Err(e) => Answer::error(e.to_string()),
                Ok(Err(e)) => Answer::error(e.to_string()),
                Ok(Ok(Request::Status { json })) => {
                    let s = self.status();
                    Answer::ok(if json {
                        s.to_json()
                    } else {
                        piranha_status::text::render(&s)
                    })
                }
                // a change is lvs's: pass it on, and log who asked (lvs
                // sees pulse, root)
                Ok(Ok(req)) => {
                    let a = if self.lvs.is_none() {
                        Answer::error("lvs is not running on this director (backup)")
                    } else {
                        piranha_status::socket::ask(
                            &self.control.lvs_socket,
                            &req.line(),
                            LVS_ANSWER,
                        )
                        .unwrap_or_else(|e| Answer::error(e.to_string()))
                    };
                    log::info!(
                        "control: uid {} (pid {}) asked \"{}\" (passed to lvs): {}",
                        inc.uid,
                        inc.pid,
                        req.line(),
                        if a.ok {
                            a.text.lines().next().unwrap_or("done").to_string()
                        } else {
                            format!("refused: {}", a.text.trim_end())
                        }
                    );
                    a
                }
            };
            inc.answer(&answer);
        }
        if let Some(m) = self.control.metrics.take() {
            m.serve(|| self.status());
            self.control.metrics = Some(m);
        }
    }
}
