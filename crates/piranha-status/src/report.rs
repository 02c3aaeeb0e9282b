//! The nanny's check reports to lvs: after every check, a nanny started by
//! lvs sends one datagram to a Unix socket lvs names in the environment
//! ([`ENV`]); lvs learns who sent it from the kernel (`SCM_CREDENTIALS`),
//! so the report carries no identity and the nanny's argv (Piranha's
//! contract) is unchanged.  A nanny run by hand has no such variable and
//! sends nothing.
//!
//! The datagram is one line: `v1 STATE RESULT MICROSECONDS REASON`, with
//! STATE `up`, `down` or `rising` and RESULT `pass` or `fail`.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};

/// The environment variable naming lvs's report socket.
pub const ENV: &str = "PIRANHA_NANNY_REPORT";

/// Longest reason kept, in bytes.
pub const MAX_REASON: usize = 200;

/// What the checks say of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckState {
    /// In service.
    Up,
    /// Out of service.
    Down,
    /// Passing, but held out until the reentry time has passed.
    Rising,
}

impl CheckState {
    /// The word.
    pub fn word(self) -> &'static str {
        match self {
            CheckState::Up => "up",
            CheckState::Down => "down",
            CheckState::Rising => "rising",
        }
    }
}

/// One check's report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The server's state after the check.
    pub state: CheckState,
    /// This check passed.
    pub pass: bool,
    /// How long it took.
    pub took: Duration,
    /// Why, in the nanny's words.
    pub reason: String,
}

impl Report {
    /// The datagram.
    pub fn encode(&self) -> String {
        format!(
            "v1 {} {} {} {}",
            self.state.word(),
            if self.pass { "pass" } else { "fail" },
            self.took.as_micros(),
            clean_reason(&self.reason)
        )
    }

    /// Read a datagram; `None` when it is not a report.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut w = text.splitn(5, ' ');
        if w.next()? != "v1" {
            return None;
        }
        let state = match w.next()? {
            "up" => CheckState::Up,
            "down" => CheckState::Down,
            "rising" => CheckState::Rising,
            _ => return None,
        };
        let pass = match w.next()? {
            "pass" => true,
            "fail" => false,
            _ => return None,
        };
        let took = Duration::from_micros(w.next()?.parse().ok()?);
        // The same rule as encode: a report from anyone but our nanny
        // (or an older one) must not carry control characters to the
        // status's terminal, nor more than MAX_REASON bytes.
        let reason = clean_reason(w.next().unwrap_or(""));
        Some(Report {
            state,
            pass,
            took,
            reason,
        })
    }
}

/// `reason` with each control character made a blank, cut to at most
/// [`MAX_REASON`] bytes (at a character boundary).
fn clean_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(MAX_REASON));
    for c in reason.chars() {
        if out.len() + c.len_utf8() > MAX_REASON {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// The nanny's side: sends reports when lvs asked for them.
#[derive(Debug)]
pub struct Reporter {
    sock: UnixDatagram,
    to: PathBuf,
}

impl Reporter {
    /// From [`ENV`]; `None` when unset (a nanny run by hand).
    pub fn from_env() -> Option<Self> {
        let to = std::env::var_os(ENV).filter(|v| !v.is_empty())?;
        let sock = UnixDatagram::unbound().ok()?;
        sock.set_nonblocking(true).ok()?;
        Some(Reporter {
            sock,
            to: PathBuf::from(to),
        })
    }

    /// Send `r`; a full or absent lvs loses it (the next check reports
    /// again).
    pub fn send(&self, r: &Report) {
        let _ = self.sock.send_to(r.encode().as_bytes(), &self.to);
    }
}

/// lvs's side: the socket the nannies report to.  Dropping it removes the
/// socket file.
#[derive(Debug)]
pub struct Inbox {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Inbox {
    /// Bind at `path` (replacing a stale file), mode 0600, with the
    /// senders' credentials passed.
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        let _ = std::fs::remove_file(path);
        let sock = UnixDatagram::bind(path)?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        sock.set_nonblocking(true)?;
        setsockopt(&sock, sockopt::PassCred, &true).map_err(std::io::Error::from)?;
        Ok(Inbox {
            sock,
            path: path.to_path_buf(),
        })
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next waiting report and its sender's pid.
    pub fn recv(&self) -> Option<(i32, Report)> {
        loop {
            let mut buf = [0u8; 512];
            let mut cmsg = nix::cmsg_space!(libc::ucred);
            let (n, pid) = {
                let mut iov = [IoSliceMut::new(&mut buf)];
                let msg = recvmsg::<()>(
                    self.sock.as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::MSG_DONTWAIT,
                )
                .ok()?;
                let pid = msg.cmsgs().ok()?.find_map(|c| match c {
                    ControlMessageOwned::ScmCredentials(cred) => Some(cred.pid()),
                    _ => None,
                });
                (msg.bytes, pid)
            };
            if let (Some(pid), Some(r)) = (pid, Report::decode(&buf[..n])) {
                return Some((pid, r));
            }
            // not a report: read the next
        }
    }
}

impl AsFd for Inbox {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let r = Report {
            state: CheckState::Rising,
            pass: true,
            took: Duration::from_micros(1234),
            reason: "HTTP 200\r\nfrom GET /".into(),
        };
        let back = Report::decode(r.encode().as_bytes()).unwrap();
        assert_eq!(back.state, CheckState::Rising);
        assert!(back.pass);
        assert_eq!(back.took, r.took);
        assert_eq!(back.reason, "HTTP 200  from GET /");
        assert_eq!(Report::decode(b"v2 up pass 1 x"), None);
        // Found by fuzzing: a received reason keeps no control character
        // and at most MAX_REASON bytes, as an encoded one.
        let got = Report::decode(b"v1 up pass 1234 HTTP 2\x0f\0\x1b[2J").unwrap();
        assert_eq!(got.reason, "HTTP 2   [2J");
        let long = format!("v1 up pass 1 {}", "\u{e9}".repeat(MAX_REASON));
        let got = Report::decode(long.as_bytes()).unwrap();
        assert_eq!(got.reason.len(), MAX_REASON);
        assert_eq!(Report::decode(got.encode().as_bytes()), Some(got));
        assert_eq!(Report::decode(b"v1 up pass x"), None);
    }

    #[test]
    fn inbox_learns_the_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        let inbox = Inbox::bind(&path).unwrap();
        let to = UnixDatagram::unbound().unwrap();
        let r = Report {
            state: CheckState::Down,
            pass: false,
            took: Duration::from_millis(3),
            reason: "connect: connection refused".into(),
        };
        to.send_to(b"noise", &path).unwrap();
        to.send_to(r.encode().as_bytes(), &path).unwrap();
        let (pid, got) = inbox.recv().unwrap();
        assert_eq!(pid, std::process::id() as i32);
        assert_eq!(got, r);
        assert!(inbox.recv().is_none());
    }
}
