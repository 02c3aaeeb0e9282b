//! The comment-preserving editor: every untouched byte stays as it was, and
//! the edited file parses to the intended change.

use lvs_config::*;
use proptest::prelude::*;

fn opts() -> ParseOptions {
    ParseOptions {
        file: "gui.cf".into(),
        resolver: Resolver::None,
    }
}

/// A file as the Piranha GUI wrote it (5/9-space indents), with an
/// administrator's comments and a key the GUI does not know.
const GUI: &str = "\
# Director pair for the shop -- do not edit by hand on node 2!
serial_no = 41
primary = 192.168.1.10
service = lvs
backup_active = 1
backup = 192.168.1.11
heartbeat = 1
heartbeat_port = 539
keepalive = 6
deadtime = 18
network = nat
nat_router = 10.0.0.254 eth1:1
nat_nmask = 255.255.255.0
# keep the director up when one nanny dies
hard_shutdown = 0

virtual www {
     active = 1
     address = 192.168.1.100 eth0:1
     port = 80
     # health check
     send = \"GET / HTTP/1.0\\r\\n\\r\\n\"
     expect = \"HTTP\"
     scheduler = wlc
     protocol = tcp
     timeout = 6
     reentry = 15
     server web1 {
         address = 10.0.0.1
         active = 1
         weight = 1
     }
     server web2 {
         address = 10.0.0.2
         active = 1
         weight = 2
     }
}
";

fn ed() -> Editor {
    Editor::new(GUI, opts()).unwrap()
}

/// The part of `b` that differs from `a`, as (prefix length, a's middle, b's middle).
fn diff<'a>(a: &'a str, b: &'a str) -> (usize, &'a str, &'a str) {
    let p = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let s = a[p..]
        .bytes()
        .rev()
        .zip(b[p..].bytes().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (p, &a[p..a.len() - s], &b[p..b.len() - s])
}

#[test]
fn set_existing_key_changes_only_its_value() {
    let mut e = ed();
    e.set(Target::Global, "keepalive", "2").unwrap();
    let (_, old, new) = diff(GUI, e.text());
    assert_eq!((old, new), ("6", "2"));
    assert_eq!(e.config().keepalive(), Seconds::secs(2));

    let mut e = ed();
    e.set(Target::Server("www", "web2"), "weight", "5").unwrap();
    let (_, old, new) = diff(GUI, e.text());
    assert_eq!((old, new), ("2", "5"));
    assert_eq!(e.config().virtual_servers[0].servers[1].weight(), 5);
}

#[test]
fn new_keys_go_after_their_siblings_with_their_indent() {
    let mut e = ed();
    e.set(Target::Virtual("www"), "persistent", "300").unwrap();
    let want = GUI.replace(
        "     reentry = 15\n",
        "     reentry = 15\n     persistent = 300\n",
    );
    assert_eq!(
        e.text(),
        want,
        "inserted after the last key, before the servers"
    );
    assert_eq!(e.config().virtual_servers[0].persistent(), 300);

    let mut e = ed();
    e.set(Target::Global, "syncdaemon", "1").unwrap();
    let (at, old, new) = diff(GUI, e.text());
    assert_eq!((old, new), ("", "syncdaemon = 1\n"));
    assert!(GUI[..at].ends_with("hard_shutdown = 0\n"));

    let mut e = ed();
    e.set(Target::Server("www", "web1"), "port", "8080")
        .unwrap();
    let want = GUI.replace(
        "         address = 10.0.0.1\n         active = 1\n         weight = 1\n",
        "         address = 10.0.0.1\n         active = 1\n         weight = 1\n         port = 8080\n",
    );
    assert_eq!(e.text(), want);
}

#[test]
fn strings_are_quoted_and_comments_stay() {
    let mut e = ed();
    e.set_str(Target::Virtual("www"), "expect", "HTTP/1.1 200")
        .unwrap();
    let (_, old, new) = diff(GUI, e.text());
    assert_eq!((old, new), ("", "/1.1 200")); // `"HTTP` + `/1.1 200` + `"`
    assert!(e.text().contains("# health check\n"));
    assert_eq!(
        e.config().virtual_servers[0]
            .expect
            .as_ref()
            .unwrap()
            .value
            .text,
        "HTTP/1.1 200"
    );
}

#[test]
fn remove_deletes_whole_lines_only() {
    let mut e = ed();
    assert!(e.remove(Target::Virtual("www"), "send").unwrap());
    let (_, old, new) = diff(GUI, e.text());
    assert!(old.contains("send = "), "{old:?}");
    assert_eq!(new, "");
    assert!(e.config().virtual_servers[0].send.is_none());
    assert!(!e.remove(Target::Virtual("www"), "send").unwrap());
}

