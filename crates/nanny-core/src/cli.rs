//! nanny's command line: the flags (the fast path of [`Options::from_argv`],
//! else clap, with popt's wording for bad arguments), `--usage` and
//! `--version`, logging, and the exit status (see nanny(8)).

use std::ffi::OsString;

use crate::config::{ExtOptions, Options, DEFAULT_IPVSADM};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use piranha_runtime::error::Chain;
use piranha_runtime::logger::{self, Sinks};

/// Exit status for bad arguments or a failure to start.
const EXIT_USAGE: u8 = 1;

/// The last lines of `--help`: what no option's line can say alone.
const AFTER_HELP: &str =
    "One of --lvs or --fos is required, and so is -h (lvs(8) starts every nanny with --lvs).";

#[derive(Parser, Debug)]
#[command(
    name = "nanny",
    about = "Monitor one real server of an LVS virtual service and keep its IPVS entry true",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true,
    override_usage = "nanny --lvs|--fos -h IP [OPTIONS]",
    after_help = AFTER_HELP
)]
struct Args {
    /// Seconds between connection attempts (also the I/O timeout).
    #[arg(
        short = 't',
        long = "interval",
        default_value_t = 10,
        allow_negative_numbers = true
    )]
    interval: i64,
    /// I/O timeout of one check in seconds (default: the interval).
    #[arg(long = "io-timeout", allow_negative_numbers = true)]
    io_timeout: Option<i64>,
    /// Path to ipvsadm.
    #[arg(short = 'I', long = "ipvsadm", default_value = DEFAULT_IPVSADM)]
    ipvsadm: String,
    /// Command to get the remote load average (rup, ruptime, rsh, ssh, none, or a program).
    #[arg(short = 'U', long = "loadcmd")]
    loadcmd: Option<String>,
    /// ipvsadm routing method: m (NAT), g (direct routing) or i (tunnel).
    #[arg(
        short = 'M',
        long = "method",
        default_value = "-m",
        allow_hyphen_values = true
    )]
    method: String,
    /// Don't run as a daemon; log to stdout as well as syslog.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Don't fork, but do disassociate.
    #[arg(short = 'c', long = "nofork")]
    nofork: bool,
    /// Port of the virtual service.
    #[arg(
        short = 'p',
        long = "port",
        default_value_t = 80,
        allow_negative_numbers = true
    )]
    port: i64,
    /// Port to check on the real server (default: --port).
    #[arg(short = 'r', long = "rport", allow_negative_numbers = true)]
    rport: Option<i64>,
    /// Seconds of successful checks before a failed server is readmitted.
    #[arg(
        short = 'a',
        long = "reentrytime",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    reentry: i64,
    /// Maximum scale of the weight under the load monitor.
    #[arg(
        short = 'S',
        long = "scale",
        default_value_t = 10,
        allow_negative_numbers = true
    )]
    scale: i64,
    /// IP address of the real server (required).
    #[arg(short = 'h', long = "server")]
    server: Option<String>,
    /// External program that tests the service (%h, %p are replaced).
    #[arg(short = 'e', long = "send_program", allow_hyphen_values = true)]
    send_program: Option<String>,
    /// String to send to the port.
    #[arg(short = 's', long = "send_string", allow_hyphen_values = true)]
    send: Option<String>,
    /// Response expected from the port (or from the send program).
    #[arg(short = 'x', long = "expect_string", allow_hyphen_values = true)]
    expect: Option<String>,
    /// Interpret the expect string as a POSIX extended regular expression.
    #[arg(long = "regex")]
    regex: bool,
    /// Suppress '\' translation in send/expect strings.
    #[arg(short = 'T', long = "suppress")]
    suppress: bool,
    /// Quiesce the server (weight 0) instead of removing it.
    #[arg(short = 'q', long = "quiesce_server")]
    quiesce: bool,
    /// Use UDP instead of TCP.
    #[arg(short = 'u', long = "udp")]
    udp: bool,
    /// Log debugging information.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// IP of the virtual service.
    #[arg(short = 'V', long = "virtaddress")]
    vip: Option<String>,
    /// Firewall mark of the virtual service.
    #[arg(
        short = 'f',
        long = "fwmark",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    fwmark: i64,
    /// Weight of the real server.
    #[arg(
        short = 'w',
        long = "weight",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    weight: i64,
    /// Don't actually run ipvsadm (log it).
    #[arg(long = "test-start")]
    test_start: bool,
    /// Same as --test-start.
    #[arg(long = "norun")]
    norun: bool,
    /// Display the program version.
    #[arg(long = "version")]
    version: bool,
    /// Failover service (legacy). One of --lvs or --fos is required.
    #[arg(long = "fos")]
    fos: bool,
    /// LVS service. One of --lvs or --fos is required.
    #[arg(long = "lvs")]
    lvs: bool,
    /// Don't change IPVS: print the wanted entry for lvs (quorum extension).
    #[arg(long = "lvs-table")]
    lvs_table: bool,
    /// Show this help.
    #[arg(short = '?', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Show a short usage message.
    #[arg(long = "usage")]
    usage: bool,
    // ---- Extension (issue 9): health checks beyond send/expect ----
    /// Check: send_expect (default), tcp, http, https, smtp, dns or misc.
    #[arg(long = "check", value_name = "KIND")]
    check: Option<String>,
    /// http/https: URL path (default /).
    #[arg(long = "http-path", value_name = "PATH")]
    http_path: Option<String>,
    /// http/https: accepted status codes, e.g. 200-299,301 (default 200-299).
    #[arg(long = "http-status", value_name = "LIST")]
    http_status: Option<String>,
    /// http/https: MD5 of the body (see genhash).
    #[arg(long = "http-digest", value_name = "MD5")]
    http_digest: Option<String>,
    /// http/https: Host header (default the real server's address).
    #[arg(long = "http-virtualhost", value_name = "HOST")]
    http_vhost: Option<String>,
    /// https: TLS server name (default the virtual host, else none).
    #[arg(long = "tls-sni", value_name = "NAME")]
    tls_sni: Option<String>,
    /// https: fail unless the certificate verifies.
    #[arg(long = "tls-verify")]
    tls_verify: bool,
    /// https: PEM CA bundle for --tls-verify (default the system's).
    #[arg(long = "tls-ca", value_name = "FILE")]
    tls_ca: Option<String>,
    /// smtp: HELO name (default localhost).
    #[arg(long = "smtp-helo", value_name = "NAME")]
    smtp_helo: Option<String>,
    /// dns: query name (default .).
    #[arg(long = "dns-name", value_name = "NAME")]
    dns_name: Option<String>,
    /// dns: query type A, NS, CNAME, SOA, MX, TXT or AAAA (default SOA).
    #[arg(long = "dns-type", value_name = "TYPE")]
    dns_type: Option<String>,
    /// misc: program to run (%h, %p are replaced); exit 0 up, else down.
    #[arg(long = "misc-program", value_name = "CMD", allow_hyphen_values = true)]
    misc_program: Option<String>,
    /// misc: exit 2-255 means up with weight exit-2.
    #[arg(long = "misc-dynamic")]
    misc_dynamic: bool,
    /// Re-probes of an up server before it is declared down (default 0).
    #[arg(long = "retry", value_name = "N", allow_negative_numbers = true)]
    retry: Option<i64>,
    /// Seconds before each re-probe (default 1).
    #[arg(long = "retry-delay", value_name = "SECONDS")]
    retry_delay: Option<String>,
    /// Successful checks before a failed server returns (default reentry/interval).
    #[arg(long = "rise", value_name = "N", allow_negative_numbers = true)]
    rise: Option<i64>,
    /// The first check runs at a random time within SECONDS (default 0).
    #[arg(long = "warmup", value_name = "SECONDS")]
    warmup: Option<String>,
}

