//! Reading and changing lvs.cf.
//!
//! A page view only reads the file. A change runs [`Store::change`]: under a
//! process-wide mutex *and* an exclusive `flock(2)` on `LVS.CF.lock` (so two
//! GUI processes cannot interleave), the current file is opened in the
//! comment-preserving [`Editor`], the panel's edits are applied one by one
//! (each refused if it would make the file invalid), and only if every
//! edit was accepted and something changed is `serial_no` bumped and the
//! file replaced atomically, keeping its owner and mode and the previous
//! version as `LVS.CF.bak`. What changed ([`Saved`]: the keys and blocks
//! touched, the new `serial_no`) is returned for the audit log line.

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lvs_config::{Config, EditError, Editor, ParseOptions, Target};

/// A message for one form field (`field` is the form field's name; an
/// empty field means the panel as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The form field.
    pub field: String,
    /// What is wrong, for the administrator.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The input was refused; the file was not touched.
    #[error("the change was refused")]
    Fields(Vec<FieldError>),
    /// The file could not be read, parsed, locked or written.
    #[error("{0}")]
    File(String),
}

/// Edits being collected for one change: every refused edit is recorded
/// against its form field and the rest still tried, so the page can show
/// all the problems at once.
pub struct Edit<'a> {
    ed: &'a mut Editor,
    /// The problems so far.
    pub errors: Vec<FieldError>,
    keyword_field: &'a dyn Fn(&str) -> Option<&'static str>,
    /// What the accepted edits changed: (block, key or action), in order.
    changed: Vec<(String, String)>,
}

/// What the page says about an edit lvs.cf refused: the diagnostic and its
/// hint, without what reading such a file would do (the block "left out of
/// the table", "ignored, because ... is inactive") and the hint that goes
/// with it, which do not apply to a change that is not made.
fn refused_message(d: &lvs_config::Diagnostic) -> String {
    const READING: [&str; 2] = ["; the virtual server `", "; ignored, because `"];
    if let Some(i) = READING.iter().filter_map(|r| d.detail.find(r)).min() {
        return d.detail[..i].to_string();
    }
    with_hint(&d.detail, d.hint.as_deref())
}

/// How a panel shows one of lvs.cf's messages: the detail, and the hint in
/// parentheses.
pub fn with_hint(detail: &str, hint: Option<&str>) -> String {
    match hint {
        Some(h) => format!("{detail} ({h})"),
        None => detail.to_string(),
    }
}

/// How the audit line names a block: nothing for the global section.
fn block_label(t: Target<'_>) -> String {
    match t {
        Target::Global => String::new(),
        Target::Virtual(v) => format!("virtual {v}"),
        Target::Server(v, s) => format!("server {s} of {v}"),
        Target::Failover(f) => format!("failover {f}"),
    }
}

/// What a saved change did, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    /// `serial_no` of the file as written.
    pub serial: i64,
    /// The keys and blocks changed, grouped by block: `heartbeat_port,
    /// keepalive` (global keys), `virtual www: port, scheduler`, `server
    /// web1 of www: removed`; groups separated by `; `.
    pub what: String,
}

