//! Extension (issue 9): the checks beyond Piranha's send/expect, with
//! keepalived's semantics (reference keepalived.md §1): `tcp` (connect),
//! `http`/`https` (GET, status codes, MD5 of the body, Host header, SNI,
//! optional certificate verification), `smtp` (220, HELO, 250, QUIT), `dns`
//! (one UDP query, the reply checked) and `misc` (a program: exit 0 up, 1
//! down, 2-255 up with weight exit - 2 in dynamic mode; on timeout its whole
//! process group is killed).
//!
//! Every check has one deadline (the I/O timeout) for all its steps, reads
//! at most a bounded number of bytes, and gives up at once when a stop
//! signal arrives. The parsers of what the server says
//! ([`parse_status_line`], [`smtp_reply`], [`check_dns_reply`]) are pure
//! functions over bytes, property-tested never to panic.

use std::io::{self, Read, Write};
use std::net::{SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{
    connect, getsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn,
};
use piranha_runtime::spawn::Interrupt;

use crate::check::{wait_fd, Checker, Outcome, Wait};

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
    /// A stop signal arrived.
    Interrupted,
}

type Res<T> = Result<T, Fail>;

fn down<T>(s: impl Into<String>) -> Res<T> {
    Err(Fail::Down(s.into()))
}

/// A connected, non-blocking TCP stream whose reads and writes wait at
/// most until one deadline and give up when the interrupt fires.
pub struct Bounded<'a> {
    stream: TcpStream,
    deadline: Instant,
    intr: Option<&'a Interrupt<'a>>,
}

const INTERRUPTED: &str = "interrupted by a stop signal";

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

fn io_fail(what: &str, e: &io::Error) -> Fail {
    if e.kind() == io::ErrorKind::Other && e.to_string() == INTERRUPTED {
        return Fail::Interrupted;
    }
    Fail::Down(format!("{what}: {e}"))
}

fn nonblocking_socket(ty: SockType) -> Res<OwnedFd> {
    socket(
        AddressFamily::Inet,
        ty,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .or_else(|e| down(format!("socket: {}", e.desc())))
}

/// Connect to `addr` by `deadline`.
pub fn connect_tcp<'a>(
    addr: SocketAddrV4,
    deadline: Instant,
    intr: Option<&'a Interrupt<'a>>,
) -> Res<Bounded<'a>> {
    let fd = nonblocking_socket(SockType::Stream)?;
    match connect(fd.as_raw_fd(), &SockaddrIn::from(addr)) {
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

// ---------------------------------------------------------------- HTTP

/// The status code of an HTTP status line (`HTTP/1.x NNN reason`), or
/// `None` if `line` is not one.
pub fn parse_status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let sp = rest.iter().position(|&b| b == b' ')?;
    let version = &rest[..sp];
    if version.is_empty() || !version.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return None;
    }
    let code = rest[sp + 1..].get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match rest.get(sp + 4) {
        None | Some(b' ') | Some(b'\r') | Some(b'\n') => {}
        Some(_) => return None,
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// What the head of an HTTP response says: status and Content-Length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// Content-Length, if the server sent a valid one.
    pub content_length: Option<u64>,
    /// Length of the head, terminating blank line included.
    pub head_len: usize,
}

/// What a server said that is not the protocol its check speaks (the text
/// is the line nanny logs, after the check's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Garbled {
    /// The first line of an HTTP response.
    #[error("not an HTTP status line: {0:?}")]
    StatusLine(String),
    /// Three bytes that are not a reply code.
    #[error("not an SMTP reply")]
    NotSmtp,
    /// A reply line that does not start with a code.
    #[error("not an SMTP reply line: {0:?}")]
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

