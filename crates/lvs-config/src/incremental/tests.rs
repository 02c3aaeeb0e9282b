//! Unit tests of `incremental`.

use super::*;
use crate::parse::Resolver;
use proptest::prelude::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "lvs.cf".into(),
        resolver: Resolver::None,
    }
}

fn farm(n: usize) -> String {
    let mut s = String::from("serial_no = 3\nprimary = 10.0.0.1\nnetwork = nat\n");
    for i in 0..n {
        s.push_str(&format!(
            "virtual vs{i} {{\n    active = 1\n    address = 192.0.2.{} eth0:1\n    port = 80\n    scheduler = wlc\n    timeout = 6\n",
            i + 1
        ));
        for r in 1..=3 {
            s.push_str(&format!(
                "    server rs{r} {{\n        address = 10.0.{r}.{}\n        active = 1\n        weight = 1\n    }}\n",
                i + 1
            ));
        }
        s.push_str("}\n");
        if i == 1 {
            s.push_str("# a comment between blocks\nkeepalive = 2\n");
        }
    }
    s.push_str("ipvsadm = /sbin/ipvsadm\n");
    s
}

/// The shortcut, when taken, gives exactly what a full parse gives,
/// spans and layout included.
fn same_as_full(old: &str, new: &str) -> bool {
    let prev = parse_str(old, &opts()).expect("base parses cleanly");
    let full = parse_str(new, &opts());
    let fast = splice(old, &prev, new, &opts());
    if let Some(f) = &fast {
        let full = full
            .as_ref()
            .expect("a spliced parse means the full parse succeeds");
        assert_eq!(format!("{f:?}"), format!("{full:?}"), "edit:\n{new}");
    }
    let r = reparse(old, &prev, new, &opts());
    assert_eq!(format!("{r:?}"), format!("{full:?}"));
    fast.is_some()
}

#[test]
fn one_changed_weight_reparses_one_block() {
    let old = farm(5);
    let new = old.replacen(
        "weight = 1\n    }\n}\nvirtual vs3",
        "weight = 7\n    }\n}\nvirtual vs3",
        1,
    );
    assert_ne!(old, new);
    assert!(same_as_full(&old, &new));
}

#[test]
fn added_and_removed_lines_move_everything_after() {
    let old = farm(5);
    let add = old.replacen(
        "    timeout = 6\n",
        "    timeout = 6\n    server extra {\n        address = 10.9.9.9\n        active = 1\n    }\n",
        1,
    );
    assert!(same_as_full(&old, &add));
    assert!(same_as_full(&add, &old));
    let crlf = old.replace('\n', "\r\n");
    let crlf_add = add.replace('\n', "\r\n");
    assert!(same_as_full(&crlf, &crlf_add));
}

#[test]
fn failover_blocks_too() {
    let old = "service = fos\nprimary = 10.0.0.1\nfailover a {\n    active = 1\n    address = 192.0.2.200 eth0:2\n    port = 21\n}\nfailover b {\n    active = 1\n    address = 192.0.2.201 eth0:3\n    port = 21\n}\nserial_no = 1\n";
    assert!(same_as_full(
        old,
        &old.replacen("port = 21", "port = 2121\n    timeout = 4", 1)
    ));
}

#[test]
fn edits_outside_one_block_or_with_findings_parse_in_full() {
    let old = farm(3);
    // A global.
    assert!(!same_as_full(
        &old,
        &old.replace("serial_no = 3", "serial_no = 4")
    ));
    // Two blocks.
    assert!(!same_as_full(&old, &old.replace("port = 80", "port = 81")));
    // A duplicate VIP:port made inside one block: whole-file check fails.
    assert!(!same_as_full(
        &old,
        &old.replacen("192.0.2.2 eth0:1", "192.0.2.1 eth0:1", 1)
    ));
    // A block split in two.
    assert!(!same_as_full(
        &old,
        &old.replacen(
            "    scheduler = wlc\n",
            "}\nvirtual split {\n    active = 0\n",
            1
        )
    ));
    // An error inside the block.
    assert!(!same_as_full(
        &old,
        &old.replacen("weight = 1", "weight = x", 1)
    ));
}

#[test]
fn host_names_are_looked_up_again() {
    let old = farm(3).replace("address = 10.0.1.2\n", "address = localhost\n");
    let o = ParseOptions {
        file: "lvs.cf".into(),
        resolver: Resolver::System,
    };
    let prev = parse_str(&old, &o).expect("localhost resolves");
    assert!(splice(&old, &prev, &old, &o).is_none());
    let new = old.replacen("weight = 1", "weight = 2", 1);
    assert!(splice(&old, &prev, &new, &o).is_none());
}

