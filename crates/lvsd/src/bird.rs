//! Active-active over BGP (issue 22): telling BIRD 2 which virtual
//! addresses this director announces.
//!
//! lvs writes the routes to a file of its own (`bird_routes`, atomically)
//! that the administrator's `bird.conf` includes at the top level, then
//! asks BIRD to read its configuration again through its control socket
//! (`bird_socket`), as `birdc configure` would, without running birdc. The
//! file holds two static protocols, `piranha4` and `piranha6`, one route
//! per announced address (a host route, `blackhole`: BIRD only exports it;
//! the address itself is on the director's `lo`). An address is withdrawn
//! by writing the file without it. The administrator's BGP protocols
//! export `where proto ~ "piranha*"` (lvs.cf(5), docs/SCALE-OUT.md).
//!
//! The control socket speaks lines of a four-digit code, then `-` (more
//! lines follow) or a blank (the last line), then text; a line beginning
//! with a blank continues the previous code. Codes 0xxx are successes
//! (0003 "Reconfigured", 0004 "Reconfiguration in progress", 0018/0019),
//! 8xxx and 9xxx errors (a configuration error is 8002 with
//! `file:line:col`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lvs_config::Config;

/// How long lvs waits for BIRD to answer (a reconfiguration of a large
/// configuration takes a while; lvs's loop waits meanwhile).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The static protocol of the IPv4 routes.
pub const PROTO4: &str = "piranha4";
/// The static protocol of the IPv6 routes.
pub const PROTO6: &str = "piranha6";

/// How often lvs looks at BIRD (and at its virtual addresses).
pub const PROBE: Duration = Duration::from_secs(1);

/// The announcer's state (bgp mode only).
#[derive(Debug)]
pub struct Announcer {
    pub(crate) socket: PathBuf,
    pub(crate) routes: PathBuf,
    pub(crate) delay: Duration,
    /// What BIRD last took; `None`: not told yet, or it did not answer.
    pub(crate) told: Option<BTreeSet<IpAddr>>,
    /// BIRD did not answer (said once in the log).
    pub(crate) down: bool,
    /// lvs is stopping: nothing is announced.
    pub(crate) stopping: bool,
    /// When to look again.
    pub(crate) next_at: Instant,
}

impl Announcer {
    /// The announcer of `cfg`, in bgp mode.
    pub fn of(cfg: &Config) -> Option<Self> {
        cfg.bgp().then(|| Announcer {
            socket: cfg.bird_socket().into(),
            routes: cfg.bird_routes().into(),
            delay: cfg.withdraw_delay().as_duration(),
            told: None,
            down: false,
            stopping: false,
            next_at: Instant::now(),
        })
    }

    /// A reload: the paths and the delay may have changed.
    pub fn reconfigure(&mut self, cfg: &Config) {
        let socket: PathBuf = cfg.bird_socket().into();
        let routes: PathBuf = cfg.bird_routes().into();
        if socket != self.socket || routes != self.routes {
            self.told = None;
        }
        self.socket = socket;
        self.routes = routes;
        self.delay = cfg.withdraw_delay().as_duration();
    }

    /// Is `vip` announced?
    pub fn announced(&self, vip: IpAddr) -> bool {
        self.told.as_ref().is_some_and(|t| t.contains(&vip))
    }
}

/// The text of the routes file announcing `vips`: both protocols always
/// (an empty static protocol is valid and announces nothing), so the
/// administrator's filters can name them whatever is announced.
pub fn routes_file(vips: &BTreeSet<IpAddr>) -> String {
    let mut out = String::from(
        "# Written by lvs (piranha-rs, director_mode = bgp): the virtual addresses\n\
         # this director announces. Do not edit: lvs rewrites this file and asks\n\
         # BIRD to read it again. Include it at the top level of bird.conf.\n",
    );
    for (proto, channel, v6) in [(PROTO4, "ipv4", false), (PROTO6, "ipv6", true)] {
        out.push_str(&format!("protocol static {proto} {{\n\t{channel};\n"));
        for vip in vips.iter().filter(|a| a.is_ipv6() == v6) {
            let len = if v6 { 128 } else { 32 };
            out.push_str(&format!("\troute {vip}/{len} blackhole;\n"));
        }
        out.push_str("}\n");
    }
    out
}

