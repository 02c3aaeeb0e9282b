//! `pulse`: the heartbeat and failover daemon run on both directors. This
//! release implements the configuration test; the daemon arrives with its
//! own issue.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Exit code when asked to run a mode this build does not have yet.
const EXIT_NOT_IMPLEMENTED: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "pulse",
    version,
    about = "Heartbeat and failover daemon for LVS directors (Piranha pulse)"
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
    #[arg(long = "lvsd", default_value = "/usr/sbin/lvsd")]
    lvsd: PathBuf,
    /// Path of the fos daemon.
    #[arg(long = "fos", default_value = "/usr/sbin/fos")]
    fos: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.config_test {
        let t = lvs_config::config_test(&args.configfile, false);
        eprint!("{}", t.stderr);
        print!("{}", t.stdout);
        return ExitCode::from(t.code);
    }
    eprintln!(
        "pulse: the failover daemon is not implemented in this build yet; only --config-test is"
    );
    ExitCode::from(EXIT_NOT_IMPLEMENTED)
}
