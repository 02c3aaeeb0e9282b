//! Property: parse(write(c)) == c for generated configurations, and the
//! canonical text is a fixed point.

use std::net::{IpAddr, Ipv4Addr};

use lvs_config::*;
use proptest::prelude::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "gen.cf".into(),
        resolver: Resolver::None,
    }
}

/// Draws values from a byte string (proptest shrinks the bytes); the flag
/// makes every address and mask IPv6 (a file is of one family, so that the
/// family rules hold).
struct Src<'a>(&'a [u8], usize, bool);

impl Src<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn flip(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.u32() % (hi - lo + 1)
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Opt<T> {
        if self.flip() {
            Some(Spanned::new(f(self)))
        } else {
            None
        }
    }
    fn addr(&mut self) -> IpAddr {
        if self.2 {
            let (a, b) = (self.u32() as u16, self.range(1, 65535) as u16);
            return IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, a, 0, 0, 0, 0, b));
        }
        IpAddr::V4(Ipv4Addr::new(
            10,
            self.u8(),
            self.u8(),
            self.range(1, 254) as u8,
        ))
    }
    fn mask(&mut self) -> Mask {
        if self.2 {
            return Mask::Prefix(self.range(1, 128) as u8);
        }
        if self.u8() % 4 == 0 {
            return Mask::Prefix(self.range(1, 32) as u8);
        }
        let bits = self.range(0, 31);
        Mask::Dotted(Ipv4Addr::from(if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        }))
    }
    fn word(&mut self) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_-./";
        let n = self.range(1, 10) as usize;
        let mut s: String = (0..n)
            .map(|_| A[self.u8() as usize % A.len()] as char)
            .collect();
        if !s.as_bytes()[0].is_ascii_alphabetic() {
            s.insert(0, 'x');
        }
        s
    }
    fn text(&mut self) -> String {
        const A: &[u8] = b"abcXYZ019 \t\\#{}=*/:%.\"";
        let n = self.range(0, 24) as usize;
        let mut s: String = (0..n)
            .map(|_| A[self.u8() as usize % A.len()] as char)
            .collect();
        if s.contains('"') && self.flip() {
            s = s.replace('"', "'");
        }
        s
    }
    fn qstring(&mut self) -> QString {
        let text = self.text();
        let quote = if text.contains('"') {
            Some(Quote::Single)
        } else if text.contains('\'') || self.flip() {
            Some(Quote::Double)
        } else if writer::token(&text).as_deref() == Some(text.as_str()) {
            None
        } else {
            Some(Quote::Double)
        };
        QString { text, quote }
    }
    fn string(&mut self) -> String {
        let t = self.text();
        if t.contains('"') && t.contains('\'') {
            t.replace('\'', "")
        } else {
            t
        }
    }
    fn seconds(&mut self) -> Seconds {
        if self.flip() {
            Seconds::secs(self.range(1, 100) as u64)
        } else {
            Seconds(self.range(1, 100_000) as u64)
        }
    }
}