/// Parse the head of an HTTP response from the first bytes received:
/// `Ok(None)` if the blank line ending the head has not arrived yet.
pub fn parse_head(buf: &[u8]) -> Result<Option<ResponseHead>, Garbled> {
    // Whichever blank line comes first ends the head (a bare-LF head may be
    // followed by a body that contains CRLF CRLF).
    let (end, sep) = match (find(buf, b"\r\n\r\n"), find(buf, b"\n\n")) {
        (Some(c), Some(l)) if l < c => (l, 2),
        (Some(c), _) => (c, 4),
        (None, Some(l)) => (l, 2),
        (None, None) => return Ok(None),
    };
    let head = &buf[..end];
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let status = parse_status_line(first).ok_or_else(|| {
        Garbled::StatusLine(String::from_utf8_lossy(&first[..first.len().min(80)]).into_owned())
    })?;
    let mut content_length = None;
    for l in lines {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if let Some(colon) = l.iter().position(|&b| b == b':') {
            if l[..colon].eq_ignore_ascii_case(b"content-length") {
                content_length = std::str::from_utf8(&l[colon + 1..])
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
            }
        }
    }
    Ok(Some(ResponseHead {
        status,
        content_length,
        head_len: end + sep,
    }))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse `200-299,301` or `200-299 301` into inclusive ranges (codes
/// 100-999).
pub fn parse_status_ranges(s: &str) -> Option<Vec<(u16, u16)>> {
    let mut out = Vec::new();
    for w in s.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        let code = |t: &str| t.parse::<u16>().ok().filter(|c| (100..=999).contains(c));
        let r = match w.split_once('-') {
            Some((a, b)) => (code(a)?, code(b)?),
            None => (code(w)?, code(w)?),
        };
        if r.0 > r.1 {
            return None;
        }
        out.push(r);
    }
    (!out.is_empty()).then_some(out)
}

/// Is `code` in one of the inclusive ranges?
pub fn status_ok(code: u16, ranges: &[(u16, u16)]) -> bool {
    ranges.iter().any(|&(a, b)| (a..=b).contains(&code))
}

/// TLS settings of an https check.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Server name sent as SNI (and verified against); `None`: no SNI.
    pub sni: Option<String>,
    /// Verify the certificate chain and name.
    pub verify: bool,
    /// PEM CA bundle for verification (default: the system's roots).
    pub ca: Option<String>,
}

/// One HTTP(S) GET, as the check and genhash do it.
#[derive(Debug, Clone)]
pub struct HttpGet {
    /// The real server.
    pub addr: SocketAddrV4,
    /// URL path.
    pub path: String,
    /// Host header (default `ADDR[:PORT]`).
    pub vhost: Option<String>,
    /// TLS, for https.
    pub tls: Option<Tls>,
    /// Deadline of the whole exchange.
    pub timeout: Duration,
}

/// What a GET got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResult {
    /// Status code.
    pub status: u16,
    /// Hex MD5 of the body.
    pub digest: String,
    /// Body bytes received (and hashed).
    pub body_len: u64,
    /// Content-Length the server announced.
    pub content_length: Option<u64>,
    /// The response head as received.
    pub head: Vec<u8>,
    /// The first bytes of the body (at most `keep_body` asked for).
    pub body_start: Vec<u8>,
}

impl HttpGet {
    /// The request bytes (HTTP/1.0, so the server closes the connection).
    pub fn request(&self) -> String {
        let default_port = if self.tls.is_some() { 443 } else { 80 };
        let host = match &self.vhost {
            Some(h) => h.clone(),
            None if self.addr.port() == default_port => self.addr.ip().to_string(),
            None => self.addr.to_string(),
        };
        format!(
            "GET {} HTTP/1.0\r\nUser-Agent: piranha-rs-nanny\r\nHost: {host}\r\n\r\n",
            self.path
        )
    }

