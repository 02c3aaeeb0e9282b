//! pulse's command line, start-up errors, daemon mode and pidfile; the
//! heartbeat interop fixture (original-format packets in both byte
//! orders); send_arp's arguments, errors and frame on the wire.

mod util;

use std::net::{SocketAddrV4, UdpSocket};
use std::process::Command;
use std::time::Duration;

use util::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn pulse(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .expect("run pulse");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unreadable_config_exits_1() {
    let (code, _, err) = pulse(&["-n", "-c", "/nonexistent/lvs.cf"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("pulse: "), "{err}");
    assert!(err.contains("/nonexistent/lvs.cf"), "{err}");
}

#[test]
fn no_active_services_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(
        &p,
        "primary = 192.0.2.10\nvirtual v {\n active = 0\n address = 192.0.2.100 eth0:1\n}\n",
    )
    .unwrap();
    let f = p.to_str().unwrap();
    let (code, _, err) = pulse(&["-n", "-c", f]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("pulse: no active lvs services defined in {f}\n")
    );
}

#[test]
fn unexpected_arguments_and_usage() {
    let (code, _, err) = pulse(&["-n", "extra"]);
    assert_eq!(code, 2);
    assert_eq!(err, "pulse: unexpected arguments\n");
    let (code, out, _) = pulse(&["--usage"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Usage: pulse "), "{out}");
    let (code, out, _) = pulse(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("pulse "), "{out}");
    let (code, out, _) = pulse(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--pidfile",
        "--send-arp",
        "--switchover",
        "--usage",
        "-?, --help",
    ] {
        assert!(out.contains(flag), "{flag} in --help: {out}");
    }
    for flag in [
        "--configfile",
        "--nodaemon",
        "--test-start",
        "norun",
        "--verbose",
        "--forceactive",
        "--lvsd",
        "--fos",
        "--config-test",
    ] {
        assert!(out.contains(flag), "{flag} in --help: {out}");
    }
}

/// popt's help flags, as the usage line advertises them: `-?` is the help
/// (`-h` too), `--usage` the one-line usage; both exit 0 without starting.
#[test]
fn question_mark_is_help_and_usage_is_one_line() {
    let (code, help, err) = pulse(&["-?"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(help.contains("Options:"), "{help}");
    assert!(help.contains("-?, --help"), "{help}");
    assert_eq!(pulse(&["-h"]), (0, help.clone(), String::new()));
    assert_eq!(pulse(&["--help"]), (0, help.clone(), String::new()));
    // Wherever it comes, -? answers and nothing starts.
    assert_eq!(
        pulse(&["-n", "-c", "/nonexistent/lvs.cf", "-?"]),
        (0, help.clone(), String::new())
    );

    let (code, usage, err) = pulse(&["--usage"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(usage.lines().count(), 1, "{usage}");
    assert!(
        usage.starts_with("Usage: pulse [-c|--configfile FILE] "),
        "{usage}"
    );
    for flag in [
        "[-?|--help]",
        "[--usage]",
        "[--pidfile FILE]",
        "[--send-arp PATH]",
    ] {
        assert!(usage.contains(flag), "{flag} in --usage: {usage}");
    }
    // The help shows the same usage line.
    assert!(help.contains(usage.trim_end()), "{help}");
}

#[test]
fn backup_marked_inactive_exits_0() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "backup_active = 0\n");
    let mut b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &[]);
    assert_eq!(b.wait_exit(S(5)), Some(0), "{}", b.text());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        b.text(),
        "pulse: STARTING PULSE AS BACKUP\npulse: We are backup node and backup is marked inactive -- exiting pulse\n"
    );
}

#[test]
fn busy_heartbeat_port_is_a_clear_error() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "");
    let _held = lab
        .d1
        .run(|| UdpSocket::bind("10.77.0.1:539").expect("bind in d1"));
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.d1.name,
            env!("CARGO_BIN_EXE_pulse"),
            "-n",
            "-c",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("pulse: cannot create heartbeat socket. running as root?"),
        "{err}"
    );
}

