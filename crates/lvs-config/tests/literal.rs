//! `value::address_literal` says of a token exactly what the parser says
//! of it in every address field: the same address, or the same refusal
//! (category, detail, hint); a token it calls no literal is refused by the
//! parser too when names do not resolve.

use lvs_config::value::address_literal;
use lvs_config::*;

const TOKENS: &[&str] = &[
    "192.168.1.10",
    "10.1",
    "0xC0A80A02",
    "010.0.0.1",
    "0.0.0.0",
    "::",
    "::1",
    "2001:db8::1",
    "fd00::2",
    "fec0::1",
    "2001:db8::192.0.2.1",
    "fe80::1",
    "febf:1::1",
    "fe80::1%eth0",
    "2001:db8::1%2",
    "[2001:db8::1]",
    "[2001:db8::1]:80",
    "[fe80::1%eth0]",
    "::ffff:192.0.2.1",
    "::ffff:0:0",
    "ff02::1",
    "ff05::1:3",
    "2001:db8::zz",
    "1.2.3.256",
    "1.2.3.4.5",
    "www.example.com",
    "eth0",
];

/// The address fields: (keyword, the file with `TOK` in it, the value read).
type Field = (&'static str, &'static str, fn(&Config) -> std::net::IpAddr);

const FIELDS: &[Field] = &[
    ("backup", "backup = TOK\n", |c| c.backup()),
    ("nat_router", "nat_router = TOK eth1\n", |c| {
        c.nat_router.as_ref().unwrap().value.ip.addr
    }),
    ("address", "virtual v {\n address = TOK eth0\n}\n", |c| {
        c.virtual_servers[0].vip()
    }),
    (
        "sorry_server",
        "virtual v {\n sorry_server = TOK\n}\n",
        |c| c.virtual_servers[0].sorry_server(),
    ),
    (
        "address",
        "virtual v {\n server s {\n  address = TOK\n }\n}\n",
        |c| c.virtual_servers[0].servers[0].addr(),
    ),
];

#[test]
fn address_literal_says_what_the_parser_says() {
    let opts = ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::None,
    };
    let mut failures = Vec::new();
    for tok in TOKENS {
        let lit = address_literal(tok);
        for (kw, text, read) in FIELDS {
            let text = text.replace("TOK", tok);
            let parsed = parse_str(&text, &opts);
            let ok = match (&lit, &parsed) {
                (Ok(Some(a)), Ok(p)) => read(&p.config) == *a,
                (Err(r), Err(d)) => d.first_error().is_some_and(|e| {
                    e.keyword.as_deref() == Some(*kw)
                        && e.kind == r.kind
                        && e.detail == r.detail
                        && e.hint == r.hint
                }),
                // No literal: the parser takes it only as a name, and
                // names do not resolve here.
                (Ok(None), Err(d)) => d.first_error().is_some_and(|e| {
                    e.keyword.as_deref() == Some(*kw) && !e.detail.contains("brackets")
                }),
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{tok} in {kw}: address_literal {lit:?}, parser {:?}",
                    parsed.map(|p| p.warnings).map_err(|d| d.0)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refusals_read_as_lvs_cf_words_them() {
    let r = address_literal("[2001:db8::1]:80").unwrap_err();
    assert_eq!(r.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        r.to_string(),
        "`[2001:db8::1]:80`: lvs.cf takes an IPv6 address without brackets; write `2001:db8::1`; a port goes in the `port` keyword"
    );
    assert_eq!(
        address_literal("fe80::1").unwrap_err().detail,
        "`fe80::1` is link-local: it needs a zone, which IPVS cannot take"
    );
    assert_eq!(
        address_literal("::ffff:192.0.2.1")
            .unwrap_err()
            .hint
            .as_deref(),
        Some("write the IPv4 address 192.0.2.1")
    );
    assert_eq!(
        address_literal("10.200").unwrap(),
        Some("10.0.0.200".parse().unwrap())
    );
    assert_eq!(address_literal("web1.example"), Ok(None));
}