    /// Run the GET; keep the first `keep_body` bytes of the body.
    pub fn run(&self, intr: Option<&Interrupt<'_>>, keep_body: usize) -> Res<HttpResult> {
        let deadline = Instant::now() + self.timeout;
        let mut io = connect_tcp(self.addr, deadline, intr)?;
        match &self.tls {
            None => self.exchange(&mut io, keep_body),
            Some(t) => {
                let cfg = tls_config(t)?;
                let name = match &t.sni {
                    Some(n) => rustls_pki_types::ServerName::try_from(n.clone())
                        .or_else(|e| down(format!("bad TLS server name {n}: {e}")))?,
                    None => rustls_pki_types::ServerName::IpAddress(
                        std::net::IpAddr::V4(*self.addr.ip()).into(),
                    ),
                };
                let conn = rustls::ClientConnection::new(cfg, name)
                    .or_else(|e| down(format!("TLS setup: {e}")))?;
                let mut s = rustls::StreamOwned::new(conn, io);
                self.exchange(&mut s, keep_body)
            }
        }
    }

    fn exchange<S: Read + Write>(&self, s: &mut S, keep_body: usize) -> Res<HttpResult> {
        s.write_all(self.request().as_bytes())
            .map_err(|e| io_fail("send request", &e))?;
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 4096];
        let head = loop {
            if let Some(h) = parse_head(&buf).map_err(|e| Fail::Down(e.to_string()))? {
                break h;
            }
            if buf.len() >= MAX_HEADER {
                return down(format!("response head longer than {MAX_HEADER} bytes"));
            }
            match read_some(s, &mut chunk)? {
                0 if buf.is_empty() => return down("no data received"),
                0 => {
                    // Closed before the blank line: a head without a body.
                    buf.extend_from_slice(b"\r\n\r\n");
                }
                n => buf.extend_from_slice(&chunk[..n]),
            }
        };
        if head.content_length.is_some_and(|n| n > MAX_BODY) {
            return down(format!("body longer than {MAX_BODY} bytes"));
        }
        let mut md5 = Md5::new();
        let limit = head.content_length.unwrap_or(MAX_BODY);
        let mut body_len: u64 = 0;
        let mut body_start = Vec::new();
        let mut take = |data: &[u8], body_len: &mut u64| {
            let room = (limit - *body_len).min(data.len() as u64) as usize;
            md5.update(&data[..room]);
            let keep = keep_body.saturating_sub(body_start.len()).min(room);
            body_start.extend_from_slice(&data[..keep]);
            *body_len += room as u64;
        };
        let first = buf.get(head.head_len..).unwrap_or_default().to_vec();
        take(&first, &mut body_len);
        while body_len < limit {
            match read_some(s, &mut chunk)? {
                0 => break,
                n => take(&chunk[..n], &mut body_len),
            }
        }
        if head.content_length.is_none() && body_len >= MAX_BODY {
            return down(format!("body longer than {MAX_BODY} bytes"));
        }
        let digest = md5.finalize();
        buf.truncate(head.head_len.min(buf.len()));
        Ok(HttpResult {
            status: head.status,
            digest: digest.iter().map(|b| format!("{b:02x}")).collect(),
            body_len,
            content_length: head.content_length,
            head: buf,
            body_start,
        })
    }
}

/// Read once; a TLS peer that closes without close_notify is a plain end
/// of stream (most web servers do it).
fn read_some<S: Read>(s: &mut S, buf: &mut [u8]) -> Res<usize> {
    match s.read(buf) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
        Err(e) => Err(io_fail("read", &e)),
    }
}

/// The TLS client configuration for `t`, built once per process (a nanny
/// checks one server with one setting; loading the system roots every check
/// would cost milliseconds each time).
fn tls_config(t: &Tls) -> Res<Arc<rustls::ClientConfig>> {
    type Cache = std::sync::Mutex<Option<(String, Arc<rustls::ClientConfig>)>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let key = format!("{t:?}");
    let cache = CACHE.get_or_init(Default::default);
    if let Some((k, c)) = &*cache.lock().unwrap_or_else(|e| e.into_inner()) {
        if *k == key {
            return Ok(c.clone());
        }
    }
    let c = build_tls_config(t)?;
    *cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, c.clone()));
    Ok(c)
}

