//! Extension (issue 20): what pulse says of the director, on its control
//! socket (`/run/pulse.ctl`, root only; `pulse --status [--json]`) and,
//! when asked for (`--metrics ADDRESS:PORT`), as Prometheus metrics.
//! pulse's answer holds lvs's: pulse asks lvs's control socket, and passes
//! a change (drain...) on to lvs.
//!
//! Both are served by a thread of their own: asking lvs and rendering the
//! metrics of a large table take time the heartbeat loop must not wait
//! for. The loop publishes what pulse knows ([`View`]) once per pass; the
//! thread turns it into the status when asked.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use piranha_status::http::MetricsListener;
use piranha_status::model::{self, Director as Status};
use piranha_status::protocol::{Answer, Request};
use piranha_status::socket::Listener;

use super::director::{Director, View};
use crate::machine::Phase;

/// How long the control thread waits for lvs's answer.
const LVS_ANSWER: Duration = Duration::from_secs(5);

/// How often the control thread looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(200);

impl View {
    /// pulse's part of the status, ages taken now.
    fn pulse(&self) -> model::Pulse {
        let age = |t: Instant| t.elapsed().as_secs_f64();
        model::Pulse {
            pid: std::process::id(),
            role: self.role.clone(),
            phase: self.phase.clone(),
            role_for: self.role_since.map(age).unwrap_or_default(),
            takeovers: self.takeovers,
            handovers: self.handovers,
            partner: self
                .partner
                .as_ref()
                .map(|(address, alive, channels)| model::Partner {
                    address: address.clone(),
                    alive: *alive,
                    channels: channels
                        .iter()
                        .map(|(name, heard)| model::Channel {
                            name: name.clone(),
                            last_heard: heard.map(age),
                        })
                        .collect(),
                }),
            addresses: self.addresses.clone(),
        }
    }
}

/// The control thread's sockets.
struct Server {
    listener: Option<Listener>,
    metrics: Option<MetricsListener>,
    lvs_socket: PathBuf,
    view: Arc<Mutex<View>>,
    stop: Arc<AtomicBool>,
}

impl Director {
    /// Listen at the control socket and the metrics address, and start the
    /// thread that serves them; a socket that cannot be opened is logged,
    /// pulse runs on without it.
    pub(super) fn open_control(&mut self) {
        let mut listener = None;
        if let Some(p) = self.opts.control.clone() {
            match Listener::bind_for(&p, self.opts.control_group.as_deref()) {
                Ok(l) => listener = Some(l),
                Err(e) => log::warn!("no control socket: cannot listen at {}: {e}", p.display()),
            }
        }
        let mut metrics = None;
        if let Some(a) = self.opts.metrics {
            match MetricsListener::bind(a) {
                Ok(m) => {
                    log::info!("metrics at http://{a}/metrics");
                    metrics = Some(m);
                }
                Err(e) => log::warn!("no metrics: cannot listen at {a}: {e}"),
            }
        }
        if listener.is_none() && metrics.is_none() {
            return;
        }
        self.note_role();
        let view = self.view();
        if let Ok(mut v) = self.control.view.lock() {
            *v = view;
        }
        let server = Server {
            listener,
            metrics,
            lvs_socket: self.opts.lvs_control.clone(),
            view: self.control.view.clone(),
            stop: self.control.stop.clone(),
        };
        match std::thread::Builder::new()
            .name("control".into())
            .spawn(move || server.run())
        {
            Ok(t) => self.control.thread = Some(t),
            Err(e) => log::warn!("no control socket: cannot start its thread: {e}"),
        }
    }

    /// Stop the control thread (its sockets are removed).
    pub(super) fn close_control(&mut self) {
        self.control.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.control.thread.take() {
            let _ = t.join();
        }
    }

