//! pulse in host network namespaces: two directors and a client on a
//! bridge (`util::Lab`), pulse with a stand-in lvs, the floating address
//! checked with `ip addr`, gratuitous ARPs captured in the client's
//! namespace.  Root only; each test skips with a reason otherwise.

mod util;

use std::time::{Duration, Instant};

use util::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

#[test]
fn master_dies_backup_takes_over_with_gratuitous_arps_then_old_master_stays_passive() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 1\ndeadtime = 3\n");
    let (lvs1, lvs2) = (lab.stub_lvs("d1"), lab.stub_lvs("d2"));
    let m = Pulse::start(&lab.d1, &cfg, &lvs1, &[]);
    let b = Pulse::start(&lab.d2, &cfg, &lvs2, &[]);
    assert!(
        m.wait_line("STARTING PULSE AS MASTER", S(5)).is_some(),
        "{}",
        m.text()
    );
    assert!(
        b.wait_line("STARTING PULSE AS BACKUP", S(5)).is_some(),
        "{}",
        b.text()
    );
    assert!(
        m.wait_line("backup inactive: activating lvs", S(6))
            .is_some(),
        "{}",
        m.text()
    );
    assert!(wait_for(S(3), || lab.has_vip(&lab.d1)).is_some());
    assert!(wait_for(S(3), || lab.lvs_record("d1").is_some()).is_some());
    let (argv, lvs_pid) = lab.lvs_record("d1").unwrap();
    assert_eq!(
        argv,
        format!("{} --nodaemon -c {}", lvs1.display(), cfg.display()),
        "lvs argv of Piranha 0.8.6 (-n: --nodaemon)"
    );
    assert!(!lab.has_vip(&lab.d2));
    // Let the master's own ARPs finish so the capture only sees the backup's.
    assert!(m.wait_line("gratuitous lvs arps finished", S(8)).is_some());

    let cap = Capture::start(&lab.cl);
    let mut m = m;
    m.signal(libc::SIGKILL);
    lab.link("p1", false);
    let died = Instant::now();
    let took = wait_for(S(6), || lab.has_vip(&lab.d2)).expect("backup owns the VIP");
    let failover = took - died;
    eprintln!("failover at 1/3: {failover:?}");
    assert!(failover <= S(4), "within deadtime + 1 s: {failover:?}");
    // The dead pulse's VIP expires (lifetime deadtime = 3 s, renewed every
    // keepalive until the kill; the kernel checks lifetimes to the second).
    let gone = wait_for(S(6), || !lab.has_vip(&lab.d1)).expect("the dead pulse's VIP expires");
    eprintln!("dead pulse's VIP gone after {:?}", gone - died);
    assert!(
        gone - died <= ms(4500),
        "about deadtime + 1 s: {:?}",
        gone - died
    );
    assert!(
        b.wait_line("partner dead: activating lvs", S(2)).is_some(),
        "{}",
        b.text()
    );
    // lvs of the dead pulse exits (PR_SET_PDEATHSIG).
    assert!(
        wait_for(S(3), || unsafe { libc::kill(lvs_pid, 0) } != 0).is_some(),
        "lvs {lvs_pid} outlived its pulse"
    );
    assert!(
        b.wait_line("gratuitous lvs arps finished", S(8)).is_some(),
        "{}",
        b.text()
    );
    std::thread::sleep(ms(300));
    let mac2 = lab.mac(&lab.d2, "eth0");
    let arps = cap.announcements(VIP, mac2);
    assert_eq!(arps.len(), 5, "five gratuitous ARPs per address");
    for (_, f) in &arps {
        assert_eq!(&f[0..6], &[0xff; 6], "broadcast");
        assert_eq!(&f[20..22], &[0, 2], "opcode 2 (reply)");
        assert_eq!(&f[22..28], &mac2, "sender mac");
        assert_eq!(&f[32..38], &mac2, "target mac = sender mac");
        assert_eq!(&f[38..42], &VIP.octets(), "target ip = VIP");
    }
    for w in arps.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(gap >= ms(700) && gap <= ms(1300), "spacing {gap:?}");
    }
    // The client reaches the VIP through the backup.
    let neigh = ip_out(&["-n", &lab.cl.name, "neigh", "show", &VIP.to_string()]);
    let mac_s = mac2
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let _ = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.cl.name,
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            "1",
        ])
        .arg(VIP.to_string())
        .output();
    let neigh2 = ip_out(&["-n", &lab.cl.name, "neigh", "show", &VIP.to_string()]);
    assert!(
        neigh2.contains(&mac_s),
        "client resolves the VIP to the backup: {neigh} / {neigh2}"
    );
    let _ = m.wait_exit(S(2));

    // The old master comes back: it clears a stale VIP (one without a
    // lifetime, as an older pulse or an administrator adds it) and stays
    // passive while the backup runs.
    assert!(!lab.has_vip(&lab.d1), "the VIP expired");
    ip(&[
        "-n",
        &lab.d1.name,
        "addr",
        "add",
        "10.77.0.100/24",
        "dev",
        "eth0",
        "label",
        "eth0:1",
    ]);
    lab.link("p1", true);
    let m2 = Pulse::start(&lab.d1, &cfg, &lvs1, &[]);
    assert!(
        m2.wait_line("removed stale floating address 10.77.0.100", S(5))
            .is_some(),
        "{}",
        m2.text()
    );
    std::thread::sleep(S(7));
    assert!(!lab.has_vip(&lab.d1), "{}", m2.text());
    assert!(m2.find("activating lvs").is_none(), "{}", m2.text());
    assert!(lab.has_vip(&lab.d2));
}