fn build_tls_config(t: &Tls) -> Res<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .or_else(|e| down(format!("TLS setup: {e}")))?;
    let cfg = if t.verify {
        let mut roots = rustls::RootCertStore::empty();
        match &t.ca {
            Some(path) => {
                use rustls_pki_types::pem::PemObject;
                let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                    .or_else(|e| down(format!("cannot read CA file {path}: {e}")))?;
                for c in certs {
                    let c = c.or_else(|e| down(format!("bad CA file {path}: {e}")))?;
                    roots
                        .add(c)
                        .or_else(|e| down(format!("bad CA in {path}: {e}")))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    };
    Ok(Arc::new(cfg))
}

/// keepalived's behaviour: accept any certificate (the handshake's
/// signatures are still checked, so the peer holds the key it presents).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------- SMTP

/// A complete SMTP reply in `buf`: its code, once the last line (`NNN `
/// or a bare `NNN`, then CRLF) has arrived. `Ok(None)`: not complete yet.
/// `Err`: not an SMTP reply.
pub fn smtp_reply(buf: &[u8]) -> Result<Option<u16>, Garbled> {
    let mut rest = buf;
    loop {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() >= 3 && !rest[..3].iter().all(u8::is_ascii_digit) {
                return Err(Garbled::NotSmtp);
            }
            return Ok(None);
        };
        let line = &rest[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
            return Err(Garbled::SmtpLine(
                String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned(),
            ));
        }
        let code: u16 = std::str::from_utf8(&line[..3])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or(Garbled::NotSmtp)?;
        match line.get(3) {
            Some(b'-') => rest = &rest[nl + 1..],
            None | Some(b' ') => return Ok(Some(code)),
            Some(_) => return Err(Garbled::SmtpSeparator),
        }
    }
}

fn smtp_read(s: &mut Bounded<'_>, what: &str) -> Res<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(code) = smtp_reply(&buf).map_err(|e| Fail::Down(format!("{what}: {e}")))? {
            return Ok(code);
        }
        if buf.len() >= MAX_HEADER {
            return down(format!("{what}: reply longer than {MAX_HEADER} bytes"));
        }
        match read_some(s, &mut chunk)? {
            0 => return down(format!("{what}: connection closed")),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The smtp check: banner 220, `HELO name` answered 250, `QUIT`.
pub fn smtp_check(
    addr: SocketAddrV4,
    helo: &str,
    timeout: Duration,
    intr: Option<&Interrupt<'_>>,
) -> Res<()> {
    let deadline = Instant::now() + timeout;
    let mut s = connect_tcp(addr, deadline, intr)?;
    let code = smtp_read(&mut s, "banner")?;
    if code != 220 {
        return down(format!("banner status {code}, not 220"));
    }
    s.write_all(format!("HELO {helo}\r\n").as_bytes())
        .map_err(|e| io_fail("send HELO", &e))?;
    let code = smtp_read(&mut s, "HELO reply")?;
    if code != 250 {
        return down(format!("HELO status {code}, not 250"));
    }
    let _ = s.write_all(b"QUIT\r\n");
    Ok(())
}

// ---------------------------------------------------------------- DNS

/// Why a DNS query could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadQuery {
    /// Not one of the types the check asks for.
    #[error("unknown query type {0}")]
    Type(String),
    /// Not a domain name.
    #[error("bad name {name}: {reason}")]
    Name { name: String, reason: String },
    /// The encoder refused the packet.
    #[error("cannot build query: {0}")]
    Build(String),
}

/// Build a query for `name` of type `qtype` with id `id`.
pub fn dns_query(id: u16, name: &str, qtype: &str) -> Result<Vec<u8>, BadQuery> {
    use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, TYPE};
    let t = match qtype {
        "A" => TYPE::A,
        "NS" => TYPE::NS,
        "CNAME" => TYPE::CNAME,
        "SOA" => TYPE::SOA,
        "MX" => TYPE::MX,
        "TXT" => TYPE::TXT,
        "AAAA" => TYPE::AAAA,
        other => return Err(BadQuery::Type(other.to_string())),
    };
    let qname = name.trim_end_matches('.');
    let n = Name::new(qname).map_err(|e| BadQuery::Name {
        name: name.to_string(),
        reason: e.to_string(),
    })?;
    let mut p = Packet::new_query(id);
    p.set_flags(simple_dns::PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        n,
        QTYPE::TYPE(t),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec()
        .map_err(|e| BadQuery::Build(e.to_string()))
}

/// Check a DNS reply to query `id`: a response with that id and RCODE 0.
pub fn check_dns_reply(buf: &[u8], id: u16) -> Result<(), Garbled> {
    if buf.len() < 12 {
        return Err(Garbled::DnsShort(buf.len()));
    }
    let rid = u16::from_be_bytes([buf[0], buf[1]]);
    if rid != id {
        return Err(Garbled::DnsId { got: rid, want: id });
    }
    if buf[2] & 0x80 == 0 {
        return Err(Garbled::DnsNotResponse);
    }
    let rcode = buf[3] & 0x0f;
    if rcode != 0 {
        return Err(Garbled::DnsRcode(rcode));
    }
    simple_dns::Packet::parse(buf).map_err(|e| Garbled::DnsMalformed(e.to_string()))?;
    Ok(())
}

/// The dns check: one query over UDP, the reply checked.
pub fn dns_check(
    addr: SocketAddrV4,
    name: &str,
    qtype: &str,
    timeout: Duration,
    intr: Option<&Interrupt<'_>>,
) -> Res<()> {
    let deadline = Instant::now() + timeout;
    let mut idb = [0u8; 2];
    let _ = getrandom::fill(&mut idb);
    let id = u16::from_ne_bytes(idb);
    let q = dns_query(id, name, qtype).map_err(|e| Fail::Down(e.to_string()))?;
    let fd = nonblocking_socket(SockType::Datagram)?;
    connect(fd.as_raw_fd(), &SockaddrIn::from(addr))
        .or_else(|e| down(format!("connect to {addr}: {}", e.desc())))?;
    let sock = UdpSocket::from(fd);
    sock.send(&q).map_err(|e| io_fail("send query", &e))?;
    let mut buf = vec![0u8; MAX_DNS];
    loop {
        match wait_fd(sock.as_fd(), PollFlags::POLLIN, deadline, intr) {
            Wait::Ready => {}
            Wait::TimedOut => return down("no reply: timed out"),
            Wait::Interrupted => return Err(Fail::Interrupted),
        }
        match sock.recv(&mut buf) {
            Ok(n) => {
                // A stray datagram with another id is ignored, not a failure.
                if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) != id {
                    continue;
                }
                return check_dns_reply(&buf[..n], id).map_err(|e| Fail::Down(e.to_string()));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_fail("receive reply", &e)),
        }
    }
}

