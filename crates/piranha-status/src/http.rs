//! The metrics endpoint: a minimal HTTP/1.x server for a daemon's
//! single-threaded poll loop.
//!
//! The daemon polls the [`MetricsListener`] (it is [`AsFd`]) with its
//! other descriptors, and calls [`MetricsListener::serve`] when it is
//! readable.  `serve` takes one waiting connection, reads its request head
//! (at most [`MAX_HEAD`] bytes within [`READ_TIMEOUT`] in all), answers it
//! and closes: one request per connection (`Connection: close`), no
//! keep-alive, no body read.
//!
//! | request                      | answer                                   |
//! |------------------------------|------------------------------------------|
//! | `GET /metrics`, `HEAD /metrics` | 200, [`crate::metrics::render`] of a fresh snapshot |
//! | `GET /`, `HEAD /`            | 200, a line pointing at `/metrics`       |
//! | `GET` or `HEAD`, another path | 404                                     |
//! | another method               | 405, `Allow: GET, HEAD`                  |
//! | not HTTP                     | 400                                      |
//! | a head over [`MAX_HEAD`]     | 431                                      |
//! | no whole head in time        | 408                                      |
//!
//! A query string is ignored (`/metrics?x=1` is `/metrics`), except
//! `full=1`: the snapshot then carries the real servers' traffic counters
//! (`/metrics?full=1`; one kernel dump per service, see docs/STATUS.md).
//! Only an answer to `/metrics` takes the snapshot.  Nothing a client sends makes
//! it panic; a client that does not take its answer within
//! [`WRITE_TIMEOUT`] loses it.
//!
//! The endpoint has no authentication and no TLS: bind it to a
//! management address, or to loopback behind a proxy.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use crate::model::Director;

/// How long a client has, in all, to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a client has to take each write of the answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest request head read, in bytes.
pub const MAX_HEAD: usize = 8192;
/// Most header lines parsed.
const MAX_HEADERS: usize = 64;

/// A listening metrics endpoint.
#[derive(Debug)]
pub struct MetricsListener {
    sock: TcpListener,
}

impl MetricsListener {
    /// Listen on `addr` (non-blocking; port 0 picks a free port, see
    /// [`MetricsListener::local_addr`]).
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        let sock = TcpListener::bind(addr)?;
        sock.set_nonblocking(true)?;
        Ok(MetricsListener { sock })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// Answer the next waiting connection, if any, calling `snapshot` only
    /// when the answer is the metrics.  Returns the status answered, or
    /// `None` when no connection waited (or its client sent nothing and
    /// closed, or accepting failed).
    /// `snapshot` is given whether `full=1` was asked.
    pub fn serve(&self, snapshot: impl FnOnce(bool) -> Director) -> Option<u16> {
        let (stream, _) = self.sock.accept().ok()?;
        serve_stream(stream, snapshot)
    }
}

impl AsFd for MetricsListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// What the head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// `full`: the query asked for `full=1`.
    Metrics {
        full: bool,
    },
    Index,
    NotFound,
    BadMethod,
    BadRequest,
    TooLarge,
    Timeout,
}

/// Why reading the head stopped.
enum Head {
    /// The whole head was read; the route it asks for, and whether it is a
    /// `HEAD` request.
    Complete(Route, bool),
    /// The client closed without sending anything.
    Nothing,
    /// The head is bad, too large or late: answer so.
    Failed(Route),
}

fn serve_stream(mut stream: TcpStream, snapshot: impl FnOnce(bool) -> Director) -> Option<u16> {
    // Accepted sockets do not inherit O_NONBLOCK on Linux, but say so.
    stream.set_nonblocking(false).ok()?;
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let (route, head_only) = match read_head(&mut stream) {
        Head::Complete(route, head_only) => (route, head_only),
        Head::Nothing => return None,
        Head::Failed(route) => (route, false),
    };
    let (status, reason, content_type, body, extra) = match route {
        Route::Metrics { full } => (
            200,
            "OK",
            crate::metrics::CONTENT_TYPE,
            crate::metrics::render(&snapshot(full)),
            "",
        ),
        Route::Index => (
            200,
            "OK",
            TEXT,
            "piranha: the director's metrics are at /metrics\n".to_string(),
            "",
        ),
        Route::NotFound => (
            404,
            "Not Found",
            TEXT,
            "not found: try /metrics\n".into(),
            "",
        ),
        Route::BadMethod => (
            405,
            "Method Not Allowed",
            TEXT,
            "only GET and HEAD are served\n".into(),
            "Allow: GET, HEAD\r\n",
        ),
        Route::BadRequest => (400, "Bad Request", TEXT, "bad request\n".into(), ""),
        Route::TooLarge => (
            431,
            "Request Header Fields Too Large",
            TEXT,
            "request head too large\n".into(),
            "",
        ),
        Route::Timeout => (408, "Request Timeout", TEXT, "request timeout\n".into(), ""),
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    let _ = stream.write_all(&out);
    let _ = stream.shutdown(Shutdown::Write);
    // Take what the client sent past its head (a body, a pipelined
    // request) and is already here: closing with unread data resets the
    // connection, and the client could lose the answer.
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
    Some(status)
}

const TEXT: &str = "text/plain; charset=utf-8";

fn read_head(stream: &mut TcpStream) -> Head {
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Head::Failed(Route::Timeout);
        }
        let room = (MAX_HEAD - buf.len()).min(chunk.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) if buf.is_empty() => return Head::Nothing,
            // Closed mid-head: it will not read the answer, but say why.
            Ok(0) => return Head::Failed(Route::BadRequest),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Head::Failed(Route::Timeout)
            }
            Err(_) => return Head::Failed(Route::BadRequest),
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let method = req.method.unwrap_or("");
                let path = req.path.unwrap_or("");
                return Head::Complete(route(method, path), method == "HEAD");
            }
            Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
                return Head::Failed(Route::TooLarge)
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Head::Failed(Route::TooLarge),
            Err(_) => return Head::Failed(Route::BadRequest),
        }
    }
}

fn route(method: &str, target: &str) -> Route {
    if method != "GET" && method != "HEAD" {
        return Route::BadMethod;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/metrics" => Route::Metrics {
            full: query
                .split('&')
                .any(|kv| matches!(kv, "full=1" | "full=true")),
        },
        "/" => Route::Index,
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/metrics"), Route::Metrics { full: false });
        assert_eq!(
            route("HEAD", "/metrics?name[]=x"),
            Route::Metrics { full: false }
        );
        assert_eq!(
            route("GET", "/metrics?a=b&full=1"),
            Route::Metrics { full: true }
        );
        assert_eq!(route("GET", "/"), Route::Index);
        assert_eq!(route("GET", "/metrics/"), Route::NotFound);
        assert_eq!(route("POST", "/metrics"), Route::BadMethod);
        assert_eq!(route("get", "/metrics"), Route::BadMethod);
    }
}
