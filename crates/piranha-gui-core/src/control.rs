//! The CONTROL/MONITORING panel's facts: the daemons found by their
//! pidfiles (the pid, and `/proc/PID/comm` naming the program), the
//! director's status asked of their control sockets (`status json`), and
//! the drain, undrain and weight requests sent to lvs's socket.
//!
//! Piranha's panel ran `pulse status`, `ipvsadm -L -n` and
//! `ps auxw | egrep ...`; the daemons now say themselves what they run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use piranha_status::protocol::{Request, Target, MAX_WEIGHT};
use piranha_status::socket;
use piranha_status::{Answer, Director};

/// One daemon as its pidfile and `/proc` show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daemon {
    /// `pulse` or `lvs`.
    pub name: &'static str,
    /// Its pidfile.
    pub pidfile: PathBuf,
    /// What the pidfile and `/proc` say.
    pub state: DaemonState,
}

/// What a pidfile and `/proc` say of a daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonState {
    /// The pidfile names a live process of that name.
    Running(u32),
    /// No pidfile: the daemon does not run (or never wrote one).
    NoPidfile,
    /// The pidfile cannot be read or holds no pid.
    Unreadable(String),
    /// The pidfile names a process that no longer exists.
    Gone(u32),
    /// The pidfile names a live process of another name (the pid was
    /// reused after the daemon died).
    Other(u32, String),
}

impl DaemonState {
    /// The daemon runs.
    pub fn running(&self) -> bool {
        matches!(self, DaemonState::Running(_))
    }

    /// The pid the pidfile names, if any.
    pub fn pid(&self) -> Option<u32> {
        match self {
            DaemonState::Running(p) | DaemonState::Gone(p) | DaemonState::Other(p, _) => Some(*p),
            _ => None,
        }
    }

    /// In words, for the panel.
    pub fn describe(&self) -> String {
        match self {
            DaemonState::Running(_) => "running".into(),
            DaemonState::NoPidfile => "not running (no pidfile)".into(),
            DaemonState::Unreadable(why) => format!("unknown: {why}"),
            DaemonState::Gone(p) => format!("not running (stale pidfile: no process {p})"),
            DaemonState::Other(p, comm) => {
                format!("not running (stale pidfile: process {p} is `{comm}`)")
            }
        }
    }
}

/// Look `name` up by its pidfile: the pid it names, and whether
/// `/proc/PID/comm` is one of `comms`.
pub fn find_daemon(name: &'static str, comms: &[&str], pidfile: &Path) -> Daemon {
    find_daemon_in(name, comms, pidfile, Path::new("/proc"))
}

fn find_daemon_in(name: &'static str, comms: &[&str], pidfile: &Path, proc: &Path) -> Daemon {
    let state = match std::fs::read_to_string(pidfile) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => DaemonState::NoPidfile,
        Err(e) => DaemonState::Unreadable(format!("cannot read {}: {e}", pidfile.display())),
        Ok(text) => match text.trim().parse::<u32>() {
            Ok(pid) if pid > 0 => {
                match std::fs::read_to_string(proc.join(pid.to_string()).join("comm")) {
                    Err(_) => DaemonState::Gone(pid),
                    Ok(comm) => {
                        let comm = comm.trim_end().to_string();
                        if comms.contains(&comm.as_str()) {
                            DaemonState::Running(pid)
                        } else {
                            DaemonState::Other(pid, comm)
                        }
                    }
                }
            }
            _ => DaemonState::Unreadable(format!("{} holds no pid", pidfile.display())),
        },
    };
    Daemon {
        name,
        pidfile: pidfile.to_path_buf(),
        state,
    }
}

/// pulse and lvs, by the pidfiles of the settings.
pub fn daemons(pulse_pidfile: &Path, lvs_pidfile: &Path) -> Vec<Daemon> {
    vec![
        find_daemon("pulse", &["pulse"], pulse_pidfile),
        find_daemon("lvs", &["lvs", "lvsd"], lvs_pidfile),
    ]
}