/// Why BIRD did not take the routes.
#[derive(Debug, thiserror::Error)]
pub enum BirdError {
    /// The socket could not be reached: BIRD is not running, or runs with
    /// another socket.
    #[error("cannot reach BIRD's control socket {path}: {source}")]
    Unreachable {
        /// `bird_socket`.
        path: String,
        /// connect's error.
        source: std::io::Error,
    },
    /// The conversation broke off or timed out.
    #[error("BIRD's control socket {path}: {source}")]
    Io {
        /// `bird_socket`.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// BIRD answered with an error code.
    #[error("BIRD refused `{command}`: {reply}")]
    Refused {
        /// The command sent.
        command: String,
        /// BIRD's reply, its lines joined.
        reply: String,
    },
}

/// One reply: the code of its last line and every line's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The last line's code.
    pub code: u16,
    /// The text of every line, in order.
    pub lines: Vec<String>,
}

impl Reply {
    /// A success (0xxx) or data (1xxx, 2xxx) reply.
    pub fn ok(&self) -> bool {
        self.code < 8000
    }

    /// The lines joined, for a log line.
    pub fn text(&self) -> String {
        self.lines.join("; ")
    }
}

/// Read one reply from `r`: lines until one whose code is followed by a
/// blank.
pub fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut lines = Vec::new();
    let mut code = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed in the middle of a reply",
            ));
        }
        let line = line.trim_end_matches(['\n', '\r']);
        let b = line.as_bytes();
        if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b' ' | b'-') {
            code = line[..4].parse().unwrap_or(0);
            lines.push(line[5..].to_string());
            if b[4] == b' ' {
                return Ok(Reply { code, lines });
            }
        } else if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
            // a code with no text, the last line
            code = line.parse().unwrap_or(0);
            return Ok(Reply { code, lines });
        } else {
            // a continuation of the previous code
            lines.push(line.trim_start().to_string());
            let _ = code;
        }
    }
}

/// A connection to BIRD's control socket `path`, its greeting read.
fn connect(path: &Path) -> Result<(UnixStream, BufReader<UnixStream>), BirdError> {
    let shown = path.display().to_string();
    let stream = UnixStream::connect(path).map_err(|source| BirdError::Unreachable {
        path: shown.clone(),
        source,
    })?;
    let io = |source| BirdError::Io {
        path: shown.clone(),
        source,
    };
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let mut r = BufReader::new(stream.try_clone().map_err(io)?);
    let hello = read_reply(&mut r).map_err(io)?;
    if !hello.ok() {
        return Err(BirdError::Refused {
            command: "(greeting)".into(),
            reply: hello.text(),
        });
    }
    Ok((stream, r))
}

/// Send `command` on BIRD's control socket `path` and read the reply (the
/// greeting first).
pub fn command(path: &Path, command: &str) -> Result<Reply, BirdError> {
    let (stream, mut r) = connect(path)?;
    let io = |source| BirdError::Io {
        path: path.display().to_string(),
        source,
    };
    (&stream)
        .write_all(format!("{command}\n").as_bytes())
        .map_err(io)?;
    let reply = read_reply(&mut r).map_err(io)?;
    if reply.ok() {
        Ok(reply)
    } else {
        Err(BirdError::Refused {
            command: command.to_string(),
            reply: reply.text(),
        })
    }
}

/// Is BIRD answering on `path`? (The greeting only.)
pub fn alive(path: &Path) -> Result<(), BirdError> {
    connect(path).map(|_| ())
}