#[test]
fn stopped_active_pulse_lets_its_vip_expire_and_resumes_as_master() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 1\ndeadtime = 3\n");
    let (lvs1, lvs2) = (lab.stub_lvs("d1"), lab.stub_lvs("d2"));
    let m = Pulse::start(&lab.d1, &cfg, &lvs1, &[]);
    let b = Pulse::start(&lab.d2, &cfg, &lvs2, &[]);
    assert!(
        wait_for(S(6), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    // a running pulse keeps its VIP beyond the lifetime (3 s): renewed
    let shown = ip_out(&["-n", &lab.d1.name, "-4", "addr", "show", "dev", "eth0"]);
    let lft = shown
        .lines()
        .skip_while(|l| !l.contains("inet 10.77.0.100/"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        lft.contains("valid_lft") && !lft.contains("forever"),
        "the VIP has a finite lifetime: {shown}"
    );
    for _ in 0..12 {
        assert!(lab.has_vip(&lab.d1), "{}", m.text());
        std::thread::sleep(ms(500));
    }
    // SIGSTOP for deadtime + 2 s: the partner takes over and the stopped
    // director's VIP expires (it cannot remove it, the kernel does).
    m.signal(libc::SIGSTOP);
    let stopped = Instant::now();
    let took = wait_for(S(6), || lab.has_vip(&lab.d2)).expect("backup takes over");
    let gone = wait_for(S(6), || !lab.has_vip(&lab.d1)).expect("the stopped pulse's VIP expires");
    eprintln!(
        "stopped: backup active after {:?}, stopped one's VIP gone after {:?}",
        took - stopped,
        gone - stopped
    );
    assert!(gone - stopped <= ms(4500), "{:?}", gone - stopped);
    while stopped.elapsed() < S(5) {
        std::thread::sleep(ms(100));
    }
    assert!(!lab.has_vip(&lab.d1));
    // SIGCONT: the master is still active in its own eyes; it renews (adds
    // again) its VIP and wins the tie; the backup yields.
    m.signal(libc::SIGCONT);
    assert!(
        b.wait_line("partner active: deactivating LVS", S(4))
            .is_some(),
        "{}\n{}",
        m.text(),
        b.text()
    );
    assert!(wait_for(S(3), || lab.has_vip(&lab.d1) && !lab.has_vip(&lab.d2)).is_some());
    std::thread::sleep(S(4));
    assert!(
        lab.has_vip(&lab.d1) && !lab.has_vip(&lab.d2),
        "{}\n{}",
        m.text(),
        b.text()
    );
}

#[test]
fn sigterm_on_active_backup_hands_over_to_master() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.3\ndeadtime = 1\n");
    let (lvs1, lvs2) = (lab.stub_lvs("d1"), lab.stub_lvs("d2"));
    let mut b = Pulse::start(&lab.d2, &cfg, &lvs2, &[]);
    assert!(
        b.wait_line("partner dead: activating lvs", S(4)).is_some(),
        "{}",
        b.text()
    );
    assert!(wait_for(S(2), || lab.has_vip(&lab.d2)).is_some());
    let m = Pulse::start(&lab.d1, &cfg, &lvs1, &[]);
    std::thread::sleep(S(3));
    assert!(
        !lab.has_vip(&lab.d1),
        "revived primary stays passive: {}",
        m.text()
    );
    assert!(wait_for(S(2), || lab.lvs_record("d2").is_some()).is_some());
    let (_, lvs_pid) = lab.lvs_record("d2").unwrap();
    b.signal(libc::SIGTERM);
    assert_eq!(b.wait_exit(S(8)), Some(0), "{}", b.text());
    assert!(
        b.wait_line("Terminating due to signal 15", S(2)).is_some(),
        "{}",
        b.text()
    );
    assert!(!lab.has_vip(&lab.d2), "backup removed what it added");
    assert!(unsafe { libc::kill(lvs_pid, 0) } != 0, "lvs stopped");
    assert!(!b.pidfile.exists(), "pidfile removed");
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
}

#[test]
fn simultaneous_start_leaves_exactly_one_active() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    std::thread::sleep(S(3));
    for _ in 0..10 {
        assert!(lab.has_vip(&lab.d1), "{}\n{}", m.text(), b.text());
        assert!(!lab.has_vip(&lab.d2), "{}\n{}", m.text(), b.text());
        std::thread::sleep(ms(200));
    }
    assert!(lab.lvs_record("d1").is_none(), "--norun starts no lvs");
}