fn build(bytes: &[u8]) -> Config {
    let mut s = Src(bytes, 0, false);
    s.2 = s.flip();
    let mut c = Config {
        serial_no: s.opt(|s| s.u32() as i32 as i64),
        primary: s.opt(|s| Host::from_addr(s.addr())),
        primary_private: s.opt(|s| Host::from_addr(s.addr())),
        primary_shared: s.opt(|s| s.string()),
        service: s.opt(|s| {
            if s.flip() {
                ServiceType::Lvs
            } else {
                ServiceType::Fos
            }
        }),
        rsh_command: s.opt(|s| s.string()),
        backup_active: s.opt(|s| s.flip()),
        backup: s.opt(|s| Host::from_addr(s.addr())),
        backup_private: s.opt(|s| Host::from_addr(s.addr())),
        backup_shared: s.opt(|s| s.string()),
        heartbeat: s.opt(|s| s.flip()),
        heartbeat_port: s.opt(|s| s.range(1, 65535) as u16),
        keepalive: s.opt(|s| s.seconds()),
        deadtime: s.opt(|s| s.seconds()),
        network: s
            .opt(|s| [Network::Nat, Network::Direct, Network::Tunnel][s.range(0, 2) as usize]),
        nat_router: s.opt(|s| IpDev {
            ip: Host::from_addr(s.addr()),
            dev: s.word(),
        }),
        nat_nmask: s.opt(|s| s.mask()),
        reservation_conflict_action: s.opt(|s| {
            if s.flip() {
                ConflictAction::Nothing
            } else {
                ConflictAction::Preempt
            }
        }),
        debug_level: s.opt(|s| s.string()),
        active_cmd: s.opt(|s| s.string()),
        inactive_cmd: s.opt(|s| s.string()),
        heartbeat_key: s.opt(|s| s.string()),
        monitor_links: s.opt(|s| s.u32() as i32 as i64),
        syncdaemon: s.opt(|s| s.flip()),
        syncd_iface: s.opt(|s| s.word()),
        syncd_id: s.opt(|s| s.range(0, 255) as i64),
        hot_standby: s.opt(|s| s.flip()),
        syncd_group: s.opt(|s| {
            if s.flip() {
                "ff02::8:81".parse().unwrap()
            } else {
                "224.0.0.81".parse().unwrap()
            }
        }),
        syncd_port: s.opt(|s| s.range(1, 65535) as u16),
        tcp_timeout: s.opt(|s| s.range(0, 2_678_400)),
        tcpfin_timeout: s.opt(|s| s.range(0, 2_678_400)),
        udp_timeout: s.opt(|s| s.range(0, 2_678_400)),
        hard_shutdown: s.opt(|s| s.flip()),
        ipvsadm: s.opt(|s| s.word()),
        sync: s.opt(|s| s.flip()),
        director_mode: None,
        directors: s.opt(|s| {
            (0..s.range(1, 3))
                .map(|_| s.addr())
                .fold(Vec::new(), |mut v, a| {
                    if !v.contains(&a) {
                        v.push(a);
                    }
                    v
                })
        }),
        bird_socket: s.opt(|s| format!("/run/{}", s.word())),
        bird_routes: s.opt(|s| format!("/run/{}.conf", s.word())),
        withdraw_delay: s.opt(|s| s.seconds()),
        failover_services: Vec::new(),
        virtual_servers: Vec::new(),
    };
    // bgp mode needs direct routing or a tunnel, and `directors`
    if s.flip() {
        c.director_mode = Some(Spanned::new(
            if c.directors.is_some() && c.network.as_ref().is_some_and(|n| n.value != Network::Nat)
            {
                DirectorMode::Bgp
            } else {
                DirectorMode::Pair
            },
        ));
    }
    let nvs = s.range(0, 4);
    for i in 0..nvs {
        let active = s.flip();
        let mut v =
            VirtualServer::named(format!("vs{i}_{}", s.word().replace(['.', '/', '-'], "")));
        v.active = if active || s.flip() {
            Some(Spanned::new(active))
        } else {
            None
        };
        // Active services get distinct addresses so validation passes.
        v.address = if active || s.flip() {
            Some(Spanned::new(IpDev {
                ip: Host::from_addr(if s.2 {
                    IpAddr::V6(std::net::Ipv6Addr::new(
                        0x2001,
                        0xdb8,
                        2,
                        0,
                        0,
                        0,
                        0,
                        i as u16 + 1,
                    ))
                } else {
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, i as u8 + 1))
                }),
                dev: format!("eth0:{i}"),
            }))
        } else {
            None
        };
        v.sorry_server = s.opt(|s| s.addr());
        v.vip_nmask = s.opt(|s| s.mask());
        v.fwmark = s.opt(|_| i + 1);
        v.port = s.opt(|s| s.range(1, 65535) as u16);
        v.persistent = s.opt(|s| s.range(0, 2_678_400));
        v.pmask = s.opt(|s| s.mask());
        v.send = s.opt(|s| s.qstring());
        v.expect = s.opt(|s| s.qstring());
        v.use_regex = s.opt(|s| s.flip());
        v.send_program = s.opt(|s| s.qstring());
        v.load_monitor = s.opt(|s| match s.range(0, 4) {
            0 => LoadMonitor::None,
            1 => LoadMonitor::Uptime,
            2 => LoadMonitor::Rup,
            3 => LoadMonitor::Ruptime,
            _ => LoadMonitor::Command(format!("/usr/local/bin/{}", s.word())),
        });
        v.scheduler = s.opt(|s| Scheduler::ALL[s.range(0, 13) as usize]);
        // flags of the block's scheduler, or the raw ones
        v.sched_flags = s.opt(|s| {
            let words: &[&str] = match v.scheduler.as_ref().map(|x| x.value) {
                Some(Scheduler::Mh) => &["mh-port", "mh-fallback", "flag-3"],
                Some(Scheduler::Sh) => &["sh-fallback", "sh-port"],
                _ => &["flag-1", "flag-2", "flag-3"],
            };
            (0..s.range(1, 2))
                .map(|k| SchedFlag::from_word(words[k as usize % words.len()]).unwrap())
                .collect()
        });
        v.protocol = s.opt(|s| {
            if s.flip() {
                Protocol::Tcp
            } else {
                Protocol::Udp
            }
        });
        v.timeout = s.opt(|s| s.range(1, 3600));
        v.reentry = s.opt(|s| s.range(0, 3600));
        v.quiesce_server = s.opt(|s| s.flip());
        v.client_monitor = s.opt(|s| s.word());
        v.start_cmd = s.opt(|s| s.qstring());
        v.stop_cmd = s.opt(|s| s.qstring());
        v.master = s.opt(|s| Host::from_addr(s.addr()));
        v.dirs = s.opt(|s| (0..s.range(0, 3)).map(|_| s.word()).collect());
        // The quorum extension: the others only with `quorum` (else a
        // warning, which is fine, but keep the files clean).
        v.quorum = s.opt(|s| s.range(1, 1000));
        if v.quorum.is_some() {
            v.hysteresis = s.opt(|s| s.range(0, 1000));
            v.quorum_up = s.opt(|s| s.word());
            v.quorum_down = s.opt(|s| s.word());
        }
        for j in 0..s.range(0, 3) {
            let mut r = RealServer::named(format!("rs{j}"));
            r.address = Some(Spanned::new(Host::from_addr(if s.2 {
                IpAddr::V6(std::net::Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    9,
                    i as u16,
                    0,
                    0,
                    0,
                    j as u16 + 1,
                ))
            } else {
                IpAddr::V4(Ipv4Addr::new(10, 9, i as u8, j as u8 + 1))
            })));
            r.active = s.opt(|s| s.flip());
            r.port = s.opt(|s| s.range(1, 65535) as u16);
            r.weight = s.opt(|s| s.range(0, 65535));
            v.servers.push(r);
        }
        c.virtual_servers.push(v);
    }
    for i in 0..s.range(0, 2) {
        let f = FailoverService {
            name: Spanned::new(format!("fos{i}")),
            active: s.opt(|s| s.flip()),
            address: s.opt(|s| IpDev {
                ip: Host::from_addr(s.addr()),
                dev: s.word(),
            }),
            vip_nmask: s.opt(|s| s.mask()),
            port: s.opt(|s| s.range(1, 65535) as u16),
            send: s.opt(|s| s.qstring()),
            expect: s.opt(|s| s.qstring()),
            send_program: s.opt(|s| s.qstring()),
            timeout: s.opt(|s| s.range(1, 3600)),
            reentry: s.opt(|s| s.range(0, 3600)),
            start_cmd: s.opt(|s| s.qstring()),
            stop_cmd: s.opt(|s| s.qstring()),
        };
        c.failover_services.push(f);
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_write_is_identity(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let c = build(&bytes);
        let text = write_config(&c);
        if text.is_empty() {
            // Nothing set: a zero-length file is "Empty configuration", as in Piranha.
            let e = parse_str(&text, &opts()).unwrap_err();
            prop_assert_eq!(e.first_error().unwrap().kind, ErrorKind::EmptyConfiguration);
            return Ok(());
        }
        let parsed = parse_str(&text, &opts());
        prop_assert!(parsed.is_ok(), "canonical text rejected:\n{}\n{}", parsed.unwrap_err(), text);
        let p = parsed.unwrap().config;
        prop_assert_eq!(&p, &c, "\n{}", text);
        // The canonical text is a fixed point.
        prop_assert_eq!(write_config(&p), text);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = parse_str(&s, &opts());
    }

    #[test]
    fn line_noise_in_lvs_cf_shape_never_panics(
        lines in proptest::collection::vec(
            "(#.*|[a-z_]{1,12}( =)?( [\"']?[a-z0-9. :{}\\\\]*[\"']?){0,3}|\\}|virtual [a-z]+ \\{|server [a-z]+ \\{)",
            0..30)
    ) {
        let text = lines.join("\n");
        let _ = parse_str(&text, &opts());
    }
}