/// The director's status as the daemons gave it, and why a part is
/// missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Live {
    /// What pulse and lvs said (pulse's part and lvs's), if either
    /// answered.
    pub director: Option<Director>,
    /// Each socket that did not give its part, and why.
    pub problems: Vec<String>,
}

fn ask_json(what: &str, path: &Path, timeout: Duration) -> Result<Director, String> {
    let a = socket::ask(path, "status json", timeout).map_err(|e| format!("{what}: {e}"))?;
    if !a.ok {
        return Err(format!(
            "{what} ({}) refused `status json`: {}",
            path.display(),
            a.text.trim_end()
        ));
    }
    let d = Director::from_json(&a.text).map_err(|e| {
        format!(
            "{what} ({}) did not answer with the status JSON: {e}",
            path.display()
        )
    })?;
    Ok(d)
}

/// Ask pulse (whose status includes lvs's part) and, when that part is
/// missing, lvs itself.
pub fn ask_status(pulse: &Path, lvs: &Path, timeout: Duration) -> Live {
    let mut problems = Vec::new();
    let p = ask_json("pulse", pulse, timeout);
    if let Ok(d) = &p {
        if d.lvs.is_some() {
            let mut live = Live {
                director: p.ok(),
                problems,
            };
            version_note(&mut live);
            return live;
        }
    }
    let l = ask_json("lvs", lvs, timeout);
    let director = match (p, l) {
        (Ok(mut d), Ok(ld)) => {
            d.lvs = ld.lvs;
            d.notes.extend(ld.notes);
            Some(d)
        }
        (Ok(d), Err(e)) => {
            problems.push(e);
            Some(d)
        }
        (Err(e), Ok(ld)) => {
            problems.push(e);
            Some(ld)
        }
        (Err(pe), Err(le)) => {
            problems.push(pe);
            problems.push(le);
            None
        }
    };
    let mut live = Live { director, problems };
    version_note(&mut live);
    live
}

fn version_note(live: &mut Live) {
    if let Some(d) = &live.director {
        if d.version != piranha_status::VERSION {
            live.problems.push(format!(
                "the daemons speak status version {}; this piranha-gui reads version {}: some facts may be missing",
                d.version,
                piranha_status::VERSION
            ));
        }
    }
}

/// A name as the protocol takes it: one word without `/`.
fn word(field: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("no {field} given"));
    }
    if s.contains('/') || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the {field} name `{}` is not one word",
            s.escape_debug()
        ));
    }
    Ok(())
}

/// The request of the panel's form: `action` is `drain`, `undrain` or
/// `weight` (then `weight` holds the new weight), for `service/server`.
pub fn change_request(
    action: &str,
    service: &str,
    server: &str,
    weight: Option<&str>,
) -> Result<Request, String> {
    word("virtual server", service)?;
    word("real server", server)?;
    let target = Target::parse(&format!("{service}/{server}")).map_err(|e| e.to_string())?;
    match action {
        "drain" => Ok(Request::Drain {
            target,
            deadline: None,
        }),
        "undrain" => Ok(Request::Undrain(target)),
        "weight" => {
            let w = weight.unwrap_or("").trim();
            let n = w
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_WEIGHT)
                .ok_or_else(|| {
                    format!(
                        "the weight `{}` is not a number from 0 to {MAX_WEIGHT}",
                        w.escape_debug()
                    )
                })?;
            Ok(Request::Weight(target, n))
        }
        other => Err(format!("no such action `{}`", other.escape_debug())),
    }
}

/// Send `request` to lvs's control socket.
pub fn send_change(lvs: &Path, request: &Request, timeout: Duration) -> Result<Answer, String> {
    socket::ask(lvs, &request.line(), timeout).map_err(|e| e.to_string())
}

