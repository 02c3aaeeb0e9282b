//! One health check: a TCP/UDP conversation or a send program.
//!
//! [`SocketCheck`] connects (non-blocking, with one I/O deadline for the
//! whole check), writes the send string, then reads until the [`Matcher`]
//! decides, the peer closes, or the deadline passes (B5: no false DOWN on a
//! short read, and the check can never take more than its timeout).  UDP
//! sockets are connected, so an ICMP port-unreachable shows up as a read
//! error; a UDP check always waits for one datagram (Piranha's rule: without
//! an expect string, any non-empty reply will do).
//!
//! [`ProgramCheck`] runs the send program without a shell: the command is
//! split on spaces, tokens that are exactly `%h` / `%p` become the real
//! server's address / port, stdin is `/dev/null`, output is bounded and the
//! run has the I/O timeout.  Fixed from Piranha (B3): a program that fails,
//! is killed or times out is a failed check; its whole output, less one
//! trailing newline, is compared with the expect string (exactly, or as a
//! regex with `--regex`); empty output with an expect string fails.  Without
//! an expect string, exit status 0 is success.
//!
//! With `-v` the bytes sent, the reply and the program's output are logged
//! on one line each, escaped and capped ([`piranha_runtime::quote::dump`]).
//!
//! Piranha also sent one ICMP echo per check on a raw socket and never waited
//! for the answer; we do not (it needed root and changed nothing).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::socket::{
    connect, getsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
};
use piranha_runtime::error::Chain;
use piranha_runtime::quote::dump;
use piranha_runtime::signals::poll_timeout;
use piranha_runtime::spawn::{run, Completion, Interrupt, RunOptions};

use crate::expect::{Decision, Matcher};
use crate::ipvsadm::quote_argv;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered as expected.
    Up,
    /// It did not.
    Down,
    /// A stop signal arrived; the check was abandoned.
    Interrupted,
}

/// Something that checks the real server.
pub trait Checker {
    /// Run one check; give up early when `interrupt` says so.
    fn check(&mut self, interrupt: Option<&Interrupt<'_>>) -> Outcome;

    /// Extension (issue 9): which check decided and why, appended to the
    /// state-change lines. `None` (Piranha's checks): the lines are
    /// Piranha's, unchanged.
    fn detail(&self) -> Option<String> {
        None
    }

    /// Extension (issue 9): the weight the last check asked for (misc
    /// check in dynamic mode).
    fn dynamic_weight(&self) -> Option<i32> {
        None
    }
}

/// Most bytes of send-program output kept; more is a failed check.
pub const MAX_PROGRAM_OUTPUT: usize = 64 * 1024;

/// How a wait for a file descriptor ended.
pub(crate) enum Wait {
    /// Ready (or an error to read).
    Ready,
    /// The deadline passed.
    TimedOut,
    /// The interrupt fired.
    Interrupted,
}

pub(crate) fn wait_fd(
    fd: BorrowedFd<'_>,
    flags: PollFlags,
    deadline: Instant,
    intr: Option<&Interrupt<'_>>,
) -> Wait {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Wait::TimedOut;
        }
        let mut fds = vec![PollFd::new(fd, flags)];
        if let Some(i) = intr {
            fds.push(PollFd::new(i.fd, PollFlags::POLLIN));
        }
        match poll(&mut fds, poll_timeout(left)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return Wait::Ready,
        }
        if fds[0].revents().is_some_and(|r| !r.is_empty()) {
            return Wait::Ready;
        }
        if let Some(i) = intr {
            if (i.abort)() {
                return Wait::Interrupted;
            }
        }
    }
}

fn errtext(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

/// TCP or UDP conversation with the real server.
#[derive(Debug, Clone)]
pub struct SocketCheck {
    /// Where to connect.
    pub addr: SocketAddr,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Bytes to send once connected.
    pub send: Option<Vec<u8>>,
    /// What the reply must be; `Err` holds a regex that did not compile
    /// (every check then fails, as in Piranha).
    pub expect: Option<Result<Matcher, regex::Error>>,
    /// Deadline of the whole check.
    pub timeout: Duration,
}

enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Conn {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Conn::Tcp(s) => s.as_fd(),
            Conn::Udp(s) => s.as_fd(),
        }
    }
}

impl SocketCheck {
    fn name(&self) -> String {
        self.addr.to_string()
    }