#[test]
fn losing_one_heartbeat_channel_is_no_failover() {
    if skip() {
        return;
    }
    let lab = Lab::new(true);
    let cfg = lab.config(
        "lvs.cf",
        "primary_private = 10.78.0.1\nbackup_private = 10.78.0.2\nkeepalive = 0.2\ndeadtime = 0.6\n",
    );
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    std::thread::sleep(S(1));
    lab.link("q1", false); // private channel gone
    std::thread::sleep(S(3));
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    assert!(b.find("partner dead").is_none(), "{}", b.text());
    lab.link("q1", true);
    // Both channels gone: now the backup takes over.
    lab.link("q1", false);
    lab.link("p1", false);
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
}

#[test]
fn monitor_links_link_down_hands_over() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config(
        "lvs.cf",
        "keepalive = 0.2\ndeadtime = 0.6\nmonitor_links = 1\n",
    );
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    lab.link("p1", false);
    assert!(
        m.wait_line("Primary NIC: link down", S(3)).is_some(),
        "{}",
        m.text()
    );
    assert!(m
        .wait_line("Local NIC link failure: Pulse disabled", S(2))
        .is_some());
    assert!(m
        .wait_line("local link failure: deactivating LVS", S(2))
        .is_some());
    assert!(wait_for(S(2), || !lab.has_vip(&lab.d1)).is_some());
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
    lab.link("p1", true);
    assert!(
        m.wait_line("Local NIC link(s) restored: Pulse enabled", S(3))
            .is_some(),
        "{}",
        m.text()
    );
    std::thread::sleep(S(2));
    assert!(!lab.has_vip(&lab.d1), "no takeover on recovery");
    assert!(lab.has_vip(&lab.d2));
}

#[test]
fn lvs_death_sets_childfail_and_partner_takes_over() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &[]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &[]);
    assert!(
        wait_for(S(4), || lab.lvs_record("d1").is_some()).is_some(),
        "{}",
        m.text()
    );
    let (_, pid) = lab.lvs_record("d1").unwrap();
    // SAFETY: kill(2) on the stand-in lvs we started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(
        m.wait_line(
            &format!("Child process {pid} terminated with signal 9"),
            S(3)
        )
        .is_some(),
        "{}",
        m.text()
    );
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
    assert!(!lab.has_vip(&lab.d1));
    assert!(
        b.wait_line("primary inactive: activating lvs", S(2))
            .is_some(),
        "{}",
        b.text()
    );
}