/// Write the routes file for `vips` (atomically, mode 0644 when new: BIRD
/// may run as its own user) and ask BIRD to read its configuration again.
pub fn announce(
    socket: &Path,
    routes: &Path,
    vips: &BTreeSet<IpAddr>,
) -> Result<Reply, AnnounceError> {
    if let Some(dir) = routes.parent() {
        std::fs::create_dir_all(dir).map_err(|source| AnnounceError::Write {
            path: routes.display().to_string(),
            source,
        })?;
    }
    // lvs.cf's atomic writer: a temporary file (not matching `*.conf`)
    // renamed over the old one, 0644 when new, the directory synced
    lvs_config::editor::write_atomic(routes, routes_file(vips).as_bytes(), false).map_err(
        |source| AnnounceError::Write {
            path: routes.display().to_string(),
            source,
        },
    )?;
    command(socket, "configure").map_err(AnnounceError::Bird)
}

/// [`announce`]'s failures.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    /// The routes file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// `bird_routes`.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// BIRD did not take it.
    #[error(transparent)]
    Bird(#[from] BirdError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_both_families_in_their_protocols() {
        let vips: BTreeSet<IpAddr> = ["10.0.0.100", "2001:db8::100", "10.0.0.101"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let t = routes_file(&vips);
        let body: Vec<&str> = t.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "protocol static piranha4 {",
                "\tipv4;",
                "\troute 10.0.0.100/32 blackhole;",
                "\troute 10.0.0.101/32 blackhole;",
                "}",
                "protocol static piranha6 {",
                "\tipv6;",
                "\troute 2001:db8::100/128 blackhole;",
                "}",
            ]
        );
    }

    #[test]
    fn nothing_announced_is_two_empty_protocols() {
        let t = routes_file(&BTreeSet::new());
        assert!(t.contains("protocol static piranha4 {\n\tipv4;\n}\n"));
        assert!(t.contains("protocol static piranha6 {\n\tipv6;\n}\n"));
    }

    #[test]
    fn replies() {
        let mut r = "0001 BIRD 2.0.12 ready.\n".as_bytes();
        assert_eq!(
            read_reply(&mut r).unwrap(),
            Reply {
                code: 1,
                lines: vec!["BIRD 2.0.12 ready.".into()]
            }
        );
        let mut r =
            "0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n".as_bytes();
        let rep = read_reply(&mut r).unwrap();
        assert!(rep.ok());
        assert_eq!(rep.code, 3);
        let mut r = "0002-Reading configuration from /etc/bird/bird.conf\n8002 /run/piranha/bird/routes.conf:4:9 syntax error, unexpected '/'\n".as_bytes();
        let rep = read_reply(&mut r).unwrap();
        assert!(!rep.ok());
        assert!(rep.text().contains("routes.conf:4:9"));
        let mut r = "1000-BIRD 2.0.12\n continued\n0000 \n".as_bytes();
        let rep = read_reply(&mut r).unwrap();
        assert_eq!(rep.lines, ["BIRD 2.0.12", "continued", ""]);
        assert!(read_reply(&mut "0002-half".as_bytes()).is_err());
    }

    #[test]
    fn a_missing_socket_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let e = command(&dir.path().join("bird.ctl"), "configure").unwrap_err();
        assert!(matches!(e, BirdError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains("cannot reach BIRD's control socket"));
    }

    #[test]
    fn a_conversation_with_a_socket_that_speaks_birds_protocol() {
        use std::os::unix::net::UnixListener;
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("bird.ctl");
        let l = UnixListener::bind(&sock).unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"0001 BIRD 2.0.12 ready.\n").unwrap();
            let mut line = String::new();
            BufReader::new(s.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line, "configure\n");
            s.write_all(
                b"0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n",
            )
            .unwrap();
        });
        let routes = dir.path().join("sub/routes.conf");
        let vips: BTreeSet<IpAddr> = ["10.0.0.100".parse().unwrap()].into();
        let rep = announce(&sock, &routes, &vips).unwrap();
        assert_eq!(rep.code, 3);
        t.join().unwrap();
        let text = std::fs::read_to_string(&routes).unwrap();
        assert!(text.contains("route 10.0.0.100/32 blackhole;"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&routes).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
