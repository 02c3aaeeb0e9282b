//! send_arp's IPv6 mode on the wire: in a throwaway network namespace with
//! a veth pair, `send_arp -i v0 VIP MAC ff02::1 333300000001` sends one
//! unsolicited neighbour advertisement, captured on the peer `v1` through
//! an AF_PACKET socket and decoded (target, flags, hop limit, option,
//! checksum); the Router flag follows `v0`'s IPv6 forwarding; the kernel
//! behind `v1` takes it (its neighbour entry for the VIP moves to the new
//! MAC).  Root only; prints why it skips otherwise.

use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pnet::datalink::{self, Channel};
use pnet::packet::ethernet::{EtherTypes, EthernetPacket};
use pnet::packet::icmpv6::ndp::{NdpOptionTypes, NeighborAdvertFlags, NeighborAdvertPacket};
use pnet::packet::icmpv6::{self, Icmpv6Packet, Icmpv6Types};
use pnet::packet::ip::IpNextHeaderProtocols;
use pnet::packet::ipv6::Ipv6Packet;
use pnet::packet::Packet;

const VIP: &str = "2001:db8::100";
const MAC: [u8; 6] = [2, 0, 0, 0x5a, 0, 1];

/// Why this host cannot run the test, if it cannot.
fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root to create network namespaces".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("iproute2 `ip` not installed".into());
    }
    if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        return Some("no IPv6 in this kernel".into());
    }
    None
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip_out(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace, deleted (by name) on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Result<Netns, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sa{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name])?;
        Ok(Netns { name })
    }
}