/// A backup that yields while its lvs is slow to stop (the stand-in ignores
/// SIGTERM: pulse waits LVS_STOP_GRACE, 5 s, then SIGKILLs it) gives up the
/// VIP at once, not after lvs, and reads the master's heartbeats that
/// arrived meanwhile before it looks at its dead timer: it stays passive
/// instead of declaring the master dead and activating again (both seen in
/// the fault suite, tests/faults).
#[test]
fn backup_yielding_with_a_slow_lvs_stop_does_not_take_over_again() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let stubborn = lab.stub_lvs("d2").with_extension("stubborn");
    std::fs::write(&stubborn, "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stubborn, std::fs::Permissions::from_mode(0o755)).unwrap();
    let b = Pulse::start(&lab.d2, &cfg, &stubborn, &["--forceactive"]);
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
    // Both active: the master stays, the backup yields and waits for lvs.
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--forceactive"]);
    assert!(
        b.wait_line("partner active: deactivating LVS", S(4))
            .is_some(),
        "{}",
        b.text()
    );
    // The VIP goes first, while pulse still waits for lvs.
    assert!(
        wait_for(S(2), || !lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
    assert_eq!(b.count("did not exit after SIGTERM"), 0, "{}", b.text());
    assert!(
        b.wait_line("did not exit after SIGTERM; sending SIGKILL", S(8))
            .is_some(),
        "{}",
        b.text()
    );
    std::thread::sleep(S(2));
    assert_eq!(
        b.count("partner dead: activating lvs"),
        0,
        "the backup took over from a live master after its lvs stop:\n{}",
        b.text()
    );
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    assert!(lab.has_vip(&lab.d1), "{}", m.text());
}

#[test]
fn hup_brings_up_new_vip_and_usr1_dumps_state() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config(
        "lvs.cf",
        "keepalive = 0.2\ndeadtime = 0.6\nbackup_active = 0\n",
    );
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    assert!(
        m.wait_line("partner dead: activating lvs", S(3)).is_some(),
        "{}",
        m.text()
    );
    assert!(wait_for(S(2), || lab.has_vip(&lab.d1)).is_some());
    // An address on the same label that pulse did not add (B7).
    ip(&[
        "-n",
        &lab.d1.name,
        "addr",
        "add",
        "10.77.0.222/32",
        "dev",
        "eth0",
        "label",
        "eth0:1",
    ]);
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text + "virtual more {\n active = 1\n address = 10.77.0.101 eth0:2\n port = 80\n server r {\n  address = 10.77.0.50\n  active = 1\n }\n}\n",
    )
    .unwrap();
    m.signal(libc::SIGHUP);
    assert!(
        wait_for(S(3), || ip_out(&["-n", &lab.d1.name, "addr"])
            .contains("10.77.0.101/32"))
        .is_some(),
        "{}",
        m.text()
    );
    m.signal(libc::SIGUSR1);
    assert!(
        m.wait_line("state: master active", S(3)).is_some(),
        "{}",
        m.text()
    );
    assert!(m.child.id() > 0);
    let mut m = m;
    assert!(
        m.child.try_wait().unwrap().is_none(),
        "SIGUSR1 does not kill pulse"
    );
    m.signal(libc::SIGTERM);
    assert_eq!(m.wait_exit(S(8)), Some(0));
    let addrs = ip_out(&["-n", &lab.d1.name, "addr"]);
    assert!(!addrs.contains("10.77.0.100/"), "{addrs}");
    assert!(!addrs.contains("10.77.0.101/"), "{addrs}");
    assert!(
        addrs.contains("10.77.0.222/32"),
        "B7: foreign address kept: {addrs}"
    );
}

#[test]
fn authenticated_heartbeat_pairs_and_ignores_plain_packets() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let key = lab.dir.path().join("hb.key");
    std::fs::write(&key, "correct horse battery staple\n").unwrap();
    let cfg = lab.config(
        "lvs.cf",
        &format!(
            "keepalive = 0.2\ndeadtime = 0.6\nheartbeat_key = {}\n",
            key.display()
        ),
    );
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    std::thread::sleep(S(2));
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    assert!(m.find("bad heartbeat").is_none() && b.find("authentication").is_none());
    drop(b);
    // A plain Piranha RUNNING from the backup's address does not count.
    let mut m = m;
    let fake = lab
        .d2
        .run(|| std::net::UdpSocket::bind("10.77.0.2:539").unwrap());
    for _ in 0..5 {
        fake.send_to(&0xbdaddbdau32.to_ne_bytes(), "10.77.0.1:539")
            .unwrap();
        std::thread::sleep(ms(100));
    }
    assert!(
        m.wait_line("bad heartbeat packet", S(2)).is_some(),
        "{}",
        m.text()
    );
    assert!(
        lab.has_vip(&lab.d1),
        "master not moved by unauthenticated packets"
    );
    m.signal(libc::SIGTERM);
    assert_eq!(m.wait_exit(S(8)), Some(0));
}

