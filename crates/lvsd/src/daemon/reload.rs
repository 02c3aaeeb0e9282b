//! SIGHUP: re-read lvs.cf (only the edited block when the previous text is
//! known), diff the plans, and apply the differences to the table, the
//! nannies, the sorry servers and the quorum state.

use std::collections::HashMap;
use std::time::Instant;

use lvs_config::{Diagnostics, Parsed, Reparsed};

use super::state::{Lvsd, MonKey, Source};
use crate::kernel::Table;
use crate::plan::{self, DesiredService, ServiceKey};
use crate::quorum::{self, Entries};

/// What [`Lvsd::reread`] found.
enum Reread {
    /// A new configuration (parsed whole); `self.cfg` is still the old one.
    /// With the new text and how the read went, when the text was known.
    New(
        Box<Parsed>,
        Option<String>,
        Option<lvs_config::ReparseTrace>,
    ),
    /// `self.cfg` is now the new configuration, re-parsed in place; at most
    /// the virtual server of this index changed.
    InPlace(Option<usize>, lvs_config::ReparseTrace),
}

impl Lvsd {
    /// Read lvs.cf again: only the edited block is parsed when the previous
    /// text is known (same result as a full parse). After an edit inside
    /// one block, `self.cfg` becomes the new configuration in place.
    fn reread(&mut self) -> Result<Reread, Diagnostics> {
        let Some(src) = self.source.as_mut() else {
            return lvs_config::parse_file(&self.opts.config)
                .map(|p| Reread::New(Box::new(p), None, None));
        };
        let mut cur = Parsed {
            config: std::mem::take(&mut self.cfg),
            layout: std::mem::take(&mut src.layout),
            warnings: std::mem::take(&mut src.warnings),
        };
        let r = lvs_config::reparse_file_in_place(&self.opts.config, &src.text, &mut cur);
        let (old, out) = match r {
            Err(d) => (cur, Err(d)),
            Ok((text, Reparsed::Full(old), trace)) => (
                *old,
                Ok(Reread::New(Box::new(cur), Some(text), Some(trace))),
            ),
            Ok((text, r, trace)) => {
                let changed = match r {
                    Reparsed::Virtual(k, _) => Some(k),
                    _ => None,
                };
                src.text = text;
                (cur, Ok(Reread::InPlace(changed, trace)))
            }
        };
        self.cfg = old.config;
        src.layout = old.layout;
        src.warnings = old.warnings;
        out
    }

