//! The line reader: blocks opened and closed, keyword lines dispatched, errors collected (at most 50), range errors of inactive blocks settled as warnings.

use std::ops::Range;

use super::layout::*;
use super::options::*;
use crate::config::*;
use crate::diag::{Diagnostic, Diagnostics, ErrorKind, Severity, Span};
use crate::keywords::{self, Scope};
use crate::lex::{self, Line, Tok};

pub(super) const MAX_ERRORS: usize = 50;

/// Parse lvs.cf text. On success the warnings are in [`Parsed::warnings`];
/// on failure every error (and warning) found is returned.
pub fn parse_str(text: &str, opts: &ParseOptions) -> Result<Parsed, Diagnostics> {
    let mut p = P::new(opts, detect_eol(text));
    if text.is_empty() {
        p.error_at(
            Span::default(),
            ErrorKind::EmptyConfiguration,
            None,
            "the file is empty".into(),
            Some("write at least a `primary` and one `virtual` block; see lvs.cf(5)".into()),
        );
        return Err(Diagnostics(p.diags));
    }
    let last_line = match lex::for_each_line(text, |line| {
        p.line(line);
        !p.stopped
    }) {
        Ok(n) => n,
        Err(e) => {
            p.error_at(Span::default(), ErrorKind::Io, None, e.to_string(), None);
            return Err(Diagnostics(p.diags));
        }
    };
    if !p.stopped {
        // Piranha closed the open blocks at the end of the file (lvsconfig.c
        // never returned its "unexpected end of file"): the meaning is the
        // same, since nothing follows; say so and do the same.
        while let Some(f) = p.stack.last() {
            let (word, name, at) = (f.kind().word(), f.name().to_string(), f.header_line());
            let eof = Span {
                start: text.len(),
                end: text.len(),
                line: last_line,
                col: 1,
            };
            p.warn_at(
                eof,
                Some(word),
                format!("`{word} {name}` opened at line {at} is never closed; it ends at the end of the file, as in Piranha"),
                Some("add a line with a lone `}`".into()),
            );
            p.close(text.len()..text.len());
        }
    }
    if let Some(mut d) = p.zero_deadtime.take() {
        if !p.cfg.backup_active() || p.cfg.backup().is_unspecified() {
            d.severity = Severity::Warning;
            d.detail = "0 seconds: harmless without a partner director (`backup_active = 0`), as in Piranha; pulse never declares a partner dead".into();
        }
        p.push(d);
    }
    if !p.diags.iter().any(|d| d.is_error()) {
        p.validate();
    }
    if p.diags.iter().any(|d| d.is_error()) {
        Err(Diagnostics(p.diags))
    } else {
        Ok(Parsed {
            config: p.cfg,
            layout: p.layout,
            warnings: p.diags,
        })
    }
}

/// Parse the whole lines in `range` of `text` (with `lines_before` lines
/// before them) as if they were a file of their own, without the
/// whole-file checks. `None` unless that finds nothing to say: no error, no
/// warning, every block closed. Spans are offsets into the whole `text`.
pub(crate) fn parse_fragment(
    text: &str,
    range: Range<usize>,
    lines_before: u32,
    opts: &ParseOptions,
) -> Option<(Config, Layout)> {
    let mut p = P::new(opts, "\n");
    lex::for_each_line_in(text, range, lines_before, |line| {
        p.line(line);
        !p.stopped
    })
    .ok()?;
    (!p.stopped && p.stack.is_empty() && p.diags.is_empty()).then_some((p.cfg, p.layout))
}

/// Whether the whole-file checks find nothing to say about `cfg`.
pub(crate) fn validates_clean(cfg: &Config) -> bool {
    let mut clean = cfg.virtual_servers.is_empty() || cfg.failover_services.is_empty();
    crate::validate::check(cfg, &mut |_, _, _, _, _| clean = false);
    clean
}

