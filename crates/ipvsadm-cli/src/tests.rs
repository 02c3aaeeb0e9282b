//! ipvsadm behaviour against the fake backend: messages, exit codes, output.

use ipvs::fake::FakeIpvs;
use ipvs::model::*;

use super::program::is_next_to;
use super::*;

fn argv(s: &str) -> Vec<String> {
    std::iter::once("ipvsadm")
        .chain(s.split_whitespace())
        .map(String::from)
        .collect()
}

fn run_on(fake: &mut FakeIpvs, args: &str, stdin: &str) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut input = stdin.as_bytes();
    let info = Info {
        version: IPVS_VERSION_CODE,
        conn_tab_size: 4096,
    };
    let code = {
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
        };
        run(fake, info, &argv(args), &mut io)
    };
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn run1(args: &str) -> (i32, String, String) {
    run_on(&mut FakeIpvs::new(), args, "")
}

#[test]
fn first_option_must_be_a_command() {
    let (c, o, e) = run1("-t 1.2.3.4:80");
    assert_eq!((c, o.as_str()), (255, ""));
    assert_eq!(
        e,
        "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
    );
    assert_eq!(run1("-A --nope").2, "--nope: unknown option\n");
    assert_eq!(run1("-A --nope").0, 255);
    assert_eq!(run1("-A -t").2, "-t: missing argument\n");
}

#[test]
fn option_matrix_messages() {
    assert_eq!(
        run1("-A -s rr").2,
        "You need to supply the 'service-address' option for the 'add-service' command\n"
    );
    assert_eq!(
        run1("-D -t 1.2.3.4:80 -s rr").2,
        "Illegal 'scheduler' option with the 'delete-service' command\n"
    );
    assert_eq!(
        run1("-L -c --timeout").2,
        "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n"
    );
    assert_eq!(run1("-L -A").2, "invalid option `-A'\n");
    assert_eq!(
        run1("-A -t 1.2.3.4:80 -t 1.2.3.4:81").2,
        "multiple 'service-address' options specified\n"
    );
    assert_eq!(
        run1("-A -t 1.2.3.4").2,
        "Zero port specified for non-persistent service\n"
    );
    assert_eq!(
        run1("-A -t 1.2.3.4:80 -o").2,
        "One-Packet Scheduling is only for UDP virtual services\n"
    );
    assert_eq!(run1("-L -6").2, "-6 used before -f\n\n");
    assert_eq!(
        run1("--set 1 2").2,
        "--set option requires 3 timeout values\n"
    );
    assert_eq!(run1("-C foo").2, "unexpected argument foo\n");
    assert_eq!(run1("-C foo").0, 2);
    assert_eq!(
        run1("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue -i").2,
        "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"
    );
    assert_eq!(
        run1("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-csum").2,
        "Tunnel options conflict with forward method\n"
    );
    assert_eq!(
        run1("-A -t 1.2.3.4:80 -b sh-port").2,
        "incompatible scheduler flag `sh-port'\n"
    );
    assert_eq!(run1("-A -f 0").2, "invalid fwmark value `0' specified\n");
    assert_eq!(
        run1("-A -t 1.2.3.4:80 -p 0").2,
        "invalid timeout value `0' specified\n"
    );
}

#[test]
fn add_list_save_round_trip() {
    let mut k = FakeIpvs::new();
    assert_eq!(
        run_on(&mut k, "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0", "").0,
        0
    );
    assert_eq!(
        run_on(&mut k, "-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3", "").0,
        0
    );
    assert_eq!(
        run_on(&mut k, "-a -t 10.0.0.1:80 -r 192.168.1.3 -x 10 -y 5", "").0,
        0
    );
    let (c, o, _) = run_on(&mut k, "-S -n", "");
    assert_eq!(c, 0);
    assert_eq!(
        o,
        "-A -t 10.0.0.1:80 -s rr -p 60 -M 255.255.255.0\n\
         -a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3\n\
         -a -t 10.0.0.1:80 -r 192.168.1.3:80 -g -w 1\n"
    );
    let (_, o, _) = run_on(&mut k, "-Ln", "");
    assert!(o.starts_with("IP Virtual Server version 1.2.1 (size=4096)\n"));
    let (c, _, e) = run_on(&mut k, "-A -t 10.0.0.1:80", "");
    assert_eq!((c, e.as_str()), (255, "Service already exists\n"));
    let (c, _, e) = run_on(&mut k, "-e -t 10.9.9.9:80 -r 1.1.1.1", "");
    assert_eq!((c, e.as_str()), (255, "Service not defined\n"));
    let (c, _, e) = run_on(&mut k, "-L -n -t 10.9.9.9:80", "");
    assert_eq!((c, e.as_str()), (1, "No such service\n"));
}

