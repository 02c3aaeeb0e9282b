//! The daemons' pidfiles (`/var/run/pulse.pid`, `/var/run/lvs.pid`,
//! `/var/run/piranha-gui.pid`).
//!
//! [`Pidfile::create`] refuses a file that names a live copy of the same
//! daemon (Piranha overwrote it, and two pulses or two lvs on one director
//! fight over the addresses and the table), writes the pid atomically (a
//! reader never sees a half-written number) with mode 0644, and
//! [`Pidfile::remove`] or dropping it removes the file, unless another
//! process has written its own pid there since.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a pidfile was not written.
#[derive(Debug, thiserror::Error)]
pub enum PidfileError {
    /// The file names a running copy of this daemon.
    #[error("{program} is already running (pid {pid} in {path})")]
    Running {
        /// The daemon's name.
        program: String,
        /// Its pid.
        pid: i32,
        /// The pidfile.
        path: String,
    },
    /// The file could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The pidfile.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
}

/// A pidfile this process wrote; removed on [`Pidfile::remove`] or drop.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    pid: u32,
}

impl Pidfile {
    /// Write this process's pid to `path`, refusing when the file names
    /// another live process that is this program or whose name is one of
    /// `names`.  A pidfile left by a killed daemon may name a pid the kernel
    /// has since given to another program: that one does not count.
    pub fn create(path: &Path, names: &[&str]) -> Result<Pidfile, PidfileError> {
        let pid = std::process::id();
        Self::check(path, names)?;
        write_atomic(path, format!("{pid}\n").as_bytes()).map_err(|source| {
            PidfileError::Write {
                path: path.display().to_string(),
                source,
            }
        })?;
        Ok(Pidfile {
            path: path.to_path_buf(),
            pid,
        })
    }

    /// The refusal [`Pidfile::create`] would make, without writing: for a
    /// daemon to say so on the terminal before it detaches.
    pub fn check(path: &Path, names: &[&str]) -> Result<(), PidfileError> {
        match holder(path, names) {
            Some(pid) => Err(PidfileError::Running {
                program: names.first().copied().unwrap_or("the daemon").to_string(),
                pid,
                path: path.display().to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The live process that `path` names when /proc shows it is named one
    /// of `names`: for a caller that will signal it (pulse stopping an lvs
    /// a previous pulse left running). A process that cannot be identified
    /// is never returned (signalling a stranger is the unsafe mistake;
    /// [`Pidfile::check`] makes the opposite choice).
    pub fn named_holder(path: &Path, names: &[&str]) -> Option<i32> {
        let pid = read_pid(path)?;
        if pid <= 1 || pid == std::process::id() as i32 {
            return None;
        }
        let comm = comm(pid)?;
        names.contains(&comm.as_str()).then_some(pid)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the file now (it still names us).
    pub fn remove(self) {
        drop(self)
    }
}

impl Drop for Pidfile {
    fn drop(&mut self) {
        // A forked child that unwinds must not remove its parent's file,
        // nor anyone remove a file a newer daemon has rewritten.
        if std::process::id() != self.pid {
            return;
        }
        if read_pid(&self.path) == Some(self.pid as i32) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The live process, other than us, that `path` names and that is this
/// program or is named one of `names`.
fn holder(path: &Path, names: &[&str]) -> Option<i32> {
    let pid = read_pid(path)?;
    if pid <= 0 || pid == std::process::id() as i32 {
        return None;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM)
    {
        return None;
    }
    is_program(pid, names).then_some(pid)
}

/// Is process `pid` the same executable as this one, or named one of
/// `names`?  When /proc cannot tell, assume it is (refusing to start twice
/// is the safe mistake).
fn is_program(pid: i32, names: &[&str]) -> bool {
    let exe = |p: &str| std::fs::read_link(format!("/proc/{p}/exe")).ok();
    if let (Some(theirs), Some(ours)) = (exe(&pid.to_string()), exe("self")) {
        if theirs == ours {
            return true;
        }
    }
    match comm(pid) {
        Some(comm) => names.contains(&comm.as_str()),
        None => true,
    }
}

/// The process's name (`/proc/PID/comm`), if it runs and /proc says.
fn comm(pid: i32) -> Option<String> {
    let c = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(c.trim_end().to_string())
}

/// Replace `path` with `data` through a temporary file in the same
/// directory, mode 0644, synced before the rename.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".pid").tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_with_our_pid_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let p = Pidfile::create(&path, &["x"]).unwrap();
        assert_eq!(read_pid(&path), Some(std::process::id() as i32));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        p.remove();
        assert!(!path.exists());
    }

    /// A running `sleep` whose pid `path` names.
    fn sleeper_in(path: &Path) -> std::process::Child {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::write(path, format!("{}\n", child.id())).unwrap();
        // Until it has exec'd, the child still bears the test thread's name.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while comm(child.id() as i32).as_deref() != Some("sleep")
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child
    }

    #[test]
    fn a_file_naming_another_program_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let mut child = sleeper_in(&path);
        let p = Pidfile::create(&path, &["not-sleep"]);
        let _ = child.kill();
        let _ = child.wait();
        assert!(p.is_ok());
    }

    #[test]
    fn a_file_naming_a_live_copy_refuses_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let mut child = sleeper_in(&path);
        let e = Pidfile::create(&path, &["sleep"]).unwrap_err();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            e.to_string().starts_with("sleep is already running (pid "),
            "{e}"
        );
        assert_eq!(read_pid(&path), Some(child.id() as i32));
    }

    #[test]
    fn only_an_identified_holder_is_named_for_signalling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        assert_eq!(Pidfile::named_holder(&path, &["sleep"]), None, "no file");
        let mut child = sleeper_in(&path);
        let pid = child.id() as i32;
        assert_eq!(Pidfile::named_holder(&path, &["sleep"]), Some(pid));
        assert_eq!(Pidfile::named_holder(&path, &["lvs", "lvsd"]), None);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(Pidfile::named_holder(&path, &["sleep"]), None, "gone");
        std::fs::write(&path, "1\n").unwrap();
        assert_eq!(Pidfile::named_holder(&path, &["init", "systemd"]), None);
    }

    #[test]
    fn a_file_rewritten_by_another_daemon_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let p = Pidfile::create(&path, &["x"]).unwrap();
        std::fs::write(&path, "1\n").unwrap();
        drop(p);
        assert_eq!(read_pid(&path), Some(1));
    }
}