    /// Re-read lvs.cf and apply the differences; a file that does not parse
    /// leaves everything as it is.
    pub fn reload(&mut self) {
        log::info!("rereading configuration file");
        let t0 = Instant::now();
        let old_timeouts = plan::timeouts_op(&self.cfg);
        let how = |t: lvs_config::ReparseTrace| {
            format!(
                " (read {} ms, {})",
                t.read.as_millis(),
                if t.one_block {
                    "one block re-parsed"
                } else {
                    "whole file parsed"
                }
            )
        };
        // After a whole-file parse the new configuration is `new_cfg`;
        // otherwise `self.cfg` was re-parsed in place and at most block
        // `changed` differs.
        let (new_cfg, changed, how) = match self.reread() {
            Ok(Reread::New(p, text, trace)) => {
                let p = *p;
                for w in &p.warnings {
                    log::warn!("{w}");
                }
                if let Some(text) = text {
                    self.source = Some(Source {
                        text,
                        layout: p.layout,
                        warnings: p.warnings,
                    });
                }
                (Some(p.config), None, trace.map(how).unwrap_or_default())
            }
            Ok(Reread::InPlace(changed, trace)) => (None, changed, how(trace)),
            Err(d) => {
                for e in d.errors() {
                    log::error!("{e}");
                }
                log::error!("keeping the running configuration");
                return;
            }
        };
        let t_parsed = t0.elapsed();
        let new = match &new_cfg {
            Some(c) => plan::desired_after(c, self.mode, &self.cfg, &self.services),
            None => plan::desired_after_edit(&self.cfg, self.mode, changed, &self.services),
        };
        let cfg_now = new_cfg.as_ref().unwrap_or(&self.cfg);
        let r = plan::reload_from(old_timeouts, &self.services, cfg_now, &new);
        let program = cfg_now.ipvsadm();
        if r.is_empty() {
            log::info!("configuration unchanged");
        }
        let t_planned = t0.elapsed();
        let stop: Vec<MonKey> = r.stop.clone();
        self.stop_monitors(&stop);
        let t_stopped = t0.elapsed();
        let old_by_key: HashMap<ServiceKey, &DesiredService> =
            self.services.iter().map(|d| (d.key, d)).collect();
        for key in &r.delete {
            if let Some(d) = old_by_key.get(key) {
                log::info!("shutting down virtual service {}", d.name);
            }
        }
        let mut ops: Vec<ipvs::Op> = r.delete.iter().map(plan::del_op).collect();
        ops.extend(r.ops.iter().cloned());
        if program != self.table.program {
            self.table = Table::open(program, self.opts.test_start);
        }
        let mut fresh = Vec::new();
        for d in &new {
            if !old_by_key.contains_key(&d.key) {
                log::info!("starting virtual service {} active: {}", d.name, d.port);
                fresh.push(d.key);
            }
        }
        // Services whose sorry settings changed, with the line that takes
        // the old sorry entry out (found while the old plan is at hand).
        // (Quorum extension: turning `quorum` on or off counts as a change,
        // and the old method is kept to take out the entry lvs held.)
        let resorry: Vec<(ServiceKey, Option<ipvs::Op>, char)> = new
            .iter()
            .filter_map(|d| {
                let o = old_by_key.get(&d.key)?;
                let changed = o.sorry != d.sorry
                    || o.method != d.method
                    || o.port != d.port
                    || o.quorum.is_some() != d.quorum.is_some();
                changed.then(|| (d.key, o.sorry_op(false), o.method))
            })
            .collect();
        // Quorum extension: a service that drops `quorum` gets back the
        // entries lvs held for it (its new nannies add their own); one that
        // is deleted loses its quorum state with it.
        for key in &r.delete {
            self.quorums.remove(key);
            self.scripts.drop_queued(key);
        }
        for d in &new {
            if d.quorum.is_none() {
                if let Some(st) = self.quorums.remove(&d.key) {
                    self.scripts.drop_queued(&d.key);
                    let gone = quorum::changes(&st.have, &Entries::default());
                    ops.extend(
                        gone.into_iter()
                            .map(|c| quorum::change_op(&d.key, d.method, c)),
                    );
                }
            }
        }
        self.table.apply(&ops);
        for key in &r.delete {
            self.live.remove(key);
            self.sorry_on.remove(key);
            self.sorry_hold.remove(key);
        }
        // A sorry entry that is in the table under the old settings goes;
        // check_sorry below decides afresh with the new ones.
        for (key, sorry_out, method) in resorry {
            // Quorum extension: the sorry entry lvs holds goes; the
            // evaluation below puts the new one in if needed.
            if let Some(st) = self.quorums.get_mut(&key) {
                if let Some(s) = st.have.sorry.take() {
                    let op = quorum::change_op(&key, method, quorum::Change::Delete(s));
                    self.table.apply_one(&op);
                }
            }
            if self.sorry_on.insert(key, false) == Some(true) {
                if let Some(op) = sorry_out {
                    self.table.apply_one(&op);
                }
            }
        }
        if let Some(c) = new_cfg {
            self.cfg = c;
        }
        self.set_services(new);
        for k in fresh {
            self.hold_sorry(k);
        }
        self.spawn_many(r.start);
        let keys: Vec<ServiceKey> = self.services.iter().map(|d| d.key).collect();
        for k in keys {
            self.live.entry(k).or_default();
            self.check_sorry(k);
            self.quorum_eval(k, true);
        }
        // the administrator's overrides outlive a reload
        self.enforce_all();
        // bgp mode: a deleted service's address may go, a new one come
        if let Some(a) = self.announcer.as_mut() {
            a.reconfigure(&self.cfg);
        }
        self.announce_update();
        log::info!(
            "reload took {} ms: file read and checked {} ms{how}, planned {} ms, nannies stopped {} ms, table and nannies {} ms",
            t0.elapsed().as_millis(),
            t_parsed.as_millis(),
            (t_planned - t_parsed).as_millis(),
            (t_stopped - t_planned).as_millis(),
            (t0.elapsed() - t_stopped).as_millis()
        );
    }
}