pub(crate) fn detect_eol(text: &str) -> &'static str {
    // memchr's vectorised search: a reload of a large file pays for this
    // on every SIGHUP.
    let b = text.as_bytes();
    let newlines = memchr::memchr_iter(b'\n', b).count();
    let crlf = memchr::memmem::find_iter(b, b"\r\n").count();
    let lf = newlines - crlf;
    if crlf > lf {
        "\r\n"
    } else {
        "\n"
    }
}

/// Keywords already set in one block, with their line (a block has few).
#[derive(Default)]
pub(super) struct Seen {
    pub(super) keys: Vec<(&'static str, u32)>,
}

impl Seen {
    pub(super) fn insert(&mut self, key: &'static str, line: u32) -> Option<u32> {
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, l)) => Some(std::mem::replace(l, line)),
            None => {
                self.keys.push((key, line));
                None
            }
        }
    }
}

pub(super) enum Frame {
    Virtual {
        vs: Box<VirtualServer>,
        layout: BlockLayout,
        seen: Seen,
        header_line: u32,
        /// Servers whose port was inherited: (index, inherited port, line).
        inherited: Vec<(usize, u16, u32)>,
        /// Range errors held until `active` is known ([`P::settle`]).
        deferred: Vec<Diagnostic>,
        /// Values Piranha's `ipvsadm -A` refused (a port or persistence
        /// out of range): in an active block they leave it out of the
        /// table, with a warning, instead of failing the file.
        left_out: Vec<Diagnostic>,
    },
    Failover {
        fs: Box<FailoverService>,
        layout: BlockLayout,
        seen: Seen,
        header_line: u32,
        deferred: Vec<Diagnostic>,
    },
    Server {
        rs: Box<RealServer>,
        layout: BlockLayout,
        seen: Seen,
        header_line: u32,
        inherited_port: u16,
        /// A server inside a failover block: parsed, then dropped.
        ignored: bool,
        deferred: Vec<Diagnostic>,
    },
}

impl Frame {
    pub(super) fn kind(&self) -> BlockKind {
        match self {
            Frame::Virtual { .. } => BlockKind::Virtual,
            Frame::Failover { .. } => BlockKind::Failover,
            Frame::Server { .. } => BlockKind::Server,
        }
    }
    pub(super) fn name(&self) -> &str {
        match self {
            Frame::Virtual { vs, .. } => &vs.name.value,
            Frame::Failover { fs, .. } => &fs.name.value,
            Frame::Server { rs, .. } => &rs.name.value,
        }
    }
    pub(super) fn header_line(&self) -> u32 {
        match self {
            Frame::Virtual { header_line, .. }
            | Frame::Failover { header_line, .. }
            | Frame::Server { header_line, .. } => *header_line,
        }
    }
    pub(super) fn scope(&self) -> Scope {
        match self {
            Frame::Virtual { .. } => Scope::Virtual,
            Frame::Failover { .. } => Scope::Failover,
            Frame::Server { .. } => Scope::Server,
        }
    }
    pub(super) fn deferred(&mut self) -> &mut Vec<Diagnostic> {
        match self {
            Frame::Virtual { deferred, .. }
            | Frame::Failover { deferred, .. }
            | Frame::Server { deferred, .. } => deferred,
        }
    }
}

pub(super) struct P<'o> {
    pub(super) opts: &'o ParseOptions,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) cfg: Config,
    pub(super) layout: Layout,
    pub(super) stack: Vec<Frame>,
    /// The `=` token of the line being parsed (for errors about a missing value).
    pub(super) eq_span: Span,
    pub(super) global_seen: Seen,
    pub(super) stopped: bool,
    /// The error being returned is about a value's range (a number that
    /// parsed but is not allowed), which an inactive block only warns of.
    pub(super) range_error: bool,
    /// With `range_error`: the value only made Piranha's `ipvsadm -A` fail
    /// for this virtual server (it leaves the table, the file stands).
    pub(super) leave_out: bool,
    /// `deadtime = 0`: an error with a partner director, else a warning
    /// (known at the end of the file).
    pub(super) zero_deadtime: Option<Diagnostic>,
}

