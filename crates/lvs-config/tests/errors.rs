//! Table tests: accepted and rejected inputs with the exact line, column,
//! category and keyword of the first error.

use lvs_config::{parse_str, ErrorKind, Family, ParseOptions, Resolver, Severity};

fn opts() -> ParseOptions {
    ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::Custom(|name, want| match (name, want) {
            ("director1.example", None | Some(Family::Inet)) => Some("192.0.2.10".parse().unwrap()),
            ("director1.example", Some(Family::Inet6)) => Some("2001:db8::10".parse().unwrap()),
            ("web6.example", _) => Some("2001:db8::21".parse().unwrap()),
            _ => None,
        }),
    }
}

/// (input, line, col, kind, keyword)
const REJECTED: &[(&str, u32, u32, ErrorKind, &str)] = &[
    ("", 0, 0, ErrorKind::EmptyConfiguration, ""),
    (
        "primary = 1.2.3.4\nbogus = 1\n",
        2,
        1,
        ErrorKind::UnknownCommand,
        "bogus",
    ),
    (
        "virtual a {\n  schedular = wlc\n}\n",
        2,
        3,
        ErrorKind::UnknownCommand,
        "schedular",
    ),
    ("weight = 1\n", 1, 1, ErrorKind::UnknownCommand, "weight"),
    (
        "virtual a {\n primary = 1.2.3.4\n}\n",
        2,
        2,
        ErrorKind::UnknownCommand,
        "primary",
    ),
    (
        "virtual a {\n server b {\n  timeout = 5\n }\n}\n",
        3,
        3,
        ErrorKind::UnknownCommand,
        "timeout",
    ),
    (
        "virtual a {\n server b {\n  server c {\n  }\n }\n}\n",
        3,
        3,
        ErrorKind::UnknownCommand,
        "server",
    ),
    ("}\n", 1, 1, ErrorKind::UnknownCommand, "}"),
    (
        "primary=1.2.3.4\n",
        1,
        1,
        ErrorKind::UnknownCommand,
        "primary=1.2.3.4",
    ),
    (
        "primary =1.2.3.4\n",
        1,
        9,
        ErrorKind::EqualExpected,
        "primary",
    ),
    (
        "primary 1.2.3.4\n",
        1,
        9,
        ErrorKind::EqualExpected,
        "primary",
    ),
    ("primary\n", 1, 1, ErrorKind::EqualExpected, "primary"),
    ("primary =\n", 1, 9, ErrorKind::MissingArguments, "primary"),
    (
        "virtual a {\n address = 1.2.3.4\n}\n",
        2,
        12,
        ErrorKind::MissingArguments,
        "address",
    ),
    (
        "nat_router = 10.0.0.1\n",
        1,
        14,
        ErrorKind::MissingArguments,
        "nat_router",
    ),
    (
        "primary = 1.2.3.4 5.6.7.8\n",
        1,
        19,
        ErrorKind::UnexpectedArguments,
        "primary",
    ),
    (
        "virtual a {\n port = 80 # web\n}\n",
        2,
        12,
        ErrorKind::UnexpectedArguments,
        "port",
    ),
    (
        "virtual a {\n send = GET / HTTP/1.0\n}\n",
        2,
        13,
        ErrorKind::UnexpectedArguments,
        "send",
    ),
    (
        "virtual a {\n send = \"GET /\n}\n",
        2,
        9,
        ErrorKind::QuotationMismatch,
        "send",
    ),
    (
        "virtual a {\n send = 'GET /\n}\n",
        2,
        9,
        ErrorKind::QuotationMismatch,
        "send",
    ),
    (
        "virtual a {\n expect = \"a\"b\n}\n",
        2,
        11,
        ErrorKind::QuotationMismatch,
        "expect",
    ),
    (
        "primary = 0.0.0.0\n",
        1,
        11,
        ErrorKind::InvalidHost,
        "primary",
    ),
    (
        "primary_private = 0.0.0.0\n",
        1,
        19,
        ErrorKind::InvalidHost,
        "primary_private",
    ),
    (
        "virtual a {\n sorry_server = web9\n}\n",
        2,
        17,
        ErrorKind::InvalidHost,
        "sorry_server",
    ),
    (
        "primary = 1.2.3.256\n",
        1,
        11,
        ErrorKind::InvalidArgument,
        "primary",
    ),
    (
        "primary = nosuchhost.invalid\n",
        1,
        11,
        ErrorKind::InvalidArgument,
        "primary",
    ),
    (
        "network = NAT\n",
        1,
        11,
        ErrorKind::InvalidArgument,
        "network",
    ),
    (
        "service = heartbeat\n",
        1,
        11,
        ErrorKind::InvalidArgument,
        "service",
    ),
    (
        "virtual a {\n scheduler = fastest\n}\n",
        2,
        14,
        ErrorKind::InvalidArgument,
        "scheduler",
    ),
    (
        "virtual a {\n protocol = sctp\n}\n",
        2,
        13,
        ErrorKind::InvalidArgument,
        "protocol",
    ),
    (
        "virtual a {\n port = eighty\n active = 1\n}\n",
        2,
        9,
        ErrorKind::InvalidArgument,
        "port",
    ),
    (
        "virtual a {\n port = no-such-service\n}\n",
        2,
        9,
        ErrorKind::InvalidArgument,
        "port",
    ),
    (
        "virtual a {\n timeout = 0\n active = 1\n}\n",
        2,
        12,
        ErrorKind::InvalidArgument,
        "timeout",
    ),
    (
        "virtual a {\n server b {\n  port = 70000\n  active = 1\n }\n active = 1\n}\n",
        3,
        10,
        ErrorKind::InvalidArgument,
        "port",
    ),
    (
        "reservation_conflict_action = kill\n",
        1,
        31,
        ErrorKind::InvalidArgument,
        "reservation_conflict_action",
    ),
    (
        "backup_active = 1\nbackup = 1.2.3.5\ndeadtime = 0\n",
        3,
        12,
        ErrorKind::InvalidArgument,
        "deadtime",
    ),
    (
        "keepalive = two\n",
        1,
        13,
        ErrorKind::IntegerExpected,
        "keepalive",
    ),
    (
        "serial_no = 12a\n",
        1,
        13,
        ErrorKind::IntegerExpected,
        "serial_no",
    ),
    (
        "virtual a {\n timeout = 08\n}\n",
        2,
        12,
        ErrorKind::IntegerExpected,
        "timeout",
    ),
    (
        "virtual a {\n active = 2\n}\n",
        2,
        11,
        ErrorKind::BooleanExpected,
        "active",
    ),
    (
        "virtual a {\n server b {\n  port = http\n }\n}\n",
        3,
        10,
        ErrorKind::IntegerExpected,
        "port",
    ),
    (
        "backup_active = yes\n",
        1,
        17,
        ErrorKind::BooleanExpected,
        "backup_active",
    ),
    (
        "virtual a {\n active = 2\n}\n",
        2,
        11,
        ErrorKind::BooleanExpected,
        "active",
    ),
    (
        "virtual a {\n dirs = a b\n}\n",
        2,
        9,
        ErrorKind::ListExpected,
        "dirs",
    ),
    (
        "virtual a {\n dirs = [ a b\n}\n",
        2,
        13,
        ErrorKind::ListExpected,
        "dirs",
    ),
    (
        "nat_nmask = 255.255.255.x\n",
        1,
        13,
        ErrorKind::BadSubnetMask,
        "nat_nmask",
    ),
    (
        "virtual a {\n vip_nmask = mask\n}\n",
        2,
        14,
        ErrorKind::BadSubnetMask,
        "vip_nmask",
    ),
    (
        "virtual a\n{\n}\n",
        1,
        1,
        ErrorKind::MissingArguments,
        "virtual",
    ),
    (
        "virtual {\n}\n",
        1,
        1,
        ErrorKind::MissingArguments,
        "virtual",
    ),
    (
        "virtual web farm {\n}\n",
        1,
        13,
        ErrorKind::UnexpectedArguments,
        "virtual",
    ),
    (
        "virtual a b\n",
        1,
        11,
        ErrorKind::MissingArguments,
        "virtual",
    ),
    (
        "virtual a {\n server b\n}\n",
        2,
        2,
        ErrorKind::MissingArguments,
        "server",
    ),
    // A server block missing its `}` (the hints: MISSING_CLOSE).
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\n server t {\n  address = 1.2.3.5\n }\n}\n",
        4,
        2,
        ErrorKind::UnknownCommand,
        "server",
    ),
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\n scheduler = rr\n}\n",
        4,
        2,
        ErrorKind::UnknownCommand,
        "scheduler",
    ),
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\nvirtual b {\n}\n",
        4,
        1,
        ErrorKind::UnknownCommand,
        "virtual",
    ),
    (
        "virtual a {\n port = 80\nfailover b {\n}\n",
        3,
        1,
        ErrorKind::UnknownCommand,
        "failover",
    ),
    ("server s {\n}\n", 1, 1, ErrorKind::UnknownCommand, "server"),
];

