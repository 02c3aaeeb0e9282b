//! `lvs` (also installed as `lvsd`): the director daemon that owns the IPVS
//! table and its nannies. This release implements the configuration test;
//! the daemon arrives with its own issue.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Exit code when asked to run a mode this build does not have yet.
const EXIT_NOT_IMPLEMENTED: u8 = 2;

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
    /// Stay in the foreground and log to stdout.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Log the commands that would run; change nothing.
    #[arg(short = 't', long = "test-start")]
    test_start: bool,
    /// Do not fork (pulse runs lvs this way).
    #[arg(long = "nofork")]
    nofork: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.config_test {
        let t = lvs_config::config_test(&args.configfile, args.print);
        eprint!("{}", t.stderr);
        print!("{}", t.stdout);
        return ExitCode::from(t.code);
    }
    eprintln!(
        "lvs: the director daemon is not implemented in this build yet; only --config-test is"
    );
    ExitCode::from(EXIT_NOT_IMPLEMENTED)
}
