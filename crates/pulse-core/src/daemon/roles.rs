//! Taking and leaving the active role: activation (lvs active), the
//! announcement (addresses up, ARPs, sync master), deactivation, the
//! takeover guard, and the push of connections to the partner.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use piranha_runtime::error::chain;

use super::children::signal_lvs;
use super::director::Director;
use super::plan::floating_addresses;

impl Director {
    /// Take the role: `active_cmd`, and lvs active (told so when it stands
    /// by, started otherwise).  The addresses come up on
    /// [`Action::Announce`](crate::machine::Action::Announce), once lvs has
    /// said its table is ready; the sync master starts after them.
    pub(super) fn activate(&mut self) {
        self.run_command("active_cmd", self.cfg.active_cmd.clone().map(|s| s.value));
        self.lvs_restart_at = None;
        if self.opts.test_start {
            let a = self.machine.lvs_ready();
            self.execute(a);
            return;
        }
        match &mut self.lvs {
            Some(l) => {
                if l.standby {
                    l.standby = false;
                    signal_lvs(&l.child, nix::sys::signal::Signal::SIGUSR1);
                }
                if l.ready {
                    let a = self.machine.lvs_ready();
                    self.execute(a);
                }
            }
            None => self.spawn_lvs(false),
        }
    }

    /// lvs is ready (or the wait ended): the floating addresses up, the
    /// first gratuitous ARP sent by pulse itself before the RUNNING
    /// heartbeat that follows (a leaving partner drops its addresses when
    /// it hears it), then send_arp's five runs.
    pub(super) fn announce(&mut self) {
        // Nothing is exec'd on this path: the guard is in place since the
        // director went passive (it matches only packets to a local VIP);
        // it stays GUARD_MS from now.
        if !self.guard_armed {
            self.arm_guard();
        }
        if self.guard_armed {
            self.guard_until = Some(Instant::now() + Duration::from_millis(crate::guard::GUARD_MS));
        }
        let floating = floating_addresses(&self.cfg);
        self.bring_up(&floating);
        // bgp mode: the addresses are on lo and routed here by BGP
        if !self.cfg.bgp() {
            self.send_arps(floating);
        }
        // after the RUNNING heartbeat that follows (execute's end): a
        // foreign ipvsadm is a fork and exec
        self.sync_master_due = true;
    }

    /// Put the takeover guard ([`crate::guard`]) in place, with
    /// `syncdaemon = 1`: on a passive director, where it matches nothing
    /// (no VIP is local), so that a takeover needs no `nft` run; it goes
    /// [`crate::guard::GUARD_MS`] after the takeover.
    pub(super) fn arm_guard(&mut self) {
        if !self.cfg.syncdaemon() || self.guard_armed {
            return;
        }
        let services: Vec<(IpAddr, u16)> = self
            .cfg
            .table_virtual_servers()
            .filter(|v| v.fwmark() == 0 && v.protocol() == lvs_config::Protocol::Tcp)
            .filter_map(|v| v.address.as_ref().map(|a| (a.value.ip.addr, v.port())))
            .collect();
        // NAT: the real servers' answers pass through the director
        let nat_servers: Vec<(IpAddr, u16)> = if self.cfg.network() == lvs_config::Network::Nat {
            self.cfg
                .table_virtual_servers()
                .filter(|v| v.protocol() == lvs_config::Protocol::Tcp)
                .flat_map(|v| {
                    v.servers
                        .iter()
                        .filter(|rs| rs.active())
                        .map(move |rs| (rs.addr(), rs.port_in(v)))
                })
                .filter(|(a, p)| !a.is_unspecified() && *p != 0)
                .collect()
        } else {
            Vec::new()
        };
        if services.is_empty() && nat_servers.is_empty() {
            return;
        }
        match crate::guard::nft(&crate::guard::script(&services, &nat_servers)) {
            Ok(()) => {
                debug!("takeover guard armed");
                self.guard_armed = true;
            }
            Err(e) if !self.guard_warned => {
                self.guard_warned = true;
                warn!(
                    "no takeover guard (segments of connections not synced yet may be reset): {}",
                    chain(&e)
                );
            }
            Err(_) => {}
        }
    }

    pub(super) fn remove_guard(&mut self) {
        self.guard_until = None;
        if std::mem::take(&mut self.guard_armed) {
            if let Err(e) = crate::guard::remove() {
                warn!("failed to remove the takeover guard: {}", chain(&e));
            }
        }
    }

    /// Send the partner our connections now ([`ipvs::sync`]), with
    /// `syncdaemon = 1`.
    pub(super) fn push_connections(&mut self) {
        if !self.cfg.syncdaemon() {
            return;
        }
        // A director handing over guards too: the partner's connections
        // reach it for a moment yet ([`crate::guard`]).
        if self.machine.serving() {
            if !self.guard_armed {
                self.arm_guard();
            }
            if self.guard_armed {
                self.guard_until =
                    Some(Instant::now() + Duration::from_millis(crate::guard::GUARD_MS));
            }
        }
        match ipvs::sync::push_table_to(
            &self.cfg.syncd_iface(),
            self.cfg.syncd_id(),
            ipvs::sync::Forward::from_letter(self.cfg.network().method_letter()),
            self.cfg.syncd_group(),
            self.cfg.syncd_port(),
        ) {
            Ok(n) => info!("sent {n} connection(s) to the partner's sync daemon"),
            Err(e) => warn!("failed to send the connections to the partner: {e}"),
        }
    }

    pub(super) fn deactivate(&mut self, was_active: bool) {
        self.run_command(
            "inactive_cmd",
            self.cfg.inactive_cmd.clone().map(|s| s.value),
        );
        if was_active && self.cfg.bgp() {
            // bgp mode: lvs withdraws the routes and forwards for
            // `withdraw_delay` more while the routers move the flows;
            // the addresses go after it.
            self.stop_lvs();
            self.arp_gen.fetch_add(1, Ordering::SeqCst);
            self.take_down(&[]);
            return;
        }
        if was_active {
            // The addresses go first, before anything is run: lvs may take
            // up to LVS_STOP_GRACE to stop (its nannies remove their
            // servers), and until they are gone both directors would hold
            // the VIPs (Piranha waited for lvsd first).
            self.arp_gen.fetch_add(1, Ordering::SeqCst);
            self.take_down(&[]);
        }
        self.sync_daemons(false);
        if !was_active {
            return;
        }
        self.guard_until = None;
        self.arm_guard();
        if self.hot_standby() {
            // lvs stays, its table and nannies with it, as the standby.
            match &mut self.lvs {
                Some(l) if !l.standby => {
                    l.standby = true;
                    signal_lvs(&l.child, nix::sys::signal::Signal::SIGUSR2);
                }
                Some(_) => {}
                None => self.lvs_restart_at = Some(Instant::now() + self.lvs_backoff),
            }
            return;
        }
        self.stop_lvs();
    }
}
