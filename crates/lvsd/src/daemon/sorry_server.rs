//! The sorry server of a service without `quorum`: in the table while no
//! real server is live, and held back until the service's nannies had the
//! time for their first checks.

use std::time::Instant;

use super::state::Lvsd;
use crate::plan::ServiceKey;
use crate::sorry::Live;

impl Lvsd {
    /// Keep `key`'s sorry server (or quorum verdict) back for the time its
    /// nannies' first checks may take (`DesiredService::first_verdict`).
    pub(super) fn hold_sorry(&mut self, key: ServiceKey) {
        if let Some(d) = self.service(key) {
            let until = Instant::now() + d.first_verdict;
            self.sorry_hold.insert(key, until);
        }
    }

    /// Is `key` still waiting for its nannies' first checks?
    pub(super) fn held(&self, key: ServiceKey) -> bool {
        self.sorry_hold
            .get(&key)
            .is_some_and(|&t| Instant::now() < t)
    }

    pub(super) fn check_sorry(&mut self, key: ServiceKey) {
        let Some(d) = self.by_key.get(&key).map(|&i| &self.services[i]) else {
            return;
        };
        let Some(sorry) = d.sorry else {
            return;
        };
        if d.quorum.is_some() || self.service_disabled(key) {
            // The quorum extension decides instead (quorum_eval); a
            // disabled service is out of the table.
            return;
        }
        let count = self.live.get(&key).map(Live::count).unwrap_or(0);
        let on = self.sorry_on.get(&key).copied().unwrap_or(false);
        if count > 0 {
            self.sorry_hold.remove(&key);
        } else if self.held(key) {
            return;
        }
        if count == 0 && !on {
            log::info!(
                "Virtual Server {}: No real servers; activate sorry_server {sorry}",
                d.name
            );
            if let Some(op) = d.sorry_op(true) {
                self.table.apply_one(&op);
            }
            self.sorry_on.insert(key, true);
        } else if count > 0 && on {
            log::info!(
                "Virtual Server {}: {count} real servers; deactivate sorry_server {sorry}",
                d.name
            );
            if let Some(op) = d.sorry_op(false) {
                self.table.apply_one(&op);
            }
            self.sorry_on.insert(key, false);
        }
    }
}