/// nanny proper, for one argv; returns the exit status.  `cmd` is clap's
/// parser when it is already built.
pub fn run(cmd: &mut Option<clap::Command>, argv: Vec<OsString>) -> u8 {
    if let Some(opts) = Options::from_argv(&argv) {
        return start(opts);
    }
    let parsed = cmd
        .get_or_insert_with(Args::command)
        .try_get_matches_from_mut(argv)
        .and_then(|m| Args::from_arg_matches(&m));
    let args = match parsed {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            eprintln!("{}", bad_argument(&e));
            return EXIT_USAGE;
        }
    };
    if args.version {
        println!("Program Version:\t{}", env!("CARGO_PKG_VERSION"));
        println!(
            "A component of:\t\tpiranha-rs-{}",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    if args.usage {
        println!("Usage: nanny --lvs|--fos -h|--server IP [-t|--interval N] [-I|--ipvsadm PATH] [-U|--loadcmd CMD] [-M|--method m|g|i] [-n|--nodaemon] [-c|--nofork] [-p|--port N] [-r|--rport N] [-a|--reentrytime N] [-S|--scale N] [-e|--send_program CMD] [-s|--send_string S] [-x|--expect_string S] [--regex] [-T|--suppress] [-q|--quiesce_server] [-u|--udp] [-v|--verbose] [-V|--virtaddress IP] [-f|--fwmark N] [-w|--weight N] [--io-timeout N] [--check KIND] [--http-path PATH] [--http-status LIST] [--http-digest MD5] [--http-virtualhost HOST] [--tls-sni NAME] [--tls-verify] [--tls-ca FILE] [--smtp-helo NAME] [--dns-name NAME] [--dns-type TYPE] [--misc-program CMD] [--misc-dynamic] [--retry N] [--retry-delay S] [--rise N] [--warmup S] [--test-start] [--norun] [--version] [--lvs-table] [-?|--help] [--usage]");
        return 0;
    }
    start(options(args))
}

/// The options clap's parse gives.
fn options(args: Args) -> Options {
    Options {
        interval: args.interval,
        io_timeout: args.io_timeout,
        ipvsadm: args.ipvsadm,
        loadcmd: args.loadcmd,
        method: args.method,
        nodaemon: args.nodaemon,
        nofork: args.nofork,
        port: args.port,
        rport: args.rport,
        reentry: args.reentry,
        scale: args.scale,
        server: args.server,
        send_program: args.send_program,
        send: args.send,
        expect: args.expect,
        regex: args.regex,
        suppress: args.suppress,
        quiesce: args.quiesce,
        udp: args.udp,
        verbose: args.verbose,
        vip: args.vip,
        fwmark: args.fwmark,
        weight: args.weight,
        norun: args.norun || args.test_start,
        fos: args.fos,
        lvs: args.lvs,
        lvs_table: args.lvs_table,
        ext: ExtOptions {
            check: args.check,
            http_path: args.http_path,
            http_status: args.http_status,
            http_digest: args.http_digest,
            http_vhost: args.http_vhost,
            tls_sni: args.tls_sni,
            tls_verify: args.tls_verify,
            tls_ca: args.tls_ca,
            smtp_helo: args.smtp_helo,
            dns_name: args.dns_name,
            dns_type: args.dns_type,
            misc_program: args.misc_program,
            misc_dynamic: args.misc_dynamic,
            retry: args.retry,
            retry_delay: args.retry_delay,
            rise: args.rise,
            warmup: args.warmup,
        },
    }
}

/// nanny proper, from its options; returns the exit status.
fn start(opts: Options) -> u8 {
    let config = match opts.validate() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    logger::init(
        "nanny",
        Sinks {
            syslog: true,
            stdout: config.nodaemon,
        },
        config.verbose,
    );
    match crate::start(&config) {
        Ok(code) => code.clamp(0, 255) as u8,
        Err(e) => {
            log::error!("{}", Chain(&e));
            eprintln!("nanny: {}", Chain(&e));
            EXIT_USAGE
        }
    }
}

/// popt's wording: `nanny: bad argument ARG: REASON`, or `nanny: unexpected
/// arguments` for a stray operand.
fn bad_argument(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let reason = match e.kind() {
        ErrorKind::UnknownArgument if !arg.starts_with('-') => {
            return "nanny: unexpected arguments".into()
        }
        ErrorKind::UnknownArgument => "unknown option",
        ErrorKind::InvalidValue if e.get(ContextKind::InvalidValue).is_some() => "missing argument",
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => "invalid numeric value",
        ErrorKind::ArgumentConflict => "option given twice",
        _ => "bad option",
    };
    let arg = arg.split_whitespace().next().unwrap_or("").to_string();
    format!("nanny: bad argument {arg}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What clap's path gives (help, usage and version excluded: they
    /// print instead of running).
    fn clap_parse(argv: &[OsString]) -> Option<Options> {
        let args = Args::command()
            .try_get_matches_from(argv)
            .and_then(|m| Args::from_arg_matches(&m))
            .ok()?;
        (!args.version && !args.usage).then(|| options(args))
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    /// Values that exercise every rule: numbers, signs, hyphens, blanks.
    const VALUES: &[&str] = &[
        "5",
        "-5",
        "0",
        "+5",
        "1.5",
        "99999999999999999999",
        "abc",
        "-x",
        "-",
        "--",
        "--interval",
        "",
        "a b",
        "%h:%p",
        "=5",
        "m",
        "-m",
    ];

    /// Every spelling of every option clap knows.
    fn spellings() -> Vec<String> {
        let mut out = Vec::new();
        for arg in Args::command().get_arguments() {
            if let Some(s) = arg.get_short() {
                out.push(format!("-{s}"));
            }
            if let Some(l) = arg.get_long() {
                out.push(format!("--{l}"));
            }
        }
        out
    }

    /// When the fast path answers, clap gives the same answer.
    fn agrees(argv: &[OsString]) -> Result<(), String> {
        if let Some(quick) = Options::from_argv(argv) {
            match clap_parse(argv) {
                Some(full) if full == quick => {}
                other => return Err(format!("{argv:?}: quick {quick:?}, clap {other:?}")),
            }
        }
        Ok(())
    }

    #[test]
    fn defaults_are_claps() {
        assert_eq!(clap_parse(&os(&["nanny"])), Some(Options::default()));
        assert_eq!(
            Options::from_argv(&os(&["nanny"])),
            Some(Options::default())
        );
    }

    #[test]
    fn every_option_with_every_value_agrees_with_clap() {
        for opt in spellings() {
            agrees(&os(&["nanny", &opt])).unwrap();
            for v in VALUES {
                agrees(&os(&["nanny", &opt, v])).unwrap();
                agrees(&os(&["nanny", &opt, v, &opt, "7"])).unwrap();
                agrees(&os(&["nanny", &opt, v, "-n"])).unwrap();
                agrees(&os(&["nanny", &format!("{opt}={v}")])).unwrap();
            }
        }
    }

    /// The fast path knows every option lvs may pass (all but help, usage
    /// and version): an option added to `Args` without it fails here.
    #[test]
    fn every_option_is_on_the_fast_path() {
        for arg in Args::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if ["help", "usage", "version"].contains(&long) {
                continue;
            }
            let opt = format!("--{long}");
            let with_value = os(&["nanny", &opt, "5"]);
            let alone = os(&["nanny", &opt]);
            let argv = if clap_parse(&with_value).is_some() {
                with_value
            } else {
                alone
            };
            assert!(clap_parse(&argv).is_some(), "{argv:?}");
            assert!(
                Options::from_argv(&argv).is_some(),
                "{opt} is not on the fast path"
            );
            if let Some(s) = arg.get_short() {
                let mut short = argv.clone();
                short[1] = OsString::from(format!("-{s}"));
                assert_eq!(
                    Options::from_argv(&short),
                    Options::from_argv(&argv),
                    "-{s}"
                );
            }
        }
    }

    #[test]
    fn argv_lvs_builds_take_the_fast_path() {
        // The reference's §3.2 line and an extension check.
        for line in [
            vec![
                "/usr/sbin/nanny",
                "-c",
                "-h",
                "192.168.1.2",
                "-p",
                "80",
                "-r",
                "80",
                "-s",
                "GET / HTTP/1.0\\r\\n\\r\\n",
                "-x",
                "HTTP",
                "-q",
                "-a",
                "15",
                "-I",
                "/usr/sbin/ipvsadm",
                "-t",
                "6",
                "-w",
                "1",
                "-V",
                "10.0.0.1",
                "-M",
                "g",
                "-U",
                "none",
                "--lvs",
            ],
            vec![
                "/usr/sbin/nanny",
                "-c",
                "-h",
                "10.8.0.21",
                "-p",
                "443",
                "-r",
                "443",
                "-a",
                "6",
                "-I",
                "/sbin/ipvsadm",
                "-t",
                "2",
                "-w",
                "3",
                "-V",
                "10.9.0.100",
                "-M",
                "m",
                "-U",
                "none",
                "--lvs",
                "--check",
                "https",
                "--http-path",
                "/health",
                "--http-status",
                "200-299,301",
                "--tls-sni",
                "www.example.com",
                "--retry",
                "2",
                "--retry-delay",
                "0.5",
                "--rise",
                "3",
                "--warmup",
                "1.5",
                "--io-timeout",
                "1",
            ],
            vec![
                "/usr/sbin/nanny",
                "-c",
                "-h",
                "10.8.0.21",
                "-p",
                "0",
                "-f",
                "80",
                "-e",
                "/usr/local/bin/check -H %h",
                "-x",
                "-ok-",
                "-M",
                "-m",
                "-u",
            ],
        ] {
            let argv = os(&line);
            let quick = Options::from_argv(&argv).expect("fast path");
            assert_eq!(Some(quick), clap_parse(&argv), "{line:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_argv_agrees_with_clap(words in prop::collection::vec(
            prop_oneof![
                prop::sample::select(spellings()),
                prop::sample::select(VALUES.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
                "[-a-z0-9=.%]{0,6}",
            ],
            0..8,
        )) {
            let mut argv = vec![OsString::from("nanny")];
            argv.extend(words.iter().map(OsString::from));
            prop_assert!(agrees(&argv).is_ok(), "{}", agrees(&argv).unwrap_err());
        }
    }
}
