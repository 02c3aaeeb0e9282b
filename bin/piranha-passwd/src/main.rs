//! `piranha-passwd [-f|--force] [--file PATH] [password]`: set the password
//! of the Piranha Configuration Tool's user `piranha` (Piranha's
//! piranha-passwd).
//!
//! The password comes from the argument (with a warning), from two no-echo
//! prompts on the terminal, or, when standard input is not a terminal, from
//! its first line. One of fewer than 8 characters is refused unless
//! `--force` is given. The password file's directory must exist (`make
//! install` creates the default one); it is never created here. Exit 0 set,
//! 1 mismatch or any error, 2 usage.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use nix::unistd::{access, AccessFlags, Group, Uid};
use piranha_auth::{
    check_directory, check_min_length, set_password, AuthError, PasswdFile, DEFAULT_PASSWD_FILE,
    GUI_USER,
};
use piranha_runtime::error::chain;

/// Set the Piranha Configuration Tool's login password (user piranha).
///
/// Without PASSWORD, prompts twice on the terminal without echo; when
/// standard input is not a terminal, reads the password from its first line.
#[derive(Parser)]
#[command(name = "piranha-passwd", version)]
struct Args {
    /// Password file to update. Its directory must exist.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PASSWD_FILE)]
    file: PathBuf,
    /// Set a password shorter than 8 characters all the same.
    #[arg(short = 'f', long = "force")]
    force: bool,
    /// The new password. Other local users can see it in the process list;
    /// prefer the prompt.
    password: Option<String>,
}

enum Failure {
    Mismatch,
    Message(String),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Mismatch) => {
            println!("Passwords do not match.");
            ExitCode::from(1)
        }
        Err(Failure::Message(m)) => {
            eprintln!("piranha-passwd: {m}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let path = args.file.as_path();
    if args.password.is_some() {
        eprintln!("Warning: sensitive information entered on command line.");
    }
    check_directory(path).map_err(|e| failure(&e))?;
    check_writable(path)?;
    let password = match &args.password {
        Some(p) => p.clone(),
        None if std::io::stdin().is_terminal() => prompt_twice()?,
        None => read_stdin_line()?,
    };
    if !args.force {
        check_min_length(&password).map_err(|e| failure(&e))?;
    }
    let existed = PasswdFile::load(path)
        .map(|f| f.hash_for(GUI_USER).is_some())
        .unwrap_or(false);
    set_password(path, GUI_USER, &password).map_err(|e| failure(&e))?;
    let verb = if existed { "Updated" } else { "Added" };
    println!("{verb} password for user {GUI_USER} in {}", path.display());
    Ok(())
}

/// The message for a library error, with what to do about it where that
/// is not obvious.
fn failure(e: &AuthError) -> Failure {
    let mut m = chain(e);
    match e {
        AuthError::PasswordTooShort(_) => m.push_str(" (or --force to set it anyway)"),
        AuthError::NoDirectory { dir, .. } => {
            // The GUI runs as piranha and must reach the file.
            let group = match Group::from_name(GUI_USER) {
                Ok(Some(_)) => format!(" -g {GUI_USER}"),
                _ => String::new(),
            };
            m.push_str(&format!(
                "; create it first (install -d -m 0750{group} {}; make install creates the default one) \
                 or name another file with --file",
                dir.display()
            ));
        }
        _ if e.is_permission_denied() && !Uid::effective().is_root() => {
            m.push_str(" (piranha-passwd must normally be run as root)");
        }
        _ => {}
    }
    Failure::Message(m)
}

/// Says before prompting when a non-root user cannot replace the file.
fn check_writable(path: &Path) -> Result<(), Failure> {
    if Uid::effective().is_root() {
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if dir.is_dir() && access(dir, AccessFlags::W_OK | AccessFlags::X_OK).is_err() {
        return Err(Failure::Message(format!(
            "cannot write password file {}: directory {} is not writable \
             (piranha-passwd must normally be run as root)",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

fn prompt_twice() -> Result<String, Failure> {
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| Failure::Message(format!("failed to read the password: {e}")))
    };
    let first = read("New Password: ")?;
    let second = read("Verify: ")?;
    if first != second {
        return Err(Failure::Mismatch);
    }
    Ok(first)
}

/// The first line of standard input, without its line end.
fn read_stdin_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Message(format!("failed to read the password from stdin: {e}")))?;
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    Ok(line)
}
