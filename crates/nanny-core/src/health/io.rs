//! The shared parts of the checks: the failure type, the bounded, interruptible stream, TCP connect with one deadline, and what a server may say that is not its protocol.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{
    connect, getsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
};
use piranha_runtime::spawn::Interrupt;

use crate::check::{wait_fd, Wait};

/// Most bytes of response headers (HTTP) or of one reply (SMTP) read.
pub const MAX_HEADER: usize = 16 * 1024;
/// Most bytes of an HTTP body read (and hashed); more is a failed check.
pub const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Longest DNS reply read.
pub const MAX_DNS: usize = 4096;
/// Grace between SIGTERM and SIGKILL for a misc program that timed out.
pub const MISC_KILL_GRACE: Duration = Duration::from_secs(2);

/// Why a check step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The server failed the check; the text says how (logged).
    Down(String),
    /// The server closed the connection without sending a byte (genhash
    /// says so in keepalived's words).
    NoData,
    /// A stop signal arrived.
    Interrupted,
}

impl Fail {
    /// What a failed check logs: the reason, or `None` when a stop signal
    /// ended it.
    pub fn into_reason(self) -> Option<String> {
        match self {
            Fail::Down(d) => Some(d),
            Fail::NoData => Some("no data received".to_string()),
            Fail::Interrupted => None,
        }
    }
}

pub(super) type Res<T> = Result<T, Fail>;

pub(super) fn down<T>(s: impl Into<String>) -> Res<T> {
    Err(Fail::Down(s.into()))
}

/// A connected, non-blocking TCP stream whose reads and writes wait at
/// most until one deadline and give up when the interrupt fires.
pub struct Bounded<'a> {
    stream: TcpStream,
    deadline: Instant,
    intr: Option<&'a Interrupt<'a>>,
}

pub(super) const INTERRUPTED: &str = "interrupted by a stop signal";

impl Bounded<'_> {
    fn wait(&self, flags: PollFlags) -> io::Result<()> {
        match wait_fd(self.stream.as_fd(), flags, self.deadline, self.intr) {
            Wait::Ready => Ok(()),
            Wait::TimedOut => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
            Wait::Interrupted => Err(io::Error::other(INTERRUPTED)),
        }
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stream.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::POLLIN)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

impl Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.stream.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::POLLOUT)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(super) fn io_fail(what: &str, e: &io::Error) -> Fail {
    if e.kind() == io::ErrorKind::Other && e.to_string() == INTERRUPTED {
        return Fail::Interrupted;
    }
    Fail::Down(format!("{what}: {e}"))
}

/// A socket of `addr`'s family.
pub(super) fn family_of(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    }
}

pub(super) fn nonblocking_socket(family: AddressFamily, ty: SockType) -> Res<OwnedFd> {
    socket(
        family,
        ty,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .or_else(|e| down(format!("socket: {}", e.desc())))
}

/// Connect to `addr` by `deadline`.
pub fn connect_tcp<'a>(
    addr: SocketAddr,
    deadline: Instant,
    intr: Option<&'a Interrupt<'a>>,
) -> Res<Bounded<'a>> {
    let fd = nonblocking_socket(family_of(&addr), SockType::Stream)?;
    match connect(fd.as_raw_fd(), &SockaddrStorage::from(addr)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => return down(format!("connect to {addr}: {}", e.desc())),
    }
    match wait_fd(fd.as_fd(), PollFlags::POLLOUT, deadline, intr) {
        Wait::Ready => {}
        Wait::TimedOut => return down(format!("connect to {addr} timed out")),
        Wait::Interrupted => return Err(Fail::Interrupted),
    }
    match getsockopt(&fd, sockopt::SocketError) {
        Ok(0) => {}
        Ok(e) => return down(format!("connect to {addr}: {}", Errno::from_raw(e).desc())),
        Err(e) => return down(format!("connect to {addr}: {}", e.desc())),
    }
    Ok(Bounded {
        stream: TcpStream::from(fd),
        deadline,
        intr,
    })
}

/// Most bytes of a server's reply line quoted in a failed check's reason.
pub const REPLY_LINE_MAX: usize = 80;

/// A reply line for a failed check's reason: escaped, quoted and cut at
/// [`REPLY_LINE_MAX`] bytes, the way `-v` shows replies
/// ([`piranha_runtime::quote::dump`]).
pub fn reply_line(line: &[u8]) -> String {
    piranha_runtime::quote::dump_max(line, REPLY_LINE_MAX)
}

/// What a server said that is not the protocol its check speaks (the text
/// is the line nanny logs, after the check's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Garbled {
    /// The first line of an HTTP response, as [`reply_line`] shows it.
    #[error("not an HTTP status line: {0}")]
    StatusLine(String),
    /// Three bytes that are not a reply code.
    #[error("not an SMTP reply")]
    NotSmtp,
    /// A reply line that does not start with a code, as [`reply_line`]
    /// shows it.
    #[error("not an SMTP reply line: {0}")]
    SmtpLine(String),
    /// A code followed by neither `-`, a blank nor the line's end.
    #[error("not an SMTP reply line")]
    SmtpSeparator,
    /// A DNS datagram shorter than a header.
    #[error("reply of {0} bytes is shorter than a header")]
    DnsShort(usize),
    /// A DNS reply to another query.
    #[error("reply id {got} does not match query id {want}")]
    DnsId { got: u16, want: u16 },
    /// A DNS query, not a response.
    #[error("reply is not a response")]
    DnsNotResponse,
    /// A DNS error code.
    #[error("reply RCODE {0}")]
    DnsRcode(u8),
    /// A DNS reply that does not parse.
    #[error("malformed reply: {0}")]
    DnsMalformed(String),
}

/// Read once; a TLS peer that closes without close_notify is a plain end
/// of stream (most web servers do it).
pub(super) fn read_some<S: Read>(s: &mut S, buf: &mut [u8]) -> Res<usize> {
    match s.read(buf) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
        Err(e) => Err(io_fail("read", &e)),
    }
}