/// An active primary that keeps hearing an active backup (one slow to
/// yield) resends its gratuitous ARPs, but one round at a time: not a new
/// five-second round of send_arp runs per heartbeat (which saturated the
/// fault suite's guest, tests/faults).
#[test]
fn primary_hearing_an_active_backup_runs_one_arp_round_at_a_time() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    assert!(
        m.wait_line("gratuitous lvs arps finished", S(10)).is_some(),
        "{}",
        m.text()
    );
    let fake = lab
        .d2
        .run(|| std::net::UdpSocket::bind("10.77.0.2:539").unwrap());
    for _ in 0..15 {
        fake.send_to(&0xbdaddbdau32.to_ne_bytes(), "10.77.0.1:539")
            .unwrap();
        std::thread::sleep(ms(200));
    }
    std::thread::sleep(S(7));
    let heard = m.count("partner active: resending arps");
    let rounds = m.count("gratuitous lvs arps finished");
    assert!(heard >= 10, "{}", m.text());
    assert!(
        rounds <= 3,
        "{rounds} ARP rounds for {heard} heartbeats:\n{}",
        m.text()
    );
    assert!(lab.has_vip(&lab.d1));
}

#[test]
fn hup_is_forwarded_to_a_running_lvs_only() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config(
        "lvs.cf",
        "keepalive = 0.2\ndeadtime = 0.6\nbackup_active = 0\n",
    );
    let hups = lab.dir.path().join("hups");
    let stub = lab.dir.path().join("lvs-hup");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\ntrap 'echo hup >> {}' HUP\nwhile :; do sleep 0.05; done\n",
            hups.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut m = Pulse::start(&lab.d1, &cfg, &stub, &[]);
    assert!(m.wait_line("STARTING PULSE AS MASTER", S(3)).is_some());
    // Inactive (deadtime not yet over): no lvs, nothing to forward to, and
    // pulse survives.
    m.signal(libc::SIGHUP);
    assert!(m.wait_line("re-read", S(2)).is_some(), "{}", m.text());
    assert!(m.wait_line("partner dead: activating lvs", S(3)).is_some());
    std::thread::sleep(ms(300));
    m.signal(libc::SIGHUP);
    assert!(
        wait_for(S(3), || std::fs::read_to_string(&hups)
            .is_ok_and(|s| s == "hup\n"))
        .is_some(),
        "lvs got exactly one SIGHUP: {}",
        m.text()
    );
    assert!(m.child.try_wait().unwrap().is_none());
    m.signal(libc::SIGTERM);
    assert_eq!(m.wait_exit(S(8)), Some(0), "{}", m.text());
}

#[test]
fn hup_with_a_new_heartbeat_port_rebinds_without_failover() {
    if skip() {
        return;
    }
    let lab = Lab::new(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("heartbeat_port = 539\n"));
    std::fs::write(
        &cfg,
        text.replace("heartbeat_port = 539\n", "heartbeat_port = 1539\n"),
    )
    .unwrap();
    m.signal(libc::SIGHUP);
    b.signal(libc::SIGHUP);
    for p in [&m, &b] {
        assert!(
            p.wait_line("heartbeat now on port 1539", S(3)).is_some(),
            "{}",
            p.text()
        );
    }
    let socks = ip_out(&["netns", "exec", &lab.d2.name, "ss", "-uln"]);
    assert!(socks.contains(":1539"), "{socks}");
    assert!(!socks.contains(":539 "), "{socks}");
    // Heartbeats keep flowing on the new port: no failover for several deadtimes.
    for _ in 0..15 {
        assert!(lab.has_vip(&lab.d1), "{}\n{}", m.text(), b.text());
        assert!(!lab.has_vip(&lab.d2), "{}\n{}", m.text(), b.text());
        std::thread::sleep(ms(200));
    }
}
