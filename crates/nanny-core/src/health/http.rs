//! The http and https checks: the response head, status codes, the MD5 of the body, TLS.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use piranha_runtime::spawn::Interrupt;

use super::io::*;

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
    let status = parse_status_line(first).ok_or_else(|| Garbled::StatusLine(reply_line(first)))?;
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

/// Is `code` in one of the inclusive ranges?
pub fn status_ok(code: u16, ranges: &[(u16, u16)]) -> bool {
    ranges.iter().any(|&(a, b)| (a..=b).contains(&code))
}

/// TLS settings of an https check (the check's own, from lvs-config).
pub use lvs_config::checks::Tls;

/// One HTTP(S) GET, as the check and genhash do it.
#[derive(Debug, Clone)]
pub struct HttpGet {
    /// The real server.
    pub addr: SocketAddr,
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
            // RFC 7230 §5.4: an IPv6 literal is in brackets, with or
            // without a port.
            None if self.addr.port() == default_port => match self.addr.ip() {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            },
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
                    None => rustls_pki_types::ServerName::IpAddress(self.addr.ip().into()),
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
                0 if buf.is_empty() => return Err(Fail::NoData),
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
