//! The floating addresses on this host: brought up, renewed (their
//! lifetime, [`crate::lease`]), taken down, swept after a crash, and the
//! links under the heartbeat addresses watched (`monitor_links`).
//!
//! Both families go the same way through [`crate::net`]: an IPv6 address
//! is added with `nodad` and without broadcast or label (pulse keeps the
//! lvs.cf label as its own name for it, for the log).

use log::{debug, info, warn};
use piranha_runtime::error::chain;

use super::director::Director;
use super::plan::{floating_addresses, Floating};
use crate::lease::Event;
use crate::machine::Nic;
use crate::net::{link_by_index, Addr, Kernel, Link, NetError};

/// Where an address is, for the log: its label (IPv4), else its device's
/// name (IPv6 has no labels), else the device index.
fn place(a: &Addr, links: &[Link]) -> String {
    if !a.label.is_empty() {
        return a.label.clone();
    }
    match link_by_index(links, a.index) {
        Some(l) => l.name.clone(),
        None => format!("device {}", a.index),
    }
}

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
                .any(|a| a.ip == f.ip && a.index == link.index)
            {
                debug!("{} already on {}, not ours to manage", f.ip, f.dev);
                continue;
            }
            let a = Addr {
                ip: f.ip,
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
            if keep.iter().any(|f| f.ip == a.ip && f.label == a.label) {
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
        let links = self.kernel.links().unwrap_or_default();
        for a in present {
            if Some(a.ip) == self.me_private || a.ip == self.me_public {
                continue;
            }
            if floating.iter().any(|f| f.ip == a.ip) {
                match self.kernel.del_address(&a) {
                    Ok(()) => info!(
                        "removed stale floating address {}/{} from {}",
                        a.ip,
                        a.prefix,
                        place(&a, &links)
                    ),
                    Err(e) => warn!("{}", chain(&e)),
                }
            }
        }
    }

    /// Remember the devices of our heartbeat addresses (start-up, reload),
    /// for `monitor_links`: the kernel removes the IPv6 addresses of a
    /// device that goes down (unless `keep_addr_on_down` is set), and the
    /// device must still be found then.  An address not found now keeps
    /// the device it was last seen on.
    pub(super) fn remember_nics(&mut self) {
        let addrs = match self.kernel.addresses() {
            Ok(a) => a,
            Err(e) => {
                warn!("failed to list addresses: {e}");
                Vec::new()
            }
        };
        let mut nics = vec![(Nic::Primary, self.me_public)];
        if let Some(p) = self.me_private {
            nics.push((Nic::Private, p));
        }
        let old = std::mem::take(&mut self.nics);
        self.nics = nics
            .into_iter()
            .map(|(nic, ip)| {
                let index = addrs
                    .iter()
                    .find(|a| a.ip == ip)
                    .map(|a| a.index)
                    .or_else(|| {
                        old.iter()
                            .find(|(_, o, _)| *o == ip)
                            .and_then(|(_, _, i)| *i)
                    });
                (nic, ip, index)
            })
            .collect();
    }

    /// The heartbeat NICs whose link is down (not up, or no carrier).  The
    /// device of each is the one its address is on now, else the one it
    /// was last seen on ([`Director::remember_nics`]); an address never
    /// seen, or whose device is gone, counts as up, as in Piranha.
    pub(super) fn down_nics(&mut self) -> Vec<Nic> {
        let (Ok(addrs), Ok(links)) = (self.kernel.addresses(), self.kernel.links()) else {
            return Vec::new();
        };
        let mut down = Vec::new();
        for (nic, ip, index) in &mut self.nics {
            if let Some(a) = addrs.iter().find(|a| a.ip == *ip) {
                *index = Some(a.index);
            }
            let Some(i) = *index else {
                continue;
            };
            match link_by_index(&links, i) {
                Some(l) if !l.running() => down.push(*nic),
                Some(_) => {}
                // the device is gone: found again through the address
                None => *index = None,
            }
        }
        down
    }
}