// ---------------------------------------------------------------- misc

/// How a misc program ended, as the check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiscResult {
    /// Exit 0.
    Up,
    /// Up with this weight (dynamic mode, exit 2-255).
    UpWeight(i32),
    /// Down (exit 1, or any non-zero exit without dynamic mode, a signal,
    /// a timeout, a failure to start).
    Down,
}

/// keepalived's exit-status rule.
pub fn misc_result(code: i32, dynamic: bool) -> MiscResult {
    match code {
        0 => MiscResult::Up,
        2..=255 if dynamic => MiscResult::UpWeight(code - 2),
        _ => MiscResult::Down,
    }
}

/// Run `argv` in its own process group with stdin and stdout on
/// /dev/null; on timeout SIGTERM the group, SIGKILL it [`MISC_KILL_GRACE`]
/// later. Returns the exit code.
pub fn run_misc(argv: &[String], timeout: Duration, intr: Option<&Interrupt<'_>>) -> Res<i32> {
    let Some((prog, args)) = argv.split_first() else {
        return down("empty program");
    };
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    cmd.process_group(0);
    piranha_runtime::spawn::prepare_child(&mut cmd, false);
    let mut child = cmd
        .spawn()
        .or_else(|e| down(format!("cannot run {prog}: {e}")))?;
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + timeout;
    let kill_group = |sig| {
        let _ = nix::sys::signal::killpg(pgid, sig);
    };
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                return match (st.code(), st.signal()) {
                    (Some(c), _) => Ok(c),
                    (None, Some(s)) => down(format!("{prog} killed by signal {s}")),
                    _ => down(format!("{prog} ended abnormally")),
                };
            }
            Ok(None) => {}
            Err(e) => return down(format!("wait for {prog}: {e}")),
        }
        let now = Instant::now();
        let stop = intr.is_some_and(|i| {
            let mut fds = [nix::poll::PollFd::new(i.fd, PollFlags::POLLIN)];
            matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(n) if n > 0)
                && (i.abort)()
        });
        if stop || now >= deadline {
            kill_group(nix::sys::signal::Signal::SIGTERM);
            let grace = Instant::now() + MISC_KILL_GRACE;
            while Instant::now() < grace {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            kill_group(nix::sys::signal::Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
            return if stop {
                Err(Fail::Interrupted)
            } else {
                down(format!(
                    "{prog} timed out after {} s; process group killed",
                    timeout.as_secs_f64()
                ))
            };
        }
        std::thread::sleep(Duration::from_millis(10).min(deadline - now));
    }
}

