//! The floating addresses on this host: brought up, renewed (their
//! lifetime, [`crate::lease`]), taken down, swept after a crash, and the
//! links under them watched (`monitor_links`).

use std::net::IpAddr;

use log::{debug, info, warn};
use piranha_runtime::error::chain;

use super::director::Director;
use super::plan::{floating_addresses, Floating};
use crate::lease::Event;
use crate::machine::Nic;
use crate::net::{Addr, Kernel, NetError};

impl Director {
    /// Renew the lifetime of the floating addresses we hold (create or
    /// replace: one that expired while pulse did not run is added again)
    /// when a keepalive has passed since the last renewal, or now.
    pub(super) fn renew_addresses(&mut self, now_anyway: bool) {
        let now = self.now();
        if !now_anyway && !self.lease.due(now) {
            return;
        }
        if !self.machine.serving() || self.added.is_empty() {
            self.lease.restart(now);
            return;
        }
        for e in self.lease.renew(&mut self.kernel, &self.added, now) {
            match e {
                Event::Failed(s) => warn!("{s}"),
                Event::Recovered(s) => info!("{s}"),
            }
        }
    }

    pub(super) fn bring_up(&mut self, floating: &[Floating]) {
        let links = match self.kernel.links() {
            Ok(l) => l,
            Err(e) => {
                warn!("failed to list links: {e}");
                return;
            }
        };
        let present = self.kernel.addresses().unwrap_or_default();
        for f in floating {
            let Some(link) = links.iter().find(|l| l.name == f.dev) else {
                warn!("failed to add {}: no such device {}", f.ip, f.dev);
                continue;
            };
            if present
                .iter()
                .any(|a| a.ip == IpAddr::V4(f.ip) && a.index == link.index)
            {
                debug!("{} already on {}, not ours to manage", f.ip, f.dev);
                continue;
            }
            let a = Addr {
                ip: IpAddr::V4(f.ip),
                prefix: f.prefix,
                index: link.index,
                label: f.label.clone(),
                lifetime: Some(self.lease.lifetime()),
            };
            match self.kernel.add_address(&a) {
                Ok(()) => {
                    info!("added {}/{} on {}", f.ip, f.prefix, f.label);
                    self.added.push(a);
                }
                Err(e) => warn!("{}", chain(&e)),
            }
        }
    }

    pub(super) fn take_down(&mut self, keep: &[Floating]) {
        let mut failed = Vec::new();
        let added = std::mem::take(&mut self.added);
        for a in added {
            if keep
                .iter()
                .any(|f| IpAddr::V4(f.ip) == a.ip && f.label == a.label)
            {
                self.added.push(a);
                continue;
            }
            match self.kernel.del_address(&a) {
                Ok(()) => info!("removed {}/{} from {}", a.ip, a.prefix, a.label),
                // its lifetime ran out while pulse did not renew it (stopped)
                Err(NetError::Refused { source, .. })
                    if source.raw_os_error() == Some(libc::EADDRNOTAVAIL) =>
                {
                    info!("{}/{} on {} had expired", a.ip, a.prefix, a.label)
                }
                Err(e) => failed.push(chain(&e)),
            }
        }
        for f in failed {
            warn!("{f}");
        }
    }

    /// Crash safety: a pulse killed with -9 leaves its floating addresses;
    /// remove every lvs.cf floating address found here before taking a role.
    pub(super) fn remove_stale_addresses(&mut self) {
        let floating = floating_addresses(&self.cfg);
        let present = match self.kernel.addresses() {
            Ok(a) => a,
            Err(e) => {
                warn!("failed to list addresses: {e}");
                return;
            }
        };
        for a in present {
            if Some(a.ip) == self.me_private || a.ip == self.me_public {
                continue;
            }
            if floating.iter().any(|f| IpAddr::V4(f.ip) == a.ip) {
                match self.kernel.del_address(&a) {
                    Ok(()) => info!(
                        "removed stale floating address {}/{} from {}",
                        a.ip, a.prefix, a.label
                    ),
                    Err(e) => warn!("{}", chain(&e)),
                }
            }
        }
    }

    pub(super) fn down_nics(&mut self) -> Vec<Nic> {
        let (Ok(addrs), Ok(links)) = (self.kernel.addresses(), self.kernel.links()) else {
            return Vec::new();
        };
        let mut down = Vec::new();
        let mut check = |ip: IpAddr, nic: Nic| {
            // An address not found counts as up, as in Piranha.
            if let Some(a) = addrs.iter().find(|a| a.ip == ip) {
                if let Some(l) = links.iter().find(|l| l.index == a.index) {
                    if !l.running() {
                        down.push(nic);
                    }
                }
            }
        };
        check(self.me_public, Nic::Primary);
        if let Some(p) = self.me_private {
            check(p, Nic::Private);
        }
        down
    }
}
