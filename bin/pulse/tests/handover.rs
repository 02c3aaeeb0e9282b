//! Role changes on the heartbeat side (issue 18), pulse `--norun` in host
//! network namespaces (`util::Lab`): a stopping active pulse says STOPPED
//! and keeps its address until its partner has taken over (make before
//! break), `pulse --switchover` does the same and stays, a killed pulse's
//! address outlives it until about when the partner takes over, and an
//! original-format partner sees Piranha's STOPPED magic.  Root only; each
//! test skips with a reason otherwise.  Timers: keepalive 1 s, deadtime 3 s,
//! so that "at once" and "after deadtime" are far apart.

mod util;

use std::net::{SocketAddrV4, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use util::*;

const S: fn(u64) -> Duration = Duration::from_secs;
const TIMERS: &str = "keepalive = 1\ndeadtime = 3\n";

/// d1 active, d2 passive and heard by d1 (both `--norun`).
fn pair(lab: &Lab) -> (std::path::PathBuf, Pulse, Pulse) {
    let cfg = lab.config("lvs.cf", TIMERS);
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    assert!(
        m.wait_line("partner dead: activating lvs", S(6)).is_some(),
        "{}",
        m.text()
    );
    assert!(wait_for(S(2), || lab.has_vip(&lab.d1)).is_some());
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(b.wait_line("STARTING PULSE AS BACKUP", S(5)).is_some());
    // d1 hears d2 (a heartbeat or two), and d2 is past its start-up grace.
    std::thread::sleep(S(4));
    assert!(lab.has_vip(&lab.d1) && !lab.has_vip(&lab.d2));
    (cfg, m, b)
}

/// When `pat` was logged, or a panic with both logs.
fn at(p: &Pulse, pat: &str, other: &Pulse) -> Instant {
    p.wait_line(pat, S(1)).unwrap_or_else(|| {
        panic!(
            "no '{pat}' in\n{}\n--- partner:\n{}",
            p.text(),
            other.text()
        )
    })
}

#[test]
fn a_stopping_active_pulse_hands_over_at_once_and_lets_go_after_the_partner_took_over() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let (_cfg, mut m, b) = pair(&lab);
    let t0 = Instant::now();
    m.signal(libc::SIGTERM);
    assert_eq!(m.wait_exit(S(5)), Some(0), "{}", m.text());
    let exited = Instant::now();
    let took = at(&b, "primary inactive: activating lvs", &m);
    assert!(
        took - t0 < Duration::from_millis(900),
        "the backup took over {:?} after the SIGTERM (deadtime is 3 s)",
        took - t0
    );
    assert!(exited - t0 < S(2), "pulse stopped in {:?}", exited - t0);
    assert!(lab.has_vip(&lab.d2) && !lab.has_vip(&lab.d1));
    // make before break: d1 removed its address after d2 added its own
    let added = at(&b, "added 10.77.0.100/24 on eth0:1", &m);
    let removed = at(&m, "removed 10.77.0.100/24 from eth0:1", &b);
    assert!(added <= removed, "d1 let go before d2 had the address");
    for line in [
        "Terminating due to signal 15",
        "shutting down: handing the active role to the partner",
        "partner active: deactivating LVS",
    ] {
        at(&m, line, &b);
    }
}

#[test]
fn switchover_hands_the_role_over_and_back_and_refuses_on_the_passive_director() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let (cfg, m, b) = pair(&lab);
    let switch = |ns: &Netns, p: &Pulse| {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(env!("CARGO_BIN_EXE_pulse"))
            .arg("--switchover")
            .arg("-c")
            .arg(&cfg)
            .arg("--pidfile")
            .arg(&p.pidfile)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // on the passive director: refused, nothing moves
    let (code, text) = switch(&lab.d2, &b);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("this director is not active"), "{text}");
    assert!(lab.has_vip(&lab.d1));
    // d1 -> d2, quickly, and both pulses keep running
    let t0 = Instant::now();
    let (code, text) = switch(&lab.d1, &m);
    assert_eq!(code, Some(0), "{text}\n{}\n{}", m.text(), b.text());
    assert!(text.contains("switched over in"), "{text}");
    assert!(t0.elapsed() < S(2), "took {:?}", t0.elapsed());
    assert!(lab.has_vip(&lab.d2) && !lab.has_vip(&lab.d1));
    at(&m, "switchover: handing the active role to the partner", &b);
    // d1 stays passive while d2 is active (no fail-back)
    std::thread::sleep(S(4));
    assert!(
        lab.has_vip(&lab.d2) && !lab.has_vip(&lab.d1),
        "{}",
        m.text()
    );
    // and back: d2 -> d1
    let (code, text) = switch(&lab.d2, &b);
    assert_eq!(code, Some(0), "{text}\n{}\n{}", m.text(), b.text());
    assert!(lab.has_vip(&lab.d1) && !lab.has_vip(&lab.d2));
    at(&m, "backup inactive: activating lvs", &b);
    std::thread::sleep(S(2));
    assert!(lab.has_vip(&lab.d1) && !lab.has_vip(&lab.d2));
}