/// (input, hint of the first error): a block keyword inside a block that a
/// missing `}` left open names that block and its line.
const MISSING_CLOSE: &[(&str, &str)] = &[
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\n server t {\n  address = 1.2.3.5\n }\n}\n",
        "`server s` opened at line 2 is still open; did you forget its `}`?",
    ),
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\n scheduler = rr\n}\n",
        "`server s` opened at line 2 is still open; did you forget its `}`?",
    ),
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\nvirtual b {\n}\n",
        "`server s` opened at line 2 and `virtual a` opened at line 1 are still open; did you forget their `}`?",
    ),
    (
        "virtual a {\n server s {\n  address = 1.2.3.4\nprimary = 1.2.3.5\n",
        "`server s` opened at line 2 and `virtual a` opened at line 1 are still open; did you forget their `}`?",
    ),
    (
        "virtual a {\n port = 80\nvirtual b {\n}\n",
        "`virtual a` opened at line 1 is still open; did you forget its `}`?",
    ),
    (
        "virtual a {\n port = 80\n primary = 1.2.3.4\n}\n",
        "`virtual a` opened at line 1 is still open; did you forget its `}`?",
    ),
    (
        "virtual a {\n port = 80\nfailover b {\n}\n",
        "`virtual a` opened at line 1 is still open; did you forget its `}`?",
    ),
    (
        "failover f {\n server s {\n  active = 1\n  timeout = 5\n }\n}\n",
        "`server s` opened at line 2 is still open; did you forget its `}`?",
    ),
    // Nothing to close: the hints of before.
    (
        "virtual a {\n weight = 1\n}\n",
        "move it to the right block, or check for a missing `}`",
    ),
    ("server s {\n}\n", "check the block's closing `}`"),
];