#[test]
fn samples_survive_edits_inside_their_blocks() {
    let mut tested = 0;
    for (name, text) in [
        ("nat", include_str!("../../../../etc/nat-web-farm.cf")),
        ("dr", include_str!("../../../../etc/direct-routing.cf")),
        ("fw", include_str!("../../../../etc/fwmark-http-https.cf")),
        ("ftp", include_str!("../../../../etc/ftp-fwmark.cf")),
        ("dns", include_str!("../../../../etc/udp-dns.cf")),
    ] {
        if parse_str(text, &opts()).map(|p| p.warnings.is_empty()) != Ok(true) {
            continue;
        }
        // The first `active = 1` inside a block (not `backup_active`).
        let new = text.replacen("\n    active = 1", "\n    active = 0", 1);
        assert_ne!(new, text, "{name}");
        assert!(same_as_full(text, &new), "{name}: the edit was not spliced");
        tested += 1;
    }
    assert!(tested >= 2, "only {tested} samples parse without warnings");
}

const PIECES: &[&str] = &[
    "weight = 5\n",
    "        active = 0\n",
    "}\n",
    "server x {\n",
    "# comment\n",
    "\"",
    "'",
    "port = 81",
    " ",
    "\n",
    "\r\n",
    "\r",
    "virtual y {\n",
    "7",
    "=",
    "é",
    "{",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn any_edit_gives_what_a_full_parse_gives(
        at in 0usize..2000,
        cut in 0usize..12,
        piece in 0usize..PIECES.len(),
        crlf in any::<bool>(),
    ) {
        let mut old = farm(4);
        if crlf {
            old = old.replace('\n', "\r\n");
        }
        let mut at = at % old.len();
        while !old.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + cut).min(old.len());
        while !old.is_char_boundary(end) {
            end += 1;
        }
        let new = format!("{}{}{}", &old[..at], PIECES[piece], &old[end..]);
        same_as_full(&old, &new);
    }
}

/// Blocks that share a VIP (other ports, a fwmark), an inactive twin
/// and a quorum: edits here reach every cross-block check, and the
/// splice asserts (debug builds) that its one-block check agrees with
/// the whole-file one.
fn crowded() -> String {
    let mut s = String::from("primary = 10.0.0.1\nnetwork = nat\n");
    for (name, extra) in [
        ("web", "    port = 80\n"),
        ("tls", "    port = 443\n"),
        ("mark", "    fwmark = 5\n"),
        ("twin", "    port = 80\n    active = 0\n"),
        ("q", "    port = 8080\n    quorum = 2\n    hysteresis = 1\n"),
    ] {
        s.push_str(&format!(
            "virtual {name} {{\n    address = 192.0.2.1 eth0:1\n{extra}    server a {{\n        address = 10.0.0.2\n        active = 1\n        weight = 2\n    }}\n    server b {{\n        address = 10.0.0.3\n        active = 1\n    }}\n}}\n"
        ));
    }
    s.replace("virtual web {\n", "virtual web {\n    active = 1\n")
        .replace("virtual tls {\n", "virtual tls {\n    active = 1\n")
        .replace("virtual mark {\n", "virtual mark {\n    active = 1\n")
        .replace("virtual q {\n", "virtual q {\n    active = 1\n")
}

const CROWDED_PIECES: &[&str] = &[
    "    port = 443\n",
    "    port = 80\n",
    "    fwmark = 5\n",
    "    fwmark = 6\n",
    "    active = 1\n",
    "    active = 0\n",
    "eth0:2",
    "192.0.2.9",
    "0.0.0.0",
    "    protocol = udp\n",
    "    pmask = 255.255.255.0\n",
    "    persistent = 30\n",
    "    send = \"x\"\n    send_program = \"/bin/true\"\n",
    "    quorum = 9\n",
    "    hysteresis = 4\n",
    "    server a {\n        address = 10.0.0.2\n    }\n",
    "virtual web {\n",
    "virtual x {\n",
    "        active = 0\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    #[test]
    fn crowded_edits_give_what_a_full_parse_gives(
        at in 0usize..2000,
        cut in 0usize..40,
        piece in 0usize..CROWDED_PIECES.len(),
    ) {
        let old = crowded();
        let at = at % old.len();
        let end = (at + cut).min(old.len());
        // Whole lines mostly: snap the cut to line starts half the time.
        let (at, end) = if cut % 2 == 0 {
            let a = old[..at].rfind('\n').map_or(0, |i| i + 1);
            let e = old[end..].find('\n').map_or(old.len(), |i| end + i + 1);
            (a, if cut % 4 == 0 { a } else { e })
        } else {
            (at, end)
        };
        let new = format!("{}{}{}", &old[..at], CROWDED_PIECES[piece], &old[end..]);
        same_as_full(&old, &new);
    }
}

