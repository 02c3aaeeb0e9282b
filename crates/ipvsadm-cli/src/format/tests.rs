//! Byte-exact checks of the listing, save, connection, timeout and daemon
//! formats.

use super::*;
use crate::resolve::Numeric;

fn svc(addr: &str, port: u16) -> Service {
    Service {
        af: AF_INET,
        protocol: IPPROTO_TCP,
        addr: addr.parse().unwrap(),
        port,
        sched_name: "wlc".into(),
        ..Service::default()
    }
}

fn dest(addr: &str, port: u16, fwd: Forward, weight: i32) -> Destination {
    Destination {
        addr: addr.parse().unwrap(),
        port,
        fwd,
        weight,
        ..Destination::default()
    }
}

fn num() -> Format {
    Format {
        numeric: true,
        ..Format::default()
    }
}

#[test]
fn default_listing_matches_printf_formats() {
    let mut s = svc("10.0.0.1", 80);
    s.flags = SVC_F_PERSISTENT;
    s.timeout = 360;
    s.netmask = 0xffffff00;
    let e = ServiceEntry {
        service: s,
        dests: vec![
            dest("192.168.1.3", 80, Forward::Masq, 1),
            dest("192.168.1.2", 80, Forward::Route, 2),
        ],
    };
    let info = Info {
        version: 0x010201,
        conn_tab_size: 4096,
    };
    let out = list_all(&info, &[e], &num(), &Numeric);
    assert_eq!(
        out,
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n\
         \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  10.0.0.1:80 wlc persistent 360 mask 255.255.255.0\n\
         \x20 -> 192.168.1.2:80               Route   2      0          0         \n\
         \x20 -> 192.168.1.3:80               Masq    1      0          0         \n"
    );
}

#[test]
fn save_format() {
    let mut s = svc("10.0.0.1", 80);
    s.flags = SVC_F_PERSISTENT | SVC_F_SCHED1;
    s.sched_name = "sh".into();
    s.timeout = 300;
    s.pe_name = "sip".into();
    let mut d = dest("10.1.1.1", 80, Forward::Tunnel, 3);
    d.tun_type = TunnelType::Gue;
    d.tun_port = 6080;
    d.tun_flags = 1;
    d.u_threshold = 100;
    let e = ServiceEntry {
        service: s,
        dests: vec![d, dest("10.1.1.2", 8080, Forward::Masq, 0)],
    };
    let f = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let out = list_all(&Info::default(), &[e], &f, &Numeric);
    assert_eq!(
        out,
        "-A -t 10.0.0.1:80 -s sh -p 300 --pe sip -b sh-fallback\n\
         -a -t 10.0.0.1:80 -r 10.1.1.1:80 -i -w 3 --tun-type gue --tun-port 6080 --tun-csum\n\
         -a -t 10.0.0.1:80 -r 10.1.1.2:8080 -m -w 0\n"
    );
}

#[test]
fn fwmark_ipv6_save_and_list() {
    let s = Service {
        af: AF_INET6,
        fwmark: 5,
        sched_name: "rr".into(),
        flags: SVC_F_PERSISTENT,
        timeout: 60,
        netmask: 64,
        addr: "::".parse().unwrap(),
        ..Service::default()
    };
    let mut d = dest("2001:db8::2", 0, Forward::Route, 1);
    d.af = AF_INET6;
    let e = ServiceEntry {
        service: s,
        dests: vec![d],
    };
    let out = list_one(&e, &num(), &Numeric);
    assert_eq!(
        out,
        "Prot LocalAddress:Port Scheduler Flags\n\
         \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         FWM  5 IPv6 rr persistent 60 mask 64\n\
         \x20 -> [2001:db8::2]:0              Route   1      0          0         \n"
    );
    let f = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let mut out = String::new();
    service_entry(&mut out, &e.service, &e.dests, &f, &Numeric);
    assert_eq!(
        out,
        "-A -f 5 -6 -s rr -p 60 -M 64\n-a -f 5 -6 -r [2001:db8::2]:0 -g -w 1\n"
    );
}

