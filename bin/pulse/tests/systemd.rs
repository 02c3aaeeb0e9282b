//! pulse under systemd's `Type=notify` (init/pulse.service): with
//! `NOTIFY_SOCKET` set it stays the process systemd started, says
//! `READY=1` once it holds a role (here: active, the backup being silent),
//! carries the role in `STATUS=`, brackets a SIGHUP with `RELOADING=1`
//! and `READY=1`, and says `STOPPING=1` on SIGTERM. The notification
//! socket is a real datagram socket bound by the test.

mod util;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// The datagrams received until one contains `want` (or `secs` passed).
fn until(sock: &UnixDatagram, want: &str, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = m.contains(want);
            got.push(m);
            if done {
                break;
            }
        }
    }
    got
}

#[test]
fn notify_ready_status_reload_and_stop() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let pidfile = lab.dir.path().join("pulse.pid");
    let path = lab.dir.path().join("notify");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.d1.name,
            env!("CARGO_BIN_EXE_pulse"),
            "--norun",
            "-c",
        ])
        .arg(&cfg)
        .arg("--pidfile")
        .arg(&pidfile)
        .arg("--send-arp")
        .arg(target_bin("send_arp"))
        .env("NOTIFY_SOCKET", &path)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let got = until(&sock, "READY=1", 6);
    let text = got.join("");
    assert!(text.contains("READY=1"), "no READY=1: {got:?}");
    assert!(
        got.first()
            .is_some_and(|m| m.starts_with("STATUS=primary, passive")),
        "{got:?}"
    );
    let before_ready: Vec<&String> = got.iter().filter(|m| m.starts_with("STATUS=")).collect();
    assert!(
        before_ready
            .last()
            .is_some_and(|m| m.starts_with("STATUS=primary, active")),
        "ready once active (the backup is silent): {got:?}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "pulse stayed in the foreground"
    );
    let named: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(named, pid, "the pidfile names the process systemd started");

    // SAFETY: signals to the pulse this test started.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let got = until(&sock, "READY=1", 5);
    let text = got.join("");
    let reloading = text.find("RELOADING=1\nMONOTONIC_USEC=");
    let ready = text.rfind("READY=1");
    assert!(
        matches!((reloading, ready), (Some(a), Some(b)) if a < b),
        "RELOADING=1 (with MONOTONIC_USEC) then READY=1: {got:?}"
    );

    unsafe { libc::kill(pid, libc::SIGTERM) };
    let got = until(&sock, "STOPPING=1", 5);
    assert!(got.join("").contains("STOPPING=1"), "{got:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("pulse did not exit after SIGTERM");
    }
    assert!(!pidfile.exists());
}
