//! `lvs --config-test` as an administrator runs it.

use std::process::Command;

fn lvs(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvs"))
        .args(args)
        .output()
        .expect("run lvs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn samples() -> Vec<std::path::PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cf"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "the five sample files");
    v
}

#[test]
fn every_sample_is_valid() {
    for f in samples() {
        let f = f.to_str().unwrap();
        let (code, out, err) = lvs(&["-c", f, "--config-test"]);
        assert_eq!(code, 0, "{f}: {err}");
        assert_eq!(out, format!("configuration file {f} is valid\n"));
        assert_eq!(err, "", "{f} has warnings");
    }
}

#[test]
fn print_writes_a_canonical_file_that_parses_to_the_same() {
    let dir = tempfile::tempdir().unwrap();
    for f in samples() {
        let f = f.to_str().unwrap();
        let (code, canon, _) = lvs(&["--configfile", f, "--config-test", "--print"]);
        assert_eq!(code, 0);
        let p = dir.path().join("canon.cf");
        std::fs::write(&p, &canon).unwrap();
        let (code, again, _) = lvs(&["-c", p.to_str().unwrap(), "--config-test", "--print"]);
        assert_eq!(code, 0);
        assert_eq!(again, canon, "canonical form is a fixed point for {f}");
        let a = lvs_config::parse_file(std::path::Path::new(f))
            .unwrap()
            .config;
        let b = lvs_config::parse_file(&p).unwrap().config;
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn print_keeps_the_files_block_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(
        &p,
        "primary = 192.0.2.10\nvirtual www {\n    port = 80\n}\nfailover ftp {\n    port = 21\n}\nvirtual mail {\n    port = 25\n}\n",
    )
    .unwrap();
    let (code, out, _) = lvs(&["-c", p.to_str().unwrap(), "--config-test", "--print"]);
    assert_eq!(code, 0);
    let headers: Vec<&str> = out.lines().filter(|l| l.ends_with(" {")).collect();
    assert_eq!(
        headers,
        ["virtual www {", "failover ftp {", "virtual mail {"],
        "{out}"
    );
}

#[test]
fn errors_name_the_place_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(
        &p,
        "primary = 192.0.2.10\nvirtual www {\n    active = 1\n    address = 192.0.2.80 eth0:1\n    schedular = wlc\n}\n",
    )
    .unwrap();
    let f = p.to_str().unwrap();
    let (code, out, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("{f}:5:5: error: `schedular`: unknown command")),
        "{err}"
    );
    assert!(err.contains("did you mean `scheduler`?"), "{err}");
    assert!(err.ends_with("is not valid: 1 error\n"), "{err}");
}

#[test]
fn an_ipv6_service_with_ipv4_real_servers_needs_a_tunnel() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    let cf = |network: &str| {
        format!("primary = 2001:db8:1::10\nnetwork = {network}\nvirtual www6 {{\n    active = 1\n    address = 2001:db8:100::80 eth0\n    server web1 {{\n        address = 192.0.2.21\n        active = 1\n    }}\n}}\n")
    };
    std::fs::write(&p, cf("direct")).unwrap();
    let f = p.to_str().unwrap();
    let (code, _, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{f}:7:19: error: `address`: invalid configuration: real server `web1` (192.0.2.21) is IPv4 but virtual server `www6` is IPv6: the kernel forwards to another family only through a tunnel")),
        "{err}"
    );
    std::fs::write(&p, cf("tunnel")).unwrap();
    let (code, out, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("is valid"), "{out}");
}

#[test]
fn a_missing_file_is_an_io_error() {
    let (code, _, err) = lvs(&["-c", "/nonexistent/lvs.cf", "--config-test"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("I/O error while reading configuration"),
        "{err}"
    );
}

#[test]
fn a_binary_file_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    // A program given by mistake: NUL bytes and escape sequences, no lines.
    let p = dir.path().join("lvs.cf");
    std::fs::write(
        &p,
        b"\x7fELF\x02\x01\x01\x00\x00\x1b[2J\nvirtual\x00 {\n\x01\x02\x03\n",
    )
    .unwrap();
    let f = p.to_str().unwrap();
    let (code, out, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "{f}: error: not a text file: 11 of its first 29 bytes are control characters, the first NUL at offset 7; lvs.cf is plain text; is this the right file?\n\
             configuration file {f} is not valid: 1 error\n"
        )
    );
    // Control characters without a NUL: the same error.
    std::fs::write(&p, b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\n").unwrap();
    let (code, _, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!(
            "{f}: error: not a text file: 12 of its first 13 bytes are control characters;"
        )),
        "{err}"
    );
    // A Latin-1 file is text.
    std::fs::write(&p, b"# r\xe9seau\nprimary = 192.0.2.10\n").unwrap();
    let (code, _, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn control_characters_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(
        &p,
        "primary = 192.0.2.10\nvirtual www {\n    protocol = tcp\x1b[31m\n    sched\x1b]0;pwned\x07uler = wlc\r\n}\n",
    )
    .unwrap();
    let f = p.to_str().unwrap();
    let (code, _, err) = lvs(&["-c", f, "--config-test"]);
    assert_eq!(code, 1);
    assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
    assert!(err.contains("`tcp\\x1b[31m`"), "{err}");
    assert!(err.contains("`sched\\x1b]0;pwned\\x07uler`"), "{err}");
}
