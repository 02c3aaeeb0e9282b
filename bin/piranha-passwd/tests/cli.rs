//! piranha-passwd as an administrator runs it: on a real pseudo-terminal,
//! with the password as an argument, and with the password on a pipe.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::termios::{tcgetattr, LocalFlags};
use piranha_auth::{verify, PasswdFile, GUI_USER};
use rexpect::process::WaitStatus;
use rexpect::session::{spawn_command, PtySession};

const BIN: &str = env!("CARGO_BIN_EXE_piranha-passwd");

fn passwd_cmd(file: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--file").arg(file);
    c
}

/// piranha-passwd on a new pseudo-terminal. rexpect switches the
/// terminal's echo off before it runs the program; `stty echo` puts it back,
/// as on a real terminal, so a password is echoed unless the program itself
/// turns echo off.
fn on_pty(file: &Path) -> PtySession {
    let mut c = Command::new("sh");
    c.args(["-c", "stty echo && exec \"$0\" \"$@\"", BIN, "--file"])
        .arg(file);
    spawn_command(c, Some(20_000)).expect("spawn piranha-passwd on a pty")
}

/// Waits until the program has switched the terminal's echo off, so the
/// password we type next cannot be echoed by the line discipline.
fn wait_for_no_echo(p: &PtySession) {
    let master = p.process().get_file_handle().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tcgetattr(&master)
        .unwrap()
        .local_flags
        .contains(LocalFlags::ECHO)
    {
        assert!(Instant::now() < deadline, "echo never switched off");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn answer(p: &mut PtySession, prompt: &str, password: &str) -> String {
    let before = p.exp_string(prompt).unwrap();
    wait_for_no_echo(p);
    p.send_line(password).unwrap();
    before
}

fn exit_code(p: &PtySession) -> i32 {
    match p.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("piranha-passwd did not exit normally: {other:?}"),
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn run(mut c: Command, stdin: &[u8]) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A program that stops before reading closes the pipe: not our error.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn prompts_without_echo_and_writes_a_bcrypt_entry() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("conf")).unwrap();
    let file = dir.path().join("conf/piranha.passwd");
    let pw = "Typed s3cret";
    let mut p = on_pty(&file);
    answer(&mut p, "New Password: ", pw);
    let between = answer(&mut p, "Verify: ", pw);
    let rest = p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0, "output: {between}{rest}");
    assert!(
        !between.contains(pw) && !rest.contains(pw),
        "password echoed: {between:?} {rest:?}"
    );
    assert!(rest.contains("Added password for user piranha"), "{rest:?}");

    assert_eq!(mode(&file), 0o600);
    let text = fs::read_to_string(&file).unwrap();
    let hash = text.strip_prefix("piranha:").unwrap().trim_end();
    assert!(hash.starts_with("$2y$10$"), "{text:?}");
    assert!(verify(hash, pw));
    assert!(!verify(hash, "typed s3cret"));
    let names: Vec<_> = fs::read_dir(file.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1, "a temporary file was left behind");
}

#[test]
fn mismatch_says_so_exits_1_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    let before = "alice:Kufzw.yyR1M5g\npiranha:$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.\n";
    fs::write(&file, before).unwrap();
    let mut p = on_pty(&file);
    answer(&mut p, "New Password: ", "one password");
    answer(&mut p, "Verify: ", "another password");
    p.exp_string("Passwords do not match.").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1);
    assert_eq!(fs::read_to_string(&file).unwrap(), before);
}

#[test]
fn updating_keeps_the_other_users() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    fs::write(
        &file,
        "alice:Kufzw.yyR1M5g\npiranha:$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.\n",
    )
    .unwrap();
    let mut p = on_pty(&file);
    answer(&mut p, "New Password: ", "n3w passw0rd");
    answer(&mut p, "Verify: ", "n3w passw0rd");
    let rest = p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0, "{rest}");
    assert!(
        rest.contains("Updated password for user piranha"),
        "{rest:?}"
    );
    let f = PasswdFile::load(&file).unwrap();
    assert!(f.check(GUI_USER, "n3w passw0rd"));
    assert!(!f.check(GUI_USER, "Secr3t pass!"));
    assert!(f.check("alice", "Secr3t pass!"));
}

#[test]
fn argument_form_warns_on_stderr_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    let mut c = passwd_cmd(&file);
    c.arg("on the command line");
    let out = run(c, b"");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "Warning: sensitive information entered on command line.\n"
    );
    assert!(PasswdFile::load(&file)
        .unwrap()
        .check(GUI_USER, "on the command line"));
    assert_eq!(mode(&file), 0o600);
}

#[test]
fn a_pipe_gives_the_password_without_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    let out = run(passwd_cmd(&file), b"from a pipe\r\nsecond line ignored\n");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("New Password"), "{stdout:?}");
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = PasswdFile::load(&file).unwrap();
    assert!(f.check(GUI_USER, "from a pipe"));
    assert!(!f.check(GUI_USER, "second line ignored"));
}

