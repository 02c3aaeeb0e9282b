//! nanny's command line as an administrator meets it: Piranha's argument
//! errors, the service type (`--lvs`/`--fos`) and `--help`, and what `-v`
//! logs of a reply or a send program's output (escaped, one line, capped).
//! The real binary against loopback servers, as in `nanny.rs`.

mod util;

use std::time::Duration;

use util::{Behaviour, Lab, Nanny, TcpServer};

const SEC: Duration = Duration::from_secs(1);

/// Run nanny with `args` to its end: exit code, stdout, stderr.
fn nanny(args: &[&str]) -> (Option<i32>, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nanny"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn argument_errors_are_piranhas() {
    let run = |args: &[&str]| {
        let (code, _, err) = nanny(args);
        (code, err.trim_end().to_string())
    };
    assert_eq!(
        run(&["--lvs"]),
        (
            Some(1),
            "nanny: No address supplied. Use '--help' for help.".into()
        )
    );
    assert_eq!(
        run(&["-h", "1.2.3.999", "--lvs"]),
        (Some(1), "nanny: bad IP address -- 1.2.3.999".into())
    );
    assert_eq!(run(&["-h", "1.2.3.4"]), (Some(1), NO_SERVICE_TYPE.into()));
    assert_eq!(
        run(&["-h", "1.2.3.4", "--lvs", "-V", "1.1.1.1", "-t", "0"]),
        (
            Some(1),
            "nanny: bad interval -- 0 (must be at least 1 second)".into()
        )
    );
    assert_eq!(
        run(&["--frobnicate"]),
        (
            Some(1),
            "nanny: bad argument --frobnicate: unknown option".into()
        )
    );
    let (code, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    let (code, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
}

/// What nanny says without `--lvs` or `--fos` (issue 20).
const NO_SERVICE_TYPE: &str =
    "nanny: unknown service type (one of --lvs or --fos is required). Use '--help' for help.";

#[test]
fn missing_lvs_and_fos_names_both_and_help_says_one_is_required() {
    let run = nanny;
    // Everything else a hand-typed check needs, but no service type: the
    // usage-error status (1), one line naming both options, nothing else.
    let (code, out, err) = run(&["-h", "127.0.0.1", "-V", "10.9.9.9", "-p", "80", "-n"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert_eq!(err, format!("{NO_SERVICE_TYPE}\n"));
    // The fast path (lvs's argv shape) and clap's (a clustered flag) agree.
    let (code, _, err) = run(&["-h", "127.0.0.1", "-V", "10.9.9.9", "-nc"]);
    assert_eq!((code, err.trim_end()), (Some(1), NO_SERVICE_TYPE));
    // Either one is enough to get past that check.
    for flag in ["--lvs", "--fos"] {
        let (_, _, err) = run(&["-h", "1.2.3.4", "-t", "0", flag]);
        assert!(err.starts_with("nanny: bad interval"), "{flag}: {err}");
    }
    for help in ["--help", "-?"] {
        let (code, out, err) = run(&[help]);
        assert_eq!((code, err.as_str()), (Some(0), ""), "{help}");
        assert!(
            out.contains("Usage: nanny --lvs|--fos -h IP [OPTIONS]"),
            "{out}"
        );
        let line = |opt: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(opt))
                .unwrap_or_else(|| panic!("no {opt} line in {out}"))
                .to_string()
        };
        for opt in ["--lvs ", "--fos "] {
            assert!(
                line(opt).ends_with("One of --lvs or --fos is required"),
                "{}",
                line(opt)
            );
        }
        assert!(
            out.trim_end().ends_with(
                "One of --lvs or --fos is required, and so is -h (lvs(8) starts every nanny with --lvs)."
            ),
            "{out}"
        );
    }
    let (code, out, _) = run(&["--usage"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("Usage: nanny --lvs|--fos -h|--server IP ["),
        "{out}"
    );
}

#[test]
fn verbose_dumps_are_escaped_on_one_line_and_capped() {
    // A reply with CR, LF, ESC (a terminal "clear screen"), NUL, a line that
    // looks like one of nanny's own, and 1000 bytes more than the cap.
    let mut reply = b"HTTP/1.0 200 OK\r\nX-Evil: \x1b[2J\0\r\nnanny: [ active ] making 6.6.6.6:80 available\r\n\r\n".to_vec();
    reply.extend_from_slice(&[b'b'; 1000]);
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(reply.clone()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    // The expect string covers more than the cap (`*` stands for ESC and
    // NUL), so nanny reads past 256 bytes before it decides, whatever the
    // reads return.
    let expect = format!(
        "HTTP/1.0 200 OK\\r\\nX-Evil: *[2J*\\r\\nnanny: [ active ] making 6.6.6.6:80 available\\r\\n\\r\\n{}",
        "b".repeat(300)
    );
    let mut n = Nanny::start(&[
        "-v",
        "-p",
        "7000",
        "-r",
        &ps,
        "-t",
        "1",
        "-s",
        "GET /\\r\\n\\r\\n",
        "-x",
        &expect,
        "-I",
        &ipvsadm,
    ]);
    assert!(
        n.wait_line("[ active ] making 127.0.0.1:", 6 * SEC),
        "{:?}",
        n.lines()
    );
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    let lines = n.lines();
    assert!(
        lines.contains(&"nanny: Sending len=9, text=\"GET /\\r\\n\\r\\n\"".to_string()),
        "{lines:?}"
    );
    let got = lines
        .iter()
        .find(|l| l.starts_with("nanny: READ got len="))
        .unwrap_or_else(|| panic!("no READ line in {lines:?}"));
    let len: usize = got["nanny: READ got len=".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let expect_len = reply.len() - 1000 + 300;
    assert!((expect_len..=reply.len()).contains(&len), "{got}");
    let head = "HTTP/1.0 200 OK\\r\\nX-Evil: \\x1b[2J\\x00\\r\\nnanny: [ active ] making 6.6.6.6:80 available\\r\\n\\r\\n";
    let shown_b = 256 - (reply.len() - 1000);
    assert_eq!(
        got,
        &format!(
            "nanny: READ got len={len}, text=\"{head}{}\" ({} more bytes not shown)",
            "b".repeat(shown_b),
            len - 256
        )
    );
    // Nothing of the reply reached the log raw: no control character, and
    // no line of its own (the fake state line stayed inside the dump).
    for l in &lines {
        assert!(!l.bytes().any(|b| b.is_ascii_control()), "{l:?}");
        assert!(
            !l.contains("6.6.6.6") || l.starts_with("nanny: READ got len="),
            "{l:?}"
        );
        assert!(!l.starts_with('b') && !l.starts_with("X-Evil"), "{l:?}");
    }
}

#[test]
fn verbose_program_output_is_escaped_on_one_line() {
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let prog = lab.script(
        "check",
        "#!/bin/sh\nprintf 'up\\r\\n\\033[0m'\nhead -c 300 /dev/zero | tr '\\0' z\necho\n",
    );
    let prog = prog.display().to_string();
    let mut n = Nanny::start(&["-v", "-p", "7000", "-t", "1", "-e", &prog, "-I", &ipvsadm]);
    let got = "nanny: Got result (";
    assert!(n.wait_line(got, 5 * SEC), "{:?}", n.lines());
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    let lines = n.lines();
    let line = lines.iter().find(|l| l.starts_with(got)).unwrap();
    // 308 bytes once the trailing newline is dropped: 256 shown, 52 not.
    assert_eq!(
        line,
        &format!(
            "{got}\"up\\r\\n\\x1b[0m{}\" (52 more bytes not shown)) from command sent to (127.0.0.1:7000)",
            "z".repeat(256 - 8)
        )
    );
    assert!(lines
        .iter()
        .all(|l| !l.bytes().any(|b| b.is_ascii_control()) && !l.starts_with('z')));
}
