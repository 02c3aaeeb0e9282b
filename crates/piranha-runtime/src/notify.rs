//! The service manager's notification socket: systemd's `Type=notify`
//! protocol (`sd_notify(3)`), through the `sd-notify` crate. A daemon
//! started with `NOTIFY_SOCKET` in its environment stays in the foreground
//! (systemd watches that process) and says when it is ready, when it
//! reloads, when it stops, and a one-line status (`systemctl status`).
//! Without the variable every call does nothing.

use sd_notify::NotifyState;

/// The variable systemd sets for a `Type=notify` service.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Was this process started by a service manager that waits for its
/// notifications?
pub fn expected() -> bool {
    std::env::var_os(NOTIFY_SOCKET).is_some_and(|v| !v.is_empty())
}

/// What has been told to the service manager, so each state is sent once
/// and a status only when it changes.
#[derive(Debug, Default)]
pub struct ServiceManager {
    listening: bool,
    ready: bool,
    status: String,
}

impl ServiceManager {
    /// A notifier for this process (nothing sent yet): it listens when
    /// [`expected`] says a service manager does.
    pub fn new() -> Self {
        ServiceManager {
            listening: expected(),
            ..Self::default()
        }
    }

    /// Does a service manager listen? A caller can skip building a status
    /// line (in a loop) when none does.
    pub fn listening(&self) -> bool {
        self.listening
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(states) {
            log::debug!("cannot notify the service manager: {e}");
        }
    }

    /// `READY=1`, the first time only; true when sent now.
    pub fn ready(&mut self) -> bool {
        if std::mem::replace(&mut self.ready, true) {
            return false;
        }
        self.send(&[NotifyState::Ready]);
        true
    }

    /// Has `READY=1` been sent?
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// `STATUS=<line>`, when it differs from the last one.
    pub fn status(&mut self, line: &str) {
        if self.status != line {
            self.status = line.to_string();
            self.send(&[NotifyState::Status(line)]);
        }
    }

    /// `RELOADING=1` with `MONOTONIC_USEC` (systemd 253 and later require
    /// it), before a configuration reload.
    pub fn reloading(&mut self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[NotifyState::Reloading, now]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    /// `READY=1` after a reload.
    pub fn reloaded(&mut self) {
        self.ready = true;
        self.send(&[NotifyState::Ready]);
    }

    /// `STOPPING=1`.
    pub fn stopping(&mut self) {
        self.send(&[NotifyState::Stopping]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn each_state_is_one_datagram_and_a_status_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        // The only test in the crate that sets or reads the variable.
        std::env::set_var(NOTIFY_SOCKET, &path);
        assert!(expected());
        let mut sm = ServiceManager::new();
        sm.status("backup, passive");
        sm.status("backup, passive");
        assert!(sm.ready());
        assert!(!sm.ready(), "READY=1 once");
        sm.reloading();
        sm.reloaded();
        sm.stopping();
        std::env::remove_var(NOTIFY_SOCKET);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            if got.len() == 5 {
                break;
            }
        }
        assert_eq!(got[0], "STATUS=backup, passive\n");
        assert_eq!(got[1], "READY=1\n");
        assert!(
            got[2].starts_with("RELOADING=1\nMONOTONIC_USEC="),
            "{}",
            got[2]
        );
        assert_eq!(got[3], "READY=1\n");
        assert_eq!(got[4], "STOPPING=1\n");
    }
}
