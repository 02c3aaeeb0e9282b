//! Floating-address lifetimes against the real kernel, in a network
//! namespace of the host (no IPVS needed): an address added with a lifetime
//! of L seconds (what pulse adds its floating addresses with) is gone about
//! L s after its last renewal, stays while it is renewed every keepalive,
//! and a renewal (create or replace) adds it again once it has expired.
//! Root only; skips with a reason otherwise.

mod util;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use pulse_core::lease::Lease;
use pulse_core::net::{Addr, Kernel, Netlink};
use util::*;

const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 66, 0, 100));

/// The address in the namespace, as the kernel lists it (with what is left
/// of its lifetime).
fn listed(k: &mut Netlink) -> Option<Addr> {
    k.addresses().unwrap().into_iter().find(|a| a.ip == IP)
}

#[test]
fn an_address_with_a_lifetime_expires_unless_renewed() {
    if skip() {
        return;
    }
    let ns = Netns::new(format!("{}-lft", unique()));
    // a veth pair (the host kernel may lack the dummy driver)
    ip(&[
        "-n", &ns.name, "link", "add", "d0", "type", "veth", "peer", "name", "d0p",
    ]);
    ip(&["-n", &ns.name, "link", "set", "d0", "up"]);
    let name = ns.name.clone();
    ns.run(move || {
        let mut k = Netlink::open().unwrap();
        let index = k
            .links()
            .unwrap()
            .into_iter()
            .find(|l| l.name == "d0")
            .unwrap()
            .index;
        // keepalive 1 s, deadtime 2 s: lifetime 2 s, renewed every second
        let mut lease = Lease::new(1000, 2000, 0);
        let l = lease.lifetime();
        assert_eq!(l, 2);
        let a = Addr {
            ip: IP,
            prefix: 24,
            index,
            label: "d0:1".to_string(),
            lifetime: Some(l),
        };
        k.add_address(&a).unwrap();
        let got = listed(&mut k).expect("added");
        assert_eq!(got.label, "d0:1");
        assert!(matches!(got.lifetime, Some(s) if s <= l), "{got:?}");
        let shown = ip_out(&["-n", &name, "-4", "addr", "show", "dev", "d0"]);
        assert!(
            shown.contains("valid_lft 2sec") || shown.contains("valid_lft 1sec"),
            "{shown}"
        );
        assert!(k.add_address(&a).is_err(), "adding twice fails (EEXIST)");

        // Renewed every keepalive for 3 L: it stays.
        let t0 = Instant::now();
        let ms = |t: Instant| t.duration_since(t0).as_millis() as u64;
        while t0.elapsed() < Duration::from_secs(3 * u64::from(l)) {
            let now = ms(Instant::now());
            if lease.due(now) {
                assert!(lease
                    .renew(&mut k, std::slice::from_ref(&a), now)
                    .is_empty());
            }
            assert!(
                listed(&mut k).is_some(),
                "expired while renewed, at {now} ms"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // One last renewal, then none: gone after L s (+ the kernel's check
        // granularity, about a second), not before L - 0.3 s.
        lease.renew(&mut k, std::slice::from_ref(&a), ms(Instant::now()));
        let last = Instant::now();
        let gone = wait_for(Duration::from_secs(u64::from(l) + 3), || {
            listed(&mut k).is_none()
        })
        .expect("the address never expired");
        let after = gone - last;
        eprintln!("lifetime {l} s: gone {after:?} after the last renewal");
        assert!(
            after >= Duration::from_millis(u64::from(l) * 1000 - 300),
            "{after:?}"
        );
        assert!(
            after <= Duration::from_millis(u64::from(l) * 1000 + 1500),
            "{after:?}"
        );

        // A renewal of the expired address adds it again (create or replace).
        let now = ms(Instant::now());
        assert!(lease
            .renew(&mut k, std::slice::from_ref(&a), now)
            .is_empty());
        assert!(
            listed(&mut k).is_some(),
            "renewal re-adds an expired address"
        );
        // and deleting removes it at once, lifetime or not
        k.del_address(&a).unwrap();
        assert!(listed(&mut k).is_none());
        // renewal failure on a device that is gone: reported once
        let bad = Addr {
            index: 999_999,
            ..a.clone()
        };
        assert_eq!(
            lease.renew(&mut k, std::slice::from_ref(&bad), now).len(),
            1
        );
        assert!(lease
            .renew(&mut k, std::slice::from_ref(&bad), now)
            .is_empty());
    });
}
