//! Extension (issue 9): the checks beyond send/expect, with the real nanny
//! binary against real loopback servers (an HTTP server whose status and
//! body are switched, openssl's s_server with certificates made by openssl,
//! an SMTP responder, a DNS responder over UDP, misc scripts) and the
//! recording ipvsadm stand-in. For each check: up, down for each kind of
//! failure, back up after `--rise`; digest mismatch; dynamic weight; a hung
//! misc program's process group killed; `--retry` absorbing one failure.
//! Each test bounds its time and kills what it started by pid.

mod util;

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use util::{wait_for, Behaviour, Lab, Nanny, TcpServer};

const SEC: Duration = Duration::from_secs(1);

fn count(n: &Nanny, needle: &str) -> usize {
    n.lines().iter().filter(|l| l.contains(needle)).count()
}

fn wait_count(n: &Nanny, needle: &str, k: usize, limit: Duration) -> bool {
    wait_for(limit, || count(n, needle) >= k)
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

/// A loopback server that runs `handler` on every connection in its own
/// thread, until dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(handler: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1:0", handler)
    }

    fn start_on(addr: &str, handler: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> Self {
        let l = TcpListener::bind(addr).unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        c.set_read_timeout(Some(SEC)).unwrap();
                        let h = handler.clone();
                        std::thread::spawn(move || h(c));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { port, stop }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_until(c: &mut std::net::TcpStream, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut b = [0u8; 512];
    while !got.windows(end.len()).any(|w| w == end) {
        match c.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    got
}

/// An HTTP server whose whole response can be switched; it records the
/// last request.
struct Http {
    srv: Server,
    response: Arc<Mutex<Vec<u8>>>,
    last: Arc<Mutex<String>>,
}

fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

impl Http {
    fn start(status: &str, body: &[u8]) -> Self {
        let response = Arc::new(Mutex::new(http_response(status, body)));
        let last = Arc::new(Mutex::new(String::new()));
        let (r2, l2) = (response.clone(), last.clone());
        let srv = Server::start(move |mut c| {
            let req = read_until(&mut c, b"\r\n\r\n");
            *l2.lock().unwrap() = String::from_utf8_lossy(&req).into();
            let resp = r2.lock().unwrap().clone();
            let _ = c.write_all(&resp);
        });
        Http {
            srv,
            response,
            last,
        }
    }
    fn set(&self, status: &str, body: &[u8]) {
        *self.response.lock().unwrap() = http_response(status, body);
    }
    fn set_raw(&self, raw: &[u8]) {
        *self.response.lock().unwrap() = raw.to_vec();
    }
}

fn base(port: u16) -> Vec<String> {
    ["-p", "80", "-r", &port.to_string(), "-t", "1", "-a", "3"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn start(lab: &Lab, port: u16, extra: &[&str]) -> Nanny {
    let ipvsadm = lab.ipvsadm();
    let mut args = base(port);
    args.extend(["-I".to_string(), ipvsadm]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Nanny::start(&a)
}

#[test]
fn tcp_up_down_and_back_after_rise() {
    let lab = Lab::new();
    let mut srv = TcpServer::start(0, Behaviour::Reply(Vec::new()));
    let port = srv.port;
    let n = start(&lab, port, &["--check", "tcp", "--rise", "2"]);
    let up = format!("[ active ] making 127.0.0.1:{port} available (tcp check: connected)");
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    srv.stop();
    assert!(
        n.wait_line(
            &format!("[inactive] shutting down 127.0.0.1:{port} due to connection failure (tcp check: connect to 127.0.0.1:{port}: Connection refused)"),
            5 * SEC
        ),
        "{:?}",
        n.lines()
    );
    let _srv = TcpServer::start(port, Behaviour::Reply(Vec::new()));
    let t = Instant::now();
    assert!(wait_count(&n, &up, 2, 8 * SEC), "{:?}", n.lines());
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "rise 2 needs two checks one interval apart, back after {:?}",
        t.elapsed()
    );
    let v = format!("-t 10.9.9.9:80 -r 127.0.0.1:{port}");
    // The line is logged before ipvsadm runs.
    assert!(
        wait_for(3 * SEC, || lab.argvs().len() >= 3),
        "{:?}",
        lab.argvs()
    );
    assert_eq!(
        lab.argvs()[..3],
        [
            format!("-a {v} -m -w 1"),
            format!("-d {v}"),
            format!("-a {v} -m -w 1")
        ]
    );
}

#[test]
fn http_status_digest_and_virtual_host() {
    let lab = Lab::new();
    let body = b"healthy\n";
    let h = Http::start("200 OK", body);
    let port = h.srv.port;
    let digest = md5_hex(body);
    let n = start(
        &lab,
        port,
        &[
            "--check",
            "http",
            "--http-path",
            "/health",
            "--http-virtualhost",
            "www.test",
            "--http-digest",
            &digest,
            "--rise",
            "1",
        ],
    );
    let up = format!("[ active ] making 127.0.0.1:{port} available (http check: status 200)");
    let down = format!(
        "[inactive] shutting down 127.0.0.1:{port} due to connection failure (http check: "
    );
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    let req = h.last.lock().unwrap().clone();
    assert!(req.starts_with("GET /health HTTP/1.0\r\n"), "{req}");
    assert!(req.contains("\r\nHost: www.test\r\n"), "{req}");
    // Status not accepted.
    h.set("503 Service Unavailable", body);
    assert!(
        n.wait_line(&format!("{down}status 503 not accepted)"), 5 * SEC),
        "{:?}",
        n.lines()
    );
    h.set("200 OK", body);
    assert!(wait_count(&n, &up, 2, 5 * SEC), "{:?}", n.lines());
    // Digest mismatch.
    h.set("200 OK", b"changed\n");
    let want = format!(
        "{down}digest {} of 8 body bytes, expected {digest})",
        md5_hex(b"changed\n")
    );
    assert!(n.wait_line(&want, 5 * SEC), "{:?}", n.lines());
    h.set("200 OK", body);
    assert!(wait_count(&n, &up, 3, 5 * SEC), "{:?}", n.lines());
    // Not HTTP at all.
    h.set_raw(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
    assert!(
        n.wait_line(
            &format!("{down}not an HTTP status line: \"SSH-2.0-OpenSSH_9.2\")"),
            5 * SEC
        ),
        "{:?}",
        n.lines()
    );
    h.set("200 OK", body);
    assert!(wait_count(&n, &up, 4, 5 * SEC), "{:?}", n.lines());
    // Silent server: the I/O timeout decides.
    h.set_raw(b"");
    assert!(
        n.wait_line(&format!("{down}no data received)"), 5 * SEC),
        "{:?}",
        n.lines()
    );
}

#[test]
fn http_status_list_and_port_gone() {
    let lab = Lab::new();
    let h = Http::start("301 Moved", b"");
    let port = h.srv.port;
    let n = start(
        &lab,
        port,
        &["--check", "http", "--http-status", "200-204,301"],
    );
    assert!(
        n.wait_line("(http check: status 301)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    drop(h);
    assert!(
        n.wait_line("(http check: connect to", 5 * SEC),
        "{:?}",
        n.lines()
    );
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A CA and a leaf certificate for www.test signed by it, made by openssl.
fn make_certs(d: &std::path::Path) -> bool {
    std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:www.test\n").unwrap();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    ) && openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=www.test",
            "-keyout",
            "key.pem",
            "-out",
            "req.csr",
        ],
    ) && openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "req.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "cert.pem",
        ],
    )
}

#[test]
fn https_digest_sni_and_verification() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if !make_certs(d) {
        eprintln!("SKIP: openssl cannot make certificates (apt-get install openssl)");
        return;
    }
    let page = b"<html>over tls</html>\n";
    std::fs::write(d.join("page.html"), page).unwrap();
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
    let digest = md5_hex(page);
    let ca = d.join("ca.pem").display().to_string();
    // Not verified (keepalived's way): the self-made certificate is fine.
    let lab1 = Lab::new();
    let n1 = start(
        &lab1,
        port,
        &[
            "--check",
            "https",
            "--http-path",
            "/page.html",
            "--http-digest",
            &digest,
            "--rise",
            "1",
        ],
    );
    // Verified against the CA, with the name it was issued for.
    let lab2 = Lab::new();
    let n2 = start(
        &lab2,
        port,
        &[
            "--check",
            "https",
            "--http-path",
            "/page.html",
            "--tls-verify",
            "--tls-ca",
            &ca,
            "--tls-sni",
            "www.test",
        ],
    );
    // Verified against the CA, wrong name: never up.
    let lab3 = Lab::new();
    let n3 = start(
        &lab3,
        port,
        &[
            "--check",
            "https",
            "--http-path",
            "/page.html",
            "--tls-verify",
            "--tls-ca",
            &ca,
            "--tls-sni",
            "other.test",
            "-v",
        ],
    );
    // Verified against the system roots: never up.
    let lab4 = Lab::new();
    let n4 = start(
        &lab4,
        port,
        &[
            "--check",
            "https",
            "--http-path",
            "/page.html",
            "--tls-verify",
            "-v",
        ],
    );
    // The same server over IPv6 (s_server listens on both families),
    // verified against the CA with the name.
    let lab6 = Lab::new();
    let n6 = start6(
        &lab6,
        port,
        &[
            "--check",
            "https",
            "--http-path",
            "/page.html",
            "--http-digest",
            &digest,
            "--tls-verify",
            "--tls-ca",
            &ca,
            "--tls-sni",
            "www.test",
            "--rise",
            "1",
        ],
    );
    let up = format!("[ active ] making 127.0.0.1:{port} available (https check: status 200)");
    assert!(
        n6.wait_line(
            &format!("[ active ] making [::1]:{port} available (https check: status 200)"),
            10 * SEC
        ),
        "{:?}",
        n6.lines()
    );
    assert!(n1.wait_line(&up, 10 * SEC), "{:?}", n1.lines());
    assert!(n2.wait_line(&up, 10 * SEC), "{:?}", n2.lines());
    assert!(
        n3.wait_line("https check of 127.0.0.1", 10 * SEC),
        "{:?}",
        n3.lines()
    );
    assert!(
        n4.wait_line("https check of 127.0.0.1", 10 * SEC),
        "{:?}",
        n4.lines()
    );
    assert!(!n3.has_line("[ active ]"), "{:?}", n3.lines());
    assert!(!n4.has_line("[ active ]"), "{:?}", n4.lines());
    assert!(
        n3.has_line("certificate") || n3.has_line("Certificate"),
        "{:?}",
        n3.lines()
    );
    assert!(lab3.argvs().is_empty() && lab4.argvs().is_empty());
    // The page goes: s_server -WWW answers with an error text (its status
    // line varies by version), so the digest no longer matches.
    std::fs::remove_file(d.join("page.html")).unwrap();
    assert!(
        n1.wait_line("due to connection failure (https check: ", 5 * SEC),
        "{:?}",
        n1.lines()
    );
    std::fs::write(d.join("page.html"), page).unwrap();
    assert!(wait_count(&n1, &up, 2, 5 * SEC), "{:?}", n1.lines());
}

/// An SMTP responder with switchable banner and HELO reply codes; it
/// records the HELO line.
#[test]
fn smtp_banner_helo_quit() {
    let codes = Arc::new(Mutex::new((220u16, 250u16)));
    let helo = Arc::new(Mutex::new(String::new()));
    let (c2, h2) = (codes.clone(), helo.clone());
    let srv = Server::start(move |mut c| {
        let (banner, reply) = *c2.lock().unwrap();
        if c.write_all(format!("{banner}-smtp.test ESMTP\r\n{banner} ready\r\n").as_bytes())
            .is_err()
            || banner != 220
        {
            return;
        }
        let line = read_until(&mut c, b"\r\n");
        *h2.lock().unwrap() = String::from_utf8_lossy(&line).into();
        let _ = c.write_all(format!("{reply} hello\r\n").as_bytes());
        let _ = read_until(&mut c, b"\r\n");
        let _ = c.write_all(b"221 bye\r\n");
    });
    let port = srv.port;
    let lab = Lab::new();
    let n = start(
        &lab,
        port,
        &[
            "--check",
            "smtp",
            "--smtp-helo",
            "director.test",
            "--rise",
            "1",
        ],
    );
    let up = format!("[ active ] making 127.0.0.1:{port} available (smtp check: 220/250)");
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    assert_eq!(*helo.lock().unwrap(), "HELO director.test\r\n");
    *codes.lock().unwrap() = (554, 250);
    assert!(
        n.wait_line("(smtp check: banner status 554, not 220)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    *codes.lock().unwrap() = (220, 250);
    assert!(wait_count(&n, &up, 2, 5 * SEC), "{:?}", n.lines());
    *codes.lock().unwrap() = (220, 501);
    assert!(
        n.wait_line("(smtp check: HELO status 501, not 250)", 5 * SEC),
        "{:?}",
        n.lines()
    );
}

#[derive(Clone, Copy, PartialEq)]
enum Dns {
    Answer,
    Rcode(u8),
    Silent,
}

#[test]
fn dns_query_reply_rcode_and_silence() {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mode = Arc::new(Mutex::new(Dns::Answer));
    let last = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (m2, l2, st) = (mode.clone(), last.clone(), stop.clone());
    let th = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !st.load(Ordering::SeqCst) {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                let q = buf[..n].to_vec();
                *l2.lock().unwrap() = q.clone();
                let mut r = q;
                r[2] |= 0x80;
                match *m2.lock().unwrap() {
                    Dns::Answer => {}
                    Dns::Rcode(c) => r[3] = (r[3] & 0xf0) | c,
                    Dns::Silent => continue,
                }
                let _ = s.send_to(&r, from);
            }
        }
    });
    let lab = Lab::new();
    let n = start(
        &lab,
        port,
        &[
            "--check",
            "dns",
            "--dns-name",
            "example.com",
            "--dns-type",
            "a",
            "--rise",
            "1",
        ],
    );
    let up =
        format!("[ active ] making 127.0.0.1:{port} available (dns check: A example.com answered)");
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    let q = last.lock().unwrap().clone();
    assert!(
        q.windows(17).any(|w| w
            == b"\x07example\x03com\x00\x00\x01\x00\x01"[..]
                .get(..17)
                .unwrap()),
        "query {q:?}"
    );
    *mode.lock().unwrap() = Dns::Rcode(2);
    assert!(
        n.wait_line("(dns check: reply RCODE 2)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    *mode.lock().unwrap() = Dns::Answer;
    assert!(wait_count(&n, &up, 2, 5 * SEC), "{:?}", n.lines());
    *mode.lock().unwrap() = Dns::Silent;
    assert!(
        n.wait_line("(dns check: no reply: timed out)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    stop.store(true, Ordering::SeqCst);
    th.join().unwrap();
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn misc_exit_codes_dynamic_weight_and_hang() {
    let lab = Lab::new();
    let code = lab.path().join("code");
    std::fs::write(&code, "0").unwrap();
    let script = lab.script(
        "check.sh",
        &format!(
            "#!/bin/sh\n[ \"$1\" = 127.0.0.1 ] && [ \"$2\" = 8099 ] || exit 9\nc=$(cat {})\nif [ \"$c\" = hang ]; then sleep 1000 & echo $! > {}/child; wait; fi\nexit $c\n",
            code.display(),
            lab.path().display()
        ),
    );
    let prog = format!("{} %h %p", script.display());
    let n = start(
        &lab,
        8099,
        &[
            "--check",
            "misc",
            "--misc-program",
            &prog,
            "--misc-dynamic",
            "--rise",
            "1",
            "--io-timeout",
            "1",
        ],
    );
    let up = "[ active ] making 127.0.0.1:8099 available (misc check: exit 0)";
    assert!(n.wait_line(up, 5 * SEC), "{:?}", n.lines());
    std::fs::write(&code, "7").unwrap();
    assert!(
        n.wait_line(
            "[ weight ] setting 127.0.0.1:8099 weight to 5 (misc check: exit 7, weight 5)",
            5 * SEC
        ),
        "{:?}",
        n.lines()
    );
    let v = "-t 10.9.9.9:80 -r 127.0.0.1:8099";
    assert!(
        wait_for(2 * SEC, || lab.argvs().contains(&format!("-e {v} -m -w 5"))),
        "{:?}",
        lab.argvs()
    );
    std::fs::write(&code, "1").unwrap();
    assert!(
        n.wait_line("due to connection failure (misc check: exit 1)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    std::fs::write(&code, "2").unwrap();
    assert!(
        n.wait_line("(misc check: exit 2, weight 0)", 5 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(
        wait_for(2 * SEC, || lab.argvs().last()
            == Some(&format!("-e {v} -m -w 0"))),
        "{:?}",
        lab.argvs()
    );
    // A program that hangs: killed with its whole process group.
    std::fs::write(&code, "hang").unwrap();
    assert!(
        n.wait_line("timed out after 1 s; process group killed)", 8 * SEC),
        "{:?}",
        n.lines()
    );
    let child: i32 = std::fs::read_to_string(lab.path().join("child"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_for(3 * SEC, || !alive(child)),
        "the program's child {child} survived"
    );
}

#[test]
fn misc_without_dynamic_any_nonzero_is_down() {
    let lab = Lab::new();
    let script = lab.script("check.sh", "#!/bin/sh\nexit 3\n");
    let n = start(
        &lab,
        8098,
        &[
            "--check",
            "misc",
            "--misc-program",
            &script.display().to_string(),
            "-v",
        ],
    );
    assert!(
        n.wait_line("misc check of 127.0.0.1:8098 failed: exit 3", 5 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(!n.has_line("[ active ]"));
    assert!(lab.argvs().is_empty());
}

#[test]
fn retry_absorbs_a_single_failure() {
    // Both nannies run a program that fails on its 3rd run only.
    let mk = |lab: &Lab| {
        let counter = lab.path().join("count");
        lab.script(
            "check.sh",
            &format!(
                "#!/bin/sh\nn=$(( $(cat {c} 2>/dev/null || echo 0) + 1 ))\necho $n > {c}\n[ $n -eq 3 ] && exit 1\nexit 0\n",
                c = counter.display()
            ),
        )
        .display()
        .to_string()
    };
    let (la, lb) = (Lab::new(), Lab::new());
    let (pa, pb) = (mk(&la), mk(&lb));
    let with = start(
        &la,
        8097,
        &[
            "--check",
            "misc",
            "--misc-program",
            &pa,
            "--retry",
            "2",
            "--retry-delay",
            "0.2",
        ],
    );
    let without = start(&lb, 8097, &["--check", "misc", "--misc-program", &pb]);
    assert!(
        without.wait_line("due to connection failure (misc check: exit 1)", 6 * SEC),
        "{:?}",
        without.lines()
    );
    let count_file = la.path().join("count");
    assert!(wait_for(6 * SEC, || std::fs::read_to_string(&count_file)
        .map(|s| s.trim().parse::<u32>().unwrap_or(0) >= 5)
        .unwrap_or(false)));
    assert!(with.has_line("[ active ]"));
    assert!(!with.has_line("[inactive]"), "{:?}", with.lines());
}

#[test]
fn retry_exhausted_says_so() {
    let lab = Lab::new();
    let flag = lab.path().join("up");
    std::fs::write(&flag, "").unwrap();
    let script = lab.script(
        "check.sh",
        &format!("#!/bin/sh\n[ -e {} ]\n", flag.display()),
    );
    let n = start(
        &lab,
        8096,
        &[
            "--check",
            "misc",
            "--misc-program",
            &script.display().to_string(),
            "--retry",
            "2",
            "--retry-delay",
            "0.1",
        ],
    );
    assert!(n.wait_line("[ active ]", 5 * SEC));
    std::fs::remove_file(&flag).unwrap();
    assert!(
        n.wait_line("(misc check: exit 1, after 2 retries)", 6 * SEC),
        "{:?}",
        n.lines()
    );
}

#[test]
fn bad_extension_values_are_refused() {
    for (args, msg) in [
        (vec!["--check", "ping"], "nanny: bad value for --check -- ping (expected send_expect, tcp, http, https, smtp, dns or misc)"),
        (vec!["--check", "http", "--http-status", "2xx"], "nanny: bad value for --http-status -- 2xx"),
        (vec!["--check", "http", "--http-digest", "abc"], "nanny: bad value for --http-digest -- abc (expected 32 hex digits)"),
        (vec!["--check", "misc"], "nanny: bad value for --misc-program"),
        (vec!["--retry-delay", "x"], "nanny: bad value for --retry-delay -- x"),
        (vec!["--rise", "0"], "nanny: bad value for --rise -- 0 (expected 1 to 1000000)"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_nanny"))
            .args(["-n", "-c", "--lvs", "-h", "127.0.0.1", "-V", "10.9.9.9", "--norun"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(msg), "{args:?}: {err}");
    }
}

#[test]
fn warmup_delays_the_first_check() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(Vec::new()));
    let t = Instant::now();
    let n = start(&lab, srv.port, &["--check", "tcp", "--warmup", "0.8"]);
    assert!(n.wait_line("first check in", 3 * SEC), "{:?}", n.lines());
    let line = n
        .lines()
        .into_iter()
        .find(|l| l.contains("first check in"))
        .unwrap();
    let ms: u64 = line
        .rsplit("first check in ")
        .next()
        .unwrap()
        .trim_end_matches(" ms)")
        .parse()
        .unwrap();
    assert!(ms <= 800, "{line}");
    assert!(n.wait_line("[ active ]", 5 * SEC));
    assert!(t.elapsed() >= Duration::from_millis(ms), "{line}");
}

/// `start`'s IPv6 twin: a nanny of `[::1]:PORT` for the service
/// `[2001:db8::100]:80`, as lvs passes IPv6 addresses.
fn start6(lab: &Lab, port: u16, extra: &[&str]) -> Nanny {
    let mut args = base(port);
    args.extend(["-I".to_string(), lab.ipvsadm()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Nanny::start_as("::1", "2001:db8::100", &a)
}

/// IPv6 (issue 21): the checks against `[::1]` listeners, with the
/// addresses as lvs passes them (`-h ::1 -V 2001:db8::100`), and the
/// ipvsadm words nanny runs for an IPv6 service.
#[test]
fn ipv6_tcp_send_expect_http_and_misc() {
    let lab = Lab::new();
    let nanny = |port: u16, extra: &[&str]| start6(&lab, port, extra);
    // TCP connect.
    let tcp = Server::start_on("[::1]:0", |_c| {});
    let n = nanny(tcp.port, &["--check", "tcp", "--rise", "1"]);
    let up = format!(
        "[ active ] making [::1]:{} available (tcp check: connected)",
        tcp.port
    );
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    assert!(wait_for(3 * SEC, || !lab.argvs().is_empty()));
    assert_eq!(
        lab.argvs()[0],
        format!("-a -t [2001:db8::100]:80 -r [::1]:{} -m -w 1", tcp.port)
    );
    drop(n);
    // Piranha's send/expect.
    let echo = Server::start_on("[::1]:0", |mut c| {
        let mut b = [0u8; 64];
        if let Ok(k) = c.read(&mut b) {
            if &b[..k] == b"PING" {
                let _ = c.write_all(b"PONG");
            }
        }
    });
    let n = nanny(echo.port, &["-s", "PING", "-x", "PONG"]);
    let up = format!("[ active ] making [::1]:{} available", echo.port);
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    drop(n);
    // HTTP: the Host header of an IPv6 literal is in brackets.
    let last = Arc::new(Mutex::new(String::new()));
    let l2 = last.clone();
    let http = Server::start_on("[::1]:0", move |mut c| {
        let req = read_until(&mut c, b"\r\n\r\n");
        *l2.lock().unwrap() = String::from_utf8_lossy(&req).into();
        let _ = c.write_all(&http_response("200 OK", b"ok"));
    });
    let n = nanny(http.port, &["--check", "http", "--rise", "1"]);
    let up = format!(
        "[ active ] making [::1]:{} available (http check: status 200)",
        http.port
    );
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    let req = last.lock().unwrap().clone();
    assert!(
        req.contains(&format!("\r\nHost: [::1]:{}\r\n", http.port)),
        "{req}"
    );
    drop(n);
    // misc: %h is the bare address, as a `-H %h` argument wants it.
    let script = lab.script(
        "check6.sh",
        "#!/bin/sh\n[ \"$1\" = ::1 ] && [ \"$2\" = 8098 ] || exit 9\nexit 0\n",
    );
    let prog = format!("{} %h %p", script.display());
    let n = nanny(
        8098,
        &["--check", "misc", "--misc-program", &prog, "--rise", "1"],
    );
    assert!(
        n.wait_line(
            "[ active ] making [::1]:8098 available (misc check: exit 0)",
            5 * SEC
        ),
        "{:?}",
        n.lines()
    );
    drop(n);
    // SMTP: banner and HELO over IPv6.
    let smtp = Server::start_on("[::1]:0", |mut c| {
        let _ = c.write_all(b"220 ready\r\n");
        let _ = read_until(&mut c, b"\r\n");
        let _ = c.write_all(b"250 hello\r\n");
        let _ = read_until(&mut c, b"\r\n");
        let _ = c.write_all(b"221 bye\r\n");
    });
    let n = nanny(smtp.port, &["--check", "smtp", "--rise", "1"]);
    let up = format!(
        "[ active ] making [::1]:{} available (smtp check: 220/250)",
        smtp.port
    );
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
}

/// IPv6 (issue 21): UDP checks (Piranha's send/expect over UDP, and the
/// dns check) against `[::1]` responders, and an IPv6 UDP service's words.
#[test]
fn ipv6_udp_and_dns() {
    let lab = Lab::new();
    let nanny = |port: u16, extra: &[&str]| start6(&lab, port, extra);
    let udp = util::UdpServer::start_on("[::1]:0", b"PONG".to_vec());
    let n = nanny(udp.port, &["-u", "-s", "PING", "-x", "PONG"]);
    let up = format!("[ active ] making [::1]:{} available", udp.port);
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    assert!(wait_for(3 * SEC, || !lab.argvs().is_empty()));
    assert_eq!(
        lab.argvs()[0],
        format!("-a -u [2001:db8::100]:80 -r [::1]:{} -m -w 1", udp.port)
    );
    drop(n);
    // dns: the query goes out over IPv6; the reply is the query with QR set.
    let s = UdpSocket::bind("[::1]:0").unwrap();
    let port = s.local_addr().unwrap().port();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let th = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !st.load(Ordering::SeqCst) {
            if let Ok((k, from)) = s.recv_from(&mut buf) {
                let mut r = buf[..k].to_vec();
                r[2] |= 0x80;
                let _ = s.send_to(&r, from);
            }
        }
    });
    let n = nanny(
        port,
        &["--check", "dns", "--dns-name", "example.com", "--rise", "1"],
    );
    let up =
        format!("[ active ] making [::1]:{port} available (dns check: SOA example.com answered)");
    assert!(n.wait_line(&up, 5 * SEC), "{:?}", n.lines());
    drop(n);
    stop.store(true, Ordering::SeqCst);
    th.join().unwrap();
}