/// The answer to a change asked from the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The request line sent to lvs (absent when the form was refused
    /// before anything was sent).
    pub request: Option<String>,
    /// lvs carried it out.
    pub ok: bool,
    /// lvs's answer, or why nothing was sent or no answer came.
    pub text: String,
}

/// Everything the panel shows.
#[derive(Clone, Debug)]
pub struct View {
    /// pulse and lvs by their pidfiles.
    pub daemons: Vec<Daemon>,
    /// The status from the control sockets.
    pub live: Live,
    /// lvs.cf as the panels read it, or why it cannot be read.
    pub config: Result<lvs_config::Config, String>,
    /// The answer to the change just asked, if any.
    pub outcome: Option<Outcome>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfile_names_a_running_daemon_only_when_proc_agrees() {
        let d = tempfile::tempdir().unwrap();
        let proc = d.path().join("proc");
        std::fs::create_dir_all(proc.join("4242")).unwrap();
        std::fs::write(proc.join("4242/comm"), "pulse\n").unwrap();
        std::fs::create_dir_all(proc.join("77")).unwrap();
        std::fs::write(proc.join("77/comm"), "bash\n").unwrap();
        let pf = d.path().join("pulse.pid");
        let look = || find_daemon_in("pulse", &["pulse"], &pf, &proc).state;
        assert_eq!(look(), DaemonState::NoPidfile);
        std::fs::write(&pf, "4242\n").unwrap();
        assert_eq!(look(), DaemonState::Running(4242));
        std::fs::write(&pf, "77\n").unwrap();
        assert_eq!(look(), DaemonState::Other(77, "bash".into()));
        std::fs::write(&pf, "99999\n").unwrap();
        assert_eq!(look(), DaemonState::Gone(99999));
        std::fs::write(&pf, "pulse\n").unwrap();
        assert!(matches!(look(), DaemonState::Unreadable(_)));
        assert!(!look().running());
    }

    #[test]
    fn our_own_process_is_found_through_the_real_proc() {
        let d = tempfile::tempdir().unwrap();
        let pf = d.path().join("x.pid");
        std::fs::write(&pf, format!("{}\n", std::process::id())).unwrap();
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        let comm = comm.trim_end();
        let found = find_daemon("x", &[comm], &pf);
        assert_eq!(found.state, DaemonState::Running(std::process::id()));
        let other = find_daemon("x", &["pulse"], &pf);
        assert!(!other.state.running());
    }

    #[test]
    fn change_requests_are_built_from_single_words() {
        assert_eq!(
            change_request("drain", "web", "web2", None).unwrap().line(),
            "drain web/web2"
        );
        assert_eq!(
            change_request("undrain", "web", "web2", None)
                .unwrap()
                .line(),
            "undrain web/web2"
        );
        assert_eq!(
            change_request("weight", "web", "web2", Some(" 7 "))
                .unwrap()
                .line(),
            "weight web/web2 7"
        );
        assert!(change_request("weight", "web", "web2", Some("70000")).is_err());
        assert!(change_request("weight", "web", "web2", None).is_err());
        // A blank would smuggle another word into the request line.
        assert!(change_request("weight", "web", "web2 5", Some("1")).is_err());
        assert!(change_request("drain", "web/x", "web2", None).is_err());
        assert!(change_request("drain", "", "web2", None).is_err());
        assert!(change_request("drain", "web", "a\nb", None).is_err());
        assert!(change_request("disable-service", "web", "web2", None).is_err());
    }

    #[test]
    fn absent_sockets_say_which_and_why() {
        let d = tempfile::tempdir().unwrap();
        let live = ask_status(
            &d.path().join("pulse.ctl"),
            &d.path().join("lvs.ctl"),
            Duration::from_millis(200),
        );
        assert_eq!(live.director, None);
        assert_eq!(live.problems.len(), 2, "{:?}", live.problems);
        assert!(live.problems[0].starts_with("pulse: cannot connect to "));
        assert!(live.problems[1].starts_with("lvs: cannot connect to "));
    }
}
