//! What lvs does for pulse: the readiness byte once the table can serve,
//! the active and standby roles (`hot_standby`), and, after pulse died,
//! holding the table while its virtual addresses remain.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::state::Lvsd;
use crate::plan::ServiceKey;

/// How often lvs looks at the kernel's table while pulse waits for it.
const READY_POLL: Duration = Duration::from_millis(100);

impl Lvsd {
    /// Pulse is owed the readiness byte: write it once every service can
    /// serve a client, that is, has a real server (or its sorry server) in
    /// the kernel's table with a weight, or had the time its first checks
    /// may take (then its state is what it will be).  Until then, look at
    /// the table again every 100 ms.
    pub(super) fn check_ready(&mut self) {
        if self.ready.is_none() {
            return;
        }
        // The kernel's table is the judge: a nanny logs "making ...
        // available" just before its server is in, and the VIP must not
        // come up in between (the fault suite saw an ICMP port unreachable
        // there).  A service still has its chance until its first checks
        // had their time (`ready_by`).
        if self.ready_by.is_some_and(|t| Instant::now() >= t) {
            self.ready_by = None;
        }
        let waiting: Vec<ServiceKey> = if self.ready_by.is_none() {
            Vec::new()
        } else {
            self.services.iter().map(|d| d.key).collect()
        };
        let ready = waiting.is_empty() || {
            let served: Vec<ServiceKey> = self
                .table
                .read()
                .unwrap_or_default()
                .iter()
                .filter(|e| e.dests.iter().any(|d| d.weight > 0))
                .filter_map(|e| ServiceKey::of_kernel(&e.service))
                .collect();
            waiting.iter().all(|k| served.contains(k))
        };
        if ready {
            log::info!(
                "table ready: {} virtual service{}",
                self.services.len(),
                if self.services.len() == 1 { "" } else { "s" }
            );
            if let Some(n) = self.ready.take() {
                n.ready();
            }
            self.ready_check_at = None;
        } else {
            self.ready_check_at = Some(Instant::now() + READY_POLL);
        }
    }

    /// With `syncdaemon = 1`: send the partner's sync daemon every
    /// connection of this director now ([`ipvs::sync`]), to lvs.cf's
    /// `syncd_group`/`syncd_port` (the kernel's defaults when unset).
    fn push_connections(&self) {
        if !self.cfg.syncdaemon() || self.opts.test_start {
            return;
        }
        match ipvs::sync::push_table_to(
            &self.cfg.syncd_iface(),
            self.cfg.syncd_id(),
            ipvs::sync::Forward::from_letter(self.cfg.network().method_letter()),
            self.cfg.syncd_group(),
            self.cfg.syncd_port(),
        ) {
            Ok(n) => log::info!("sent {n} connection(s) to the partner's sync daemon"),
            Err(e) => log::warn!("failed to send the connections to the partner: {e}"),
        }
    }

    /// SIGUSR1 / SIGUSR2 from pulse: the director took the active role, or
    /// went back to standby (`hot_standby`).  The table is the same in both
    /// roles; the role is what lvs reports.
    pub(super) fn set_role(&mut self, standby: bool) {
        if self.standby == standby {
            return;
        }
        self.standby = standby;
        if standby {
            log::info!("standby: the partner director is active");
        } else {
            log::info!("active: this director took over");
        }
    }

    /// SIGTERM after pulse died (`kill -9`): the floating addresses pulse
    /// put up live on until their lifetime runs out (about `deadtime`), and
    /// a client that reaches them meanwhile must find the table, not a
    /// refusal.  Keep the table and the nannies until none of this
    /// director's virtual addresses is local any more (or a bound passes),
    /// then tear down as usual.
    pub(super) fn hold_while_addresses_remain(&mut self) {
        let mut ips: Vec<IpAddr> = self
            .cfg
            .active_virtual_servers()
            .filter_map(|v| v.address.as_ref().map(|a| a.value.ip.addr))
            .filter(|ip| !ip.is_unspecified())
            .collect();
        if self.cfg.network() == lvs_config::Network::Nat {
            ips.extend(self.cfg.nat_router.as_ref().map(|r| r.value.ip.addr));
        }
        if piranha_runtime::net::count_local(&ips) == 0 {
            return;
        }
        let bound = self.cfg.deadtime().as_duration() * 2 + Duration::from_secs(5);
        log::info!(
            "pulse is gone: keeping the table while this director still holds its virtual addresses (at most {} s)",
            bound.as_secs()
        );
        // The partner learns every connection now, and again once the
        // addresses are gone (the table is then final: no client reaches it).
        self.push_connections();
        let waited = piranha_runtime::net::wait_while_local(&ips, bound, || {
            let _ = self.reap();
        });
        self.push_connections();
        log::info!(
            "the virtual addresses are gone after {} ms",
            waited.as_millis()
        );
    }
}
