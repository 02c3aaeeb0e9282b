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
}

fn main() -> ExitCode {
    let args = Args::parse();
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
    }))
}