#[test]
fn restore_batches_and_stops_on_cli_errors() {
    let mut k = FakeIpvs::new();
    let input = "-A -t 10.0.0.1:80\n\
                 ipvsadm -a -t 10.0.0.1:80 -r 10.1.1.1\n\
                 \n\
                 -A -t 10.0.0.1:80\n\
                 -a -t 10.0.0.1:80 -r 10.1.1.2 -w -1\n\
                 -A -t 10.0.0.2:80\n";
    let (c, _, e) = run_on(&mut k, "-R", input);
    assert_eq!(c, 2);
    assert_eq!(e, "Service already exists\nillegal weight specified\n");
    assert_eq!(k.table.len(), 1);
    assert_eq!(k.table[0].dests.len(), 1);
    // the last line's result is the exit code
    let (c, _, _) = run_on(&mut k, "-R", "-A -t 10.0.0.1:80\n-A -t 10.0.0.3:80\n");
    assert_eq!(c, 0);
    let (c, _, e) = run_on(&mut k, "-R", "-R\n");
    assert_eq!(
        (c, e.as_str()),
        (
            255,
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
        )
    );
}

#[test]
fn edit_is_a_full_replace() {
    let mut k = FakeIpvs::new();
    run_on(&mut k, "-A -t 10.0.0.1:80 -s rr -p 100", "");
    run_on(&mut k, "-E -t 10.0.0.1:80", "");
    let s = &k.table[0].service;
    assert_eq!((s.sched_name.as_str(), s.flags, s.timeout), ("wlc", 0, 0));
}

#[test]
fn version_and_timeouts() {
    assert_eq!(run1("-v").1, format!("{VERSION_LINE}\n"));
    assert_eq!(
        run1("-L --timeout").1,
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    let (c, o, _) = run1("-h");
    assert_eq!(c, 0);
    assert!(o.starts_with(VERSION_LINE));
}

#[test]
fn in_process_runs_fail_as_the_program_does_without_ipvs() {
    // This machine's kernel has no IPVS (the kernel lab tests the other
    // case, through lvs and nanny): the program's message and exit code.
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        return;
    }
    let c = run_captured(&["ipvsadm".to_string(), "-S".into(), "-n".into()], b"");
    assert_eq!(c.code, 2);
    assert!(c.out.is_empty());
    let err = String::from_utf8_lossy(&c.err);
    assert!(err.starts_with("Can't initialize ipvs: "), "{err}");
    assert!(
        err.ends_with("built in the kernel or as module?\n"),
        "{err}"
    );
}

#[test]
fn only_the_ipvsadm_next_to_us_is_ours() {
    assert!(!is_ours("/nonexistent/ipvsadm"));
    assert!(!is_ours("/bin/sh"));
    // A directory like /usr/sbin: lvs and ipvsadm side by side, a link to
    // that ipvsadm elsewhere (as lvs.cf may name it), and another program.
    let dir = std::env::temp_dir().join(format!("ipvs-is-ours-{}", std::process::id()));
    let sbin = dir.join("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    std::fs::write(sbin.join("ipvsadm"), b"").unwrap();
    std::fs::write(sbin.join("lvs"), b"").unwrap();
    std::fs::write(dir.join("wrapper"), b"").unwrap();
    std::os::unix::fs::symlink(sbin.join("ipvsadm"), dir.join("ipvsadm-link")).unwrap();
    let lvs = sbin.join("lvs");
    let p = |name: &std::path::Path| name.to_str().unwrap().to_string();
    assert!(is_next_to(&lvs, &p(&sbin.join("ipvsadm"))));
    assert!(is_next_to(&lvs, &p(&dir.join("ipvsadm-link"))));
    assert!(!is_next_to(&lvs, &p(&dir.join("wrapper"))));
    assert!(!is_next_to(&lvs, &p(&dir.join("missing"))));
    // An executable elsewhere has no ipvsadm next to it.
    assert!(!is_next_to(&dir.join("wrapper"), &p(&sbin.join("ipvsadm"))));
    std::fs::remove_dir_all(&dir).unwrap();
}