#[test]
fn a_killed_pulse_keeps_its_address_until_about_when_the_partner_takes_over() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let (_cfg, mut m, b) = pair(&lab);
    let t0 = Instant::now();
    m.signal(libc::SIGKILL);
    let _ = m.wait_exit(S(2));
    let took = wait_for(S(6), || lab.has_vip(&lab.d2)).expect("d2 takes over");
    let gone = wait_for(S(6), || !lab.has_vip(&lab.d1)).expect("d1's address expires");
    eprintln!(
        "takeover {:?}, old address gone {:?} after the kill",
        took - t0,
        gone - t0
    );
    assert!(
        took - t0 <= S(3) + Duration::from_millis(400),
        "{:?}",
        took - t0
    );
    // The address lives about deadtime: it may go a moment before the
    // partner's takeover (the kernel checks lifetimes on whole seconds),
    // never long before.
    assert!(
        took <= gone + Duration::from_millis(1200),
        "no director held the VIP for {:?}",
        took - gone
    );
    at(&b, "partner dead: activating lvs", &m);
}

/// Our leaving pulse and a partner speaking Piranha 0.8.6's wire format:
/// STOPPED (0xadbddabd, host order) goes out at once on SIGTERM, and the
/// partner's RUNNING ends the wait.
#[test]
fn an_original_format_partner_hears_stopped_and_its_running_ends_the_wait() {
    if skip() {
        return;
    }
    const RUNNING: u32 = 0xbdaddbda;
    const STOPPED: u32 = 0xadbddabd;
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", TIMERS);
    let orig = lab
        .d2
        .run(|| UdpSocket::bind("10.77.0.2:539").expect("bind in d2"));
    orig.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let to = SocketAddrV4::new("10.77.0.1".parse().unwrap(), 539);
    let mut m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    // the original backup, passive: STOPPED every keepalive; d1 activates
    for _ in 0..4 {
        orig.send_to(&STOPPED.to_ne_bytes(), to).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        m.wait_line("backup inactive: activating lvs", S(2))
            .is_some(),
        "{}",
        m.text()
    );
    assert!(wait_for(S(2), || lab.has_vip(&lab.d1)).is_some());
    orig.send_to(&STOPPED.to_ne_bytes(), to).unwrap();
    let drain = |s: &UdpSocket| {
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        while let Ok((n, _)) = s.recv_from(&mut buf) {
            assert_eq!(n, 4);
            got.push(u32::from_ne_bytes(buf[..4].try_into().unwrap()));
        }
        got
    };
    let _ = drain(&orig);
    let t0 = Instant::now();
    m.signal(libc::SIGTERM);
    // the first heartbeat after the signal comes at once, and says STOPPED
    let first = loop {
        let mut buf = [0u8; 16];
        if let Ok((4, _)) = orig.recv_from(&mut buf) {
            break (
                Instant::now(),
                u32::from_ne_bytes(buf[..4].try_into().unwrap()),
            );
        }
        assert!(t0.elapsed() < S(2), "nothing sent after SIGTERM");
    };
    assert_eq!(first.1, STOPPED, "{:x}", first.1);
    assert!(
        first.0 - t0 < Duration::from_millis(300),
        "{:?}",
        first.0 - t0
    );
    // the original takes over (as 0.8.6 does on STOPPED) and says RUNNING
    std::thread::sleep(Duration::from_millis(300));
    assert!(lab.has_vip(&lab.d1), "kept while the partner takes over");
    assert!(
        m.wait_exit(Duration::from_millis(100)).is_none(),
        "still waiting"
    );
    orig.send_to(&RUNNING.to_ne_bytes(), to).unwrap();
    assert_eq!(m.wait_exit(S(2)), Some(0), "{}", m.text());
    assert!(!lab.has_vip(&lab.d1));
}
