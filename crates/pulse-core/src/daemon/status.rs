//! What pulse tells systemd (`Type=notify`): the role as a status line,
//! and `READY=1` once the director has settled into a role: active with
//! lvs's table programmed and the virtual addresses up, or passive with its
//! partner heard (a passive director alone becomes active after deadtime).

use super::director::Director;
use crate::machine::Phase;

impl Director {
    /// The role in one line, for `systemctl status` (`STATUS=`).
    pub(super) fn role_line(&self) -> String {
        let who = if self.master { "primary" } else { "backup" };
        let now = self.now();
        let vips = self.added.len();
        let table = match &self.lvs {
            Some(l) if l.ready => "lvs table ready",
            Some(_) => "lvs starting",
            None => "no lvs",
        };
        match self.machine.phase() {
            Phase::Passive => {
                let partner = if self.machine.partner_alive(now) {
                    "partner heard"
                } else {
                    "partner not heard"
                };
                let standby = if self.lvs.is_some() {
                    format!(", hot standby ({table})")
                } else {
                    String::new()
                };
                format!("{who}, passive: {partner}{standby}")
            }
            Phase::Activating { .. } => format!("{who}, activating: waiting for lvs's table"),
            Phase::Active => format!(
                "{who}, active: {vips} virtual address{} up, {table}",
                if vips == 1 { "" } else { "es" }
            ),
            Phase::Leaving { .. } => format!("{who}, handing the active role over"),
        }
    }

    /// Send the status when it changed, and `READY=1` once settled.
    pub(super) fn tell_service_manager(&mut self) {
        // Called on every pass of the heartbeat loop: nothing to build
        // when no service manager listens (SysV, a shell).
        if !self.service_manager.listening() {
            return;
        }
        let line = self.role_line();
        self.service_manager.status(&line);
        if !self.service_manager.is_ready() {
            let settled = match self.machine.phase() {
                Phase::Active => true,
                Phase::Passive => self.machine.partner_alive(self.now()),
                _ => false,
            };
            if settled && self.service_manager.ready() {
                log::debug!("told the service manager: ready ({line})");
            }
        }
    }
}