    fn connect(&self, deadline: Instant, intr: Option<&Interrupt<'_>>) -> Result<Conn, Outcome> {
        let name = self.name();
        let (ty, proto) = if self.udp {
            (SockType::Datagram, "UDP")
        } else {
            (SockType::Stream, "TCP")
        };
        log::debug!(
            "Opening {proto} socket to remote service port {}...",
            self.addr.port()
        );
        let fd: OwnedFd = socket(
            match self.addr {
                SocketAddr::V4(_) => AddressFamily::Inet,
                SocketAddr::V6(_) => AddressFamily::Inet6,
            },
            ty,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| {
            log::debug!("Failed to create socket: {}", e.desc());
            Outcome::Down
        })?;
        log::debug!("Connecting socket to remote address...");
        use std::os::fd::AsRawFd;
        match connect(fd.as_raw_fd(), &SockaddrStorage::from(self.addr)) {
            Ok(()) | Err(Errno::EINPROGRESS) => {}
            Err(e) => {
                log::debug!("Failed to connect {name} ping socket: {}", e.desc());
                return Err(Outcome::Down);
            }
        }
        match wait_fd(fd.as_fd(), PollFlags::POLLOUT, deadline, intr) {
            Wait::Ready => {}
            Wait::TimedOut => {
                log::info!("CONNECT to {name} timed out");
                return Err(Outcome::Down);
            }
            Wait::Interrupted => return Err(Outcome::Interrupted),
        }
        match getsockopt(&fd, sockopt::SocketError) {
            Ok(0) => {}
            Ok(e) => {
                log::debug!(
                    "Failed to connect {name} ping socket: {}",
                    Errno::from_raw(e).desc()
                );
                return Err(Outcome::Down);
            }
            Err(e) => {
                log::debug!("Failed to connect {name} ping socket: {}", e.desc());
                return Err(Outcome::Down);
            }
        }
        Ok(if self.udp {
            Conn::Udp(UdpSocket::from(fd))
        } else {
            Conn::Tcp(TcpStream::from(fd))
        })
    }

    fn send(
        &self,
        conn: &mut Conn,
        data: &[u8],
        deadline: Instant,
        intr: Option<&Interrupt<'_>>,
    ) -> Outcome {
        let name = self.name();
        log::debug!("Sending len={}, text={}", data.len(), dump(data));
        let mut off = 0;
        while off < data.len() {
            let r = match conn {
                Conn::Tcp(s) => s.write(&data[off..]),
                Conn::Udp(s) => s.send(&data[off..]),
            };
            match r {
                Ok(n) => off += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    match wait_fd(conn.fd(), PollFlags::POLLOUT, deadline, intr) {
                        Wait::Ready => {}
                        Wait::TimedOut => {
                            log::info!(
                                "WRITE operation for {name} returned error: {}",
                                Errno::ETIMEDOUT.desc()
                            );
                            return Outcome::Down;
                        }
                        Wait::Interrupted => return Outcome::Interrupted,
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::info!("WRITE operation for {name} returned error: {}", errtext(&e));
                    return Outcome::Down;
                }
            }
        }
        Outcome::Up
    }

