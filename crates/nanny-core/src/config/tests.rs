//! Unit tests of `config`.

use super::*;

fn lvs() -> Options {
    Options {
        server: Some("10.0.0.2".into()),
        vip: Some("192.168.1.10".into()),
        lvs: true,
        ..Options::default()
    }
}

#[test]
fn piranha_errors_in_piranha_order() {
    let o = Options::default();
    assert_eq!(o.validate().unwrap_err(), ConfigError::NoAddress);
    assert_eq!(
        ConfigError::NoAddress.to_string(),
        "nanny: No address supplied. Use '--help' for help."
    );
    let o = Options {
        server: Some("10.0.0.300".into()),
        ..Options::default()
    };
    assert_eq!(
        o.validate().unwrap_err().to_string(),
        "nanny: bad IP address -- 10.0.0.300"
    );
    let o = Options {
        server: Some("10.0.0.3".into()),
        ..Options::default()
    };
    assert_eq!(
        o.validate().unwrap_err().to_string(),
        "nanny: unknown service type (one of --lvs or --fos is required). Use '--help' for help."
    );
}

#[test]
fn interval_zero_is_rejected_not_divided_by() {
    let o = Options {
        interval: 0,
        ..lvs()
    };
    assert_eq!(o.validate().unwrap_err(), ConfigError::BadInterval(0));
    let o = Options {
        io_timeout: Some(0),
        ..lvs()
    };
    assert_eq!(o.validate().unwrap_err(), ConfigError::BadIoTimeout(0));
}

#[test]
fn defaults_match_piranha() {
    let c = lvs().validate().unwrap();
    assert_eq!(c.rport, 80);
    assert_eq!(c.count_thresh, 18, "reentry 180 / interval 10");
    assert_eq!(c.forward, Forward::Masq);
    assert_eq!(c.io_timeout, Duration::from_secs(10));
    assert_eq!(
        c.probe,
        Probe::Socket {
            send: Some(HTTP_SEND.as_bytes().to_vec()),
            expect: Some(Expect {
                text: b"HTTP".to_vec(),
                regex: false
            })
        }
    );
    assert_eq!(
        c.notes,
        vec!["nanny: no monitor configured, assuming web service on port 80"]
    );
    assert_eq!(
        c.start_line(),
        "starting LVS client monitor for 192.168.1.10:80 -> 10.0.0.2:80"
    );
    let f = Options {
        fos: true,
        interval: 7,
        ..lvs()
    }
    .validate()
    .unwrap();
    assert_eq!(f.count_thresh, 1, "fos reentry defaults to the interval");
}

#[test]
fn http_default_only_for_virtual_port_80_and_nothing_configured() {
    let c = Options { port: 443, ..lvs() }.validate().unwrap();
    assert_eq!(
        c.probe,
        Probe::Socket {
            send: None,
            expect: None
        }
    );
    let c = Options {
        rport: Some(8080),
        ..lvs()
    }
    .validate()
    .unwrap();
    assert!(
        matches!(c.probe, Probe::Socket { send: Some(_), .. }),
        "VS port decides"
    );
    let c = Options {
        expect: Some("OK".into()),
        ..lvs()
    }
    .validate()
    .unwrap();
    assert!(matches!(c.probe, Probe::Socket { send: None, .. }));
}

#[test]
fn send_program_overrides_send_string() {
    let c = Options {
        send_program: Some("/bin/check %h".into()),
        send: Some("x".into()),
        ..lvs()
    }
    .validate()
    .unwrap();
    assert!(matches!(c.probe, Probe::Program { .. }));
    assert_eq!(
        c.notes,
        vec!["External program use requested: (/bin/check %h), IGNORING send string option (x)"]
    );
}

#[test]
fn method_rule() {
    for (m, f) in [
        ("-g", Forward::Gate),
        ("g", Forward::Gate),
        ("-i", Forward::Tunnel),
        ("ipip", Forward::Tunnel),
        ("-m", Forward::Masq),
        ("x", Forward::Masq),
        ("", Forward::Masq),
    ] {
        assert_eq!(forward_from_method(m), f, "{m}");
    }
}

#[test]
fn inet_aton_forms() {
    assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(inet_aton("0x0a000002"), Some(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(inet_aton("host.example"), None);
}

#[test]
fn fwmark_service_and_missing_vip() {
    let c = Options {
        fwmark: 7,
        vip: None,
        udp: true,
        ..lvs()
    }
    .validate()
    .unwrap();
    assert_eq!(c.service, Service::Fwmark(7));
    assert_eq!(
        Options { vip: None, ..lvs() }.validate().unwrap_err(),
        ConfigError::NoVirtualAddress
    );
    assert!(matches!(
        Options {
            weight: -1,
            ..lvs()
        }
        .validate()
        .unwrap_err(),
        ConfigError::OutOfRange {
            flag: "--weight",
            ..
        }
    ));
}

#[test]
fn translation_unless_suppressed() {
    let c = Options {
        send: Some("a\\r\\n".into()),
        ..lvs()
    }
    .validate()
    .unwrap();
    assert!(matches!(c.probe, Probe::Socket { send: Some(ref s), .. } if s == b"a\r\n"));
    let c = Options {
        send: Some("a\\r\\n".into()),
        suppress: true,
        ..lvs()
    }
    .validate()
    .unwrap();
    assert!(matches!(c.probe, Probe::Socket { send: Some(ref s), .. } if s == b"a\\r\\n"));
}

#[test]
fn ipv6_server_and_service() {
    let o = Options {
        server: Some("2001:db8::2".into()),
        vip: Some("2001:db8::100".into()),
        ..lvs()
    };
    let c = o.validate().unwrap();
    assert_eq!(c.rip, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!(c.service, Service::Tcp("2001:db8::100".into(), 80));
    assert_eq!(
        c.start_line(),
        "starting LVS client monitor for [2001:db8::100]:80 -> [2001:db8::2]:80"
    );
    // The mark's family is -V's.
    let mark = |vip: &str| {
        Options {
            fwmark: 5,
            vip: Some(vip.into()),
            ..lvs()
        }
        .validate()
        .unwrap()
        .service
    };
    assert_eq!(mark("::"), Service::Fwmark6(5));
    assert_eq!(mark("2001:db8::100"), Service::Fwmark6(5));
    assert_eq!(mark("0.0.0.0"), Service::Fwmark(5));
    // Brackets, zones and names are not addresses here.
    for bad in [
        "[2001:db8::2]",
        "fe80::1%eth0",
        "web1",
        "2001:db8::2:80:1:2:3:4",
    ] {
        let o = Options {
            server: Some(bad.into()),
            ..lvs()
        };
        assert_eq!(
            o.validate().unwrap_err().to_string(),
            format!("nanny: bad IP address -- {bad}")
        );
    }
    // IPv4 as before.
    assert_eq!(
        lvs().validate().unwrap().start_line(),
        "starting LVS client monitor for 192.168.1.10:80 -> 10.0.0.2:80"
    );
}