#[test]
fn a_block_left_open_is_named() {
    for (text, hint) in MISSING_CLOSE {
        let d = parse_str(text, &opts()).unwrap_err();
        let e = d.first_error().unwrap();
        assert_eq!(e.hint.as_deref(), Some(*hint), "{text:?}: {e}");
        assert!(e.to_string().ends_with(&format!("; {hint}")), "{e}");
    }
    let d = parse_str("virtual a {\n virtual b {\n }\n}\n", &opts()).unwrap_err();
    assert_eq!(
        d.first_error().unwrap().to_string(),
        "t.cf:2:2: error: `virtual`: unknown command: `virtual` blocks go at the top level, not in a virtual block; `virtual a` opened at line 1 is still open; did you forget its `}`?"
    );
    let d = parse_str("virtual a {\n server s {\n  server t {\n", &opts()).unwrap_err();
    assert_eq!(
        d.first_error().unwrap().to_string(),
        "t.cf:3:3: error: `server`: unknown command: `server` blocks go in a virtual block, not in a server block; `server s` opened at line 2 is still open; did you forget its `}`?"
    );
}

#[test]
fn control_characters_in_diagnostics_are_escaped() {
    // ESC, BEL, DEL and a C1 CSI (a Latin-1 file's byte 0x9b) from the file.
    let text = "virtual a {\n protocol = tcp\u{1b}[2J\n sched\u{7}\u{7f}uler = rr\n expect = \"\u{9b}31m\"\n}\nb\u{1}gus = 1\n";
    let d = parse_str(text, &opts()).unwrap_err();
    let shown = d.to_string();
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(shown.contains("`tcp\\x1b[2J`"), "{shown}");
    assert!(shown.contains("`sched\\x07\\x7fuler`"), "{shown}");
    assert!(shown.contains("`b\\x01gus`"), "{shown}");
    // The diagnostic keeps the file's text; only its display escapes it.
    assert_eq!(
        d.first_error().unwrap().keyword.as_deref(),
        Some("protocol")
    );
    // Tab, CR and LF (which the reader never leaves in a token) and the
    // file name, through the one Display.
    let e = lvs_config::Diagnostic {
        severity: Severity::Error,
        kind: ErrorKind::InvalidArgument,
        file: "t\u{1b}.cf".into(),
        span: Default::default(),
        keyword: Some("k\te\ry".into()),
        detail: "found `a\r\nb\u{0}c\u{9b}`".into(),
        hint: Some("x\u{1b}y".into()),
    };
    assert_eq!(
        e.to_string(),
        "t\\x1b.cf:0:0: error: `k\\te\\ry`: invalid argument: found `a\\r\\nb\\x00c\\u{9b}`; x\\x1by"
    );
}

