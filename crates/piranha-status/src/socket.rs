//! The control socket: a Unix stream socket under `/run`, mode 0600
//! (root only), served from the daemon's poll loop one connection at a
//! time, and the client side that `lvs --status` and the GUI use.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::{Answer, MAX_REQUEST};

/// lvs's control socket.
pub const LVS_SOCKET: &str = "/run/lvs.ctl";
/// pulse's control socket.
pub const PULSE_SOCKET: &str = "/run/pulse.ctl";

/// How long a connected client has to send its request line.
pub const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a client has to take the answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A listening control socket.  Dropping it removes the socket file.
#[derive(Debug)]
pub struct Listener {
    sock: UnixListener,
    path: PathBuf,
}

/// One accepted request.
#[derive(Debug)]
pub struct Incoming {
    stream: UnixStream,
    /// The request line, when one came in time (lossy UTF-8).
    pub line: Result<String, String>,
    /// The caller's uid and pid (`SO_PEERCRED`).
    pub uid: u32,
    /// The caller's pid.
    pub pid: i32,
}

impl Listener {
    /// Listen at `path` (a stale socket file there is replaced), mode 0600.
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        Self::bind_for(path, None)
    }

    /// Listen at `path`, mode 0600, or 0660 with group `group` (the
    /// configuration tool's user, say) when one is given.
    pub fn bind_for(path: &Path, group: Option<&str>) -> std::io::Result<Self> {
        let gid = match group {
            None => None,
            Some(g) => Some(
                nix::unistd::Group::from_name(g)
                    .map_err(std::io::Error::from)?
                    .ok_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, format!("no group {g:?}"))
                    })?
                    .gid,
            ),
        };
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                // A live daemon answers: do not steal its socket.
                if UnixStream::connect(path).is_ok() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AddrInUse,
                        format!("{} is served by a running daemon", path.display()),
                    ));
                }
                std::fs::remove_file(path)?;
            } else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
        }
        let sock = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        if let Some(gid) = gid {
            nix::unistd::chown(path, None, Some(gid)).map_err(std::io::Error::from)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
        }
        sock.set_nonblocking(true)?;
        Ok(Listener {
            sock,
            path: path.to_path_buf(),
        })
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Take the next waiting connection and its request line, if any.
    pub fn accept(&self) -> Option<Incoming> {
        let (stream, _) = self.sock.accept().ok()?;
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let (uid, pid) =
            nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
                .map(|c| (c.uid(), c.pid()))
                .unwrap_or((u32::MAX, 0));
        let line = read_line(&stream);
        Some(Incoming {
            stream,
            line,
            uid,
            pid,
        })
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn read_line(mut s: &UnixStream) -> Result<String, String> {
    let mut buf = Vec::with_capacity(128);
    let mut chunk = [0u8; 256];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.contains(&b'\n') {
                    break;
                }
                if buf.len() > MAX_REQUEST {
                    return Err(format!("request longer than {MAX_REQUEST} bytes"));
                }
            }
            Err(e) => return Err(format!("reading the request: {e}")),
        }
    }
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

impl Incoming {
    /// Send the answer and close.
    pub fn answer(mut self, a: &Answer) {
        let _ = self.stream.write_all(&a.encode());
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Why asking a daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// Nothing listens (the daemon is not running).
    #[error("cannot connect to {0}: {1} (is the daemon running?)")]
    Connect(String, std::io::Error),
    /// The exchange broke off.
    #[error("talking to {0}: {1}")]
    Io(String, std::io::Error),
}

/// Send `request` to the daemon at `path` and wait at most `timeout` for
/// each read and write of the answer.
pub fn ask(path: &Path, request: &str, timeout: Duration) -> Result<Answer, AskError> {
    let p = path.display().to_string();
    let mut s = UnixStream::connect(path).map_err(|e| AskError::Connect(p.clone(), e))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let mut line = request.trim_end().to_string();
    line.push('\n');
    s.write_all(line.as_bytes())
        .map_err(|e| AskError::Io(p.clone(), e))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| AskError::Io(p, e))?;
    Ok(Answer::decode(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn socket_modes_and_a_live_daemon_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ctl");
        let l = Listener::bind(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        // a second daemon does not steal a live socket
        assert_eq!(
            Listener::bind(&p).unwrap_err().kind(),
            std::io::ErrorKind::AddrInUse
        );
        drop(l);
        assert!(!p.exists());
        // a stale socket file is replaced
        let stale = std::os::unix::net::UnixListener::bind(&p).unwrap();
        drop(stale);
        let gid = nix::unistd::getgid();
        let group = nix::unistd::Group::from_gid(gid).unwrap().unwrap().name;
        let l = Listener::bind_for(&p, Some(&group)).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.mode() & 0o777, m.gid()), (0o660, gid.as_raw()));
        drop(l);
        assert!(Listener::bind_for(&p, Some("no-such-group-here")).is_err());
        std::fs::write(&p, "x").unwrap();
        assert_eq!(
            Listener::bind(&p).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
    }

    #[test]
    fn one_request_one_answer_with_the_callers_uid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ctl");
        let l = Listener::bind(&p).unwrap();
        let p2 = p.clone();
        let client = std::thread::spawn(move || ask(&p2, "status json", Duration::from_secs(5)));
        let inc = loop {
            if let Some(i) = l.accept() {
                break i;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(inc.line.as_deref(), Ok("status json"));
        assert_eq!(inc.uid, nix::unistd::getuid().as_raw());
        inc.answer(&Answer::ok("{}"));
        let a = client.join().unwrap().unwrap();
        assert!(a.ok);
        assert_eq!(a.text, "{}\n");
        drop(l);
        assert!(matches!(
            ask(&p, "status", Duration::from_secs(1)),
            Err(AskError::Connect(..))
        ));
    }
}