// ---------------------------------------------------------------- the checker

/// Which extended check, with its parameters.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Connect only.
    Tcp,
    /// GET (TLS when `get.tls` is set).
    Http {
        /// The request.
        get: HttpGet,
        /// Accepted status ranges.
        status: Vec<(u16, u16)>,
        /// Expected MD5 of the body.
        digest: Option<String>,
    },
    /// SMTP.
    Smtp {
        /// HELO name.
        helo: String,
    },
    /// DNS.
    Dns {
        /// Query name.
        name: String,
        /// Query type.
        qtype: String,
    },
    /// External program.
    Misc {
        /// argv, `%h`/`%p` substituted.
        argv: Vec<String>,
        /// Dynamic weights.
        dynamic: bool,
        /// The configured weight, which exit 0 restores in dynamic mode.
        base_weight: i32,
    },
}

/// An extended check of one real server.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    /// The real server.
    pub addr: SocketAddrV4,
    /// What to check.
    pub kind: Kind,
    /// Deadline of one check.
    pub timeout: Duration,
    /// Why the last check failed (or what it found).
    pub detail: String,
    /// Weight the last misc check asked for (dynamic mode).
    pub weight: Option<i32>,
    /// Exit status of the last misc check when it was a success in dynamic
    /// mode (`None` after a failure): a weight is set only when it changes.
    pub last_code: Option<i32>,
}

