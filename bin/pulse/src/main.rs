//! `pulse`: the heartbeat and failover daemon run on both directors.
//! Parses flags, sets up logging, runs the library, maps the result to an
//! exit code (0 normal, 1 configuration or startup error, 2 usage).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use piranha_runtime::error::chain;
use pulse_core::daemon::{self, Options};

#[derive(Parser, Debug)]
#[command(
    name = "pulse",
    version,
    about = "Heartbeat and failover daemon for LVS directors (Piranha pulse)",
    override_usage = USAGE_ARGS,
    disable_help_flag = true
)]
struct Args {
    /// Configuration file.
    #[arg(short = 'c', long = "configfile", default_value = lvs_config::DEFAULT_CONFIG_FILE)]
    configfile: PathBuf,
    /// Parse and validate the configuration file, report, and exit.
    #[arg(long = "config-test")]
    config_test: bool,
    /// Stay in the foreground and log to stdout.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Do not start lvs (addresses and ARPs still happen).
    #[arg(short = 't', long = "test-start", visible_alias = "norun")]
    test_start: bool,
    /// Verbose logging (passed on to lvs).
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Start as the active director.
    #[arg(long = "forceactive")]
    forceactive: bool,
    /// Path of the lvs daemon.
    #[arg(long = "lvsd", default_value = daemon::DEFAULT_LVSD)]
    lvsd: PathBuf,
    /// Path of the fos daemon (fos mode is not supported).
    #[arg(long = "fos", default_value = "/usr/sbin/fos")]
    fos: PathBuf,
    /// Print this help (popt's `-?`; `-h` works too).
    #[arg(short = '?', long = "help", short_alias = 'h', action = ArgAction::Help)]
    help: Option<bool>,
    /// Print a short usage message.
    #[arg(long = "usage")]
    usage: bool,
    /// Pidfile (extension).
    #[arg(long = "pidfile", default_value = daemon::DEFAULT_PIDFILE)]
    pidfile: PathBuf,
    /// Path of send_arp (extension).
    #[arg(long = "send-arp", default_value = daemon::DEFAULT_SEND_ARP)]
    send_arp: PathBuf,
    /// Hand the active role to the partner director and stay passive
    /// (extension): signals the running pulse named by --pidfile and waits
    /// until the virtual addresses have left this director.
    #[arg(long = "switchover")]
    switchover: bool,
    /// Ask the running pulse for the director's status (role, partner,
    /// addresses, and lvs's services) and print it (extension).
    #[arg(long = "status")]
    status: bool,
    /// With --status: the versioned JSON form (docs/STATUS.md).
    #[arg(long = "json", requires = "status")]
    json: bool,
    /// With --status: the real servers' traffic counters too (extension).
    #[arg(long = "full", requires = "status")]
    full: bool,
    /// pulse's control socket (extension).
    #[arg(long = "control", value_name = "PATH", default_value = piranha_status::socket::PULSE_SOCKET)]
    control: PathBuf,
    /// Let this group use the control socket too (mode 0660; the
    /// configuration tool's user, e.g. piranha) (extension).
    #[arg(long = "control-group", value_name = "GROUP")]
    control_group: Option<String>,
    /// lvs's control socket, where pulse asks lvs for its status
    /// (extension).
    #[arg(long = "lvs-control", value_name = "PATH", default_value = piranha_status::socket::LVS_SOCKET)]
    lvs_control: PathBuf,
    /// Serve Prometheus metrics at ADDRESS:PORT, or at 127.0.0.1:PORT for
    /// a bare port (extension; off unless given).
    #[arg(long = "metrics", value_name = "[ADDRESS:]PORT", value_parser = metrics_addr)]
    metrics: Option<std::net::SocketAddr>,
    /// Unexpected arguments.
    #[arg(hide = true)]
    rest: Vec<String>,
}

/// The options in one line, as popt's `--usage` printed them; also the
/// usage line of `-?`/`--help` and of usage errors.
const USAGE_ARGS: &str = "pulse [-c|--configfile FILE] [-n|--nodaemon] [-t|--test-start|--norun] [-v|--verbose] [--forceactive] [--lvsd PATH] [--fos PATH] [--pidfile FILE] [--send-arp PATH] [--config-test] [--switchover] [--status [--json] [--full]] [--control PATH] [--control-group GROUP] [--lvs-control PATH] [--metrics [ADDRESS:]PORT] [--version] [-?|--help] [--usage]";

/// `--metrics`: `ADDRESS:PORT`, or a port on 127.0.0.1.
fn metrics_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(p) = s.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], p)));
    }
    s.parse()
        .map_err(|_| format!("{s:?} is not ADDRESS:PORT or a port"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.status {
        let line = piranha_status::Request::Status {
            json: args.json,
            full: args.full,
        }
        .line();
        return match piranha_status::socket::ask(
            &args.control,
            &line,
            std::time::Duration::from_secs(10),
        ) {
            Ok(a) if a.ok => {
                print!("{}", a.text);
                ExitCode::SUCCESS
            }
            Ok(a) => {
                eprintln!("pulse: {}", a.text.trim_end());
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("pulse: {e}");
                ExitCode::from(3)
            }
        };
    }
    if args.usage {
        println!("Usage: {USAGE_ARGS}");
        return ExitCode::SUCCESS;
    }
    if !args.rest.is_empty() {
        eprintln!("pulse: unexpected arguments");
        return ExitCode::from(2);
    }
    if args.config_test {
        let t = lvs_config::config_test(&args.configfile, false);
        eprint!("{}", t.stderr);
        print!("{}", t.stdout);
        return ExitCode::from(t.code);
    }
    if args.switchover {
        return match pulse_core::switchover::switchover(&args.configfile, &args.pidfile) {
            Ok(took) => {
                println!(
                    "pulse: switched over in {} ms: the partner director holds the virtual addresses",
                    took.as_millis()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("pulse: switchover: {}", chain(&e));
                ExitCode::from(daemon::EXIT_FAILURE)
            }
        };
    }
    piranha_runtime::logger::init(
        "pulse",
        piranha_runtime::logger::Sinks {
            syslog: true,
            stdout: args.nodaemon,
        },
        args.verbose,
    );
    let opts = Options {
        configfile: args.configfile,
        nodaemon: args.nodaemon,
        test_start: args.test_start,
        verbose: args.verbose,
        forceactive: args.forceactive,
        lvsd: args.lvsd,
        fos: args.fos,
        pidfile: args.pidfile,
        send_arp: args.send_arp,
        control: Some(args.control),
        control_group: args.control_group,
        lvs_control: args.lvs_control,
        metrics: args.metrics,
    };
    match daemon::run(opts) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("pulse: {}", chain(&e));
            ExitCode::from(daemon::EXIT_FAILURE)
        }
    }
}
