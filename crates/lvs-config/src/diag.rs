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

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = if self.file.is_empty() {
            "lvs.cf"
        } else {
            &self.file
        };
        write!(f, "{}:{}:{}: ", file, self.span.line, self.span.col)?;
        f.write_str(match self.severity {
            Severity::Error => "error: ",
            Severity::Warning => "warning: ",
        })?;
        if let Some(k) = &self.keyword {
            write!(f, "`{k}`: ")?;
        }
        if self.severity == Severity::Error || self.kind != ErrorKind::InvalidConfiguration {
            write!(f, "{}", self.kind)?;
            if !self.detail.is_empty() {
                f.write_str(": ")?;
            }
        }
        f.write_str(&self.detail)?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
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