#[test]
fn crowded_base_is_clean_and_its_cross_block_edits_are_caught() {
    let old = crowded();
    let prev = parse_str(&old, &opts()).unwrap();
    assert!(prev.warnings.is_empty(), "{:?}", prev.warnings);
    // tls moved onto web's port: an error, so a full parse reports it.
    let dup = old.replacen("    port = 443\n", "    port = 80\n", 1);
    assert!(!same_as_full(&old, &dup));
    // The inactive twin activated: the same.
    let twin = old.replacen(
        "    port = 80\n    active = 0\n",
        "    port = 80\n    active = 1\n",
        1,
    );
    assert!(!same_as_full(&old, &twin));
    // The VIP on another device in one block: a warning.
    let dev = old.replacen(
        "192.0.2.1 eth0:1\n    port = 443",
        "192.0.2.1 eth0:2\n    port = 443",
        1,
    );
    assert!(!same_as_full(&old, &dev));
    // A second block named `web`.
    let name = old.replacen("virtual tls {", "virtual web {", 1);
    assert!(!same_as_full(&old, &name));
    // A second fwmark 5.
    let mark = old.replacen("    port = 443\n", "    fwmark = 5\n", 1);
    assert!(!same_as_full(&old, &mark));
    // The twin on another port while inactive: spliced.
    let ok = old.replacen(
        "    port = 80\n    active = 0\n",
        "    port = 81\n    active = 0\n",
        1,
    );
    assert!(same_as_full(&old, &ok));
}

#[test]
fn crowded_line_edits_reach_both_outcomes() {
    // Every piece inserted at every line start: many are spliced, and
    // many others are refused for a finding that pairs two blocks
    // (each went through the one-block check, asserted equal to the
    // whole-file one in debug builds).
    let old = crowded();
    let (mut spliced, mut crossed) = (0, 0);
    let starts: Vec<usize> = std::iter::once(0)
        .chain(old.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < old.len())
        .collect();
    for &at in &starts {
        for piece in CROWDED_PIECES {
            let new = format!("{}{}{}", &old[..at], piece, &old[at..]);
            if same_as_full(&old, &new) {
                spliced += 1;
                continue;
            }
            let findings = match parse_str(&new, &opts()) {
                Ok(p) => p.warnings,
                Err(d) => d.errors().cloned().collect(),
            };
            if findings.iter().any(|f| {
                let t = f.to_string();
                t.contains("a second virtual server")
                    || t.contains("VIP 192.0.2.1 is on")
                    || t.contains("are both")
                    || t.contains("both use fwmark")
            }) {
                crossed += 1;
            }
        }
    }
    eprintln!("{spliced} spliced, {crossed} refused for a cross-block finding");
    assert!(spliced > 100, "{spliced} spliced");
    assert!(crossed > 20, "{crossed} refused for a cross-block finding");
}

#[test]
fn in_place_returns_the_old_block_and_keeps_the_parse_on_errors() {
    let old = farm(4);
    let mut p = parse_str(&old, &opts()).unwrap();
    // The fourth `weight = 1` is in vs1 (three servers a block).
    let (at, _) = old.match_indices("weight = 1").nth(3).unwrap();
    let new = format!("{}weight = 4{}", &old[..at], &old[at + 10..]);
    match reparse_in_place(&old, &mut p, &new, &opts()).unwrap() {
        Reparsed::Virtual(1, was) => {
            assert_eq!(was.servers[0].weight(), 1);
            assert_eq!(p.config.virtual_servers[1].servers[0].weight(), 4);
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(
        format!("{p:?}"),
        format!("{:?}", parse_str(&new, &opts()).unwrap())
    );
    assert!(matches!(
        reparse_in_place(&new, &mut p, &new, &opts()).unwrap(),
        Reparsed::Same
    ));
    let before = format!("{p:?}");
    let broken = new.replacen("weight = 4", "weight = x", 1);
    assert!(reparse_in_place(&new, &mut p, &broken, &opts()).is_err());
    // A value out of range in an active block (a duplicate service is only
    // a warning now: the first block wins, as in Piranha).
    let out_of_range = new.replacen("weight = 4", "weight = 4\n  port = 70000", 1);
    assert!(reparse_in_place(&new, &mut p, &out_of_range, &opts()).is_err());
    assert_eq!(format!("{p:?}"), before);
    // A global edit: the whole file, and the old parse handed back.
    let glob = new.replace("serial_no = 3", "serial_no = 4");
    match reparse_in_place(&new, &mut p, &glob, &opts()).unwrap() {
        Reparsed::Full(was) => assert_eq!(format!("{was:?}"), before),
        r => panic!("{r:?}"),
    }
}

#[test]
fn most_single_line_edits_take_the_shortcut() {
    // Every `weight = 1` changed in turn: each must be spliced.
    let old = farm(4);
    let mut taken = 0;
    for (i, _) in old.match_indices("weight = 1") {
        let new = format!("{}weight = 9{}", &old[..i], &old[i + 10..]);
        taken += same_as_full(&old, &new) as usize;
    }
    assert_eq!(taken, 12);
}
