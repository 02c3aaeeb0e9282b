//! The comment-preserving editor: set or remove a key, add, rename, remove
//! or (de)activate a virtual or real server, leaving every byte it was not
//! asked to change exactly as it was. Each edit is re-parsed; an edit that
//! would make the file invalid is refused and the text stays as it was.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, ErrorKind, Severity};
use crate::keywords::{self, Scope};
use crate::parse::{self, BlockKind, BlockLayout, KeyLine, ParseOptions, Parsed};
use crate::writer;

/// What an edit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// The global keys.
    Global,
    /// `virtual NAME { }`
    Virtual(&'a str),
    /// `server NAME { }` inside `virtual VS { }`.
    Server(&'a str, &'a str),
    /// `failover NAME { }`
    Failover(&'a str),
}

impl Target<'_> {
    fn scope(&self) -> Scope {
        match self {
            Target::Global => Scope::Global,
            Target::Virtual(_) => Scope::Virtual,
            Target::Server(..) => Scope::Server,
            Target::Failover(_) => Scope::Failover,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Global => "the global section".into(),
            Target::Virtual(v) => format!("virtual `{v}`"),
            Target::Server(v, s) => format!("server `{s}` of virtual `{v}`"),
            Target::Failover(f) => format!("failover `{f}`"),
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The target block does not exist.
    #[error("no {0}")]
    NotFound(String),
    /// A block of that name already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// The key is not valid where it was to be set.
    #[error("`{key}` is not a keyword of {scope}")]
    NotAKeyword {
        /// The key.
        key: String,
        /// The scope, in words.
        scope: &'static str,
    },
    /// The name or value cannot be written as lvs.cf tokens.
    #[error("`{0}` cannot be written in lvs.cf: {1}")]
    Unrepresentable(String, &'static str),
    /// The edit would make the file invalid; nothing was changed.
    #[error("the change was not made because the file would not be valid:\n{0}")]
    Invalid(Diagnostics),
    /// Reading or writing the file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// An lvs.cf text being edited.
#[derive(Clone, Debug)]
pub struct Editor {
    text: String,
    opts: ParseOptions,
    parsed: Parsed,
    latin1: bool,
}

impl Editor {
    /// Start editing `text`, which must parse.
    pub fn new(text: impl Into<String>, opts: ParseOptions) -> Result<Self, Diagnostics> {
        let text = text.into();
        let parsed = parse::parse_str(&text, &opts)?;
        Ok(Editor {
            text,
            opts,
            parsed,
            latin1: false,
        })
    }

    /// Start editing the file at `path`; a file that is
    /// [`not_text`](parse::not_text) is refused.
    pub fn open(path: &Path, opts: ParseOptions) -> Result<Self, EditError> {
        let bytes = std::fs::read(path).map_err(|source| EditError::Io {
            op: "cannot read",
            path: path.to_path_buf(),
            source,
        })?;
        if let Some(d) = parse::not_text(&bytes, &opts.file) {
            return Err(EditError::Invalid(Diagnostics(vec![d])));
        }
        let latin1 = std::str::from_utf8(&bytes).is_err();
        let text = parse::decode(&bytes);
        let mut e = Editor::new(text, opts).map_err(EditError::Invalid)?;
        e.latin1 = latin1;
        Ok(e)
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The current text as file bytes (Latin-1 if the file was).
    pub fn to_bytes(&self) -> Vec<u8> {
        parse::encode(&self.text, self.latin1)
    }

    /// The configuration the current text means.
    pub fn config(&self) -> &Config {
        &self.parsed.config
    }

    /// Warnings about the current text.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.parsed.warnings
    }

    fn block(&self, t: Target<'_>) -> Result<&BlockLayout, EditError> {
        fn find<'a>(
            list: &'a [BlockLayout],
            kind: BlockKind,
            name: &str,
        ) -> Option<&'a BlockLayout> {
            list.iter().rev().find(|b| b.kind == kind && b.name == name)
        }
        let blocks = &self.parsed.layout.blocks;
        let found = match t {
            Target::Global => None,
            Target::Virtual(v) => find(blocks, BlockKind::Virtual, v),
            Target::Failover(f) => find(blocks, BlockKind::Failover, f),
            Target::Server(v, s) => find(blocks, BlockKind::Virtual, v)
                .and_then(|vb| find(&vb.children, BlockKind::Server, s)),
        };
        found.ok_or_else(|| EditError::NotFound(t.describe()))
    }

    fn keys(&self, t: Target<'_>) -> Result<&[KeyLine], EditError> {
        match t {
            Target::Global => Ok(&self.parsed.layout.globals),
            _ => Ok(&self.block(t)?.keys),
        }
    }

    /// Replace `range` with `with`, re-parse, and keep the change only if
    /// the result is valid.
    fn splice(&mut self, edits: Vec<(std::ops::Range<usize>, String)>) -> Result<(), EditError> {
        let (text, parsed) = self.spliced(edits)?;
        self.text = text;
        self.parsed = parsed;
        Ok(())
    }

    /// The text and its parse after `edits`, or why it is not valid.
    fn spliced(
        &self,
        edits: Vec<(std::ops::Range<usize>, String)>,
    ) -> Result<(String, Parsed), EditError> {
        let mut text = self.text.clone();
        let mut edits = edits;
        edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
        for (r, s) in edits {
            text.replace_range(r, &s);
        }
        let parsed = parse::parse_str(&text, &self.opts).map_err(EditError::Invalid)?;
        Ok((text, parsed))
    }

    fn eol(&self) -> String {
        self.parsed.layout.eol.clone()
    }

    /// Make sure the text ends with a line break (for appending).
    fn tail_fix(&self, at: usize) -> String {
        if at == 0 || self.text[..at].ends_with(['\n', '\r']) {
            String::new()
        } else {
            self.eol()
        }
    }

    /// Set `key` in `target` to `value`, given as lvs.cf tokens (for
    /// example `192.168.1.100 eth0:1`, or `"GET / HTTP/1.0\r\n"`). An
    /// existing line keeps its indentation and spacing; a new line goes
    /// after the last key of its block, indented like its neighbours.
    pub fn set(&mut self, target: Target<'_>, key: &str, value: &str) -> Result<(), EditError> {
        let scope = target.scope();
        if keywords::lookup(scope, key).is_none() {
            return Err(EditError::NotAKeyword {
                key: key.to_string(),
                scope: scope.describe(),
            });
        }
        if value.contains(['\n', '\r']) {
            return Err(EditError::Unrepresentable(
                value.to_string(),
                "a value cannot span lines",
            ));
        }
        let keys = self.keys(target)?;
        let (edit, at) = match keys.iter().rev().find(|k| k.key == key) {
            Some(k) => ((k.value.clone(), value.to_string()), k.value.start),
            None => {
                let (at, indent) = self.insertion_point(target)?;
                let head = format!("{}{indent}{key} = ", self.tail_fix(at));
                let line = format!("{head}{value}{}", self.eol());
                ((at..at, line), at + head.len())
            }
        };
        let (text, parsed) = self.spliced(vec![edit])?;
        // A value lvs.cf reads only for Piranha's sake (a warning of one of
        // Piranha's error categories on the value itself: a port out of
        // range, a wrapped number, a value of an inactive block that would
        // be an error in an active one) is not written by the editor: the
        // administrator means something else.
        let value_range = at..at + value.len();
        if let Some(w) = parsed.warnings.iter().find(|w| {
            value_range.contains(&w.span.start) && w.kind != ErrorKind::InvalidConfiguration
        }) {
            let mut d = w.clone();
            d.severity = Severity::Error;
            return Err(EditError::Invalid(Diagnostics(vec![d])));
        }
        self.text = text;
        self.parsed = parsed;
        Ok(())
    }

    /// Set a string value, quoting it as needed.
    pub fn set_str(&mut self, target: Target<'_>, key: &str, text: &str) -> Result<(), EditError> {
        let tok = writer::token(text).ok_or(EditError::Unrepresentable(
            text.to_string(),
            "a value cannot hold both quote characters or a line break",
        ))?;
        self.set(target, key, &tok)
    }

    fn insertion_point(&self, target: Target<'_>) -> Result<(usize, String), EditError> {
        let layout = &self.parsed.layout;
        if target == Target::Global {
            if let Some(last) = layout.globals.last() {
                return Ok((last.line.end, self.text[last.indent.clone()].to_string()));
            }
            let at = layout
                .blocks
                .first()
                .map(|b| b.header.start)
                .unwrap_or(self.text.len());
            return Ok((at, String::new()));
        }
        let b = self.block(target)?;
        let first_child = b.children.first().map(|c| c.header.start);
        let last_key = b
            .keys
            .iter()
            .rfind(|k| first_child.is_none_or(|c| k.line.start < c));
        let indent = b
            .keys
            .first()
            .map(|k| self.text[k.indent.clone()].to_string())
            .unwrap_or_else(|| format!("{}    ", &self.text[b.indent.clone()]));
        let at = match last_key {
            Some(k) => k.line.end,
            None => b.header.end,
        };
        Ok((at, indent))
    }

    /// Remove every `key` line of `target`. Returns whether any was there.
    pub fn remove(&mut self, target: Target<'_>, key: &str) -> Result<bool, EditError> {
        let lines: Vec<_> = self
            .keys(target)?
            .iter()
            .filter(|k| k.key == key)
            .map(|k| (k.line.clone(), String::new()))
            .collect();
        if lines.is_empty() {
            return Ok(false);
        }
        self.splice(lines)?;
        Ok(true)
    }

    fn check_name(name: &str) -> Result<(), EditError> {
        if name.is_empty()
            || name.contains([' ', '\t', '\n', '\r', '{', '}', '"', '\''])
            || name.starts_with('#')
        {
            return Err(EditError::Unrepresentable(
                name.to_string(),
                "a block name is one word without quotes or braces",
            ));
        }
        Ok(())
    }

    /// Append `virtual NAME { }` at the end of the file (inactive until
    /// `active = 1` is set).
    pub fn add_virtual(&mut self, name: &str) -> Result<(), EditError> {
        self.add_top(BlockKind::Virtual, name)
    }

    /// Append `failover NAME { }` at the end of the file.
    pub fn add_failover(&mut self, name: &str) -> Result<(), EditError> {
        self.add_top(BlockKind::Failover, name)
    }

    fn add_top(&mut self, kind: BlockKind, name: &str) -> Result<(), EditError> {
        Self::check_name(name)?;
        let t = match kind {
            BlockKind::Virtual => Target::Virtual(name),
            _ => Target::Failover(name),
        };
        if self.block(t).is_ok() {
            return Err(EditError::Exists(t.describe()));
        }
        let at = self.text.len();
        let eol = self.eol();
        let s = format!("{}{} {name} {{{eol}}}{eol}", self.tail_fix(at), kind.word());
        self.splice(vec![(at..at, s)])
    }

    /// Add `server NAME { }` at the end of virtual `vs`.
    pub fn add_server(&mut self, vs: &str, name: &str) -> Result<(), EditError> {
        Self::check_name(name)?;
        if self.block(Target::Server(vs, name)).is_ok() {
            return Err(EditError::Exists(Target::Server(vs, name).describe()));
        }
        let b = self.block(Target::Virtual(vs))?;
        let t = &self.text;
        let indent = b
            .children
            .last()
            .map(|c| t[c.indent.clone()].to_string())
            .or_else(|| b.keys.first().map(|k| t[k.indent.clone()].to_string()))
            .unwrap_or_else(|| format!("{}    ", &t[b.indent.clone()]));
        let at = b.close.start;
        let eol = self.eol();
        let s = format!(
            "{}{indent}server {name} {{{eol}{indent}}}{eol}",
            self.tail_fix(at)
        );
        self.splice(vec![(at..at, s)])
    }

    /// Rename a block.
    pub fn rename(&mut self, target: Target<'_>, new_name: &str) -> Result<(), EditError> {
        Self::check_name(new_name)?;
        let clash = match target {
            Target::Global => return Err(EditError::NotFound("block to rename".into())),
            Target::Virtual(_) => Target::Virtual(new_name),
            Target::Failover(_) => Target::Failover(new_name),
            Target::Server(v, _) => Target::Server(v, new_name),
        };
        if self.block(clash).is_ok() {
            return Err(EditError::Exists(clash.describe()));
        }
        let r = self.block(target)?.name_span.clone();
        self.splice(vec![(r, new_name.to_string())])
    }

    /// Remove a block with everything inside it.
    pub fn remove_block(&mut self, target: Target<'_>) -> Result<(), EditError> {
        let b = self.block(target)?;
        let r = b.header.start..b.close.end;
        self.splice(vec![(r, String::new())])
    }

    /// Set `active = 1` or `active = 0`.
    pub fn set_active(&mut self, target: Target<'_>, active: bool) -> Result<(), EditError> {
        self.set(target, "active", if active { "1" } else { "0" })
    }

    /// Add one to `serial_no` (as the Piranha GUI did on every change).
    pub fn bump_serial(&mut self) -> Result<(), EditError> {
        let next = self.config().serial_no().wrapping_add(1);
        let next = if next > i32::MAX as i64 { 1 } else { next };
        self.set(Target::Global, "serial_no", &next.to_string())
    }

    /// Write the text to `path` atomically; see [`write_atomic`].
    pub fn save(&self, path: &Path, keep_backup: bool) -> Result<(), EditError> {
        write_atomic(path, &self.to_bytes(), keep_backup).map_err(|source| EditError::Io {
            op: "cannot write",
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Replace `path` with `bytes` atomically: a temporary file in the same
/// directory gets the old file's mode and owner (0644 for a new file), is
/// written and fsynced, the old file is kept as `PATH.bak` when
/// `keep_backup`, then the temporary file is renamed over `path` and the
/// directory is fsynced. A reader sees the old file or the new one, never a
/// mix.
pub fn write_atomic(path: &Path, bytes: &[u8], keep_backup: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let old = std::fs::metadata(path).ok();
    let mut tmp = tempfile::Builder::new()
        .prefix(".lvs.cf.")
        .tempfile_in(&dir)?;
    let mode = old.as_ref().map(|m| m.mode() & 0o7777).unwrap_or(0o644);
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    if let Some(m) = &old {
        // Keep the owner (root:piranha in a Piranha install). Only root can
        // give a file away; failing that, the file stays ours.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()));
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if keep_backup && old.is_some() {
        let mut bak = path.as_os_str().to_owned();
        bak.push(".bak");
        let bak = PathBuf::from(bak);
        let mut btmp = tempfile::Builder::new()
            .prefix(".lvs.cf.bak.")
            .tempfile_in(&dir)?;
        btmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
        if let Some(m) = &old {
            let _ = std::os::unix::fs::fchown(btmp.as_file(), Some(m.uid()), Some(m.gid()));
        }
        btmp.write_all(&std::fs::read(path)?)?;
        btmp.as_file().sync_all()?;
        btmp.persist(&bak).map_err(|e| e.error)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}