#[test]
fn an_empty_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    let out = run(passwd_cmd(&file), b"\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "piranha-passwd: refusing an empty password\n"
    );
    assert!(!file.exists());
}

const OLD: &str = "piranha:Kufzw.yyR1M5g\n";

/// Under 8 characters is refused, from a pipe, an argument or the
/// terminal, with the file left as it was; `-f`/`--force` sets it anyway.
#[test]
fn a_short_password_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("piranha.passwd");
    fs::write(&file, OLD).unwrap();
    let refused = "piranha-passwd: the password has 7 characters; use at least 8 \
                   (or --force to set it anyway)\n";

    let out = run(passwd_cmd(&file), b"seven77\n");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(String::from_utf8(out.stderr).unwrap(), refused);
    assert_eq!(fs::read_to_string(&file).unwrap(), OLD);

    // Characters, not bytes.
    let out = run(passwd_cmd(&file), "ééééééé\n".as_bytes());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(String::from_utf8(out.stderr).unwrap(), refused);

    let mut c = passwd_cmd(&file);
    c.arg("seven77");
    let out = run(c, b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("Warning: sensitive information entered on command line.\n{refused}")
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), OLD);

    let mut p = on_pty(&file);
    answer(&mut p, "New Password: ", "seven77");
    answer(&mut p, "Verify: ", "seven77");
    let rest = p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1, "{rest}");
    assert!(rest.contains(refused.trim_end()), "{rest:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), OLD);

    // Eight characters need no force.
    let out = run(passwd_cmd(&file), b"eight888\n");
    assert!(out.status.success(), "{out:?}");
    assert!(PasswdFile::load(&file).unwrap().check(GUI_USER, "eight888"));

    for force in ["-f", "--force"] {
        let mut c = passwd_cmd(&file);
        c.arg(force);
        let out = run(c, b"pw\n");
        assert!(out.status.success(), "{force}: {out:?}");
        assert!(out.stderr.is_empty(), "{force}: {out:?}");
        assert!(PasswdFile::load(&file).unwrap().check(GUI_USER, "pw"));
        fs::write(&file, OLD).unwrap();
    }
    // --force does not let an empty password through.
    let mut c = passwd_cmd(&file);
    c.arg("--force");
    let out = run(c, b"\n");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "piranha-passwd: refusing an empty password\n"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), OLD);
}

/// A password file in a directory that does not exist is an error naming
/// the directory and how to make it, before any prompt; nothing is created.
#[test]
fn a_missing_directory_is_named_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ha/conf");
    let file = conf.join("piranha.passwd");
    let out = run(passwd_cmd(&file), b"long enough\n");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let group = match nix::unistd::Group::from_name("piranha") {
        Ok(Some(_)) => " -g piranha",
        _ => "",
    };
    assert_eq!(
        stderr,
        format!(
            "piranha-passwd: directory {conf} of password file {file} does not exist; \
             create it first (install -d -m 0750{group} {conf}; make install creates the \
             default one) or name another file with --file\n",
            conf = conf.display(),
            file = file.display(),
        )
    );
    assert!(!dir.path().join("ha").exists(), "a directory was created");

    // On a terminal it says so instead of prompting.
    let mut p = on_pty(&file);
    let all = p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 1, "{all}");
    assert!(!all.contains("New Password"), "{all:?}");
    assert!(all.contains("does not exist; create it first"), "{all:?}");
    assert!(!dir.path().join("ha").exists());

    // Once it exists, the same command works.
    fs::create_dir_all(&conf).unwrap();
    let out = run(passwd_cmd(&file), b"long enough\n");
    assert!(out.status.success(), "{out:?}");
    assert!(PasswdFile::load(&file)
        .unwrap()
        .check(GUI_USER, "long enough"));
}

#[test]
fn usage_errors_exit_2() {
    let mut c = Command::new(BIN);
    c.args(["a", "b"]);
    let out = run(c, b"");
    assert_eq!(out.status.code(), Some(2));
}

/// A user who may not replace the file is told so before typing anything,
/// with the file named. As root, the program runs as `nobody`.
#[test]
fn not_root_and_not_writable_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let conf = dir.path().join("conf");
    fs::create_dir(&conf).unwrap();
    let file = conf.join("piranha.passwd");
    fs::write(&file, "piranha:Kufzw.yyR1M5g\n").unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o555)).unwrap();

    // A copy of the binary that `nobody` can execute wherever target/ is.
    let bin: PathBuf = dir.path().join("piranha-passwd");
    fs::copy(BIN, &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = Command::new(&bin);
    c.arg("--file").arg(&file);
    if nix::unistd::Uid::effective().is_root() {
        c.uid(65534).gid(65534);
    }
    let out = run(c, b"whatever\n");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.status.signal().is_none());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "piranha-passwd: cannot write password file {}: directory {} is not writable \
             (piranha-passwd must normally be run as root)\n",
            file.display(),
            conf.display()
        )
    );
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "piranha:Kufzw.yyR1M5g\n"
    );
    assert_eq!(
        fs::metadata(&file).unwrap().uid(),
        nix::unistd::Uid::effective().as_raw()
    );
}