    /// The role in a word.
    fn role_word(&self) -> &'static str {
        match self.machine.phase() {
            Phase::Passive if self.lvs.as_ref().is_some_and(|l| l.standby) => "hot-standby",
            Phase::Passive => "backup",
            Phase::Activating { .. } => "taking-over",
            Phase::Active => "active",
            Phase::Leaving { .. } => "handing-over",
        }
    }

    /// Note when the role changed.
    fn note_role(&mut self) {
        let w = self.role_word();
        if self.control.role.0 != w || self.control.role.1.is_none() {
            self.control.role = (w.to_string(), Some(Instant::now()));
        }
    }

    /// Publish what pulse knows for the control thread (once per pass of
    /// the loop; nothing to build without one).
    pub(super) fn publish(&mut self) {
        self.note_role();
        if self.control.thread.is_none() {
            return;
        }
        let view = self.view();
        if let Ok(mut v) = self.control.view.lock() {
            *v = view;
        }
    }

    /// What pulse knows, for the control thread.
    fn view(&self) -> View {
        let w = self.role_word();
        let now = self.now();
        let partner = (!self.partner_ips.is_empty()
            && super::plan::effective_backup_active(&self.cfg))
        .then(|| {
            (
                self.partner_ips
                    .first()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                self.machine.partner_alive(now),
                self.channels
                    .iter()
                    .map(|c| {
                        (
                            format!(
                                "{} udp {}",
                                c.name,
                                std::net::SocketAddr::new(c.partner, self.cfg.heartbeat_port())
                            ),
                            self.control.heard.get(c.name).copied(),
                        )
                    })
                    .collect(),
            )
        });
        View {
            role: w.to_string(),
            phase: self.role_line(),
            role_since: self.control.role.1,
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
            lvs_running: self.lvs.is_some(),
        }
    }
}

impl Server {
    fn run(self) {
        while !self.stop.load(Ordering::Relaxed) {
            let (asked, scraped) = {
                let mut fds = Vec::new();
                if let Some(l) = &self.listener {
                    fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
                }
                if let Some(m) = &self.metrics {
                    fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
                }
                let ms = STOP_CHECK.as_millis() as u16;
                if poll(&mut fds, PollTimeout::from(ms)).is_err() {
                    std::thread::sleep(STOP_CHECK);
                    continue;
                }
                let hit = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
                let mut it = fds.iter();
                let asked = self.listener.is_some() && it.next().is_some_and(hit);
                let scraped = self.metrics.is_some() && it.next().is_some_and(hit);
                (asked, scraped)
            };
            if asked {
                self.serve_control();
            }
            if scraped {
                if let Some(m) = &self.metrics {
                    m.serve(|full| self.status(full));
                }
            }
        }
    }

    /// The whole director: pulse, and lvs when it runs (`full`: with the
    /// real servers' traffic counters).
    fn status(&self, full: bool) -> Status {
        let view = self.view.lock().map(|v| v.clone()).unwrap_or_default();
        let mut s = Status {
            pulse: Some(view.pulse()),
            ..Status::now()
        };
        if view.lvs_running {
            let line = if full {
                "status json full"
            } else {
                "status json"
            };
            match piranha_status::socket::ask(&self.lvs_socket, line, LVS_ANSWER) {
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

    /// Serve the waiting control connections.
    fn serve_control(&self) {
        while let Some(inc) = self.listener.as_ref().and_then(|l| l.accept()) {
            let answer = match inc.line.as_deref().map(Request::parse) {
                Err(e) => Answer::error(e.to_string()),
                Ok(Err(e)) => Answer::error(e.to_string()),
                Ok(Ok(Request::Status { json, full })) => {
                    let s = self.status(full);
                    Answer::ok(if json {
                        s.to_json_compact()
                    } else {
                        piranha_status::text::render(&s)
                    })
                }
                // a change is lvs's: pass it on, and log who asked (lvs
                // sees pulse, root)
                Ok(Ok(req)) => {
                    let running = self.view.lock().map(|v| v.lvs_running).unwrap_or(false);
                    let a = if !running {
                        Answer::error("lvs is not running on this director (backup)")
                    } else {
                        piranha_status::socket::ask(&self.lvs_socket, &req.line(), LVS_ANSWER)
                            .unwrap_or_else(|e| Answer::error(e.to_string()))
                    };
                    log::info!(
                        "control: uid {} (pid {}) asked \"{}\" (passed to lvs): {}",
                        inc.uid,
                        inc.pid,
                        req.line(),
                        a.summary()
                    );
                    a
                }
            };
            inc.answer(&answer);
        }
    }
}
