//! Extension (issue 9): the health-check keys parse in virtual and server
//! blocks, a server overrides its virtual server, bad values are errors
//! with file:line:col and keyword, `--print` marks them, and the editor
//! keeps them when it changes other keys.

use lvs_config::writer::EXTENSION_MARK;
use lvs_config::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "t.cf".into(),
        resolver: Resolver::None,
    }
}

const FILE: &str = "\
primary = 10.0.0.1
virtual www {
    active = 1
    address = 192.0.2.100 eth0:1
    port = 80
    check = http
    check_path = /health
    check_status = \"200-299 301\"
    retry = 2
    retry_delay = 0.5
    rise = 1
    warmup = 3
    server a {
        address = 10.0.0.2
        active = 1
    }
    server b {
        address = 10.0.0.3
        active = 1
        check = misc
        check_program = \"/usr/local/bin/chk %h %p\"
        check_dynamic = 1
        retry = 0
    }
}
";

#[test]
fn server_keys_override_the_virtual_block() {
    let c = parse_str(FILE, &opts()).unwrap().config;
    let v = &c.virtual_servers[0];
    let a = v.servers[0].health_in(v);
    let b = v.servers[1].health_in(v);
    assert_eq!(a.kind(), CheckKind::Http);
    assert_eq!(a.retry.as_ref().unwrap().value, 2);
    assert_eq!(a.check_path.as_ref().unwrap().value, "/health");
    assert_eq!(b.kind(), CheckKind::Misc);
    assert_eq!(b.retry.as_ref().unwrap().value, 0);
    assert_eq!(b.rise.as_ref().unwrap().value, 1, "inherited");
    assert_eq!(b.retry_delay.as_ref().unwrap().value, Seconds(500));
    assert_eq!(
        b.check_program.as_ref().unwrap().value.text,
        "/usr/local/bin/chk %h %p"
    );
}

#[test]
fn print_marks_extensions_and_round_trips() {
    let c = parse_str(FILE, &opts()).unwrap().config;
    let out = write_config(&c);
    assert_eq!(out.matches(EXTENSION_MARK).count(), 2, "{out}");
    let mark = out.find(EXTENSION_MARK).unwrap();
    assert!(out[mark..].starts_with(&format!("{EXTENSION_MARK}\n    check = http\n")));
    assert_eq!(parse_str(&out, &opts()).unwrap().config, c);
    // A Piranha file prints no mark.
    let plain = parse_str("virtual v {\n port = 80\n}\n", &opts())
        .unwrap()
        .config;
    assert!(!write_config(&plain).contains(EXTENSION_MARK));
}

#[test]
fn bad_values_name_line_column_and_keyword() {
    let cases: &[(&str, u32, u32, &str)] = &[
        ("virtual a {\n check = icmp\n}\n", 2, 10, "check"),
        (
            "virtual a {\n check_status = 200-2999\n}\n",
            2,
            17,
            "check_status",
        ),
        (
            "virtual a {\n check_status = 299-200\n}\n",
            2,
            17,
            "check_status",
        ),
        (
            "virtual a {\n check_digest = abc\n}\n",
            2,
            17,
            "check_digest",
        ),
        (
            "virtual a {\n check_path = health\n}\n",
            2,
            15,
            "check_path",
        ),
        (
            "virtual a {\n check_dns_type = PTR\n}\n",
            2,
            19,
            "check_dns_type",
        ),
        ("virtual a {\n retry = -1\n}\n", 2, 10, "retry"),
        ("virtual a {\n rise = 0\n}\n", 2, 9, "rise"),
        (
            "virtual a {\n check_timeout = 0\n}\n",
            2,
            18,
            "check_timeout",
        ),
        (
            "virtual a {\n server b {\n  check_verify = yes\n }\n}\n",
            3,
            18,
            "check_verify",
        ),
        ("check = tcp\n", 1, 1, "check"),
    ];
    for (text, line, col, kw) in cases {
        // Range errors of an inactive block are only warnings (as Piranha
        // never read them): make each virtual server active.
        let text = &match text.rfind("}\n") {
            Some(i) => format!("{} active = 1\n}}\n", &text[..i]),
            None => text.to_string(),
        };
        let e = parse_str(text, &opts()).expect_err(text);
        let d = e.errors().next().unwrap();
        assert_eq!(
            (d.span.line, d.span.col, d.keyword.as_deref()),
            (*line, *col, Some(*kw)),
            "{text}: {d}"
        );
        assert!(
            d.to_string().starts_with(&format!("t.cf:{line}:{col}")),
            "{d}"
        );
    }
}

#[test]
fn editor_keeps_extension_keys() {
    let mut ed = Editor::new(FILE, opts()).unwrap();
    ed.set(Target::Virtual("www"), "port", "8080").unwrap();
    ed.set(Target::Server("www", "b"), "weight", "5").unwrap();
    let text = ed.text().to_string();
    for line in FILE
        .lines()
        .filter(|l| l.contains("check") || l.contains("retry"))
    {
        assert!(text.contains(line), "lost `{line}`:\n{text}");
    }
    // And an extension key itself can be set through the editor.
    ed.set(Target::Server("www", "a"), "rise", "4").unwrap();
    let v = &ed.config().virtual_servers[0];
    assert_eq!(v.servers[0].health.rise.as_ref().unwrap().value, 4);
}