#[test]
fn blocks_are_added_renamed_removed_and_activated() {
    let mut e = ed();
    e.add_server("www", "web3").unwrap();
    e.set(Target::Server("www", "web3"), "address", "10.0.0.3")
        .unwrap();
    e.set_active(Target::Server("www", "web3"), true).unwrap();
    assert!(e.text().contains(
        "     server web3 {\n         address = 10.0.0.3\n         active = 1\n     }\n}\n"
    ));
    assert_eq!(e.config().virtual_servers[0].servers.len(), 3);

    e.rename(Target::Server("www", "web3"), "web9").unwrap();
    assert!(e.config().virtual_servers[0].server("web9").is_some());

    e.add_virtual("ftp").unwrap();
    e.set(Target::Virtual("ftp"), "address", "192.168.1.21 eth0:2")
        .unwrap();
    e.set(Target::Virtual("ftp"), "port", "21").unwrap();
    assert!(e
        .text()
        .ends_with("virtual ftp {\n    address = 192.168.1.21 eth0:2\n    port = 21\n}\n"));
    assert!(!e.config().virtual_server("ftp").unwrap().active());

    e.set_active(Target::Virtual("www"), false).unwrap();
    assert!(!e.config().virtual_server("www").unwrap().active());

    e.remove_block(Target::Server("www", "web1")).unwrap();
    assert!(e.config().virtual_servers[0].server("web1").is_none());
    e.remove_block(Target::Virtual("ftp")).unwrap();
    assert!(e.config().virtual_server("ftp").is_none());
    // The header comment and the unknown-to-the-GUI key survive everything.
    assert!(e.text().starts_with("# Director pair for the shop"));
    assert!(e
        .text()
        .contains("# keep the director up when one nanny dies\nhard_shutdown = 0\n"));
}

#[test]
fn serial_is_bumped() {
    let mut e = ed();
    e.bump_serial().unwrap();
    assert_eq!(e.config().serial_no(), 42);
    let (_, old, new) = diff(GUI, e.text());
    assert_eq!((old, new), ("1", "2"));
}

#[test]
fn invalid_edits_are_refused_and_change_nothing() {
    let mut e = ed();
    for (t, k, v) in [
        (Target::Global, "primary", "0.0.0.0"),
        (Target::Global, "keepalive", "soon"),
        (Target::Virtual("www"), "port", "70000"),
        (Target::Virtual("www"), "scheduler", "fastest"),
        (Target::Virtual("www"), "expect", "\"unterminated"),
        (Target::Server("www", "web1"), "address", "999.1.1.1"),
    ] {
        let r = e.set(t, k, v);
        assert!(matches!(r, Err(EditError::Invalid(_))), "{k} = {v}: {r:?}");
        assert_eq!(e.text(), GUI);
    }
    assert!(matches!(
        e.set(Target::Global, "weight", "1"),
        Err(EditError::NotAKeyword { .. })
    ));
    assert!(matches!(
        e.set(Target::Virtual("nope"), "port", "1"),
        Err(EditError::NotFound(_))
    ));
    assert!(matches!(e.add_virtual("www"), Err(EditError::Exists(_))));
    assert!(matches!(
        e.add_virtual("two words"),
        Err(EditError::Unrepresentable(..))
    ));
    assert!(matches!(
        e.set(Target::Global, "debug_level", "a\nb"),
        Err(EditError::Unrepresentable(..))
    ));
    assert_eq!(e.text(), GUI);
}

#[test]
fn crlf_files_stay_crlf() {
    let text = GUI.replace('\n', "\r\n");
    let mut e = Editor::new(text.clone(), opts()).unwrap();
    e.set(Target::Virtual("www"), "persistent", "60").unwrap();
    e.add_server("www", "web3").unwrap();
    assert!(!e.text().replace("\r\n", "").contains('\n'));
    assert_eq!(e.config().virtual_servers[0].persistent(), 60);
}

#[test]
fn files_without_final_newline_and_without_globals() {
    let mut e = Editor::new("virtual a {\n}", opts()).unwrap();
    e.set(Target::Global, "primary", "10.0.0.1").unwrap();
    assert_eq!(e.text(), "primary = 10.0.0.1\nvirtual a {\n}");
    e.add_virtual("b").unwrap();
    assert_eq!(
        e.text(),
        "primary = 10.0.0.1\nvirtual a {\n}\nvirtual b {\n}\n"
    );
}

#[test]
fn save_is_atomic_keeps_mode_and_backup() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lvs.cf");
    std::fs::write(&path, GUI).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let mut e = Editor::open(&path, opts()).unwrap();
    e.bump_serial().unwrap();
    e.save(&path, true).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o664);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("lvs.cf.bak")).unwrap(),
        GUI
    );
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("serial_no = 42\n"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

proptest! {
    /// Setting a global integer key: the file differs from the original in
    /// that one line only, and the parse says what was set.
    #[test]
    fn edit_then_parse_is_the_intended_change(
        key in prop::sample::select(vec!["keepalive", "deadtime", "heartbeat_port", "monitor_links", "tcp_timeout", "syncd_id"]),
        v in 1u32..1000,
    ) {
        let mut e = ed();
        let before = e.config().clone();
        e.set(Target::Global, key, &v.to_string()).unwrap();
        let mut want = before;
        match key {
            "keepalive" => want.keepalive = Some(Spanned::new(Seconds::secs(v as u64))),
            "deadtime" => want.deadtime = Some(Spanned::new(Seconds::secs(v as u64))),
            "heartbeat_port" => want.heartbeat_port = Some(Spanned::new(v as u16)),
            "monitor_links" => want.monitor_links = Some(Spanned::new(v as i64)),
            "tcp_timeout" => want.tcp_timeout = Some(Spanned::new(v)),
            _ => want.syncd_id = Some(Spanned::new(v as i64)),
        }
        prop_assert_eq!(e.config(), &want);
        let (_, old, new) = diff(GUI, e.text());
        prop_assert!(!old.contains('\n') || old.ends_with('\n'));
        prop_assert!(new.lines().count() <= 1, "{:?}", new);
    }
}
