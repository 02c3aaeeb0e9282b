//! Test harness: a recording ipvsadm stand-in, loopback servers that answer
//! right, wrong, slowly, partially or not at all, and a nanny process that is
//! killed (by pid) when the test ends.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds since the epoch, as the recorder's `date +%s.%N` writes them.
pub fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Poll `f` every 20 ms until it is true or `limit` passes.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// A temporary directory with a recording ipvsadm and helper scripts.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lab = Lab { dir };
        // Appends "TIME ARGS" to calls.log; fails while a file "fail" exists.
        lab.script(
            "ipvsadm",
            &format!(
                "#!/bin/sh\necho \"$(date +%s.%N) $*\" >> {d}/calls.log\n[ -e {d}/fail ] && exit 1\nexit 0\n",
                d = lab.path().display()
            ),
        );
        lab
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write an executable script.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    pub fn ipvsadm(&self) -> String {
        self.path().join("ipvsadm").display().to_string()
    }

    /// The recorded calls: (time, argv without argv[0]).
    pub fn calls(&self) -> Vec<(f64, String)> {
        let text = std::fs::read_to_string(self.path().join("calls.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(t, a)| (t.parse().unwrap(), a.to_string()))
            .collect()
    }

    pub fn argvs(&self) -> Vec<String> {
        self.calls().into_iter().map(|(_, a)| a).collect()
    }

    pub fn set_failing(&self, on: bool) {
        let p = self.path().join("fail");
        if on {
            std::fs::write(p, "").unwrap();
        } else {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// How a TCP server answers each connection.
#[derive(Clone)]
pub enum Behaviour {
    /// Write these bytes and close.
    Reply(Vec<u8>),
    /// Write each chunk after its delay, then close.
    Chunks(Vec<(Duration, Vec<u8>)>),
    /// Accept and never answer (until stopped).
    Silent,
}

/// A loopback TCP server on a fixed port; stop it to close the port.
pub struct TcpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TcpServer {
    pub fn start(port: u16, b: Behaviour) -> Self {
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let handle = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => {
                        let b = b.clone();
                        let st = st.clone();
                        std::thread::spawn(move || serve(c, b, st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpServer {
            port,
            stop,
            handle: Some(handle),
        }
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(mut c: TcpStream, b: Behaviour, stop: Arc<AtomicBool>) {
    c.set_nonblocking(false).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let _ = c.read(&mut buf);
    match b {
        Behaviour::Reply(r) => {
            let _ = c.write_all(&r);
        }
        Behaviour::Chunks(chunks) => {
            for (d, r) in chunks {
                std::thread::sleep(d);
                if c.write_all(&r).is_err() {
                    return;
                }
            }
        }
        Behaviour::Silent => {
            let end = Instant::now() + Duration::from_secs(20);
            while !stop.load(Ordering::SeqCst) && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP server that answers every datagram with `reply`.
pub struct UdpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl UdpServer {
    pub fn start(reply: Vec<u8>) -> Self {
        Self::start_on("127.0.0.1:0", reply)
    }

    /// The same on `addr` (e.g. `[::1]:0`).
    pub fn start_on(addr: &str, reply: Vec<u8>) -> Self {
        let s = UdpSocket::bind(addr).unwrap();
        let port = s.local_addr().unwrap().port();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !st.load(Ordering::SeqCst) {
                if let Ok((_, from)) = s.recv_from(&mut buf) {
                    let _ = s.send_to(&reply, from);
                }
            }
        });
        UdpServer {
            port,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A running `nanny -n -c ...`; its stdout lines are collected.  Killed
/// with SIGKILL (by pid) and reaped on drop.
pub struct Nanny {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Nanny {
    pub fn start(args: &[&str]) -> Self {
        Self::start_as("127.0.0.1", "10.9.9.9", args)
    }

    /// A nanny checking `host` for the service on `vip`.
    pub fn start_as(host: &str, vip: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nanny"))
            .args(["-n", "-c", "--lvs", "-h", host, "-V", vip])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                match line {
                    Ok(l) => l2.lock().unwrap().push(l),
                    Err(_) => break,
                }
            }
        });
        Nanny { child, lines }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn has_line(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }

    pub fn wait_line(&self, needle: &str, limit: Duration) -> bool {
        wait_for(limit, || self.has_line(needle))
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the pid of our own child, not yet reaped.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Send `sig` and wait (at most `limit`) for the exit status.
    pub fn stop_with(&mut self, sig: i32, limit: Duration) -> Option<i32> {
        self.signal(sig);
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Nanny {
    fn drop(&mut self) {
        // SIGTERM first, so nanny finishes its ipvsadm run and reaps its
        // helpers; SIGKILL if it does not go within 3 s.
        if self
            .stop_with(libc::SIGTERM, Duration::from_secs(3))
            .is_none()
        {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Kills a pid (SIGKILL) on drop unless disarmed: for processes the test
/// did not start as a direct child (a daemon).
pub struct PidGuard(pub Option<i32>);

impl Drop for PidGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // SAFETY: kill(2) on a pid this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}
