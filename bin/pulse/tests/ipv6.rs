//! pulse over IPv6 in host network namespaces (`util::Lab::new6`: no IPv4
//! but lo's): heartbeats between IPv6 addresses, plain and authenticated;
//! the IPv6 VIP added with `nodad` (never tentative), renewed, expiring
//! with a dead pulse and swept when stale; unsolicited neighbour
//! advertisements captured in the client's namespace and taken by its
//! kernel; and monitor_links on a device whose IPv6 address the kernel
//! removed when it went down.  Root only; each test skips with a reason
//! otherwise.

mod util;

use std::process::Command;
use std::time::{Duration, Instant};

use util::*;

const S: fn(u64) -> Duration = Duration::from_secs;

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// `sysctl -n KEY` in `ns`.
fn sysctl_value(ns: &Netns, key: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-n", key])
        .output()
        .expect("run sysctl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The client's neighbour entry for the VIP.
fn client_neigh(lab: &Lab) -> String {
    ip_out(&["-n", &lab.cl.name, "-6", "neigh", "show", &VIP6.to_string()])
}

#[test]
fn ipv6_pair_fails_over_with_neighbour_advertisements() {
    if skip() {
        return;
    }
    let lab = Lab::new6(false);
    let cfg = lab.config("lvs.cf", "keepalive = 0.2\ndeadtime = 0.6\n");
    let m = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
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
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    // The directors run duplicate address detection: the VIP is usable at
    // once only because pulse adds it with nodad.
    assert_eq!(
        sysctl_value(&lab.d1, "net.ipv6.conf.eth0.accept_dad"),
        "1",
        "the lab keeps DAD on"
    );
    let line = lab.vip_line(&lab.d1).unwrap();
    assert!(
        line.contains(&format!("inet6 {VIP6}/64")) && line.contains("nodad"),
        "{line}"
    );
    assert!(!line.contains("tentative"), "{line}");
    // The backup hears the master over IPv6: it stays passive.
    std::thread::sleep(S(1));
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    assert!(b.find("partner dead").is_none(), "{}", b.text());

    // The client reaches the VIP at the master's MAC.
    let (mac1, mac2) = (lab.mac(&lab.d1, "eth0"), lab.mac(&lab.d2, "eth0"));
    lab.cl.run(|| {
        let s = std::net::UdpSocket::bind("[2001:db8:77::10]:0").unwrap();
        let _ = s.send_to(b"x", (VIP6, 9));
    });
    assert!(
        wait_for(S(3), || client_neigh(&lab).contains(&mac_text(mac1))).is_some(),
        "{}",
        client_neigh(&lab)
    );

    let cap = Capture::start6(&lab.cl);
    let mut m = m;
    m.signal(libc::SIGKILL);
    let died = Instant::now();
    let took = wait_for(S(4), || lab.has_vip(&lab.d2)).expect("backup owns the VIP");
    eprintln!("IPv6 failover at 0.2/0.6: {:?}", took - died);
    assert!(took - died <= S(2), "{:?}", took - died);
    assert!(
        b.wait_line("partner dead: activating lvs", S(2)).is_some(),
        "{}",
        b.text()
    );
    let line = lab.vip_line(&lab.d2).unwrap();
    assert!(
        line.contains("nodad") && !line.contains("tentative"),
        "{line}"
    );
    // The dead pulse's VIP expires (lifetime 2 s, the kernel checks to the
    // second).
    let gone = wait_for(S(5), || !lab.has_vip(&lab.d1)).expect("the dead pulse's VIP expires");
    assert!(gone - died <= ms(3500), "{:?}", gone - died);
    let _ = m.wait_exit(S(2));

    // Five unsolicited neighbour advertisements, one second apart, as the
    // gratuitous ARPs of an IPv4 address.
    assert!(
        b.wait_line("gratuitous lvs arps finished", S(8)).is_some(),
        "{}",
        b.text()
    );
    std::thread::sleep(ms(300));
    let nas = cap.advertisements(VIP6, mac2);
    assert_eq!(nas.len(), 5, "five advertisements per address");
    for (_, f) in &nas {
        assert_eq!(f.len(), 86, "no padding, one option");
        assert_eq!(f[0..6], [0x33, 0x33, 0, 0, 0, 1], "all-nodes MAC");
        assert_eq!(f[21], 255, "hop limit 255");
        assert_eq!(f[22..38], VIP6.octets(), "from the VIP");
        assert_eq!(
            f[38..54],
            "ff02::1".parse::<std::net::Ipv6Addr>().unwrap().octets(),
            "to all nodes"
        );
        assert_eq!(f[55], 0, "code 0");
        assert_eq!(f[58] & 0x20, 0x20, "Override");
        assert_eq!(f[58] & 0x40, 0, "not Solicited");
        assert_eq!(f[58] & 0x80, 0, "not Router: the director does not forward");
        assert_eq!(f[78..80], [2, 1], "target link-layer address option");
        assert_eq!(f[80..86], mac2, "the new active's MAC");
    }
    for w in nas.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(gap >= ms(700) && gap <= ms(1300), "spacing {gap:?}");
    }
    // The client's kernel took them: its entry moved to the backup's MAC
    // without a solicitation.
    let neigh = client_neigh(&lab);
    assert!(neigh.contains(&mac_text(mac2)), "{neigh}");

    // The old master comes back: it removes a stale IPv6 VIP (one without
    // a lifetime) and stays passive while the backup runs.
    ip(&[
        "-n",
        &lab.d1.name,
        "-6",
        "addr",
        "add",
        &format!("{VIP6}/64"),
        "dev",
        "eth0",
        "nodad",
    ]);
    let m2 = Pulse::start(&lab.d1, &cfg, &lab.stub_lvs("d1"), &["--norun"]);
    assert!(
        m2.wait_line(
            &format!("removed stale floating address {VIP6}/64 from eth0"),
            S(5)
        )
        .is_some(),
        "{}",
        m2.text()
    );
    std::thread::sleep(S(1));
    assert!(!lab.has_vip(&lab.d1), "{}", m2.text());
    assert!(m2.find("activating lvs").is_none(), "{}", m2.text());
    assert!(lab.has_vip(&lab.d2));
}

/// An IPv6 address goes with its device (unless `keep_addr_on_down` is
/// set): a director that looked for the device of its heartbeat address
/// through the address (Piranha's way, "not found counts as up") never saw
/// this link go down.  Also: authenticated heartbeats over IPv6, and the
/// partner's channel in `pulse --status` as `[v6]:port`.
#[test]
fn monitor_links_sees_an_ipv6_link_down_that_took_the_address_away() {
    if skip() {
        return;
    }
    let lab = Lab::new6(false);
    let key = lab.dir.path().join("hb.key");
    std::fs::write(&key, "correct horse battery staple\n").unwrap();
    let cfg = lab.config(
        "lvs.cf",
        &format!(
            "keepalive = 0.2\ndeadtime = 0.6\nmonitor_links = 1\nheartbeat_key = {}\n",
            key.display()
        ),
    );
    let control = lab.dir.path().join("pulse-d1.sock");
    let control_arg = control.display().to_string();
    let m = Pulse::start(
        &lab.d1,
        &cfg,
        &lab.stub_lvs("d1"),
        &["--norun", "--control", &control_arg],
    );
    let b = Pulse::start(&lab.d2, &cfg, &lab.stub_lvs("d2"), &["--norun"]);
    assert!(
        wait_for(S(4), || lab.has_vip(&lab.d1)).is_some(),
        "{}",
        m.text()
    );
    std::thread::sleep(S(1));
    assert!(!lab.has_vip(&lab.d2), "{}", b.text());
    for p in [&m, &b] {
        assert!(
            p.find("bad heartbeat").is_none() && p.find("partner dead").is_none(),
            "{}",
            p.text()
        );
    }
    let status = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["--status", "--control", &control_arg])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("public udp [2001:db8:77::2]:539"),
        "{status}"
    );

    assert_eq!(
        sysctl_value(&lab.d1, "net.ipv6.conf.eth0.keep_addr_on_down"),
        "0",
        "the kernel's default"
    );
    ip(&["-n", &lab.d1.name, "link", "set", "eth0", "down"]);
    let own = || ip_out(&["-n", &lab.d1.name, "-6", "addr", "show", "dev", "eth0"]);
    assert!(
        !own().contains("2001:db8:77::1/"),
        "the kernel removed the heartbeat address: {}",
        own()
    );
    assert!(
        m.wait_line("Primary NIC: link down", S(3)).is_some(),
        "{}",
        m.text()
    );
    assert!(m
        .wait_line("local link failure: deactivating LVS", S(2))
        .is_some());
    assert!(wait_for(S(2), || !lab.has_vip(&lab.d1)).is_some());
    assert!(
        wait_for(S(3), || lab.has_vip(&lab.d2)).is_some(),
        "{}",
        b.text()
    );
    // The address is gone for good: without it (keep_addr_on_down = 0,
    // pulse.8) this director would hear nothing after the link is back.
    // An administrator's network scripts put it back.
    ip(&[
        "-n",
        &lab.d1.name,
        "-6",
        "addr",
        "add",
        "2001:db8:77::1/64",
        "dev",
        "eth0",
        "nodad",
    ]);
    ip(&["-n", &lab.d1.name, "link", "set", "eth0", "up"]);
    assert!(
        m.wait_line("Local NIC link(s) restored: Pulse enabled", S(4))
            .is_some(),
        "{}",
        m.text()
    );
    std::thread::sleep(S(1));
    assert!(!lab.has_vip(&lab.d1), "no takeover on recovery");
    assert!(lab.has_vip(&lab.d2));
}