/// Enter the namespace `name` on the calling thread.
fn enter(name: &str) {
    let f = std::fs::File::open(format!("/var/run/netns/{name}")).expect("open netns");
    // SAFETY: setns on an open namespace fd; affects only this thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {name}");
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// The first neighbour advertisement for [`VIP`] arriving on `dev` in `ns`
/// within `within`.  The socket is open when `ready` is signalled (a
/// handshake, not a sleep).
fn capture(
    ns: &Netns,
    dev: &'static str,
    within: Duration,
    ready: mpsc::Sender<()>,
) -> std::thread::JoinHandle<Option<Vec<u8>>> {
    let name = ns.name.clone();
    std::thread::spawn(move || {
        enter(&name);
        let iface = datalink::interfaces()
            .into_iter()
            .find(|i| i.name == dev)
            .expect("capture device");
        let cfg = datalink::Config {
            read_timeout: Some(Duration::from_millis(100)),
            ..Default::default()
        };
        let Ok(Channel::Ethernet(_tx, mut rx)) = datalink::channel(&iface, cfg) else {
            panic!("AF_PACKET channel on {dev}");
        };
        ready.send(()).unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < within {
            let Ok(f) = rx.next() else { continue };
            if is_our_na(f) {
                return Some(f.to_vec());
            }
        }
        None
    })
}

/// An ICMPv6 neighbour advertisement whose target is [`VIP`].
fn is_our_na(f: &[u8]) -> bool {
    let Some(eth) = EthernetPacket::new(f) else {
        return false;
    };
    if eth.get_ethertype() != EtherTypes::Ipv6 {
        return false;
    }
    let Some(ip6) = Ipv6Packet::new(eth.payload()) else {
        return false;
    };
    if ip6.get_next_header() != IpNextHeaderProtocols::Icmpv6 {
        return false;
    }
    match NeighborAdvertPacket::new(ip6.payload()) {
        Some(na) => {
            na.get_icmpv6_type() == Icmpv6Types::NeighborAdvert
                && na.get_target_addr() == VIP.parse::<Ipv6Addr>().unwrap()
        }
        None => false,
    }
}

/// Run send_arp in `ns` with `args`, capturing on `v1`; the frame seen.
fn send_and_capture(ns: &Netns, args: &[&str]) -> Vec<u8> {
    let (tx, rx) = mpsc::channel();
    let cap = capture(ns, "v1", Duration::from_secs(5), tx);
    rx.recv_timeout(Duration::from_secs(5))
        .expect("capture socket open");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(env!("CARGO_BIN_EXE_send_arp"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "send_arp {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cap.join()
        .unwrap()
        .expect("a neighbour advertisement on v1")
}

/// Decode and check what a receiver checks (RFC 4861 7.1.2), and return
/// the flags byte.
fn check_na(f: &[u8]) -> u8 {
    let vip: Ipv6Addr = VIP.parse().unwrap();
    let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
    assert_eq!(f.len(), 86, "{f:02x?}");
    let eth = EthernetPacket::new(f).unwrap();
    assert_eq!(eth.get_destination().octets(), [0x33, 0x33, 0, 0, 0, 1]);
    assert_eq!(eth.get_source().octets(), MAC);
    let ip6 = Ipv6Packet::new(eth.payload()).unwrap();
    assert_eq!(ip6.get_version(), 6);
    assert_eq!(ip6.get_hop_limit(), 255);
    assert_eq!(ip6.get_payload_length(), 32);
    assert_eq!(ip6.get_source(), vip);
    assert_eq!(ip6.get_destination(), all_nodes);
    let icmp = Icmpv6Packet::new(ip6.payload()).unwrap();
    assert_eq!(
        icmp.get_checksum(),
        icmpv6::checksum(&icmp, &vip, &all_nodes),
        "checksum"
    );
    let na = NeighborAdvertPacket::new(ip6.payload()).unwrap();
    assert_eq!(na.get_icmpv6_code().0, 0);
    assert_eq!(na.get_target_addr(), vip);
    let opts = na.get_options();
    assert_eq!(opts.len(), 1, "{opts:?}");
    assert_eq!(opts[0].option_type, NdpOptionTypes::TargetLLAddr);
    assert_eq!(opts[0].length, 1);
    assert_eq!(opts[0].data, MAC);
    let flags = na.get_flags();
    assert_ne!(flags & NeighborAdvertFlags::Override, 0, "O set");
    assert_eq!(flags & NeighborAdvertFlags::Solicited, 0, "S clear");
    flags
}

#[test]
fn neighbour_advertisement_on_the_wire() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIPPED neighbour_advertisement_on_the_wire: {why}");
        return;
    }
    let ns = match Netns::new() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("SKIPPED neighbour_advertisement_on_the_wire: no network namespace: {why}");
            return;
        }
    };
    let n = ns.name.as_str();
    ip(&[
        "-n", n, "link", "add", "v0", "type", "veth", "peer", "name", "v1",
    ])
    .unwrap();
    ip(&["-n", n, "link", "set", "v0", "up"]).unwrap();
    ip(&["-n", n, "link", "set", "v1", "up"]).unwrap();
    // frames sent before linkwatch has the carrier are dropped
    let t0 = Instant::now();
    while ["v0", "v1"]
        .iter()
        .any(|d| !ip_out(&["-n", n, "link", "show", d]).contains("state UP"))
    {
        assert!(t0.elapsed() < Duration::from_secs(5), "veth never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mac = "02:00:00:5a:00:01";
    // v1's kernel knows the VIP at an old MAC: the advertisement (Override)
    // must move it to the new one
    ip(&[
        "-n",
        n,
        "-6",
        "addr",
        "add",
        "2001:db8::1/64",
        "dev",
        "v1",
        "nodad",
    ])
    .unwrap();
    ip(&[
        "-n",
        n,
        "-6",
        "neigh",
        "add",
        VIP,
        "lladdr",
        "02:00:00:00:00:99",
        "dev",
        "v1",
        "nud",
        "stale",
    ])
    .unwrap();

    // not forwarding: Router clear
    let f = send_and_capture(&ns, &["-i", "v0", VIP, mac, "ff02::1", "333300000001"]);
    assert_eq!(check_na(&f) & NeighborAdvertFlags::Router, 0, "R clear");
    let t0 = Instant::now();
    loop {
        let neigh = ip_out(&["-n", n, "-6", "neigh", "show", VIP, "dev", "v1"]);
        if neigh.contains(&format!("lladdr {mac}")) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "the receiver kept its entry: {neigh}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // forwarding on v0: Router set
    let out = Command::new("ip")
        .args(["netns", "exec", n, "sh", "-c"])
        .arg("echo 1 > /proc/sys/net/ipv6/conf/v0/forwarding")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let f = send_and_capture(
        &ns,
        &["-iv0", VIP, "0200005A0001", "ff02::1", "333300000001"],
    );
    assert_ne!(check_na(&f) & NeighborAdvertFlags::Router, 0, "R set");

    // the same device lookup as the ARP path
    let out = Command::new("ip")
        .args(["netns", "exec", n])
        .arg(env!("CARGO_BIN_EXE_send_arp"))
        .args(["-i", "nosuchdev0", VIP, mac, "ff02::1", "333300000001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "send_arp: no such device nosuchdev0\n"
    );
}

/// Mixed families and the usage text: exit 1 and Piranha's usage, as any
/// other misuse (no privileges needed).
#[test]
fn mixed_families_are_a_usage_error() {
    let usage = "send_arp: sends out custom ARP packet.\n\tusage: send_arp [-i dev] src_ip_addr src_hw_addr targ_ip_addr tar_hw_addr\n";
    for args in [
        &["10.0.0.100", "020000000001", "ff02::1", "333300000001"][..],
        &[
            "2001:db8::100",
            "020000000001",
            "10.0.0.255",
            "ffffffffffff",
        ][..],
        &["-i", "eth0", "2001:db8::100", "020000000001", "ff02::1"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_send_arp"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), usage, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_send_arp"))
        .args(["2001:db8::100", "zz", "ff02::1", "333300000001"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("send_arp: invalid hardware address zz")
    );
}