impl HealthChecker {
    /// The check's name in log lines (`http`, `misc`, ...).
    pub fn name(&self) -> &'static str {
        match &self.kind {
            Kind::Tcp => "tcp",
            Kind::Http { get, .. } if get.tls.is_some() => "https",
            Kind::Http { .. } => "http",
            Kind::Smtp { .. } => "smtp",
            Kind::Dns { .. } => "dns",
            Kind::Misc { .. } => "misc",
        }
    }

    fn run(&mut self, intr: Option<&Interrupt<'_>>) -> Res<String> {
        match &self.kind {
            Kind::Tcp => {
                let deadline = Instant::now() + self.timeout;
                connect_tcp(self.addr, deadline, intr)?;
                Ok("connected".into())
            }
            Kind::Http {
                get,
                status,
                digest,
            } => {
                let r = get.run(intr, 0)?;
                if !status_ok(r.status, status) {
                    return down(format!("status {} not accepted", r.status));
                }
                if let Some(want) = digest {
                    if *want != r.digest {
                        return down(format!(
                            "digest {} of {} body bytes, expected {want}",
                            r.digest, r.body_len
                        ));
                    }
                }
                Ok(format!("status {}", r.status))
            }
            Kind::Smtp { helo } => {
                smtp_check(self.addr, helo, self.timeout, intr)?;
                Ok("220/250".into())
            }
            Kind::Dns { name, qtype } => {
                dns_check(self.addr, name, qtype, self.timeout, intr)?;
                Ok(format!("{qtype} {name} answered"))
            }
            Kind::Misc {
                argv,
                dynamic,
                base_weight,
            } => {
                // keepalived (check_misc.c) sets the weight when the exit
                // status changes; we also set it at the first success after
                // a failure (the server re-enters at the weight its status
                // says, not through slow start).
                let prev = self.last_code.take();
                let code = run_misc(argv, self.timeout, intr)?;
                let changed = prev != Some(code);
                match misc_result(code, *dynamic) {
                    MiscResult::Up if *dynamic => {
                        // Exit 0 drops the dynamic part: the configured
                        // weight is back.
                        self.last_code = Some(code);
                        if changed {
                            self.weight = Some(*base_weight);
                        }
                        Ok("exit 0".into())
                    }
                    MiscResult::Up => Ok("exit 0".into()),
                    MiscResult::UpWeight(w) => {
                        self.last_code = Some(code);
                        if changed {
                            self.weight = Some(w);
                        }
                        Ok(format!("exit {code}, weight {w}"))
                    }
                    MiscResult::Down => down(format!("exit {code}")),
                }
            }
        }
    }
}

impl Checker for HealthChecker {
    fn check(&mut self, intr: Option<&Interrupt<'_>>) -> Outcome {
        self.weight = None;
        match self.run(intr) {
            Ok(d) => {
                log::debug!("{} check of {}: {d}", self.name(), self.addr);
                self.detail = d;
                Outcome::Up
            }
            Err(Fail::Down(d)) => {
                log::debug!("{} check of {} failed: {d}", self.name(), self.addr);
                self.detail = d;
                Outcome::Down
            }
            Err(Fail::Interrupted) => Outcome::Interrupted,
        }
    }

    fn detail(&self) -> Option<String> {
        Some(format!("{} check: {}", self.name(), self.detail))
    }

    fn dynamic_weight(&self) -> Option<i32> {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK"), Some(200));
        assert_eq!(parse_status_line(b"HTTP/1.0 503"), Some(503));
        assert_eq!(parse_status_line(b"HTTP/2 404 Not Found"), Some(404));
        assert_eq!(parse_status_line(b"HTTP/1.1 2000 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 20 OK"), None);
        assert_eq!(parse_status_line(b"HTTX/1.1 200 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/ 200 OK"), None);
        assert_eq!(parse_status_line(b""), None);
    }

