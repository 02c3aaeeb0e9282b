//! How the parser reports: diagnostics with Piranha's categories, errors
//! and warnings at a token, and the "unknown command" error with its
//! suggestions and the blocks a missing `}` left open.

use super::reader::*;
use crate::diag::{Diagnostic, ErrorKind, Severity, Span};
use crate::keywords::{self, Scope};
use crate::lex::Tok;

impl<'o> P<'o> {
    pub(super) fn diag(
        &self,
        severity: Severity,
        span: Span,
        kind: ErrorKind,
        keyword: Option<String>,
        detail: String,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            kind,
            file: self.opts.file.clone(),
            span,
            keyword,
            detail,
            hint,
        }
    }

    pub(super) fn error_at(
        &mut self,
        span: Span,
        kind: ErrorKind,
        keyword: Option<String>,
        detail: String,
        hint: Option<String>,
    ) {
        let d = self.diag(Severity::Error, span, kind, keyword, detail, hint);
        self.push(d);
    }

    /// A warning of Piranha's category `kind` (not "invalid
    /// configuration"): a value read only the way Piranha read it, which
    /// the editor refuses to write.
    pub(super) fn warn_reading(
        &mut self,
        kind: ErrorKind,
        span: Span,
        keyword: &str,
        detail: String,
        hint: Option<String>,
    ) {
        let d = self.diag(
            Severity::Warning,
            span,
            kind,
            Some(keyword.to_string()),
            detail,
            hint,
        );
        self.push(d);
    }

    pub(super) fn warn_at(
        &mut self,
        span: Span,
        keyword: Option<&str>,
        detail: String,
        hint: Option<String>,
    ) {
        let d = self.diag(
            Severity::Warning,
            span,
            ErrorKind::InvalidConfiguration,
            keyword.map(str::to_string),
            detail,
            hint,
        );
        self.push(d);
    }

    pub(super) fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
        if self.diags.iter().filter(|d| d.is_error()).count() >= MAX_ERRORS {
            self.stopped = true;
        }
    }

    pub(super) fn err(
        &self,
        tok: &Tok<'_>,
        kind: ErrorKind,
        kw: &str,
        detail: String,
    ) -> Box<Diagnostic> {
        Box::new(self.diag(
            Severity::Error,
            tok.span,
            kind,
            Some(kw.to_string()),
            detail,
            None,
        ))
    }

    /// For a keyword (or block word) of an enclosing block: the blocks a
    /// missing `}` left open above it, innermost first, as a hint.
    pub(super) fn still_open(&self, word: &str) -> Option<String> {
        let fits = |s: Scope| match word {
            "virtual" | "failover" => s == Scope::Global,
            "server" => matches!(s, Scope::Virtual | Scope::Failover),
            _ => keywords::lookup(s, word).is_some(),
        };
        let outer = |i: usize| {
            i.checked_sub(1)
                .map_or(Scope::Global, |j| self.stack[j].scope())
        };
        let first = (0..self.stack.len()).rev().find(|&i| fits(outer(i)))?;
        let open: Vec<String> = self.stack[first..]
            .iter()
            .rev()
            .map(|f| {
                format!(
                    "`{} {}` opened at line {}",
                    f.kind().word(),
                    f.name(),
                    f.header_line()
                )
            })
            .collect();
        Some(match open.len() {
            1 => format!("{} is still open; did you forget its `}}`?", open[0]),
            _ => format!(
                "{} are still open; did you forget their `}}`?",
                open.join(" and ")
            ),
        })
    }

    pub(super) fn unknown(&self, scope: Scope, tok: &Tok<'_>) -> Box<Diagnostic> {
        let word = tok.text;
        let others = keywords::other_scopes(scope, word);
        let (detail, hint) = if let Some((k, _)) = word.split_once('=') {
            if keywords::lookup(scope, k).is_some() {
                (
                    format!("`{word}` is not a keyword"),
                    Some(format!("`=` must be a word of its own: write `{k} = ...`")),
                )
            } else {
                (
                    format!("`{word}` is not a keyword of {}", scope.describe()),
                    None,
                )
            }
        } else if let Some(o) = others.first() {
            (
                format!(
                    "`{word}` is a keyword of {}, not of {}",
                    o.describe(),
                    scope.describe()
                ),
                Some(self.still_open(word).unwrap_or_else(|| match scope {
                    Scope::Global => "check the block's closing `}`".to_string(),
                    _ => "move it to the right block, or check for a missing `}`".to_string(),
                })),
            )
        } else if matches!(word, "virtual" | "failover" | "server") {
            let place = |s: Scope| match s {
                Scope::Global => "at the top level".to_string(),
                s => format!("in {}", s.describe()),
            };
            let home = place(if word == "server" {
                Scope::Virtual
            } else {
                Scope::Global
            });
            (
                format!("`{word}` blocks go {home}, not {}", place(scope)),
                Some(
                    self.still_open(word)
                        .unwrap_or_else(|| "check the block's closing `}`".to_string()),
                ),
            )
        } else {
            (
                format!("`{word}` is not a keyword of {}", scope.describe()),
                keywords::suggest(scope, word).map(|s| format!("did you mean `{s}`?")),
            )
        };
        Box::new(self.diag(
            Severity::Error,
            tok.span,
            ErrorKind::UnknownCommand,
            Some(word.to_string()),
            detail,
            hint,
        ))
    }
}