#[test]
fn largenum_suffixes_and_exact() {
    let cases: [(u64, &str); 6] = [
        (0, "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (1_000_000_000, "    1000M"),
        (100_000_000_000, "     100G"),
        (100_000_000_000_000, "     100T"),
    ];
    for (v, want) in cases {
        let mut s = String::new();
        largenum(&mut s, v, false);
        assert_eq!(s, want, "{v}");
    }
    let mut s = String::new();
    largenum(&mut s, 1_234_567_890, true);
    assert_eq!(s, " 1234567890");
    let mut s = String::new();
    largenum(&mut s, 12, true);
    assert_eq!(s, "       12");
}

#[test]
fn stats_and_rate_lines() {
    let mut s = svc("10.0.0.1", 80);
    s.stats.conns = 12;
    s.stats.inpkts = 340;
    s.stats.outbytes = 4_567_000_000;
    let mut d = dest("192.168.1.2", 80, Forward::Masq, 1);
    d.stats.cps = 5;
    d.stats.inbps = 200_000_000;
    let e = ServiceEntry {
        service: s,
        dests: vec![d],
    };
    let f = Format {
        numeric: true,
        stats: true,
        ..Format::default()
    };
    assert_eq!(
        list_one(&e, &f, &Numeric),
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n\
         \x20 -> RemoteAddress:Port\n\
         TCP  10.0.0.1:80                        12      340        0        0    4567M\n\
         \x20 -> 192.168.1.2:80                      0        0        0        0        0\n"
    );
    let f = Format {
        numeric: true,
        rate: true,
        ..Format::default()
    };
    assert_eq!(
        list_one(&e, &f, &Numeric),
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n\
         \x20 -> RemoteAddress:Port\n\
         TCP  10.0.0.1:80                         0        0        0        0        0\n\
         \x20 -> 192.168.1.2:80                      5        0        0  200000K        0\n"
    );
}

#[test]
fn thresholds_persistent_conn_tun_info() {
    let mut d = dest("192.168.1.2", 80, Forward::Tunnel, 4);
    d.u_threshold = 100;
    d.l_threshold = 50;
    d.tun_type = TunnelType::Gre;
    d.tun_flags = 2;
    let e = ServiceEntry {
        service: svc("10.0.0.1", 80),
        dests: vec![d],
    };
    let f = Format {
        numeric: true,
        thresholds: true,
        ..Format::default()
    };
    assert_eq!(
        list_one(&e, &f, &Numeric),
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n\
         \x20 -> RemoteAddress:Port\n\
         TCP  10.0.0.1:80 wlc\n\
         \x20 -> 192.168.1.2:80               100        50         0          0         \n"
    );
    let f = Format {
        numeric: true,
        persistent_conn: true,
        ..Format::default()
    };
    assert_eq!(
        list_one(&e, &f, &Numeric),
        "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n\
         \x20 -> RemoteAddress:Port\n\
         TCP  10.0.0.1:80 wlc\n\
         \x20 -> 192.168.1.2:80               4         0           0          0         \n"
    );
    let f = Format {
        numeric: true,
        tun_info: true,
        ..Format::default()
    };
    assert_eq!(
        list_one(&e, &f, &Numeric),
        "Prot LocalAddress:Port Scheduler Flags\n\
         \x20 -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n\
         TCP  10.0.0.1:80 wlc\n\
         \x20 -> 192.168.1.2:80               Tunnel  gre:r+c       4      0          0         \n"
    );
}

#[test]
fn sort_quirk_unsigned_subtraction() {
    // 10.0.0.1 - 200.0.0.1 wraps to a positive int: 10.x sorts after 200.x
    let a = svc("10.0.0.1", 80);
    let b = svc("200.0.0.1", 80);
    assert!(cmp_services(&a, &b) > 0);
    let mut v = vec![
        ServiceEntry {
            service: a,
            dests: vec![],
        },
        ServiceEntry {
            service: b,
            dests: vec![],
        },
    ];
    sort_entries(&mut v);
    assert_eq!(v[0].service.addr.to_string(), "200.0.0.1");
}

#[test]
fn timeouts_and_daemons() {
    assert_eq!(
        timeouts(&Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    let d = Daemon {
        state: DAEMON_MASTER,
        mcast_ifn: "eth0".into(),
        syncid: 3,
        sync_maxlen: 1472,
        mcast_group: Some("224.0.0.81".parse().unwrap()),
        mcast_port: 8848,
        mcast_ttl: 1,
    };
    assert_eq!(
        daemons(&[d]),
        "master sync daemon (mcast=eth0, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
}

#[test]
fn connection_lines() {
    let line = "TCP 0A000009 C822 0A000001 0050 C0A80102 0050 ESTABLISHED     899\n";
    assert_eq!(
        conn_line(line, &num(), &Numeric).unwrap(),
        "TCP 14:59  ESTABLISHED 10.0.0.9:51234     10.0.0.1:80        192.168.1.2:80\n"
    );
    assert_eq!(
        conn_header(false),
        "IPVS connection entries\npro expire state       source             virtual            destination\n"
    );
}

#[test]
fn long_ipv4_names_are_cut() {
    let s = ServiceEntry {
        service: svc("10.0.0.1", 80),
        dests: vec![],
    };
    struct Long;
    impl Names for Long {
        fn host(&self, _: &IpAddr) -> Option<String> {
            Some("a-very-long-host-name.example.internal".into())
        }
        fn service(&self, _: u16, _: u16) -> Option<String> {
            Some("http".into())
        }
    }
    let out = list_one(&s, &Format::default(), &Long);
    assert!(
        out.ends_with("TCP  a-very-long-host-name.exampl wlc\n"),
        "{out}"
    );
}