#[test]
fn a_binary_file_is_not_text() {
    use lvs_config::parse::not_text;
    let e = not_text(b"\x7fELF\x02\x01\x01\x00\x00", "t.cf").unwrap();
    assert_eq!(e.kind, ErrorKind::NotText);
    assert_eq!((e.span.line, e.span.start), (0, 7));
    assert_eq!(
        e.to_string(),
        "t.cf: error: not a text file: 6 of its first 9 bytes are control characters, the first NUL at offset 7; lvs.cf is plain text; is this the right file?"
    );
    // A stray NUL in a text file is read as Piranha read it.
    let mut big = "# comment\n".repeat(1000).into_bytes();
    big.push(0);
    assert!(not_text(&big, "t.cf").is_none());
    assert!(not_text(b"# a\x00 comment\nprimary = 1.2.3.4\n", "t.cf").is_none());
    // At least one byte in ten of the first 8 KiB a control character.
    let e = not_text(b"\x01\x02\x1b\x7fabcdef\n", "t.cf").unwrap();
    assert_eq!(e.detail, "4 of its first 11 bytes are control characters");
    assert!(not_text(b"primary = 1.2.3.4\x1b\n", "t.cf").is_none());
    // Text: empty, tabs, CR LF, form feeds, Latin-1, UTF-8.
    for ok in [
        &b""[..],
        b"\tprimary\t=\t1.2.3.4\r\n\x0c\n",
        b"# r\xe9seau \x9b\x80\n",
        "# réseau\n".as_bytes(),
    ] {
        assert!(not_text(ok, "t.cf").is_none(), "{ok:?}");
    }
}

