//! Reading and changing lvs.cf.
//!
//! A page view only reads the file. A change runs [`Store::change`]: under a
//! process-wide mutex *and* an exclusive `flock(2)` on `LVS.CF.lock` (so two
//! GUI processes cannot interleave), the current file is opened in the
//! comment-preserving [`Editor`], the panel's edits are applied one by one
//! (each refused if it would make the file invalid), and only if every
//! edit was accepted and something changed is `serial_no` bumped and the
//! file replaced atomically, keeping its owner and mode and the previous
//! version as `LVS.CF.bak`.

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
                    let mut msg = e.detail.clone();
                    if let Some(h) = &e.hint {
                        msg.push_str(&format!(" ({h})"));
                    }
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

    /// `key = value` (value as lvs.cf tokens).
    pub fn set(&mut self, t: Target<'_>, key: &str, value: &str, field: &str) -> bool {
        let r = self.ed.set(t, key, value);
        self.record(field, r)
    }

    /// `key = "text"`: double quotes unless the text holds one, then the
    /// editor's quoting (single quotes).
    pub fn set_quoted(&mut self, t: Target<'_>, key: &str, text: &str, field: &str) -> bool {
        let r = if text.contains('"') {
            self.ed.set_str(t, key, text)
        } else {
            self.ed.set(t, key, &format!("\"{text}\""))
        };
        self.record(field, r)
    }

    /// Remove `key`.
    pub fn remove(&mut self, t: Target<'_>, key: &str, field: &str) -> bool {
        let r = self.ed.remove(t, key).map(|_| ());
        self.record(field, r)
    }

    /// Any other editor operation.
    pub fn with(
        &mut self,
        field: &str,
        f: impl FnOnce(&mut Editor) -> Result<(), EditError>,
    ) -> bool {
        let r = f(self.ed);
        self.record(field, r)
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

    /// Apply `f` and save if it changed anything. Returns whether the file
    /// was written. Blocking: call it off the async executor.
    pub fn change(
        &self,
        keyword_field: &dyn Fn(&str) -> Option<&'static str>,
        f: impl FnOnce(&mut Edit<'_>),
    ) -> Result<bool, ChangeError> {
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
        };
        f(&mut edit);
        if !edit.errors.is_empty() {
            return Err(ChangeError::Fields(edit.errors));
        }
        if ed.text() == before {
            return Ok(false);
        }
        ed.bump_serial()
            .map_err(|e| ChangeError::File(format!("cannot bump serial_no: {e}")))?;
        ed.save(&self.path, true)
            .map_err(|e| ChangeError::File(e.to_string()))?;
        Ok(true)
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
