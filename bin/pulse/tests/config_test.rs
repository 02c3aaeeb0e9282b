//! `pulse --config-test`.

use std::process::Command;

fn pulse(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .expect("run pulse");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn valid_file_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(&p, "primary = 192.0.2.10\nkeepalive = 5\ndeadtime = 5\n").unwrap();
    let f = p.to_str().unwrap();
    let (code, out, err) = pulse(&["--configfile", f, "--config-test"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("configuration file {f} is valid (1 warning)\n")
    );
    assert!(err.contains(":3:12: warning: `deadtime`"), "{err}");
}

#[test]
fn invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lvs.cf");
    std::fs::write(&p, "primary = 0.0.0.0\n").unwrap();
    let (code, _, err) = pulse(&["-c", p.to_str().unwrap(), "--config-test"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(":1:11: error: `primary`: invalid host name or ip address"),
        "{err}"
    );
}