    fn receive(
        &self,
        conn: &mut Conn,
        matcher: Option<&Matcher>,
        deadline: Instant,
        intr: Option<&Interrupt<'_>>,
    ) -> Outcome {
        let name = self.name();
        let want = matcher.map_or(1, |m| m.wanted());
        let mut buf: Vec<u8> = Vec::new();
        // Small: every page a nanny touches is its own (lvs runs thousands).
        let mut chunk = vec![0u8; 4096];
        log::debug!("DEBUG -- Posting READ poll()");
        loop {
            match wait_fd(conn.fd(), PollFlags::POLLIN, deadline, intr) {
                Wait::Ready => {}
                Wait::Interrupted => return Outcome::Interrupted,
                Wait::TimedOut => {
                    if buf.is_empty() {
                        log::info!("READ to {name} timed out");
                        return Outcome::Down;
                    }
                    return self.verdict(matcher, &buf, true, want);
                }
            }
            let r = match conn {
                Conn::Tcp(s) => s.read(&mut chunk),
                Conn::Udp(s) => s.recv(&mut chunk),
            };
            match r {
                Ok(n) => {
                    log::debug!("DEBUG -- READ returned {n}");
                    buf.extend_from_slice(&chunk[..n]);
                    let complete = self.udp || n == 0;
                    match self.decide(matcher, &buf, complete) {
                        Decision::Undecided => {}
                        _ => return self.verdict(matcher, &buf, complete, want),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let n = e.raw_os_error().unwrap_or(0);
                    log::info!("READ returned error {n}:{}", errtext(&e));
                    return Outcome::Down;
                }
            }
        }
    }

    fn decide(&self, matcher: Option<&Matcher>, buf: &[u8], complete: bool) -> Decision {
        match matcher {
            Some(m) => m.decide(buf, complete),
            // UDP without expect: one non-empty datagram.
            None if !buf.is_empty() => Decision::Match,
            None if complete => Decision::Mismatch,
            None => Decision::Undecided,
        }
    }

    fn verdict(
        &self,
        matcher: Option<&Matcher>,
        buf: &[u8],
        complete: bool,
        want: usize,
    ) -> Outcome {
        let d = match self.decide(matcher, buf, complete) {
            Decision::Undecided => self.decide(matcher, buf, true),
            d => d,
        };
        log::debug!("READ got len={}, text={}", buf.len(), dump(buf));
        match d {
            Decision::Match => Outcome::Up,
            _ => {
                let short = match matcher {
                    Some(Matcher::Prefix(_)) | None => buf.len() < want,
                    Some(Matcher::Regex(_)) => false,
                };
                if short {
                    log::info!(
                        "READ from {} was too short[{}>={}]",
                        self.name(),
                        buf.len(),
                        want
                    );
                }
                Outcome::Down
            }
        }
    }
}

impl Checker for SocketCheck {
    fn check(&mut self, intr: Option<&Interrupt<'_>>) -> Outcome {
        let deadline = Instant::now() + self.timeout;
        let matcher = match &self.expect {
            Some(Err(_)) => return Outcome::Down,
            Some(Ok(m)) => Some(m),
            None => None,
        };
        let mut conn = match self.connect(deadline, intr) {
            Ok(c) => c,
            Err(o) => return o,
        };
        if let Some(data) = &self.send {
            match self.send(&mut conn, data, deadline, intr) {
                Outcome::Up => {}
                o => return o,
            }
        }
        if matcher.is_none() && !self.udp {
            return Outcome::Up;
        }
        self.receive(&mut conn, matcher, deadline, intr)
    }
}

/// Split a send-program command line into argv: on spaces, no shell, empty
/// tokens dropped, tokens exactly `%h` / `%p` replaced.
pub fn program_argv(command: &str, rip: IpAddr, rport: u16) -> Vec<String> {
    command
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(|t| match t {
            "%h" => rip.to_string(),
            "%p" => rport.to_string(),
            t => t.to_string(),
        })
        .collect()
}

/// The send-program check.
#[derive(Debug, Clone)]
pub struct ProgramCheck {
    /// The program and its arguments, already substituted.
    pub argv: Vec<String>,
    /// What its output must be; `Err` holds a bad regex (checks fail).
    pub expect: Option<Result<Matcher, regex::Error>>,
    /// `RIP:RPORT` for the log.
    pub name: String,
    /// Longest run.
    pub timeout: Duration,
}

impl Checker for ProgramCheck {
    fn check(&mut self, intr: Option<&Interrupt<'_>>) -> Outcome {
        let name = &self.name;
        let args = quote_argv(&self.argv);
        log::debug!("Invoking:{args}");
        let opts = RunOptions {
            capture: true,
            max_output: MAX_PROGRAM_OUTPUT,
            inherit_stderr: false,
            timeout: self.timeout,
            search_path: true,
        };
        let out = match run(&self.argv, &opts, intr) {
            Ok(o) => o,
            Err(e) => {
                log::info!("The following exited abnormally:{args} ({})", Chain(&e));
                return Outcome::Down;
            }
        };
        match out.completion {
            Completion::Exited(0) => {}
            Completion::TimedOut => {
                log::info!("timeout running the following:{args}");
                return Outcome::Down;
            }
            Completion::Interrupted => {
                log::info!("Killing child {}", out.pid);
                return Outcome::Interrupted;
            }
            c => {
                log::info!("The following exited abnormally:{args} ({c})");
                return Outcome::Down;
            }
        }
        if out.truncated {
            log::info!(
                "Output of the external sending program to ({name}) is longer than {MAX_PROGRAM_OUTPUT} bytes"
            );
            return Outcome::Down;
        }
        let mut text = out.stdout.as_slice();
        if let Some(t) = text.strip_suffix(b"\n") {
            text = t;
        }
        log::debug!("Got result ({}) from command sent to ({name})", dump(text));
        let matcher = match &self.expect {
            None => return Outcome::Up,
            Some(Err(_)) => return Outcome::Down,
            Some(Ok(m)) => m,
        };
        if text.is_empty() {
            log::info!("Ran the external sending program to ({name}) but didn't get anything back");
            return Outcome::Down;
        }
        if matcher.whole(text) {
            Outcome::Up
        } else {
            log::info!("Trouble. Received results are not what we expected from ({name})");
            Outcome::Down
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_substitutes_whole_tokens_only() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(
            program_argv("/bin/chk  -H %h -p %p x%h %p; rm -rf /", ip, 8080),
            ["/bin/chk", "-H", "10.0.0.2", "-p", "8080", "x%h", "%p;", "rm", "-rf", "/"]
        );
    }
}