pub(super) type R<T> = Result<T, Box<Diagnostic>>;

impl<'o> P<'o> {
    pub(super) fn new(opts: &'o ParseOptions, eol: &str) -> Self {
        P {
            opts,
            diags: Vec::new(),
            cfg: Config::default(),
            layout: Layout {
                eol: eol.to_string(),
                ..Layout::default()
            },
            stack: Vec::new(),
            eq_span: Span::default(),
            global_seen: Seen::default(),
            stopped: false,
            range_error: false,
            leave_out: false,
            zero_deadtime: None,
        }
    }
}

pub(super) fn span_of(toks: &[Tok<'_>]) -> Span {
    let first = toks[0].span;
    let last = toks[toks.len() - 1].span;
    Span {
        end: last.end,
        ..first
    }
}

impl<'o> P<'o> {
    pub(super) fn scope(&self) -> Scope {
        self.stack.last().map(Frame::scope).unwrap_or(Scope::Global)
    }

    pub(super) fn line(&mut self, line: &Line<'_, '_>) {
        if let Some(bq) = line.bad_quote {
            let kw = line.tokens.first().map(|t| t.text.to_string());
            self.error_at(
                bq,
                ErrorKind::QuotationMismatch,
                kw,
                "a quoted value must end with the same quote, followed by a blank or the end of the line".into(),
                Some("lvs.cf has no escapes: a value cannot contain its own quote character; quote it with the other one".into()),
            );
            return;
        }
        let toks = line.tokens;
        if toks.is_empty() {
            return;
        }
        // Piranha compared the keyword, `=`, `{` and `}` without their
        // quotes: `primary "=" 1.2.3.4` and `virtual www "{"` worked.
        let structural = |i: usize, t: &Tok<'_>| {
            t.quote.is_some()
                && !t.glued
                && (i == 0
                    || (i == 1 && t.text == "=")
                    || (i == 2
                        && toks.len() == 3
                        && t.text == "{"
                        && matches!(toks[0].text, "virtual" | "failover" | "server")))
        };
        if toks.iter().enumerate().any(|(i, t)| structural(i, t)) {
            let mut fixed = toks.to_vec();
            for (i, t) in fixed.iter_mut().enumerate() {
                if structural(i, t) {
                    self.warn_reading(
                        ErrorKind::QuotationMismatch,
                        t.span,
                        toks[0].text,
                        format!(
                            "`{}` in quotes is read as `{}`, as Piranha compared it without its quotes",
                            t.text, t.text
                        ),
                        Some("write it without quotes".into()),
                    );
                    t.quote = None;
                }
            }
            return self.line(&Line {
                tokens: &fixed,
                ..line.clone()
            });
        }
        for t in toks.iter().filter(|t| t.glued) {
            let q = t.quote.map(|q| q.char()).unwrap_or('"');
            self.warn_at(
                t.span,
                Some(toks[0].text),
                format!("a {q} inside a value quoted with {q}: read as `{}`, the first and last {q} taken as the quotes, as Piranha did", t.text),
                Some("lvs.cf has no escapes; quote a value that holds one quote character with the other".into()),
            );
        }
        let word = toks[0].text;
        let scope = self.scope();
        if word == "}" && toks[0].quote.is_none() {
            if self.stack.is_empty() {
                self.error_at(
                    toks[0].span,
                    ErrorKind::UnknownCommand,
                    Some("}".into()),
                    "this `}` closes no block".into(),
                    Some("remove it, or look for a block header missing its `{`".into()),
                );
                return;
            }
            if toks.len() > 1 {
                let extra = span_of(&toks[1..]);
                self.warn_at(
                    extra,
                    Some("}"),
                    "text after a closing `}` is ignored, as Piranha did".into(),
                    Some("put comments on a line of their own".into()),
                );
            }
            self.close(line.start..line.full_end);
            return;
        }
        let header = match scope {
            Scope::Global => word == "virtual" || word == "failover",
            Scope::Virtual | Scope::Failover => word == "server",
            Scope::Server => false,
        };
        if header && toks[0].quote.is_none() {
            self.open(line);
            return;
        }
        match self.assignment(scope, line) {
            Ok(()) => {}
            Err(d) => self.push(*d),
        }
    }

    pub(super) fn open(&mut self, line: &Line<'_, '_>) {
        let toks = line.tokens;
        let word = toks[0].text;
        let kind = match word {
            "virtual" => BlockKind::Virtual,
            "failover" => BlockKind::Failover,
            _ => BlockKind::Server,
        };
        let fail = |p: &mut Self, kind: ErrorKind, span: Span, detail: String, hint: String| {
            p.error_at(span, kind, Some(word.to_string()), detail, Some(hint));
            // Everything after a broken block header would be read in the
            // wrong scope; stop rather than report a cascade.
            p.stopped = true;
        };
        if toks.len() < 3 {
            let hint =
                format!("write `{word} NAME {{` with the name and the `{{` on the same line");
            fail(
                self,
                ErrorKind::MissingArguments,
                span_of(toks),
                format!("a {word} block header needs a name and `{{`"),
                hint,
            );
            return;
        }
        if toks.len() > 3 {
            let last = &toks[toks.len() - 1];
            let (span, detail) = if last.text == "{" {
                let words: Vec<&str> = toks[1..toks.len() - 1].iter().map(|t| t.text).collect();
                (
                    span_of(&toks[2..toks.len() - 1]),
                    format!("the block name `{}` has blanks in it", words.join(" ")),
                )
            } else {
                (
                    span_of(&toks[3..]),
                    format!("nothing may follow `{word} {} {{`", toks[1].text),
                )
            };
            fail(
                self,
                ErrorKind::UnexpectedArguments,
                span,
                detail,
                "a block name is one word; use `_` instead of blanks".into(),
            );
            return;
        }
        if toks[2].text != "{" || toks[2].quote.is_some() {
            fail(
                self,
                ErrorKind::MissingArguments,
                toks[2].span,
                format!("expected `{{` after `{word} {}`", toks[1].text),
                "a block name is one word; use `_` instead of blanks".into(),
            );
            return;
        }
        let name = Spanned::at(toks[1].text.to_string(), toks[1].span);
        let layout = BlockLayout {
            kind,
            name: toks[1].text.to_string(),
            name_span: toks[1].span.start..toks[1].span.end,
            header: line.start..line.full_end,
            indent: line.start..line.start + line.indent.len(),
            close: 0..0,
            keys: Vec::new(),
            children: Vec::new(),
        };
        let seen = Seen::default();
        let frame = match kind {
            BlockKind::Virtual => Frame::Virtual {
                vs: Box::new(VirtualServer {
                    name,
                    ..Default::default()
                }),
                layout,
                seen,
                header_line: line.number,
                inherited: Vec::new(),
                deferred: Vec::new(),
                left_out: Vec::new(),
            },
            BlockKind::Failover => Frame::Failover {
                fs: Box::new(FailoverService {
                    name,
                    ..Default::default()
                }),
                layout,
                seen,
                header_line: line.number,
                deferred: Vec::new(),
            },
            BlockKind::Server => {
                let (inherited_port, ignored) = match self.stack.last() {
                    Some(Frame::Virtual { vs, .. }) => (vs.port(), false),
                    _ => (80, true),
                };
                if ignored {
                    self.warn_at(
                        toks[0].span,
                        Some("server"),
                        "a server block inside a failover block has no effect; it is ignored"
                            .into(),
                        None,
                    );
                }
                Frame::Server {
                    rs: Box::new(RealServer {
                        name,
                        ..Default::default()
                    }),
                    layout,
                    seen,
                    header_line: line.number,
                    inherited_port,
                    ignored,
                    deferred: Vec::new(),
                }
            }
        };
        self.stack.push(frame);
    }

    pub(super) fn close(&mut self, close: Range<usize>) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Server {
                rs,
                mut layout,
                header_line,
                inherited_port,
                ignored,
                deferred,
                ..
            } => {
                layout.close = close;
                if ignored {
                    self.settle(deferred, false, "server", &rs.name.value);
                    return;
                }
                // An active server's range errors wait for its virtual
                // server's `active`.
                if !rs.active() {
                    self.settle(deferred, false, "server", &rs.name.value);
                } else if let Some(f) = self.stack.last_mut() {
                    f.deferred().extend(deferred);
                }
                if let Some(Frame::Virtual {
                    vs,
                    layout: parent,
                    inherited,
                    ..
                }) = self.stack.last_mut()
                {
                    if rs.port.is_none() {
                        inherited.push((vs.servers.len(), inherited_port, header_line));
                    }
                    vs.servers.push(*rs);
                    parent.children.push(layout);
                }
            }
            Frame::Virtual {
                mut vs,
                mut layout,
                inherited,
                deferred,
                left_out,
                ..
            } => {
                layout.close = close;
                self.settle(deferred, vs.active(), "virtual", &vs.name.value);
                if vs.active() && !left_out.is_empty() {
                    vs.left_out = true;
                    for mut d in left_out {
                        d.severity = Severity::Warning;
                        d.detail = format!(
                            "{}; the virtual server `{}` is left out of the table, as Piranha's ipvsadm -A failed for it",
                            d.detail, vs.name.value
                        );
                        d.hint = Some("fix the value; the other virtual servers run".into());
                        self.push(d);
                    }
                } else {
                    self.settle(left_out, false, "virtual", &vs.name.value);
                }
                let final_port = vs.port();
                for (idx, port, at) in inherited {
                    if port != final_port {
                        let rs = &mut vs.servers[idx];
                        rs.port = Some(Spanned::new(port));
                        let span = rs.name.span.unwrap_or_default();
                        let name = rs.name.value.clone();
                        self.warn_at(
                            span,
                            Some("port"),
                            format!(
                                "server `{name}` (line {at}) has no `port` and gets {port}, the virtual server's port at that point, not {final_port}"
                            ),
                            Some("as in Piranha, `port` must come before the server blocks; set the server's port explicitly".into()),
                        );
                    }
                }
                self.cfg.virtual_servers.push(*vs);
                self.layout.blocks.push(layout);
            }
            Frame::Failover {
                fs,
                mut layout,
                deferred,
                ..
            } => {
                layout.close = close;
                self.settle(deferred, fs.active(), "failover", &fs.name.value);
                self.cfg.failover_services.push(*fs);
                self.layout.blocks.push(layout);
            }
        }
    }

    /// The range errors held for a closed block: errors when the block is
    /// used (`active`), else warnings. Piranha's lvsd and pulse never read
    /// a value of an inactive block (lvsd.c `startVirtualServer` and
    /// `startClientMonitor` return first), so a file it ran with must not
    /// stop ours.
    pub(super) fn settle(
        &mut self,
        deferred: Vec<Diagnostic>,
        active: bool,
        word: &str,
        name: &str,
    ) {
        for mut d in deferred {
            if !active {
                d.severity = Severity::Warning;
                d.detail = format!(
                    "{}; ignored, because `{word} {name}` is inactive (`active = 0`)",
                    d.detail
                );
                d.hint = Some(
                    "Piranha never used the values of an inactive block; fix it before setting `active = 1`"
                        .into(),
                );
            }
            self.push(d);
        }
    }

    pub(super) fn assignment(&mut self, scope: Scope, line: &Line<'_, '_>) -> R<()> {
        let toks = line.tokens;
        let word = toks[0].text;
        let Some(kw) = keywords::lookup(scope, word) else {
            return Err(self.unknown(scope, &toks[0]));
        };
        let name = kw.name;
        // CHECK_EQUAL
        if toks.len() < 2 || toks[1].text != "=" || toks[1].quote.is_some() {
            let at = toks.get(1).unwrap_or(&toks[0]);
            let mut d = self.err(
                at,
                ErrorKind::EqualExpected,
                name,
                match toks.get(1) {
                    Some(t) => format!("found `{}` where `=` was expected", t.text),
                    None => "the keyword has no `= value`".into(),
                },
            );
            d.hint = Some(format!("write `{name} = value`, with blanks around `=`"));
            return Err(d);
        }
        let args = &toks[2..];
        self.eq_span = toks[1].span;
        let want = match name {
            "dirs" | "directors" => 0,
            "address" if scope != Scope::Server => 2,
            "nat_router" => 2,
            _ => 1,
        };
        if want > 0 {
            if args.len() < want {
                let mut d = self.err(
                    toks.last().unwrap_or(&toks[0]),
                    ErrorKind::MissingArguments,
                    name,
                    format!(
                        "expected {} after `=`, found {}",
                        if want == 2 {
                            "an address and a device"
                        } else {
                            "a value"
                        },
                        if args.is_empty() {
                            "nothing".to_string()
                        } else {
                            format!("`{}`", args[0].text)
                        }
                    ),
                );
                d.hint = Some(format!("`{name}` takes {}", kw.value));
                return Err(d);
            }
            if args.len() > want {
                let extra = &args[want..];
                let mut d = Box::new(self.diag(
                    Severity::Error,
                    span_of(extra),
                    ErrorKind::UnexpectedArguments,
                    Some(name.to_string()),
                    format!("unexpected `{}` after the value", extra[0].text),
                    None,
                ));
                d.hint = Some(if extra[0].text.starts_with('#') {
                    "lvs.cf has no comments at the end of a line; put the comment on a line of its own".into()
                } else if kw.value == "string" || kw.value == "command" {
                    "quote a value that contains blanks".into()
                } else {
                    format!("`{name}` takes {}", kw.value)
                });
                return Err(d);
            }
        }
        // Duplicate keys: the last one wins, as in Piranha.
        let number = line.number;
        let prev = match self.stack.last_mut() {
            None => self.global_seen.insert(name, number),
            Some(Frame::Virtual { seen, .. })
            | Some(Frame::Failover { seen, .. })
            | Some(Frame::Server { seen, .. }) => seen.insert(name, number),
        };
        if let Some(prev) = prev {
            self.warn_at(
                toks[0].span,
                Some(name),
                format!("`{name}` is set again; the value from line {prev} is overridden"),
                None,
            );
        }
        let value_range = if args.is_empty() {
            toks[1].span.end..toks[1].span.end
        } else {
            args[0].span.start..args[args.len() - 1].span.end
        };
        let keyline = KeyLine {
            key: name,
            line: line.start..line.full_end,
            value: value_range,
            indent: line.start..line.start + line.indent.len(),
        };
        match scope {
            Scope::Global => {
                self.global(name, args)?;
                self.layout.globals.push(keyline);
            }
            _ => {
                self.range_error = false;
                self.leave_out = false;
                if let Err(d) = self.block_key(name, args) {
                    if !std::mem::take(&mut self.range_error) {
                        return Err(d);
                    }
                    match self.stack.last_mut() {
                        Some(Frame::Virtual { left_out, .. })
                            if std::mem::take(&mut self.leave_out) =>
                        {
                            left_out.push(*d)
                        }
                        Some(f) => f.deferred().push(*d),
                        None => {}
                    }
                }
                match self.stack.last_mut() {
                    Some(Frame::Virtual { layout, .. })
                    | Some(Frame::Failover { layout, .. })
                    | Some(Frame::Server { layout, .. }) => layout.keys.push(keyline),
                    None => {}
                }
            }
        }
        Ok(())
    }
}
