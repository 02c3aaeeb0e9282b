//! genhash against loopback servers: the digest is the MD5 of the body (a
//! hand-made server with known bodies), and it is the digest keepalived's
//! own genhash (Debian's keepalived package) prints for the same pages,
//! over HTTP and over HTTPS (openssl s_server -WWW with a self-signed
//! certificate). The comparison with keepalived is skipped, with a message,
//! when /usr/bin/genhash is not installed.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_genhash");
const KEEPALIVED_GENHASH: &str = "/usr/bin/genhash";

/// Serve `responses[i]` for a request whose path is `/i` (forever, one
/// thread per connection); returns the port.
fn serve(responses: Vec<Vec<u8>>) -> u16 {
    serve_on("127.0.0.1:0", responses)
}

fn serve_on(addr: &str, responses: Vec<Vec<u8>>) -> u16 {
    let l = TcpListener::bind(addr).unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let responses = responses.clone();
            std::thread::spawn(move || {
                c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&req).to_string();
                let path = line.split_whitespace().nth(1).unwrap_or("/0").to_string();
                let i: usize = path.trim_start_matches('/').parse().unwrap_or(0);
                let _ = c.write_all(&responses[i.min(responses.len() - 1)]);
            });
        }
    });
    port
}

fn md5_hex(data: &[u8]) -> String {
    let out = Command::new("md5sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(data)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

fn genhash(prog: &str, args: &[&str]) -> (String, i32) {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        out.status.code().unwrap_or(-1),
    )
}

fn bodies() -> Vec<Vec<u8>> {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        b"hello world\n".to_vec(),
        Vec::new(),
        big,
        b"<html>\r\n\r\n<body>blank lines inside</body></html>\n".to_vec(),
        (0u8..=255).collect(),
    ]
}

fn responses() -> Vec<Vec<u8>> {
    let mut r: Vec<Vec<u8>> = bodies()
        .into_iter()
        .map(|b| {
            let mut x =
                format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes();
            x.extend(b);
            x
        })
        .collect();
    // No Content-Length: the body runs to the close.
    r.push(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length here\n".to_vec());
    // An error page is hashed too.
    r.push(b"HTTP/1.0 503 Busy\r\nContent-Length: 5\r\n\r\nbusy\n".to_vec());
    r
}

#[test]
fn digest_is_md5_of_the_body() {
    let port = serve(responses());
    let p = port.to_string();
    for (i, body) in bodies().iter().enumerate() {
        let (d, code) = genhash(OURS, &["-s", "127.0.0.1", "-p", &p, "-u", &format!("/{i}")]);
        assert_eq!(code, 0);
        assert_eq!(d, md5_hex(body), "page {i}");
    }
    let (d, _) = genhash(OURS, &["-s", "127.0.0.1", "-p", &p, "-u", "/5"]);
    assert_eq!(d, md5_hex(b"no length here\n"));
}

#[test]
fn an_ipv6_server() {
    let p = serve_on("[::1]:0", responses()).to_string();
    for server in ["::1", "[::1]"] {
        let (d, code) = genhash(OURS, &["-s", server, "-p", &p, "-u", "/0"]);
        assert_eq!(code, 0, "{server}");
        assert_eq!(d, md5_hex(&bodies()[0]), "{server}");
    }
}

#[test]
fn same_digest_as_keepalived_genhash() {
    if !std::path::Path::new(KEEPALIVED_GENHASH).exists() {
        eprintln!("SKIP: {KEEPALIVED_GENHASH} not installed (apt-get install keepalived)");
        return;
    }
    let port = serve(responses());
    let p = port.to_string();
    for i in 0..responses().len() {
        let args = ["-s", "127.0.0.1", "-p", &p, "-u", &format!("/{i}")];
        let theirs = genhash(KEEPALIVED_GENHASH, &args);
        let ours = genhash(OURS, &args);
        assert_eq!(ours, theirs, "page {i}");
    }
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn same_digest_as_keepalived_genhash_over_tls() {
    if !std::path::Path::new(KEEPALIVED_GENHASH).exists() {
        eprintln!("SKIP: {KEEPALIVED_GENHASH} not installed (apt-get install keepalived)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=www.test",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP: openssl cannot make a certificate");
        return;
    }
    std::fs::write(d.join("page.html"), b"<html>tls page</html>\n").unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _srv = Kill(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-WWW", "-accept", &port.to_string()])
            .args(["-cert", "cert.pem", "-key", "key.pem"])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let p = port.to_string();
    let args = ["-S", "-s", "127.0.0.1", "-p", &p, "-u", "/page.html"];
    let end = Instant::now() + Duration::from_secs(10);
    let ours = loop {
        let r = genhash(OURS, &args);
        if r.1 == 0 || Instant::now() > end {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ours.1, 0, "our genhash over TLS failed");
    let theirs = genhash(KEEPALIVED_GENHASH, &args);
    assert_eq!(ours, theirs);
    // -WWW adds its own head; the body is the file.
    assert_eq!(ours.0, md5_hex(b"<html>tls page</html>\n"));
}
