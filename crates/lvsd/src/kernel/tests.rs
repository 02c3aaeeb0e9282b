//! Unit tests of the kernel seam: the typed changes lvs makes are exactly
//! what ipvsadm makes of Piranha's words, the foreign program's words read
//! back to the same change, and start-up, quorum, reload and shutdown
//! leave the (fake) kernel as lvs.cf says.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use ipvs::fake::FakeIpvs;
use ipvs::Op;
use lvs_config::Config;
use proptest::prelude::*;

use super::foreign::op_words;
use super::*;
use crate::key::ServiceKey;
use crate::plan::tests::cfg;
use crate::plan::{self, desired, RunMode};
use crate::quorum::{self, Change};

/// What our ipvsadm (ipvsadm 1.31's parser) makes of `words`.
fn parsed(words: &str) -> Op {
    let mut argv = vec!["ipvsadm".to_string()];
    argv.extend(words.split_whitespace().map(str::to_string));
    match ipvsadm_cli::parse(&argv, false) {
        Ok(ipvsadm_cli::Action::Apply(op)) => op,
        other => panic!("{words}: {other:?}"),
    }
}

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const FARM: &str = "primary = 192.168.1.10\nnetwork = NETWORK\ntcp_timeout = 900\nvirtual www {\n active = 1\n address = 192.168.1.100 eth0:1\n port = 80\n scheduler = wlc\n persistent = 300\n pmask = 255.255.255.0\n sorry_server = 10.0.0.99\n server web1 {\n  address = 10.0.0.1\n  active = 1\n  weight = 1\n }\n server web2 {\n  address = 10.0.0.2\n  active = 1\n  port = 8080\n  weight = 2\n }\n}\nvirtual dns {\n active = 1\n address = 192.168.1.101 eth0:2\n protocol = udp\n port = 53\n scheduler = rr\n server ns1 {\n  address = 10.0.0.3\n  active = 1\n }\n}\nvirtual marked {\n active = 1\n address = 192.168.1.102 eth0:3\n fwmark = 7\n persistent = 60\n scheduler = sh\n server m1 {\n  address = 10.0.0.4\n  active = 1\n  weight = 3\n }\n}\n";

fn farm(network: &str) -> Config {
    cfg(&FARM.replace("NETWORK", network))
}

/// The changes lvs makes for the farm under each forwarding method, with
/// the words Piranha's lvsd and nanny ran for them.
fn piranhas_changes() -> Vec<(Op, String)> {
    let mut v = Vec::new();
    for (network, m) in [("nat", 'm'), ("direct", 'g'), ("tunnel", 'i')] {
        let c = farm(network);
        let d = desired(&c, RunMode::default());
        v.push((plan::timeouts_op(&c).unwrap(), "--set 900 0 0".to_string()));
        for s in &d {
            let key = s.key.to_string();
            let attrs = match s.key {
                ServiceKey::Tcp(..) => "-s wlc -p 300 -M 255.255.255.0",
                ServiceKey::Udp(..) => "-s rr",
                ServiceKey::Fwmark(_) | ServiceKey::Fwmark6(_) => "-s sh -p 60",
            };
            v.push((s.add_op(), format!("-A {key} {attrs}")));
            v.push((s.edit_op(), format!("-E {key} {attrs}")));
            v.push((s.del_op(), format!("-D {key}")));
            if let Some(add) = s.sorry_op(true) {
                v.push((add, format!("-a {key} -r 10.0.0.99:80 -{m} -w 1")));
                v.push((
                    s.sorry_op(false).unwrap(),
                    format!("-d {key} -r 10.0.0.99:80"),
                ));
            }
            for mon in s.monitors.values() {
                let rs = SocketAddr::new(mon.rip, mon.rport);
                let w = mon.weight;
                // nanny's -a names the real server's port; -e and -d
                // name the entry where the kernel keeps it.
                let kept = match (s.key, m) {
                    (ServiceKey::Tcp(_, p) | ServiceKey::Udp(_, p), 'g' | 'i') => {
                        SocketAddr::new(mon.rip, p)
                    }
                    _ => rs,
                };
                v.push((
                    quorum::change_op(&s.key, m, Change::Add(rs, w)),
                    format!("-a {key} -r {rs} -{m} -w {w}"),
                ));
                v.push((
                    quorum::change_op(&s.key, m, Change::Edit(rs, 0)),
                    format!("-e {key} -r {kept} -{m} -w 0"),
                ));
                v.push((
                    quorum::change_op(&s.key, m, Change::Delete(rs)),
                    format!("-d {key} -r {kept}"),
                ));
            }
        }
    }
    v
}

#[test]
fn typed_changes_are_what_ipvsadm_makes_of_piranhas_words() {
    let all = piranhas_changes();
    assert!(all.len() > 40, "{}", all.len());
    for (op, words) in all {
        assert_eq!(op, parsed(&words), "{words}");
    }
}

#[test]
fn a_foreign_program_is_given_words_that_read_back_to_the_change() {
    for (op, _) in piranhas_changes() {
        let words = op_words(&op).join(" ");
        assert_eq!(parsed(&words), op, "{words}");
    }
}

