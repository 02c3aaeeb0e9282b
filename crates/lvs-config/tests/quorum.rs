//! The quorum extension (issue 9): `quorum`, `hysteresis`, `quorum_up`,
//! `quorum_down` in a virtual block: values, errors with their position,
//! warnings for settings that cannot work, and the marked canonical form.

use lvs_config::{parse_str, write_config, ErrorKind, ParseOptions, Resolver};

fn opts() -> ParseOptions {
    ParseOptions {
        file: "q.cf".into(),
        resolver: Resolver::None,
    }
}

fn vs(body: &str) -> String {
    format!(
        "virtual www {{\n active = 1\n address = 192.0.2.1 eth0:1\n{body} server a {{\n  address = 10.0.0.1\n  active = 1\n  weight = 2\n }}\n server b {{\n  address = 10.0.0.2\n  active = 1\n  weight = 2\n }}\n}}\n"
    )
}

#[test]
fn values_are_read() {
    let p = parse_str(
        &vs(" quorum = 3\n hysteresis = 1\n quorum_up = \"/bin/echo up >>/tmp/q\"\n quorum_down = /usr/local/bin/down\n"),
        &opts(),
    )
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let v = &p.config.virtual_servers[0];
    assert_eq!((v.quorum(), v.hysteresis()), (Some(3), 1));
    assert_eq!(v.quorum_up.as_ref().unwrap().value, "/bin/echo up >>/tmp/q");
    assert_eq!(v.quorum_down.as_ref().unwrap().value, "/usr/local/bin/down");
}

#[test]
fn a_piranha_file_has_no_quorum() {
    let v = parse_str(&vs(""), &opts()).unwrap().config.virtual_servers[0].clone();
    assert_eq!(v.quorum(), None);
    assert!(!write_config(&parse_str(&vs(""), &opts()).unwrap().config).contains("extension"));
}

#[test]
fn bad_values_name_line_column_and_keyword() {
    // (body, line, col, kind, keyword, detail fragment)
    let cases: &[(&str, u32, u32, ErrorKind, &str, &str)] = &[
        (
            " quorum = 0\n",
            4,
            11,
            ErrorKind::InvalidArgument,
            "quorum",
            "expected 1 to",
        ),
        (
            " quorum = -1\n",
            4,
            11,
            ErrorKind::InvalidArgument,
            "quorum",
            "out of range",
        ),
        (
            " quorum = two\n",
            4,
            11,
            ErrorKind::IntegerExpected,
            "quorum",
            "",
        ),
        (
            " quorum = 3000000000\n",
            4,
            11,
            ErrorKind::InvalidArgument,
            "quorum",
            "",
        ),
        (
            " hysteresis = x\n",
            4,
            15,
            ErrorKind::IntegerExpected,
            "hysteresis",
            "",
        ),
        (
            " quorum =\n",
            4,
            9,
            ErrorKind::MissingArguments,
            "quorum",
            "",
        ),
        (
            " quorum = 1 2\n",
            4,
            13,
            ErrorKind::UnexpectedArguments,
            "quorum",
            "",
        ),
        (
            " quorum_up = /bin/a b\n",
            4,
            21,
            ErrorKind::UnexpectedArguments,
            "quorum_up",
            "",
        ),
        (
            " quorum_down = \"\"\n",
            4,
            16,
            ErrorKind::InvalidArgument,
            "quorum_down",
            "expected a command",
        ),
        (
            " quorum_up = \"  \"\n",
            4,
            14,
            ErrorKind::InvalidArgument,
            "quorum_up",
            "expected a command",
        ),
    ];
    for (body, line, col, kind, kw, frag) in cases {
        let text = vs(body);
        let e = parse_str(&text, &opts()).unwrap_err();
        let d = e.first_error().unwrap();
        assert_eq!(
            (d.span.line, d.span.col, d.kind, d.keyword.as_deref()),
            (*line, *col, *kind, Some(*kw)),
            "{body:?}: {d}"
        );
        let shown = d.to_string();
        assert!(
            shown.starts_with(&format!("q.cf:{line}:{col}: error: `{kw}`")),
            "{shown}"
        );
        assert!(shown.contains(frag), "{body:?}: {shown}");
    }
    // In a server block it is not a keyword.
    let e = parse_str("virtual a {\n server b {\n  quorum = 1\n }\n}\n", &opts()).unwrap_err();
    assert_eq!(e.first_error().unwrap().kind, ErrorKind::UnknownCommand);
}

#[test]
fn settings_that_cannot_work_are_warned_about() {
    let warn = |body: &str, what: &str| {
        let p = parse_str(&vs(body), &opts()).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        let w = p
            .warnings
            .iter()
            .find(|w| w.to_string().contains(what))
            .unwrap_or_else(|| panic!("{body:?}: no warning with {what:?} in {:?}", p.warnings));
        w.to_string()
    };
    let w = warn(" hysteresis = 1\n", "no `quorum`");
    assert!(w.starts_with("q.cf:4:15: warning: `hysteresis`"), "{w}");
    warn(" quorum_up = /bin/true\n", "`quorum_up` but no `quorum`");
    warn(
        " quorum_down = /bin/true\n",
        "`quorum_down` but no `quorum`",
    );
    let w = warn(" quorum = 4\n hysteresis = 1\n", "never gained");
    assert!(
        w.contains("4 + hysteresis 1 = 5") && w.contains("weight 4"),
        "{w}"
    );
    warn(
        " quorum = 2\n hysteresis = 2\n",
        "only when no real server is live",
    );
    // Within reach: no warning.
    let p = parse_str(&vs(" quorum = 3\n hysteresis = 1\n"), &opts()).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // Out of the lvs.cf weights' reach, but a dynamic misc check sets the
    // weight the quorum counts (up to 253): no warning.
    let p = parse_str(
        &vs(" quorum = 40\n check = misc\n check_program = \"/bin/w %h\"\n check_dynamic = 1\n"),
        &opts(),
    )
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // A misc check without dynamic mode: still warned about.
    let w = warn(
        " quorum = 40\n check = misc\n check_program = /bin/w\n",
        "never gained",
    );
    assert!(w.contains("dynamic misc check"), "{w}");
    // In a failover block: accepted and ignored, as other virtual keywords.
    let p = parse_str("failover f {\n quorum = 2\n}\n", &opts()).unwrap();
    assert!(p.warnings[0]
        .to_string()
        .contains("no effect in a failover block"));
}

#[test]
fn print_marks_the_extension_and_round_trips() {
    let text = vs(
        " quorum = 3\n hysteresis = 1\n quorum_up = \"/bin/echo up\"\n quorum_down = /bin/down\n",
    );
    let c = parse_str(&text, &opts()).unwrap().config;
    let out = write_config(&c);
    let want = "    # extension (piranha-rs): quorum; Piranha does not know these keywords\n    quorum = 3\n    hysteresis = 1\n    quorum_up = \"/bin/echo up\"\n    quorum_down = /bin/down\n    server a {\n";
    assert!(out.contains(want), "{out}");
    assert_eq!(parse_str(&out, &opts()).unwrap().config, c);
    assert_eq!(write_config(&parse_str(&out, &opts()).unwrap().config), out);
}