#[test]
fn rejected_inputs_name_the_right_place() {
    let mut failures = Vec::new();
    for (i, (text, line, col, kind, kw)) in REJECTED.iter().enumerate() {
        match parse_str(text, &opts()) {
            Ok(_) => failures.push(format!("case {i} {text:?}: accepted")),
            Err(d) => {
                let e = d.first_error().expect("an error");
                let got = (
                    e.span.line,
                    e.span.col,
                    e.kind,
                    e.keyword.clone().unwrap_or_default(),
                );
                let want = (*line, *col, *kind, kw.to_string());
                if got != want {
                    failures.push(format!(
                        "case {i} {text:?}: got {got:?}, want {want:?}: {e}"
                    ));
                }
                let shown = e.to_string();
                assert!(shown.starts_with("t.cf:"), "{shown}");
                if *kind != ErrorKind::InvalidConfiguration {
                    assert!(shown.contains(kind.as_str()), "{shown}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// (input, warning substring, line)
const WARNED: &[(&str, &str, u32)] = &[
    // Values Piranha took, read as it used them.
    ("keepalive = 0\n", "0 seconds: read as 1", 1),
    ("deadtime = 0\n", "harmless without a partner director", 1),
    ("deadtime = 3\ndeadtime = 0\n", "harmless without a partner director", 2),
    ("virtual a {\n persistent = -1\n}\n", "-1 is negative: read as 0", 2),
    ("virtual a {\n reentry = -5\n}\n", "-5 is negative: read as 1", 2),
    ("virtual a {\n server b {\n  weight = -5\n }\n}\n", "-5 is negative: read as 1", 3),
    // Piranha's tokenizer: a quoted value with its own quote inside, no blank.
    ("virtual a {\n expect = \"{\"status\":\"ok\"}\"\n}\n", "read as `{\"status\":\"ok\"}`", 2),
    ("virtual a {\n expect = \"\"OK\"\"\n}\n", "read as `\"OK\"`", 2),
    // Piranha's second `ipvsadm -A` failed and only that block was lost.
    (
        "virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n}\nvirtual b {\n active = 1\n address = 1.2.3.4 eth0:1\n}\n",
        "`b` is left out, as Piranha's second `ipvsadm -A` failed",
        7,
    ),
    (
        "virtual a {\n active = 1\n fwmark = 3\n}\nvirtual b {\n active = 1\n fwmark = 3\n}\n",
        "both fwmark 3: `b` is left out",
        7,
    ),
    // An active server without an address: no nanny.
    (
        "virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n server s {\n  active = 1\n }\n}\n",
        "has no address: it is left out (no nanny)",
        4,
    ),
    // Port 0: the all-ports persistent service Piranha programmed.
    (
        "virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n port = 0\n}\n",
        "port 0 and no `persistent`: it is left out",
        4,
    ),
    (
        "virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n port = 0\n persistent = 300\n server s {\n  address = 10.0.0.1\n  active = 1\n }\n}\n",
        "checked on port 0, which never answers",
        6,
    ),
    // Piranha ran an active block without a VIP: a fwmark service whose
    // addresses live elsewhere, or (without a mark) nothing.
    ("virtual a {\n active = 1\n}\n", "has no `address`: it is left out", 1),
    ("virtual a {\n active = 1\n address = 0.0.0.0 eth0:1\n}\n", "has the address 0.0.0.0: it is left out", 3),
    ("virtual a {\n active = 1\n fwmark = 5\n}\n", "pulse brings no virtual IP up for it; lvs programs fwmark 5", 1),
    // Piranha closed open blocks at the end of the file.
    ("virtual a {\n port = 80\n", "`virtual a` opened at line 1 is never closed", 3),
    ("virtual a {\n server b {\n }\n", "never closed", 4),
    // Piranha never read the values of an inactive block.
    ("virtual a {\n port = 70000\n}\n", "ignored, because `virtual a` is inactive", 2),
    ("virtual a {\n timeout = 0\n active = 0\n}\n", "is inactive", 2),
    ("virtual a {\n server b {\n  port = 70000\n }\n active = 1\n address = 1.2.3.4 eth0:1\n}\n", "`server b` is inactive", 3),
    ("virtual a {\n server b {\n  port = 70000\n  active = 1\n }\n}\n", "`virtual a` is inactive", 3),
    // Values Piranha read its own way (docs/research/lvs-cf-piranha-acceptance.md).
    ("virtual a {\n server b {\n  weight = 70000\n  active = 1\n }\n active = 1\n}\n", "70000 is above 65535: read as 65535", 3),
    ("virtual a {\n active = \"\"\n}\n", "an empty value is read as 0", 2),
    ("virtual a {\n quiesce_server = \" 1\"\n}\n", "the blanks before `1` are skipped", 2),
    ("tcp_timeout = -1\n", "lvs does not set the timeouts", 1),
    ("udp_timeout = 3000000\n", "lvs does not set the timeouts", 1),
    ("heartbeat_port = 70000\n", "read as 4464", 1),
    ("virtual a {\n fwmark = 4294967297\n}\n", "read as 1, as Piranha's atoi wrapped it", 2),
    ("virtual a {\n fwmark = -1\n}\n", "read as 4294967295", 2),
    ("primary \"=\" 1.2.3.4\n", "`=` in quotes is read as `=`", 1),
    ("virtual a \"{\"\n}\n", "`{` in quotes is read as `{`", 1),
    ("virtual a {\n\"}\"\n", "`}` in quotes is read as `}`", 2),
    ("\"virtual\" a {\n \"port\" = 81\n}\n", "`port` in quotes is read as `port`", 2),
    ("virtual a {\n port = 70000\n active = 1\n}\n", "port 70000 is out of range; expected 0 to 65535; the virtual server `a` is left out of the table", 2),
    ("virtual a {\n active = 1\n persistent = 3000000\n}\n", "the virtual server `a` is left out of the table, as Piranha's ipvsadm -A failed", 3),
    ("serial_no = 4294967297\n", "read as 1", 1),
    ("monitor_links = 99999999999\n", "read as 1215752191", 1),
    ("virtual a {\n active = 4294967297\n}\n", "does not fit a 32-bit int: read as 1", 2),
    ("virtual a {\n dirs = [ /a /b ] extra\n}\n", "text after the closing `]` is ignored", 2),
    ("virtual a {\n timeout = 010\n}\n", "read as octal: 8", 2),
    ("primary = 10.200\n", "read as 10.0.0.200", 1),
    ("virtual a {\n pmask = 255.255.255.255\n}\n", "treated as unset", 2),
    ("virtual a {\n pmask = junk\n}\n", "ignored", 2),
    ("virtual a {\n expect = 'OK'\n}\n", "single quotes", 2),
    ("virtual a {\n server b {\n }\n port = 81\n}\n", "gets 80", 2),
    ("virtual a {\n}\n}\n", "", 0),
    ("virtual a {\n} # end of a\n", "text after a closing", 2),
    ("virtual a {\n}\nvirtual a {\n}\n", "a second virtual server named `a`", 3),
    ("virtual a {\n}\nfailover b {\n}\n", "both virtual and failover", 3),
    ("primary = 1.2.3.4\nprimary = 1.2.3.5\n", "value from line 1 is overridden", 2),
    ("keepalive = 5\ndeadtime = 5\n", "not longer than keepalive", 2),
    ("backup_active = 1\n", "no `backup` address", 1),
    ("syncd_id = 300\n", "sync id used is 44", 1),
    ("nat_nmask = 255.0.255.0\n", "not a contiguous netmask", 1),
    ("virtual a {\n server x {\n  address = 1.1.1.1\n }\n server y {\n  address = 1.1.1.1\n }\n}\n", "same real server 1.1.1.1:80", 6),
    (
        "virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n port = 80\n}\nvirtual b {\n active = 1\n address = 1.2.3.4 eth1:1\n port = 443\n}\n",
        "on eth1:1 here but on eth0:1",
        8,
    ),
];

#[test]
fn warnings_are_reported_and_the_file_accepted() {
    for (text, what, line) in WARNED {
        let r = parse_str(text, &opts());
        if what.is_empty() {
            // A stray `}` at top level is an error, not a warning.
            assert!(r.is_err(), "{text:?}");
            continue;
        }
        let p = r.unwrap_or_else(|e| panic!("{text:?} rejected: {e}"));
        let w = p
            .warnings
            .iter()
            .find(|w| w.to_string().contains(what))
            .unwrap_or_else(|| panic!("{text:?}: no warning with {what:?} in {:?}", p.warnings));
        assert_eq!(w.severity, Severity::Warning);
        assert_eq!(w.span.line, *line, "{w}");
    }
}

#[test]
fn odd_values_read_as_piranha_read_them() {
    let c = |t: &str| parse_str(t, &opts()).unwrap().config;
    let cfg = c("heartbeat_port = -1\nvirtual a {\n active = \"\"\n quiesce_server = \" 1\"\n port = \"\"\n persistent = 30\n server b {\n  weight = 100000\n }\n dirs = [ /a ] x y\n}\n");
    assert_eq!(cfg.heartbeat_port(), 65535);
    let vs = &cfg.virtual_servers[0];
    assert!(!vs.active());
    assert!(vs.quiesce_server());
    assert_eq!(vs.port(), 0);
    assert_eq!(vs.servers[0].weight(), 65535);
    assert_eq!(vs.dirs.as_ref().unwrap().value, ["/a"]);
    assert_eq!(
        c("tcp_timeout = 900\nudp_timeout = -1\n").ipvs_timeouts(),
        None
    );
    assert_eq!(c("tcp_timeout = 900\n").ipvs_timeouts(), Some((900, 0, 0)));
    assert_eq!(c("tcp_timeout = 0\n").ipvs_timeouts(), None);
    let cfg = c("serial_no = 4294967297\nsyncd_id = 4294967296\nvirtual a {\n active = 4294967297\n fwmark = -1\n}\nvirtual b {\n fwmark = 4294967298\n}\n");
    assert_eq!(cfg.serial_no.as_ref().unwrap().value, 1);
    assert_eq!(cfg.syncd_id.as_ref().unwrap().value, 0);
    assert!(cfg.virtual_servers[0].active());
    assert_eq!(cfg.virtual_servers[0].fwmark(), u32::MAX);
    assert_eq!(cfg.virtual_servers[1].fwmark(), 2);
    // A value Piranha's ipvsadm -A refused leaves that block out, not the file.
    let cfg = c("virtual a {\n active = 1\n address = 1.2.3.4 eth0:1\n port = 70000\n}\nvirtual b {\n active = 1\n address = 1.2.3.5 eth0:1\n persistent = 3000000\n}\nvirtual c {\n active = 1\n address = 1.2.3.6 eth0:1\n}\n");
    assert!(cfg.virtual_servers[0].left_out && cfg.virtual_servers[1].left_out);
    let names: Vec<&str> = cfg
        .table_virtual_servers()
        .map(|v| v.name.value.as_str())
        .collect();
    assert_eq!(names, ["c"]);
    let cfg = c("virtual a {\n port = 70000\n}\n");
    assert!(
        !cfg.virtual_servers[0].left_out,
        "an inactive block is only warned of"
    );
}

#[test]
fn accepted_edge_cases() {
    let ok = [
        "# only a comment\n",
        "   \n\t\n",
        "primary = 1.2.3.4",
        "primary = 1.2.3.4\r\nbackup = 1.2.3.5\r\n",
        "primary = 1.2.3.4\rbackup = 1.2.3.5\r",
        "  # indented comment\nprimary\t=\t1.2.3.4  \n",
        "virtual a {\n send = \"x\" \n}\n",
        "virtual a {\n}",
        "primary = director1.example\n",
        "virtual a {\n port = http\n}\n",
        "virtual a {\n fwmark = 0x50\n}\n",
        "virtual a {\n dirs = [ /etc /var ]\n}\n",
        "virtual a {\n dirs = [ ]\n}\n",
        "failover f {\n active = 1\n address = 1.2.3.4 eth0:1\n start_cmd = \"/etc/init.d/x start\"\n}\n",
        "keepalive = 0.2\ndeadtime = 0.6\n",
        "virtual ü {\n}\n",
    ];
    for t in ok {
        if let Err(e) = parse_str(t, &opts()) {
            panic!("{t:?} rejected:\n{e}");
        }
    }
}

#[test]
fn errors_are_collected_past_the_first() {
    let t = "bogus = 1\nprimary = 0.0.0.0\nvirtual a {\n active = 7\n}\n";
    let d = parse_str(t, &opts()).unwrap_err();
    let lines: Vec<u32> = d.errors().map(|e| e.span.line).collect();
    assert_eq!(lines, vec![1, 2, 4]);
}

#[test]
fn latin1_files_parse() {
    let bytes = b"# r\xe9seau\nprimary = 1.2.3.4\n";
    let text = lvs_config::parse::decode(bytes);
    let p = parse_str(&text, &opts()).unwrap();
    assert_eq!(p.config.primary().to_string(), "1.2.3.4");
    assert_eq!(lvs_config::parse::encode(&text, true), bytes.to_vec());
}

#[test]
fn a_glued_quote_reads_as_piranha_read_it() {
    let p = parse_str(
        "virtual a {\n expect = \"{\"status\":\"ok\"}\"\n}\n",
        &opts(),
    )
    .unwrap();
    let x = p.config.virtual_servers[0].expect.as_ref().unwrap();
    assert_eq!(x.value.as_passed_to_nanny(), "{\"status\":\"ok\"}");
    // The canonical writer writes it back the same way: a fixed point.
    for text in [
        "virtual a {\n expect = \"{\"status\":\"ok\"}\"\n}\n",
        "virtual a {\n expect = \"\"OK\"\"\n send = 'it's'\n}\n",
    ] {
        let first = parse_str(text, &opts()).unwrap().config;
        let canon = lvs_config::write_config(&first);
        let second = parse_str(&canon, &opts()).unwrap().config;
        assert_eq!(second, first, "{canon}");
        assert_eq!(lvs_config::write_config(&second), canon);
    }
}

#[test]
fn the_last_deadtime_wins() {
    let p = parse_str(
        "backup_active = 1\nbackup = 1.2.3.5\ndeadtime = 0\ndeadtime = 6\n",
        &opts(),
    )
    .unwrap();
    assert_eq!(p.config.deadtime(), lvs_config::Seconds::secs(6));
    let p = parse_str("deadtime = 6\ndeadtime = 0\n", &opts()).unwrap();
    assert!(p.config.deadtime.is_none(), "{:?}", p.config.deadtime);
}