/// A service or real server change of the kinds lvs makes, with any
/// address, port, scheduler, persistence, method and weight.
fn any_change() -> impl Strategy<Value = Op> {
    let v4 = |a: u32| std::net::IpAddr::V4(a.into());
    let v6 = |a: u128| std::net::IpAddr::V6(a.into());
    let key = prop_oneof![
        (1u32..=u32::MAX).prop_map(ServiceKey::Fwmark),
        (1u32..=u32::MAX).prop_map(ServiceKey::Fwmark6),
        (any::<u32>(), 1u16..).prop_map(move |(a, p)| ServiceKey::Tcp(v4(a), p)),
        (any::<u32>(), 1u16..).prop_map(move |(a, p)| ServiceKey::Udp(v4(a), p)),
        (any::<u128>(), 1u16..).prop_map(move |(a, p)| ServiceKey::Tcp(v6(a), p)),
        (any::<u128>(), 1u16..).prop_map(move |(a, p)| ServiceKey::Udp(v6(a), p)),
    ];
    let sched = prop::sample::select(vec!["rr", "wrr", "lc", "wlc", "sh", "dh", "mh", "sed"]);
    (
        key,
        sched,
        0u32..100_000,
        any::<u32>(),
        (any::<u128>(), any::<u16>()),
        prop::sample::select(vec!['m', 'g', 'i']),
        0u32..=65535,
        0usize..6,
    )
        .prop_map(|(key, sched, persistent, mask, (ip, port), m, w, which)| {
            let family = key.family();
            let attrs = plan::ServiceAttrs {
                scheduler: lvs_config::Scheduler::from_name(sched).unwrap(),
                persistent,
                pmask: (persistent > 0 && mask != 0).then(|| match family {
                    lvs_config::Family::Inet => {
                        lvs_config::Mask::Dotted(std::net::Ipv4Addr::from(mask))
                    }
                    lvs_config::Family::Inet6 => lvs_config::Mask::Prefix((mask % 128 + 1) as u8),
                }),
                family,
                sched_flags: 0,
            };
            let svc = attrs.apply_to(key.service());
            // A real server of the service's family.
            let rip = match family {
                lvs_config::Family::Inet => std::net::IpAddr::V4((ip as u32).into()),
                lvs_config::Family::Inet6 => std::net::IpAddr::V6(ip.into()),
            };
            let rs = SocketAddr::new(rip, port);
            match which {
                0 => Op::AddService(svc),
                1 => Op::EditService(svc),
                2 => Op::DelService(key.service()),
                3 => quorum::change_op(&key, m, Change::Add(rs, w)),
                4 => quorum::change_op(&key, m, Change::Edit(rs, w)),
                _ => quorum::change_op(&key, m, Change::Delete(rs)),
            }
        })
}

proptest! {
    #[test]
    fn op_words_read_back_to_the_same_change(op in any_change()) {
        let words = op_words(&op).join(" ");
        prop_assert_eq!(parsed(&words), op, "{}", words);
    }
}