#[test]
fn daemon_mode_writes_and_removes_the_pidfile() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let pidfile = lab.dir.path().join("pulse.pid");
    let st = Command::new("ip")
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
        .status()
        .unwrap();
    assert!(st.success(), "the parent exits 0 once the daemon runs");
    assert!(wait_for(S(3), || pidfile.exists()).is_some());
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signal 0 only checks that the daemon exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
    // backup silent: the master activates after deadtime
    assert!(wait_for(S(3), || lab.has_vip(&lab.d1)).is_some());
    // SAFETY: SIGTERM to the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_for(S(8), || !pidfile.exists()).is_some());
    assert!(!lab.has_vip(&lab.d1));
}

fn recv_ours(sock: &UdpSocket) -> Vec<u32> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        assert_eq!(n, 4, "our heartbeat is 4 bytes");
        out.push(u32::from_ne_bytes(buf[..4].try_into().unwrap()));
    }
    out
}

/// A stand-in for an original Piranha master on d1, talking to our backup.
#[test]
fn interop_with_original_heartbeats_in_both_byte_orders() {
    if skip() {
        return;
    }
    const RUNNING: u32 = 0xbdaddbda;
    const STOPPED: u32 = 0xadbddabd;
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 1\n");
    let orig = lab
        .d1
        .run(|| UdpSocket::bind("10.77.0.1:539").expect("bind in d1"));
    orig.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let stranger = lab.cl.run(|| UdpSocket::bind("10.77.0.10:539").unwrap());
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    let to = SocketAddrV4::new("10.77.0.2".parse().unwrap(), 539);
    let send = |bytes: &[u8], n: u32| {
        for _ in 0..n {
            orig.send_to(bytes, to).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // RUNNING from a big-endian and a little-endian original: we stay passive.
    send(&RUNNING.to_be_bytes(), 10);
    send(&RUNNING.to_le_bytes(), 10);
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    let ours = recv_ours(&orig);
    assert!(ours.len() >= 10, "we send every keepalive: {ours:?}");
    assert!(
        ours.iter().all(|m| *m == STOPPED),
        "decoded as the original (host order) expects: {ours:x?}"
    );
    // Bad and incompatible packets are logged; a stranger is ignored.
    orig.send_to(&[1, 2, 3], to).unwrap();
    orig.send_to(&0x1234_5678u32.to_ne_bytes(), to).unwrap();
    stranger.send_to(&STOPPED.to_ne_bytes(), to).unwrap();
    assert!(
        b.wait_line("bad heartbeat packet", S(2)).is_some(),
        "{}",
        b.text()
    );
    assert!(
        b.wait_line(
            "Incompatible heartbeat received -- other system not using identical services",
            S(2)
        )
        .is_some(),
        "{}",
        b.text()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(!lab.has_vip(&lab.d2), "a stranger's STOPPED is ignored");
    // STOPPED in the other byte order: the backup takes over.
    send(&STOPPED.swap_bytes().to_ne_bytes(), 3);
    assert!(
        b.wait_line("primary inactive: activating lvs", S(2))
            .is_some(),
        "{}",
        b.text()
    );
    assert!(wait_for(S(2), || lab.has_vip(&lab.d2)).is_some());
    let _ = recv_ours(&orig);
    std::thread::sleep(Duration::from_millis(500));
    let ours = recv_ours(&orig);
    assert!(
        !ours.is_empty() && ours.iter().all(|m| *m == RUNNING),
        "{ours:x?}"
    );
}

fn send_arp(args: &[&str]) -> Option<(i32, String)> {
    let bin = target_bin("send_arp");
    if !bin.exists() {
        eprintln!("skipped: send_arp not built (cargo build --workspace)");
        return None;
    }
    let out = Command::new(bin).args(args).output().unwrap();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn send_arp_usage_and_errors() {
    let Some((code, err)) = send_arp(&[]) else {
        return;
    };
    assert_eq!(code, 1);
    assert!(
        err.contains("usage: send_arp [-i dev] src_ip_addr src_hw_addr targ_ip_addr tar_hw_addr"),
        "{err}"
    );
    let (code, err) =
        send_arp(&["-i", "eth0", "1.2.3.4", "zz", "1.2.3.4", "ffffffffffff"]).unwrap();
    assert_eq!(code, 1);
    assert!(
        err.starts_with("send_arp: invalid hardware address zz"),
        "{err}"
    );
    let (code, err) = send_arp(&[
        "-i",
        "nosuchdev0",
        "1.2.3.4",
        "020000000001",
        "1.2.3.4",
        "ffffffffffff",
    ])
    .unwrap();
    assert_eq!(code, 1);
    assert_eq!(err, "send_arp: no such device nosuchdev0\n");
}

#[test]
fn send_arp_frame_on_the_wire() {
    if skip() || !target_bin("send_arp").exists() {
        return;
    }
    let lab = Lab::new(false);
    let cap = Capture::start(&lab.cl);
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.d1.name])
        .arg(target_bin("send_arp"))
        .args([
            "-i",
            "eth0",
            "10.77.0.100",
            "02:00:00:00:00:01",
            "10.77.0.255",
            "ffffffffffff",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_for(S(2), || !cap
        .announcements(VIP, [2, 0, 0, 0, 0, 1])
        .is_empty())
    .is_some());
    let f = &cap.announcements(VIP, [2, 0, 0, 0, 0, 1])[0].1;
    assert_eq!(f.len(), 60);
    assert_eq!(&f[0..6], &[0xff; 6]);
    assert_eq!(&f[12..14], &[8, 6]);
    assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 2]);
    assert_eq!(&f[32..42], &[2, 0, 0, 0, 0, 1, 10, 77, 0, 100]);
    assert!(f[42..].iter().all(|b| *b == 0));
}

#[test]
fn sysv_init_script_start_status_reload_stop() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let d = lab.dir.path();
    let sysconfig = d.join("sysconfig-pulse");
    std::fs::write(
        &sysconfig,
        format!(
            "OPTIONS=\"-c {} --norun --send-arp {} --control {}\"\n",
            cfg.display(),
            target_bin("send_arp").display(),
            d.join("pulse.ctl").display()
        ),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../init/pulse");
    let init = |action: &str| -> (i32, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &lab.d1.name, "env"])
            .arg(format!("PULSE={}", env!("CARGO_BIN_EXE_pulse")))
            .arg(format!("PIDFILE={}", d.join("pulse.pid").display()))
            .arg(format!("SYSCONFIG={}", sysconfig.display()))
            .arg(format!("LOCKDIR={}", d.display()))
            .args(["sh", script, action])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(init("status").0, 3);
    let (code, out) = init("start");
    assert_eq!(code, 0, "{out}");
    let (code, out) = init("status");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("is running"), "{out}");
    assert!(wait_for(S(3), || lab.has_vip(&lab.d1)).is_some());
    // status names the role (from pulse's control socket)
    let (code, out) = init("status");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("role active"), "{out}");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text + "virtual more {\n active = 1\n address = 10.77.0.101 eth0:2\n port = 80\n server r {\n  address = 10.77.0.50\n  active = 1\n }\n}\n",
    )
    .unwrap();
    assert_eq!(init("reload").0, 0);
    assert!(wait_for(S(3), || ip_out(&["-n", &lab.d1.name, "addr"])
        .contains("10.77.0.101/32"))
    .is_some());
    let (code, out) = init("stop");
    assert_eq!(code, 0, "{out}");
    assert_eq!(init("status").0, 3);
    assert!(!lab.has_vip(&lab.d1));
    assert!(!ip_out(&["-n", &lab.d1.name, "addr"]).contains("10.77.0.101/"));
}
