//! `lvs` (also installed as `lvsd`): the director daemon that owns the IPVS
//! table and its nannies. Parses the flags and hands over to the `lvsd`
//! library; exit codes are in lvs(8).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "lvs",
    version,
    about = "Linux Virtual Server director daemon (Piranha lvsd)"
)]
struct Args {
    /// Configuration file.
    #[arg(short = 'c', long = "configfile", default_value = lvs_config::DEFAULT_CONFIG_FILE)]
    configfile: PathBuf,
    /// Parse and validate the configuration file, report, and exit.
    #[arg(long = "config-test")]
    config_test: bool,
    /// With --config-test: write the configuration in canonical form to stdout.
    #[arg(long = "print", requires = "config_test")]
    print: bool,
    /// Verbose logging (passed on to nannies).
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Stay in the foreground and log to stdout as well as syslog.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Log the ipvsadm and nanny commands that would run; change nothing.
    #[arg(short = 't', long = "test-start")]
    test_start: bool,
    /// Do not fork (pulse runs lvs this way); still detach from the terminal.
    #[arg(long = "nofork")]
    nofork: bool,
    /// Pidfile.
    #[arg(long = "pidfile", default_value = "/var/run/lvs.pid")]
    pidfile: PathBuf,
    /// Seconds a stopping nanny gets before SIGKILL.
    #[arg(long = "grace", default_value_t = 10)]
    grace: u64,
    /// Start every nanny with fork+exec, never through the fork server.
    #[arg(long = "no-fork-server")]
    no_fork_server: bool,
    /// Start in the standby role (pulse does this on the passive director
    /// with hot_standby = 1); SIGUSR1 makes lvs active, SIGUSR2 standby.
    #[arg(long = "standby")]
    standby: bool,
    /// The control socket: the daemon listens there, and --status and the
    /// override commands ask there.
    #[arg(long = "control", value_name = "PATH", default_value = piranha_status::socket::LVS_SOCKET)]
    control: PathBuf,
    /// The overrides file (drain, weight, disable), kept across reloads
    /// and restarts.
    #[arg(long = "overrides", value_name = "PATH", default_value = piranha_status::overrides::DEFAULT_PATH)]
    overrides: PathBuf,
    /// Ask the running lvs for its status: services, real servers, checks,
    /// overrides and the kernel's counters.
    #[arg(long = "status", group = "ask")]
    status: bool,
    /// With --status: the versioned JSON form (docs/STATUS.md).
    #[arg(long = "json", requires = "status")]
    json: bool,
    /// With --status: the real servers' traffic counters too (one kernel
    /// dump per service: slower on a large table).
    #[arg(long = "full", requires = "status")]
    full: bool,
    /// Drain a real server ([SERVICE/]SERVER): weight 0, connections kept.
    /// With --deadline it leaves the table when its active connections are
    /// gone, or when the deadline passes.
    #[arg(long = "drain", value_name = "TARGET", group = "ask")]
    drain: Option<String>,
    /// With --drain: leave the table when no active connection is left, or
    /// after this many seconds anyway.
    #[arg(long = "deadline", value_name = "SECONDS", requires = "drain")]
    deadline: Option<u64>,
    /// Undo --drain, --set-weight or --disable of a real server.
    #[arg(long = "undrain", value_name = "TARGET", group = "ask")]
    undrain: Option<String>,
    /// Give a real server this weight instead of lvs.cf's.
    #[arg(long = "set-weight", value_names = ["TARGET", "WEIGHT"], num_args = 2, group = "ask")]
    set_weight: Option<Vec<String>>,
    /// Take a real server out of the table (its checks go on).
    #[arg(long = "disable", value_name = "TARGET", group = "ask")]
    disable: Option<String>,
    /// Undo --disable (as --undrain).
    #[arg(long = "enable", value_name = "TARGET", group = "ask")]
    enable: Option<String>,
    /// Take a virtual service out of the table.
    #[arg(long = "disable-service", value_name = "SERVICE", group = "ask")]
    disable_service: Option<String>,
    /// Undo --disable-service.
    #[arg(long = "enable-service", value_name = "SERVICE", group = "ask")]
    enable_service: Option<String>,
}

/// The request line for the control socket, when the command line asks
/// the running lvs something.
fn request(a: &Args) -> Option<String> {
    if a.status {
        let r = piranha_status::Request::Status {
            json: a.json,
            full: a.full,
        };
        return Some(r.line());
    }
    if let Some(t) = &a.drain {
        return Some(match a.deadline {
            Some(d) => format!("drain {t} {d}"),
            None => format!("drain {t}"),
        });
    }
    if let Some(v) = &a.set_weight {
        return Some(format!("weight {} {}", v[0], v[1]));
    }
    [
        ("undrain", &a.undrain),
        ("disable", &a.disable),
        ("enable", &a.enable),
        ("disable-service", &a.disable_service),
        ("enable-service", &a.enable_service),
    ]
    .into_iter()
    .find_map(|(verb, t)| t.as_ref().map(|t| format!("{verb} {t}")))
}

/// Ask the running lvs: 0 done, 1 refused, 3 not running (as an init
/// script's `status`).
fn ask(control: &std::path::Path, line: &str) -> ExitCode {
    // a malformed request is refused here, without a daemon
    if let Err(e) = piranha_status::Request::parse(line) {
        eprintln!("lvs: {e}");
        return ExitCode::from(2);
    }
    match piranha_status::socket::ask(control, line, Duration::from_secs(10)) {
        Ok(a) if a.ok => {
            print!("{}", a.text);
            ExitCode::SUCCESS
        }
        Ok(a) => {
            eprint!("lvs: {}", a.text);
            if !a.text.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("lvs: {e}");
            ExitCode::from(3)
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(line) = request(&args) {
        return ask(&args.control, &line);
    }
    if args.config_test {
        let t = lvs_config::config_test(&args.configfile, args.print);
        eprint!("{}", t.stderr);
        print!("{}", t.stdout);
        return ExitCode::from(t.code);
    }
    ExitCode::from(lvsd::main(lvsd::Options {
        config: args.configfile,
        verbose: args.verbose,
        nodaemon: args.nodaemon,
        test_start: args.test_start,
        nofork: args.nofork,
        pidfile: args.pidfile,
        grace: Duration::from_secs(args.grace),
        fork_server: !args.no_fork_server,
        standby: args.standby,
        control: Some(args.control),
        overrides: args.overrides,
    }))
}
