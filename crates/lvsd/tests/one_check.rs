//! Issue 19: one lvs→nanny contract for health checks. For each check
//! kind, lvs.cf's keys (`HealthCheck::to_check`) and the nanny lvs starts
//! for them (`nanny_options` → argv → `Options::from_argv` → `validate`)
//! arrive at the same typed `Check`.

use std::ffi::OsString;

use lvs_config::checks::{BadCheck, Check, Tls};
use lvs_config::{parse_str, Config, ParseOptions, Resolver};
use lvsd::plan::{nanny_options, RunMode};
use nanny_core::config::{ConfigError, Options};

/// An lvs.cf with one virtual server whose block ends with `vs_keys`, and
/// one server whose block ends with `rs_keys`.
fn cfg(vs_keys: &str, rs_keys: &str) -> Config {
    let text = format!(
        "primary = 192.168.1.10\nnetwork = direct\nvirtual www {{\n active = 1\n address = 192.168.1.100 eth0:1\n port = 80\n timeout = 6\n{vs_keys} server web1 {{\n  address = 10.0.0.1\n  active = 1\n  weight = 4\n{rs_keys} }}\n}}\n"
    );
    let opts = ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::None,
    };
    parse_str(&text, &opts).unwrap().config
}

/// The check of lvs.cf's keys, and the check nanny's validation yields.
type Both = (
    Result<Option<Check>, BadCheck>,
    Result<Option<Check>, ConfigError>,
);

/// The check as lvs.cf describes it, and as the nanny lvs starts sees it.
fn both(c: &Config) -> Both {
    let vs = &c.virtual_servers[0];
    let rs = &vs.servers[0];
    let from_cf = rs.health_in(vs).to_check();
    let mode = RunMode {
        daemon: true,
        verbose: false,
    };
    let argv: Vec<OsString> = nanny_options(c, vs, rs, mode)
        .to_argv("/usr/sbin/nanny")
        .into_iter()
        .map(OsString::from)
        .collect();
    let opts = Options::from_argv(&argv).expect("lvs's argv reads without clap");
    (from_cf, opts.validate().map(|v| v.check))
}

#[test]
fn lvs_cf_and_nannys_argv_make_the_same_check() {
    let cases: Vec<(&str, &str, Option<Check>)> = vec![
        ("", "", None),
        (" check = send_expect\n", "", None),
        (" check = tcp\n", "", Some(Check::Tcp)),
        (
            " check = http\n check_path = /health\n check_status = \"200-299 301\"\n check_digest = 0123456789ABCDEF0123456789abcdef\n",
            "  check_virtualhost = www.example.com\n",
            Some(Check::Http {
                tls: None,
                path: "/health".into(),
                vhost: Some("www.example.com".into()),
                status: vec![(200, 299), (301, 301)],
                digest: Some("0123456789abcdef0123456789abcdef".into()),
            }),
        ),
        (
            " check = https\n check_sni = tls.example.com\n check_verify = 1\n check_ca = /etc/pki/ca.pem\n",
            "",
            Some(Check::Http {
                tls: Some(Tls {
                    sni: Some("tls.example.com".into()),
                    verify: true,
                    ca: Some("/etc/pki/ca.pem".into()),
                }),
                path: "/".into(),
                vhost: None,
                status: vec![(200, 299)],
                digest: None,
            }),
        ),
        (
            " check = https\n check_virtualhost = www.example.com\n",
            "",
            Some(Check::Http {
                tls: Some(Tls {
                    sni: Some("www.example.com".into()),
                    verify: false,
                    ca: None,
                }),
                path: "/".into(),
                vhost: Some("www.example.com".into()),
                status: vec![(200, 299)],
                digest: None,
            }),
        ),
        (
            " check = smtp\n check_helo = director.example.com\n",
            "",
            Some(Check::Smtp {
                helo: "director.example.com".into(),
            }),
        ),
        (" check = smtp\n", "", Some(Check::Smtp { helo: "localhost".into() })),
        (
            " check = dns\n check_dns_name = example.com\n check_dns_type = mx\n",
            "",
            Some(Check::Dns {
                name: "example.com".into(),
                qtype: "MX".into(),
            }),
        ),
        (
            " check = dns\n",
            "",
            Some(Check::Dns {
                name: ".".into(),
                qtype: "SOA".into(),
            }),
        ),
        (
            " check = http\n",
            "  check = misc\n  check_program = \"/bin/chk %h %p\"\n  check_dynamic = 1\n",
            Some(Check::Misc {
                command: "/bin/chk %h %p".into(),
                dynamic: true,
            }),
        ),
    ];
    for (vs_keys, rs_keys, want) in cases {
        let (from_cf, from_argv) = both(&cfg(vs_keys, rs_keys));
        assert_eq!(from_cf, Ok(want.clone()), "{vs_keys}{rs_keys}");
        assert_eq!(from_argv, Ok(want), "{vs_keys}{rs_keys}");
    }
}

#[test]
fn a_misc_check_without_a_program_fails_alike() {
    let (from_cf, from_argv) = both(&cfg(" check = misc\n", ""));
    assert_eq!(from_cf, Err(BadCheck::NoProgram));
    assert_eq!(
        from_argv.unwrap_err().to_string(),
        "nanny: bad value for --misc-program --  (expected a command for --check misc)"
    );
}