    #[test]
    fn heads() {
        let h = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!(
            h,
            ResponseHead {
                status: 200,
                content_length: Some(5),
                head_len: 38
            }
        );
        assert_eq!(parse_head(b"HTTP/1.0 200 OK\r\n").unwrap(), None);
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        assert_eq!(
            parse_head(b"HTTP/1.0 301 Moved\ncontent-length:  x\n\n")
                .unwrap()
                .unwrap()
                .content_length,
            None
        );
        // A bare-LF head ends at its own blank line even when the body
        // holds a CRLF CRLF.
        let h = parse_head(b"HTTP/1.0 200 OK\nContent-Length: 6\n\nab\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.head_len, 35);
        assert!(status_ok(204, &[(200, 299)]));
        assert!(!status_ok(301, &[(200, 299), (400, 404)]));
    }

    #[test]
    fn smtp_replies() {
        assert_eq!(smtp_reply(b"220 mail ready\r\n"), Ok(Some(220)));
        assert_eq!(smtp_reply(b"220-first\r\n220 second\r\n"), Ok(Some(220)));
        assert_eq!(smtp_reply(b"220-first\r\n"), Ok(None));
        assert_eq!(smtp_reply(b"250\r\n"), Ok(Some(250)));
        assert_eq!(smtp_reply(b"22"), Ok(None));
        assert!(smtp_reply(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(smtp_reply(b"2200 x\r\n").is_err());
    }

    #[test]
    fn dns_round_trip() {
        let q = dns_query(0x1234, "example.com.", "MX").unwrap();
        assert_eq!(&q[..2], &[0x12, 0x34]);
        // The query itself is not a response.
        assert_eq!(check_dns_reply(&q, 0x1234), Err(Garbled::DnsNotResponse));
        let mut r = q.clone();
        r[2] |= 0x80;
        assert_eq!(check_dns_reply(&r, 0x1234), Ok(()));
        assert!(check_dns_reply(&r, 0x1235).is_err());
        r[3] = (r[3] & 0xf0) | 3;
        assert_eq!(check_dns_reply(&r, 0x1234), Err(Garbled::DnsRcode(3)));
        assert!(dns_query(1, ".", "SOA").is_ok());
        assert!(dns_query(1, "x", "PTR").is_err());
    }

    #[test]
    fn keepalived_exit_rule() {
        assert_eq!(misc_result(0, false), MiscResult::Up);
        assert_eq!(misc_result(1, false), MiscResult::Down);
        assert_eq!(misc_result(7, false), MiscResult::Down);
        assert_eq!(misc_result(0, true), MiscResult::Up);
        assert_eq!(misc_result(1, true), MiscResult::Down);
        assert_eq!(misc_result(2, true), MiscResult::UpWeight(0));
        assert_eq!(misc_result(255, true), MiscResult::UpWeight(253));
    }

    #[test]
    fn dynamic_exit_0_restores_the_configured_weight() {
        let misc = |code: i32, dynamic: bool| HealthChecker {
            addr: "127.0.0.1:1".parse().unwrap(),
            kind: Kind::Misc {
                argv: vec!["sh".into(), "-c".into(), format!("exit {code}")],
                dynamic,
                base_weight: 3,
            },
            timeout: Duration::from_secs(10),
            detail: String::new(),
            weight: None,
            last_code: None,
        };
        let mut c = misc(7, true);
        assert_eq!(c.check(None), Outcome::Up);
        assert_eq!(c.dynamic_weight(), Some(5));
        assert_eq!(c.check(None), Outcome::Up);
        assert_eq!(
            c.dynamic_weight(),
            None,
            "status unchanged: weight left alone"
        );
        c.last_code = None; // as after a failed check
        assert_eq!(c.check(None), Outcome::Up);
        assert_eq!(c.dynamic_weight(), Some(5), "first success after a failure");
        let mut c = misc(0, true);
        assert_eq!(c.check(None), Outcome::Up);
        assert_eq!(
            c.dynamic_weight(),
            Some(3),
            "keepalived: exit 0 drops the offset"
        );
        let mut c = misc(1, true);
        assert_eq!(c.check(None), Outcome::Down);
        assert_eq!(c.dynamic_weight(), None);
        let mut c = misc(0, false);
        assert_eq!(c.check(None), Outcome::Up);
        assert_eq!(
            c.dynamic_weight(),
            None,
            "not dynamic: the weight is nanny's"
        );
    }

    proptest! {
        #[test]
        fn status_line_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_status_line(&b);
            let _ = parse_head(&b);
        }

        #[test]
        fn status_line_prefix_fuzz(code in 0u16..1000, tail in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut b = format!("HTTP/1.1 {code:03}").into_bytes();
            b.extend(tail);
            let _ = parse_head(&b);
        }

        #[test]
        fn smtp_never_panics(b in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = smtp_reply(&b);
        }

        #[test]
        fn dns_reply_never_panics(b in proptest::collection::vec(any::<u8>(), 0..512), id in any::<u16>()) {
            let _ = check_dns_reply(&b, id);
        }

        #[test]
        fn dns_mutated_reply_never_panics(i in 0usize..64, v in any::<u8>()) {
            let mut r = dns_query(7, "example.com", "A").unwrap();
            r[2] |= 0x80;
            let n = r.len();
            r[i % n] = v;
            let _ = check_dns_reply(&r, 7);
        }
    }
}
