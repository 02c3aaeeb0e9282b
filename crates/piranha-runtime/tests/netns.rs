//! IPv6 floating addresses against the real kernel, in a throwaway network
//! namespace of the host: an address added through
//! `Kernel::add_address` (`IFA_F_NODAD`) is usable at once (not
//! tentative, can be bound) while one added without `nodad` waits for
//! duplicate address detection; the dump of both families lists it; a
//! renewal resets its lifetime; the delete removes it.  Root only; prints
//! why it skips otherwise.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use piranha_runtime::net::{count_local, Addr, Kernel, Netlink};

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

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
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
            "pr{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::SeqCst)
        );
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Netns { name })
    }

    /// Run `f` on a thread that has entered this namespace.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns on an open namespace fd; affects only this thread.
            let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns {path}");
            f()
        })
        .join()
        .expect("netns thread")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// The `inet6 ADDR/...` line of `ip -6 addr show dev d0`, if listed.
fn shown(ns: &str, addr: &str) -> Option<String> {
    ip_out(&["-n", ns, "-6", "addr", "show", "dev", "d0"])
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("inet6 {addr}/")))
        .map(str::to_string)
}

#[test]
fn ipv6_address_with_nodad_is_usable_at_once_and_removed() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIPPED ipv6_address_with_nodad_is_usable_at_once_and_removed: {why}");
        return;
    }
    let ns = match Netns::new() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!(
                "SKIPPED ipv6_address_with_nodad_is_usable_at_once_and_removed: no network namespace: {why}"
            );
            return;
        }
    };
    let n = ns.name.clone();
    // a veth pair (the host kernel may lack the dummy driver), both ends
    // up, so duplicate address detection really runs on d0
    ip(&[
        "-n", &n, "link", "add", "d0", "type", "veth", "peer", "name", "d0p",
    ]);
    ip(&["-n", &n, "link", "set", "d0", "up"]);
    ip(&["-n", &n, "link", "set", "d0p", "up"]);
    let t0 = Instant::now();
    while !ip_out(&["-n", &n, "link", "show", "d0"]).contains("state UP") {
        assert!(t0.elapsed() < Duration::from_secs(5), "d0 never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dad = ns.run(|| std::fs::read_to_string("/proc/sys/net/ipv6/conf/d0/accept_dad"));
    let dad = dad.map(|s| s.trim() != "0").unwrap_or(false);

    // the control: without nodad an address is tentative at first
    ip(&[
        "-n",
        &n,
        "-6",
        "addr",
        "add",
        "2001:db8::200/64",
        "dev",
        "d0",
    ]);
    let control = shown(&n, "2001:db8::200").expect("control listed");
    if dad {
        assert!(control.contains("tentative"), "{control}");
    } else {
        eprintln!("accept_dad is 0 on d0: the control address is not tentative");
    }

    let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
    let a = ns.run(move || {
        let mut k = Netlink::open().unwrap();
        let index = k
            .links()
            .unwrap()
            .into_iter()
            .find(|l| l.name == "d0")
            .unwrap()
            .index;
        let a = Addr {
            ip: IpAddr::V6(vip),
            prefix: 64,
            index,
            // pulse's name for it; IPv6 has no labels, none is sent
            label: "d0:1".to_string(),
            lifetime: Some(30),
        };
        k.add_address(&a).unwrap();
        // usable at once: a tentative address cannot be bound
        UdpSocket::bind(SocketAddr::new(a.ip, 0)).expect("bind the new address at once");
        let got = k
            .addresses()
            .unwrap()
            .into_iter()
            .find(|x| x.ip == a.ip)
            .expect("listed in the dump of both families");
        assert_eq!(got.prefix, 64);
        assert_eq!(got.index, index);
        assert_eq!(got.label, "", "no label for IPv6");
        assert!(matches!(got.lifetime, Some(s) if s <= 30), "{got:?}");
        assert_eq!(count_local(&[a.ip]), 1);
        // the dump has both families
        let v4 = Addr {
            ip: "10.66.0.100".parse().unwrap(),
            prefix: 24,
            index,
            label: "d0:1".to_string(),
            lifetime: None,
        };
        k.add_address(&v4).unwrap();
        let all = k.addresses().unwrap();
        assert!(all.iter().any(|x| x.ip == v4.ip && x.label == "d0:1"));
        assert!(all.iter().any(|x| x.ip == a.ip));
        assert!(k.add_address(&a).is_err(), "adding twice fails (EEXIST)");
        // renewal (create or replace) resets the lifetime
        k.renew_address(&Addr {
            lifetime: Some(90),
            ..a.clone()
        })
        .unwrap();
        let renewed = k
            .addresses()
            .unwrap()
            .into_iter()
            .find(|x| x.ip == a.ip)
            .unwrap();
        assert!(
            matches!(renewed.lifetime, Some(s) if s > 30 && s <= 90),
            "{renewed:?}"
        );
        a
    });
    let line = shown(&n, "2001:db8::100").expect("ip -6 addr shows it");
    assert!(line.contains("2001:db8::100/64"), "{line}");
    assert!(!line.contains("tentative"), "{line}");
    assert!(line.contains("nodad"), "{line}");
    let all = ip_out(&["-n", &n, "-6", "addr", "show", "dev", "d0"]);
    assert!(
        all.contains("valid_lft 9") || all.contains("valid_lft 8"),
        "{all}"
    );

    ns.run(move || {
        let mut k = Netlink::open().unwrap();
        k.del_address(&a).unwrap();
        assert!(k.addresses().unwrap().iter().all(|x| x.ip != a.ip));
        assert_eq!(count_local(&[a.ip]), 0);
        assert!(k.del_address(&a).is_err(), "deleting twice fails");
    });
    assert!(shown(&n, "2001:db8::100").is_none());
    // the control is still there: the delete matched address and prefix
    assert!(shown(&n, "2001:db8::200").is_some());
}