/// The services of `k` as (key, scheduler, persistence, mask, real
/// servers as (address, weight), sorted).
#[allow(clippy::type_complexity)]
fn services(k: &mut dyn Kernel) -> Vec<(String, String, u32, u32, Vec<(String, i32)>)> {
    let mut v: Vec<_> = k
        .read()
        .unwrap()
        .into_iter()
        .map(|e| {
            let key = ServiceKey::of_kernel(&e.service)
                .map(|k| k.to_string())
                .unwrap_or_else(|| format!("{:?}", e.service.addr));
            let mut dests: Vec<(String, i32)> = e
                .dests
                .iter()
                .map(|d| (format!("{}:{}", d.addr, d.port), d.weight))
                .collect();
            dests.sort();
            (
                key,
                e.service.sched_name.clone(),
                e.service.timeout,
                e.service.netmask,
                dests,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn start_up_quorum_reload_and_shutdown_on_the_fake_kernel() {
    // The kernel already holds a service lvs.cf does not define, and www
    // with another scheduler and a stale real server.
    let mut fake = FakeIpvs::new();
    let foreign = ServiceKey::Tcp("9.9.9.9".parse().unwrap(), 80);
    let www = ServiceKey::Tcp("192.168.1.100".parse().unwrap(), 80);
    let stale = www.destination(a("10.0.0.7:80"), 'm', Some(4));
    let rr = plan::ServiceAttrs {
        scheduler: lvs_config::Scheduler::Rr,
        persistent: 0,
        pmask: None,
        family: lvs_config::Family::Inet,
        sched_flags: 0,
    };
    for op in [
        Op::AddService(rr.apply_to(foreign.service())),
        Op::AddService(rr.apply_to(www.service())),
        Op::AddDest(www.service(), stale),
    ] {
        ipvs::IpvsBackend::apply_one(&mut fake, &op).unwrap();
    }
    let mut k = Direct(fake);

    // Start-up.
    let c = farm("nat");
    let want = desired(&c, RunMode::default());
    let current = k.read().unwrap();
    let mut ops: Vec<Op> = plan::timeouts_op(&c).into_iter().collect();
    ops.extend(plan::startup_ops(&current, &want));
    assert!(k.apply(&ops).unwrap().is_empty());
    assert_eq!(k.0.timeouts.tcp, 900);
    assert_eq!(
        services(&mut k),
        vec![
            ("-f 7".into(), "sh".into(), 60, u32::MAX, vec![]),
            (
                "-t 192.168.1.100:80".into(),
                "wlc".into(),
                300,
                0xffff_ff00,
                vec![]
            ),
            ("-t 9.9.9.9:80".into(), "rr".into(), 0, u32::MAX, vec![]),
            (
                "-u 192.168.1.101:53".into(),
                "rr".into(),
                0,
                u32::MAX,
                vec![]
            ),
        ],
        "the foreign service is left alone, www is edited and emptied"
    );

    // Quorum: lost with a sorry server, then gained.
    let d = &want[0];
    let sorry = d.sorry.map(|s| SocketAddr::new(s, d.port));
    let wanted: BTreeMap<SocketAddr, u32> = [(a("10.0.0.1:80"), 1), (a("10.0.0.2:8080"), 2)].into();
    let mut have = quorum::Entries::default();
    for up in [false, true] {
        let target = quorum::target(up, sorry, &wanted, false);
        let ops: Vec<Op> = quorum::changes(&have, &target)
            .into_iter()
            .map(|c| quorum::change_op(&d.key, d.method, c))
            .collect();
        assert!(k.apply(&ops).unwrap().is_empty(), "{ops:?}");
        let dests = k
            .read()
            .unwrap()
            .into_iter()
            .find(|e| ServiceKey::of_kernel(&e.service) == Some(d.key))
            .unwrap()
            .dests;
        have = quorum::kernel_entries(&dests, d.method, sorry, &wanted);
        assert_eq!(have, target, "the kernel holds what the quorum wants");
    }

    // A refused change is reported with ipvsadm's words, the rest is made.
    let refused = k
        .apply(&[
            quorum::change_op(&d.key, 'm', Change::Add(a("10.0.0.1:80"), 1)),
            quorum::change_op(&d.key, 'm', Change::Edit(a("10.0.0.2:8080"), 5)),
        ])
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].to_string(), "Destination already exists");

    // Reload: dns goes, www's scheduler changes, a new service comes.
    let new_c = cfg(&FARM
        .replace("NETWORK", "nat")
        .replace(" scheduler = wlc\n", " scheduler = lc\n")
        .replace("virtual dns {\n active = 1", "virtual dns {\n active = 0")
        .replace("fwmark = 7", "fwmark = 8"));
    let new = desired(&new_c, RunMode::default());
    let r = plan::reload(&c, &want, &new_c, &new);
    let mut ops: Vec<Op> = r.delete.iter().map(plan::del_op).collect();
    ops.extend(r.ops.iter().cloned());
    assert!(k.apply(&ops).unwrap().is_empty(), "{ops:?}");
    let after = services(&mut k);
    let keys: Vec<&str> = after.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(keys, ["-f 8", "-t 192.168.1.100:80", "-t 9.9.9.9:80"]);
    assert_eq!(after[1].1, "lc");
    assert_eq!(after[1].4.len(), 2, "www keeps its real servers");

    // Shutdown: lvs's services go, the foreign one stays.
    let ops: Vec<Op> = new.iter().map(|d| d.del_op()).collect();
    assert!(k.apply(&ops).unwrap().is_empty());
    let keys: Vec<String> = services(&mut k).into_iter().map(|s| s.0).collect();
    assert_eq!(keys, ["-t 9.9.9.9:80"]);
}

#[test]
fn the_table_logs_refusals_and_says_whether_all_was_made() {
    let mut t = Table::with_kernel("/sbin/ipvsadm".into(), Box::new(Direct(FakeIpvs::new())));
    let key = ServiceKey::Udp("10.1.1.1".parse().unwrap(), 53);
    let add = Op::AddService(
        plan::ServiceAttrs {
            scheduler: lvs_config::Scheduler::Rr,
            persistent: 0,
            pmask: None,
            family: lvs_config::Family::Inet,
            sched_flags: 0,
        }
        .apply_to(key.service()),
    );
    assert!(t.apply(&[]));
    assert!(t.apply_one(&add));
    assert!(!t.apply_one(&add), "Service already exists");
    assert!(!t.apply(&[plan::del_op(&key), plan::del_op(&key)]));
    assert!(t.read().unwrap().is_empty());
}

#[test]
fn test_start_reads_an_empty_table_and_makes_nothing() {
    let mut t = Table::open("/sbin/ipvsadm".into(), true);
    assert!(t.read().unwrap().is_empty());
    let op = plan::del_op(&ServiceKey::Fwmark(3));
    assert!(t.apply_one(&op));
    assert_eq!(op_words(&op).join(" "), "-D -f 3");
}
