//! Diagnostics: errors and warnings with `file:line:col`, the keyword, the
//! Piranha error text of their category, a human detail and a hint.

use std::fmt;

/// A place in the source text: byte range plus 1-based line and column
/// (columns count characters, as an editor shows them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// 1-based line number (0 for an empty file, as Piranha reports it).
    pub line: u32,
    /// 1-based column of `start`.
    pub col: u32,
}

/// The error categories of Piranha's `lvsStrerror()`; the text of each is
/// what Piranha printed, so administrators recognise it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `quotation mismatch`
    QuotationMismatch,
    /// `unexpected end of file`
    UnexpectedEof,
    /// `unexpected arguments`
    UnexpectedArguments,
    /// `equal (=) expected after command`
    EqualExpected,
    /// `missing arguments`
    MissingArguments,
    /// `invalid host name or ip address`
    InvalidHost,
    /// `invalid argument`
    InvalidArgument,
    /// `integer expected`
    IntegerExpected,
    /// `boolean expected`
    BooleanExpected,
    /// `unknown command`
    UnknownCommand,
    /// `list expected`
    ListExpected,
    /// `Cannot use both virtual AND failover services`
    BothVirtualAndFailover,
    /// `Bad subnet mask specified`
    BadSubnetMask,
    /// `Empty configuration`
    EmptyConfiguration,
    /// `I/O error while reading configuration`
    Io,
    /// A check Piranha never made (ours): the value parses but cannot work.
    InvalidConfiguration,
    /// `not a text file` (ours): a NUL byte, or mostly control characters
    /// (see [`not_text`](crate::parse::not_text)); one error for the whole
    /// file instead of one per line.
    NotText,
}

impl ErrorKind {
    /// The category text, verbatim from Piranha where Piranha had one.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::QuotationMismatch => "quotation mismatch",
            ErrorKind::UnexpectedEof => "unexpected end of file",
            ErrorKind::UnexpectedArguments => "unexpected arguments",
            ErrorKind::EqualExpected => "equal (=) expected after command",
            ErrorKind::MissingArguments => "missing arguments",
            ErrorKind::InvalidHost => "invalid host name or ip address",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::IntegerExpected => "integer expected",
            ErrorKind::BooleanExpected => "boolean expected",
            ErrorKind::UnknownCommand => "unknown command",
            ErrorKind::ListExpected => "list expected",
            ErrorKind::BothVirtualAndFailover => "Cannot use both virtual AND failover services",
            ErrorKind::BadSubnetMask => "Bad subnet mask specified",
            ErrorKind::EmptyConfiguration => "Empty configuration",
            ErrorKind::Io => "I/O error while reading configuration",
            ErrorKind::InvalidConfiguration => "invalid configuration",
            ErrorKind::NotText => "not a text file",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The file is accepted; the administrator should look.
    Warning,
    /// The file is rejected.
    Error,
}

/// One error or warning about an lvs.cf file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Piranha's category.
    pub kind: ErrorKind,
    /// The file name as given by the caller (may be empty for in-memory text).
    pub file: String,
    /// Where in the file.
    pub span: Span,
    /// The keyword (or block word) the line starts with, when there is one.
    pub keyword: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
    /// What to do about it, when we can tell.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Shown as `FILE:LINE:COL: error: `keyword`: category: detail; hint`
/// (`FILE: error: ...` for [`ErrorKind::NotText`], which is about the
/// whole file). Every part is shown through [`Escaped`]: text quoted from
/// the file never reaches a terminal with a control character in it.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = if self.file.is_empty() {
            "lvs.cf"
        } else {
            &self.file
        };
        if self.kind == ErrorKind::NotText {
            write!(f, "{}: ", Escaped(file))?;
        } else {
            write!(
                f,
                "{}:{}:{}: ",
                Escaped(file),
                self.span.line,
                self.span.col
            )?;
        }
        f.write_str(match self.severity {
            Severity::Error => "error: ",
            Severity::Warning => "warning: ",
        })?;
        if let Some(k) = &self.keyword {
            write!(f, "`{}`: ", Escaped(k))?;
        }
        if self.severity == Severity::Error || self.kind != ErrorKind::InvalidConfiguration {
            write!(f, "{}", self.kind)?;
            if !self.detail.is_empty() {
                f.write_str(": ")?;
            }
        }
        write!(f, "{}", Escaped(&self.detail))?;
        if let Some(h) = &self.hint {
            write!(f, "; {}", Escaped(h))?;
        }
        Ok(())
    }
}

/// Text as a diagnostic shows it: every control character (C0, DEL and
/// C1, [`char::is_control`]) escaped, tab, CR and LF as `\t`, `\r`,
/// `\n`, the other ASCII ones as `\x1b`, the C1 ones (a Latin-1 file's
/// bytes 0x80 to 0x9f) as `\u{9b}`. Backslashes are kept as they are:
/// `send = "GET /\r\n"` is written with them.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(char::is_control) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or_default();
            match c {
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                '\n' => f.write_str("\\n")?,
                c if c.is_ascii() => write!(f, "\\x{:02x}", c as u32)?,
                c => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// The outcome of a failed parse: every diagnostic, errors and warnings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    /// The first error, if any.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.errors().next()
    }
}

fn render(d: &[Diagnostic]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