/// `changed` as [`Saved::what`] says: a block that was added is only
/// "added" (not every key it was given), a key is named once.
fn summarise(changed: &[(String, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (block, item) in changed {
        let i = match groups.iter().position(|(b, _)| b == block) {
            Some(i) => i,
            None => {
                groups.push((block, Vec::new()));
                groups.len() - 1
            }
        };
        let items = &mut groups[i].1;
        if !items.contains(&"added") && !items.contains(&item.as_str()) {
            items.push(item);
        }
    }
    groups
        .iter()
        .map(|(b, items)| {
            let items = items.join(", ");
            if b.is_empty() {
                items
            } else {
                format!("{b}: {items}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Edit<'_> {
    /// The configuration as edited so far.
    pub fn config(&self) -> &Config {
        self.ed.config()
    }

    /// Record a problem on `field`.
    pub fn error(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.push(FieldError::new(field, msg));
    }

    fn record(&mut self, field: &str, r: Result<(), EditError>) -> bool {
        match r {
            Ok(()) => true,
            Err(EditError::Invalid(d)) => {
                let mut any = false;
                for e in d.errors() {
                    let f = e
                        .keyword
                        .as_deref()
                        .and_then(|k| (self.keyword_field)(k))
                        .unwrap_or(field);
                    let msg = refused_message(e);
                    self.errors.push(FieldError::new(f, msg));
                    any = true;
                }
                if !any {
                    self.errors
                        .push(FieldError::new(field, "the file would not be valid"));
                }
                false
            }
            Err(e) => {
                self.errors.push(FieldError::new(field, e.to_string()));
                false
            }
        }
    }

    /// Run `f` on the editor; record its problems against `field`, or,
    /// when it changed the text, `what` was done to block `t` (`added`,
    /// `removed`, `renamed to NAME`, a key: the audit line says it).
    pub fn with(
        &mut self,
        field: &str,
        t: Target<'_>,
        what: &str,
        f: impl FnOnce(&mut Editor) -> Result<(), EditError>,
    ) -> bool {
        let before = self.ed.text().to_string();
        let r = f(self.ed);
        let ok = self.record(field, r);
        if ok && self.ed.text() != before {
            self.changed.push((block_label(t), what.to_string()));
        }
        ok
    }

    /// `key = value` (value as lvs.cf tokens).
    pub fn set(&mut self, t: Target<'_>, key: &str, value: &str, field: &str) -> bool {
        self.with(field, t, key, |ed| ed.set(t, key, value))
    }

    /// `key = "text"`: double quotes unless the text holds one, then the
    /// editor's quoting (single quotes).
    pub fn set_quoted(&mut self, t: Target<'_>, key: &str, text: &str, field: &str) -> bool {
        self.with(field, t, key, |ed| {
            if text.contains('"') {
                ed.set_str(t, key, text)
            } else {
                ed.set(t, key, &format!("\"{text}\""))
            }
        })
    }

    /// Remove `key`.
    pub fn remove(&mut self, t: Target<'_>, key: &str, field: &str) -> bool {
        self.with(field, t, key, |ed| ed.remove(t, key).map(|_| ()))
    }
}

/// The file and the locks that serialise changes to it.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    lock: Mutex<()>,
}

fn options(path: &Path) -> ParseOptions {
    ParseOptions::for_file(path.display().to_string())
}

/// Read and parse the file: the editor, or why not. A file that does not
/// exist yet reads as `serial_no = 0` (the first ACCEPT creates it, mode
/// 0644).
pub fn load(path: &Path) -> Result<Editor, EditError> {
    open(path)
}

fn open(path: &Path) -> Result<Editor, EditError> {
    match Editor::open(path, options(path)) {
        Err(EditError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Editor::new("serial_no = 0\n".to_string(), options(path)).map_err(EditError::Invalid)
        }
        r => r,
    }
}

impl Store {
    /// The store for `path`.
    pub fn new(path: PathBuf) -> Self {
        Store {
            path,
            lock: Mutex::new(()),
        }
    }

    /// The configuration file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file (never writes).
    pub fn read(&self) -> Result<Editor, EditError> {
        load(&self.path)
    }

    /// Apply `f` and save if it changed anything. Returns what was
    /// written, `None` when nothing changed. Blocking: call it off the
    /// async executor.
    pub fn change(
        &self,
        keyword_field: &dyn Fn(&str) -> Option<&'static str>,
        f: impl FnOnce(&mut Edit<'_>),
    ) -> Result<Option<Saved>, ChangeError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let _flock = self.flock()?;
        let mut ed = open(&self.path).map_err(|e| {
            ChangeError::File(format!(
                "{} cannot be changed until it is valid: {e}",
                self.path.display()
            ))
        })?;
        let before = ed.text().to_string();
        let mut edit = Edit {
            ed: &mut ed,
            errors: Vec::new(),
            keyword_field,
            changed: Vec::new(),
        };
        f(&mut edit);
        if !edit.errors.is_empty() {
            return Err(ChangeError::Fields(edit.errors));
        }
        let what = summarise(&edit.changed);
        if ed.text() == before {
            return Ok(None);
        }
        ed.bump_serial()
            .map_err(|e| ChangeError::File(format!("cannot bump serial_no: {e}")))?;
        ed.save(&self.path, true)
            .map_err(|e| ChangeError::File(e.to_string()))?;
        Ok(Some(Saved {
            serial: ed.config().serial_no(),
            what,
        }))
    }

    fn flock(&self) -> Result<std::fs::File, ChangeError> {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".lock");
        let p = PathBuf::from(p);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(|e| {
                ChangeError::File(format!("cannot open lock file {}: {e}", p.display()))
            })?;
        // SAFETY: flock on a descriptor we own; released when `f` is closed.
        let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        if r != 0 {
            return Err(ChangeError::File(format!(
                "cannot lock {}: {}",
                p.display(),
                std::io::Error::last_os_error()
            )));
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: &str, i: &str) -> (String, String) {
        (b.to_string(), i.to_string())
    }

    #[test]
    fn summary_groups_by_block_and_names_each_key_once() {
        assert_eq!(
            summarise(&[
                c("", "keepalive"),
                c("virtual www", "port"),
                c("", "deadtime"),
                c("virtual www", "port"),
                c("server web1 of www", "removed"),
            ]),
            "keepalive, deadtime; virtual www: port; server web1 of www: removed"
        );
    }

    #[test]
    fn an_added_block_is_only_added() {
        assert_eq!(
            summarise(&[
                c("virtual [server_name]", "added"),
                c("virtual [server_name]", "active"),
                c("virtual [server_name]", "port"),
            ]),
            "virtual [server_name]: added"
        );
    }
}
