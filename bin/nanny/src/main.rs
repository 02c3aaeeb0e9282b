//! `nanny`: the per-real-server health monitor (Piranha nanny 0.8.6
//! compatible). Everything is in the `nanny-core` library
//! ([`nanny_core::cli`]); this file only dispatches: lvs's fork server, or
//! one nanny.

use std::ffi::OsString;
use std::process::ExitCode;

use nanny_core::cli;
use piranha_runtime::forkserver;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.len() == 2 && argv[1] == forkserver::FLAG {
        // lvs's fork server (see piranha_runtime::forkserver): every child
        // runs `run` with the argv lvs asked for.  lvs's argv takes the fast
        // path, so the server does not build clap's parser: a small server
        // is cheaper to fork (a child that needs clap builds it itself).
        forkserver::serve(|argv| i32::from(cli::run(&mut None, argv)));
    }
    ExitCode::from(cli::run(&mut None, argv))
}
