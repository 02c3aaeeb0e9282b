//! Stages 2 and 3: lines of tokens → typed [`Config`] with spans, plus the
//! [`Layout`] the editor needs, plus validation.

use std::net::{Ipv4Addr, ToSocketAddrs};
use std::ops::Range;
use std::path::Path;

use crate::checks::HealthCheck;
use crate::config::*;
use crate::diag::{Diagnostic, Diagnostics, ErrorKind, Severity, Span};
use crate::keywords::{self, Scope};
use crate::lex::{self, Line, Tok};
use crate::value::{self, AddrForm, IntError, Radix};

/// How host names (not literal addresses) in host fields are resolved.
#[derive(Clone, Copy, Debug, Default)]
pub enum Resolver {
    /// The system resolver (`/etc/hosts`, DNS), as Piranha's
    /// `gethostbyname`.
    #[default]
    System,
    /// Literal addresses only; a name is an error. For tests and fuzzing.
    None,
    /// A custom lookup.
    Custom(fn(&str) -> Option<Ipv4Addr>),
}

impl Resolver {
    fn resolve(self, name: &str) -> Option<Ipv4Addr> {
        match self {
            Resolver::None => None,
            Resolver::Custom(f) => f(name),
            Resolver::System => {
                if !is_hostname(name) {
                    return None;
                }
                (name, 0u16)
                    .to_socket_addrs()
                    .ok()?
                    .find_map(|a| match a.ip() {
                        std::net::IpAddr::V4(v4) => Some(v4),
                        _ => None,
                    })
            }
        }
    }
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Options for a parse.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// File name used in diagnostics.
    pub file: String,
    /// How host names resolve.
    pub resolver: Resolver,
}

impl ParseOptions {
    /// Options naming `file`, with the system resolver.
    pub fn for_file(file: impl Into<String>) -> Self {
        ParseOptions {
            file: file.into(),
            resolver: Resolver::System,
        }
    }
}

/// The kind of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// `virtual NAME {`
    Virtual,
    /// `failover NAME {`
    Failover,
    /// `server NAME {`
    Server,
}

impl BlockKind {
    /// The word that opens the block.
    pub fn word(self) -> &'static str {
        match self {
            BlockKind::Virtual => "virtual",
            BlockKind::Failover => "failover",
            BlockKind::Server => "server",
        }
    }
}

/// Where one `key = value` line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLine {
    /// The keyword.
    pub key: &'static str,
    /// The whole line, end of line included.
    pub line: Range<usize>,
    /// The value tokens (first token start to last token end).
    pub value: Range<usize>,
    /// The line's leading blanks.
    pub indent: Range<usize>,
}

/// Where one block is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    /// Virtual, failover or server.
    pub kind: BlockKind,
    /// The block name.
    pub name: String,
    /// The name token.
    pub name_span: Range<usize>,
    /// The header line (`virtual NAME {`), end of line included.
    pub header: Range<usize>,
    /// The header line's leading blanks.
    pub indent: Range<usize>,
    /// The closing `}` line, end of line included.
    pub close: Range<usize>,
    /// Key lines directly inside the block.
    pub keys: Vec<KeyLine>,
    /// Nested blocks (servers).
    pub children: Vec<BlockLayout>,
}

/// The positions of everything in the file, for the editor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Global key lines.
    pub globals: Vec<KeyLine>,
    /// Top-level blocks in file order.
    pub blocks: Vec<BlockLayout>,
    /// The end-of-line sequence the file uses most (`\n` by default).
    pub eol: String,
}

/// A successful parse: the configuration, the layout and the warnings.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The typed configuration.
    pub config: Config,
    /// Positions of keys and blocks.
    pub layout: Layout,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

const MAX_ERRORS: usize = 50;

/// Read and parse a file. The name in diagnostics is the path as given.
pub fn parse_file(path: &Path) -> Result<Parsed, Diagnostics> {
    parse_file_with(path, Resolver::System)
}

/// Read and parse a file with a chosen resolver.
pub fn parse_file_with(path: &Path, resolver: Resolver) -> Result<Parsed, Diagnostics> {
    let text = read_file(path)?;
    let file = path.display().to_string();
    parse_str(&text, &ParseOptions { file, resolver })
}

/// Read and [`decode`] a file; the error names it.
pub fn read_file(path: &Path) -> Result<String, Diagnostics> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            kind: ErrorKind::Io,
            file: file.clone(),
            span: Span::default(),
            keyword: None,
            detail: format!("cannot read {file}: {e}"),
            hint: None,
        }])
    })?;
    Ok(decode_owned(bytes))
}

/// Decode file bytes: UTF-8, or Latin-1 when the file is not valid UTF-8
/// (old files with accented comments), so nothing is rejected for its
/// encoding. See [`encode`] for the way back.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => latin1(bytes),
    }
}

/// [`decode`] for bytes we own: valid UTF-8 is taken without a copy.
pub fn decode_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| latin1(e.as_bytes()))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// Encode text for writing: Latin-1 if `latin1` (the file was not UTF-8 and
/// every character fits), else UTF-8.
pub fn encode(text: &str, latin1: bool) -> Vec<u8> {
    if latin1 && text.chars().all(|c| (c as u32) < 256) {
        text.chars().map(|c| c as u8).collect()
    } else {
        text.as_bytes().to_vec()
    }
}

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
struct Seen {
    keys: Vec<(&'static str, u32)>,
}

impl Seen {
    fn insert(&mut self, key: &'static str, line: u32) -> Option<u32> {
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, l)) => Some(std::mem::replace(l, line)),
            None => {
                self.keys.push((key, line));
                None
            }
        }
    }
}

enum Frame {
    Virtual {
        vs: Box<VirtualServer>,
        layout: BlockLayout,
        seen: Seen,
        header_line: u32,
        /// Servers whose port was inherited: (index, inherited port, line).
        inherited: Vec<(usize, u16, u32)>,
        /// Range errors held until `active` is known ([`P::settle`]).
        deferred: Vec<Diagnostic>,
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
    fn kind(&self) -> BlockKind {
        match self {
            Frame::Virtual { .. } => BlockKind::Virtual,
            Frame::Failover { .. } => BlockKind::Failover,
            Frame::Server { .. } => BlockKind::Server,
        }
    }
    fn name(&self) -> &str {
        match self {
            Frame::Virtual { vs, .. } => &vs.name.value,
            Frame::Failover { fs, .. } => &fs.name.value,
            Frame::Server { rs, .. } => &rs.name.value,
        }
    }
    fn header_line(&self) -> u32 {
        match self {
            Frame::Virtual { header_line, .. }
            | Frame::Failover { header_line, .. }
            | Frame::Server { header_line, .. } => *header_line,
        }
    }
    fn scope(&self) -> Scope {
        match self {
            Frame::Virtual { .. } => Scope::Virtual,
            Frame::Failover { .. } => Scope::Failover,
            Frame::Server { .. } => Scope::Server,
        }
    }
    fn deferred(&mut self) -> &mut Vec<Diagnostic> {
        match self {
            Frame::Virtual { deferred, .. }
            | Frame::Failover { deferred, .. }
            | Frame::Server { deferred, .. } => deferred,
        }
    }
}

struct P<'o> {
    opts: &'o ParseOptions,
    diags: Vec<Diagnostic>,
    cfg: Config,
    layout: Layout,
    stack: Vec<Frame>,
    /// The `=` token of the line being parsed (for errors about a missing value).
    eq_span: Span,
    global_seen: Seen,
    stopped: bool,
    /// The error being returned is about a value's range (a number that
    /// parsed but is not allowed), which an inactive block only warns of.
    range_error: bool,
}

type R<T> = Result<T, Box<Diagnostic>>;

impl<'o> P<'o> {
    fn new(opts: &'o ParseOptions, eol: &str) -> Self {
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
        }
    }
}

fn span_of(toks: &[Tok<'_>]) -> Span {
    let first = toks[0].span;
    let last = toks[toks.len() - 1].span;
    Span {
        end: last.end,
        ..first
    }
}

impl<'o> P<'o> {
    fn diag(
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

    fn error_at(
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

    fn warn_at(&mut self, span: Span, keyword: Option<&str>, detail: String, hint: Option<String>) {
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

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
        if self.diags.iter().filter(|d| d.is_error()).count() >= MAX_ERRORS {
            self.stopped = true;
        }
    }

    fn err(&self, tok: &Tok<'_>, kind: ErrorKind, kw: &str, detail: String) -> Box<Diagnostic> {
        Box::new(self.diag(
            Severity::Error,
            tok.span,
            kind,
            Some(kw.to_string()),
            detail,
            None,
        ))
    }

    fn scope(&self) -> Scope {
        self.stack.last().map(Frame::scope).unwrap_or(Scope::Global)
    }

    fn line(&mut self, line: &Line<'_, '_>) {
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

    fn open(&mut self, line: &Line<'_, '_>) {
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

    fn close(&mut self, close: Range<usize>) {
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
                ..
            } => {
                layout.close = close;
                self.settle(deferred, vs.active(), "virtual", &vs.name.value);
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
    fn settle(&mut self, deferred: Vec<Diagnostic>, active: bool, word: &str, name: &str) {
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

    fn assignment(&mut self, scope: Scope, line: &Line<'_, '_>) -> R<()> {
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
            "dirs" => 0,
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
                if let Err(d) = self.block_key(name, args) {
                    if !std::mem::take(&mut self.range_error) {
                        return Err(d);
                    }
                    if let Some(f) = self.stack.last_mut() {
                        f.deferred().push(*d);
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

    fn unknown(&self, scope: Scope, tok: &Tok<'_>) -> Box<Diagnostic> {
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
                Some(match scope {
                    Scope::Global => "check the block's closing `}`".to_string(),
                    _ => "move it to the right block, or check for a missing `}`".to_string(),
                }),
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

    // ---- value conversions ----

    fn int(&mut self, kw: &str, t: &Tok<'_>, min: i64, max: i64) -> R<Spanned<i64>> {
        match value::parse_c_int(t.text) {
            Ok((v, radix)) => {
                if v < min || v > max {
                    self.range_error = true;
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("{v} is out of range; expected {min} to {max}"),
                    );
                    if radix == Radix::Octal {
                        d.hint = Some(octal_hint(t.text));
                    }
                    return Err(d);
                }
                if radix == Radix::Octal && v != 0 {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` has a leading 0 and is read as octal: {v}", t.text),
                        Some(octal_hint(t.text)),
                    );
                }
                Ok(Spanned::at(v, t.span))
            }
            Err(e) => {
                let mut d = self.err(
                    t,
                    match e {
                        IntError::OutOfRange => ErrorKind::InvalidArgument,
                        _ => ErrorKind::IntegerExpected,
                    },
                    kw,
                    match e {
                        IntError::NotANumber => format!("`{}` is not an integer", t.text),
                        IntError::BadOctal => format!(
                            "`{}` starts with 0, so it is octal, and octal has no 8 or 9",
                            t.text
                        ),
                        IntError::OutOfRange => format!("`{}` is too large", t.text),
                    },
                );
                if e == IntError::BadOctal {
                    d.hint = Some(octal_hint(t.text));
                }
                Err(d)
            }
        }
    }

    fn uint(&mut self, kw: &str, t: &Tok<'_>, min: u32, max: u32) -> R<Spanned<u32>> {
        let v = self.int(kw, t, min as i64, max as i64)?;
        Ok(Spanned::at(v.value as u32, t.span))
    }

    fn boolean(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<bool>> {
        match value::parse_bool(t.text) {
            Some(b) => Ok(Spanned::at(b, t.span)),
            None => {
                let mut d = self.err(
                    t,
                    ErrorKind::BooleanExpected,
                    kw,
                    format!("`{}` is not 0 or 1", t.text),
                );
                d.hint = Some("booleans are written 0 (off) or 1 (on)".into());
                Err(d)
            }
        }
    }

    fn seconds(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<Seconds>> {
        match value::parse_seconds(t.text) {
            Ok((ms, radix)) => {
                if radix == Radix::Octal && ms != 0 {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!(
                            "`{}` has a leading 0 and is read as octal: {}",
                            t.text,
                            ms / 1000
                        ),
                        Some(octal_hint(t.text)),
                    );
                }
                if ms == 0 {
                    self.range_error = true;
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        "must be more than 0 seconds".into(),
                    ));
                }
                Ok(Spanned::at(Seconds(ms), t.span))
            }
            Err(_) => Err(self.err(
                t,
                ErrorKind::IntegerExpected,
                kw,
                format!(
                    "`{}` is not a number of seconds (an integer, or a decimal such as 0.5)",
                    t.text
                ),
            )),
        }
    }

    fn host(&mut self, kw: &str, t: &Tok<'_>, allow_zero: bool) -> R<Spanned<Host>> {
        let addr = match value::inet_aton(t.text) {
            Some((a, form)) => {
                if form == AddrForm::Shorthand {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` is read as {a} (inet_aton shorthand)", t.text),
                        Some(format!("write {a}")),
                    );
                }
                a
            }
            None => match self.opts.resolver.resolve(t.text) {
                Some(a) => a,
                None => {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!(
                            "`{}` is not an IPv4 address or a host name that resolves",
                            t.text
                        ),
                    );
                    d.hint = Some("write a dotted address such as 192.168.1.10".into());
                    return Err(d);
                }
            },
        };
        if !allow_zero && addr.is_unspecified() {
            return Err(self.err(
                t,
                ErrorKind::InvalidHost,
                kw,
                "0.0.0.0 is not a usable address".into(),
            ));
        }
        Ok(Spanned::at(
            Host {
                name: t.text.to_string(),
                addr,
            },
            t.span,
        ))
    }

    fn dotted(&mut self, kw: &str, t: &Tok<'_>, kind: ErrorKind) -> R<Spanned<Ipv4Addr>> {
        match value::inet_aton(t.text) {
            Some((a, form)) => {
                if form == AddrForm::Shorthand {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` is read as {a} (inet_aton shorthand)", t.text),
                        Some(format!("write {a}")),
                    );
                }
                Ok(Spanned::at(a, t.span))
            }
            None => Err(self.err(
                t,
                kind,
                kw,
                format!("`{}` is not a dotted address such as 255.255.255.0", t.text),
            )),
        }
    }

    fn mask(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<Ipv4Addr>> {
        let m = self.dotted(kw, t, ErrorKind::BadSubnetMask)?;
        if !value::is_contiguous_mask(m.value) {
            self.warn_at(
                t.span,
                Some(kw),
                format!("{} is not a contiguous netmask", m.value),
                None,
            );
        }
        Ok(m)
    }

    fn port(&mut self, kw: &str, t: &Tok<'_>, names: bool) -> R<Spanned<u16>> {
        match value::parse_c_int(t.text) {
            Ok((v, radix)) => {
                if !(1..=65535).contains(&v) {
                    self.range_error = true;
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("port {v} is out of range; expected 1 to 65535"),
                    ));
                }
                if radix == Radix::Octal {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` has a leading 0 and is read as octal: {v}", t.text),
                        Some(octal_hint(t.text)),
                    );
                }
                Ok(Spanned::at(v as u16, t.span))
            }
            Err(_) if names => {
                match value::service_port(t.text) {
                    Some(p) if p > 0 => Ok(Spanned::at(p, t.span)),
                    _ => {
                        let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is neither a port number nor a tcp service name in /etc/services", t.text),
                    );
                        d.hint = Some("write the port number, e.g. 80".into());
                        Err(d)
                    }
                }
            }
            Err(_) => {
                let mut d = self.err(
                    t,
                    ErrorKind::IntegerExpected,
                    kw,
                    format!("`{}` is not a port number", t.text),
                );
                d.hint = Some(
                    "a real server's port is a number; service names work only in virtual blocks"
                        .into(),
                );
                Err(d)
            }
        }
    }

    fn string(&self, t: &Tok<'_>) -> Spanned<String> {
        Spanned::at(t.text.to_string(), t.span)
    }

    fn qstring(&mut self, kw: &str, t: &Tok<'_>) -> Spanned<QString> {
        if t.quote == Some(Quote::Single) {
            self.warn_at(
                t.span,
                Some(kw),
                format!("single quotes are passed on as part of the value: nanny gets '{}' with the quotes, as in Piranha", t.text),
                Some("use double quotes unless the quotes are meant to be sent".into()),
            );
        }
        Spanned::at(
            QString {
                text: t.text.to_string(),
                quote: t.quote,
            },
            t.span,
        )
    }

    fn ipdev(&mut self, kw: &str, args: &[Tok<'_>]) -> R<Spanned<IpDev>> {
        let ip = self.host(kw, &args[0], true)?;
        Ok(Spanned::at(
            IpDev {
                ip: ip.value,
                dev: args[1].text.to_string(),
            },
            span_of(args),
        ))
    }

    fn choice<T: Copy>(&self, kw: &str, t: &Tok<'_>, options: &[(&str, T)]) -> R<Spanned<T>> {
        match options.iter().find(|(n, _)| *n == t.text) {
            Some((_, v)) => Ok(Spanned::at(*v, t.span)),
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                let mut d = self.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("`{}` is not one of {}", t.text, names.join(", ")),
                );
                let lower = t.text.to_ascii_lowercase();
                if let Some(n) = names.iter().find(|n| **n == lower) {
                    d.hint = Some(format!("values are lower case: `{n}`"));
                }
                Err(d)
            }
        }
    }

    fn global(&mut self, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        let c = &mut Config::default();
        std::mem::swap(c, &mut self.cfg);
        let r = self.global_inner(c, kw, a);
        std::mem::swap(c, &mut self.cfg);
        r
    }

    fn global_inner(&mut self, c: &mut Config, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "serial_no" => {
                c.serial_no = Some(self.int(kw, &a[0], i32::MIN as i64, i32::MAX as i64)?)
            }
            "primary" => c.primary = Some(self.host(kw, &a[0], false)?),
            "primary_private" => c.primary_private = Some(self.host(kw, &a[0], false)?),
            "primary_shared" => c.primary_shared = Some(self.string(&a[0])),
            "service" => {
                c.service = Some(self.choice(
                    kw,
                    &a[0],
                    &[("lvs", ServiceType::Lvs), ("fos", ServiceType::Fos)],
                )?)
            }
            "rsh_command" => c.rsh_command = Some(self.string(&a[0])),
            "backup_active" => c.backup_active = Some(self.boolean(kw, &a[0])?),
            "backup" => c.backup = Some(self.host(kw, &a[0], true)?),
            "backup_private" => c.backup_private = Some(self.host(kw, &a[0], false)?),
            "backup_shared" => c.backup_shared = Some(self.string(&a[0])),
            "heartbeat" => c.heartbeat = Some(self.boolean(kw, &a[0])?),
            "heartbeat_port" => c.heartbeat_port = Some(self.port(kw, &a[0], true)?),
            "keepalive" => c.keepalive = Some(self.seconds(kw, &a[0])?),
            "deadtime" => c.deadtime = Some(self.seconds(kw, &a[0])?),
            "network" => {
                c.network = Some(self.choice(
                    kw,
                    &a[0],
                    &[
                        ("nat", Network::Nat),
                        ("direct", Network::Direct),
                        ("tunnel", Network::Tunnel),
                    ],
                )?)
            }
            "nat_router" => c.nat_router = Some(self.ipdev(kw, a)?),
            "nat_nmask" => c.nat_nmask = Some(self.mask(kw, &a[0])?),
            "reservation_conflict_action" => {
                c.reservation_conflict_action = Some(self.choice(
                    kw,
                    &a[0],
                    &[
                        ("nothing", ConflictAction::Nothing),
                        ("preempt", ConflictAction::Preempt),
                    ],
                )?)
            }
            "debug_level" => c.debug_level = Some(self.string(&a[0])),
            "active_cmd" => c.active_cmd = Some(self.string(&a[0])),
            "inactive_cmd" => c.inactive_cmd = Some(self.string(&a[0])),
            "heartbeat_key" => c.heartbeat_key = Some(self.string(&a[0])),
            "monitor_links" => {
                c.monitor_links = Some(self.int(kw, &a[0], i32::MIN as i64, i32::MAX as i64)?)
            }
            "syncdaemon" => c.syncdaemon = Some(self.boolean(kw, &a[0])?),
            "syncd_iface" => c.syncd_iface = Some(self.string(&a[0])),
            "hot_standby" => c.hot_standby = Some(self.boolean(kw, &a[0])?),
            "syncd_id" => {
                let v = self.int(kw, &a[0], i32::MIN as i64, i32::MAX as i64)?;
                if !(0..=255).contains(&v.value) {
                    self.warn_at(
                        a[0].span,
                        Some(kw),
                        format!(
                            "{} is outside 0-255; the sync id used is {}",
                            v.value,
                            v.value & 0xff
                        ),
                        None,
                    );
                }
                c.syncd_id = Some(v);
            }
            "tcp_timeout" => c.tcp_timeout = Some(self.uint(kw, &a[0], 0, 2_678_400)?),
            "tcpfin_timeout" => c.tcpfin_timeout = Some(self.uint(kw, &a[0], 0, 2_678_400)?),
            "udp_timeout" => c.udp_timeout = Some(self.uint(kw, &a[0], 0, 2_678_400)?),
            "hard_shutdown" => c.hard_shutdown = Some(self.boolean(kw, &a[0])?),
            "ipvsadm" => c.ipvsadm = Some(self.string(&a[0])),
            "sync" => c.sync = Some(self.boolean(kw, &a[0])?),
            _ => unreachable!("global keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    fn block_key(&mut self, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        let mut frame = self.stack.pop().expect("block scope has a frame");
        let r = match &mut frame {
            Frame::Virtual { vs, .. } => self.virtual_key(vs, kw, a),
            Frame::Failover { fs, .. } => self.failover_key(fs, kw, a),
            Frame::Server { rs, .. } => self.server_key(rs, kw, a),
        };
        self.stack.push(frame);
        r
    }

    fn virtual_key(&mut self, v: &mut VirtualServer, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "active" => v.active = Some(self.boolean(kw, &a[0])?),
            "address" => v.address = Some(self.ipdev(kw, a)?),
            "sorry_server" => {
                v.sorry_server = Some(self.dotted(kw, &a[0], ErrorKind::InvalidHost)?)
            }
            "vip_nmask" => v.vip_nmask = Some(self.mask(kw, &a[0])?),
            "fwmark" => v.fwmark = Some(self.uint(kw, &a[0], 0, u32::MAX)?),
            "port" => v.port = Some(self.port(kw, &a[0], true)?),
            "persistent" => v.persistent = Some(self.uint(kw, &a[0], 0, 2_678_400)?),
            "pmask" => {
                let t = &a[0];
                match value::inet_aton(t.text) {
                    None => self.warn_at(
                        t.span,
                        Some(kw),
                        format!(
                            "`{}` is not a netmask and is ignored, as Piranha did",
                            t.text
                        ),
                        Some("write a dotted mask such as 255.255.255.0".into()),
                    ),
                    Some((m, _)) if m == Ipv4Addr::BROADCAST => {
                        self.warn_at(
                            t.span,
                            Some(kw),
                            "255.255.255.255 means \"no persistence netmask\" to Piranha; it is treated as unset".into(),
                            None,
                        );
                        v.pmask = None;
                    }
                    Some(_) => v.pmask = Some(self.mask(kw, t)?),
                }
            }
            "send" => v.send = Some(self.qstring(kw, &a[0])),
            "expect" => v.expect = Some(self.qstring(kw, &a[0])),
            "use_regex" => v.use_regex = Some(self.boolean(kw, &a[0])?),
            "send_program" => v.send_program = Some(self.qstring(kw, &a[0])),
            "load_monitor" => {
                v.load_monitor = Some(Spanned::at(LoadMonitor::from_token(a[0].text), a[0].span))
            }
            "scheduler" => {
                let t = &a[0];
                match Scheduler::from_name(t.text) {
                    Some(s) => v.scheduler = Some(Spanned::at(s, t.span)),
                    None => {
                        let mut d = self.err(
                            t,
                            ErrorKind::InvalidArgument,
                            kw,
                            format!("`{}` is not a scheduler", t.text),
                        );
                        let names: Vec<&str> = Scheduler::ALL.iter().map(|s| s.as_str()).collect();
                        d.hint = Some(format!("one of {}", names.join(", ")));
                        return Err(d);
                    }
                }
            }
            "protocol" => {
                v.protocol = Some(self.choice(
                    kw,
                    &a[0],
                    &[("tcp", Protocol::Tcp), ("udp", Protocol::Udp)],
                )?)
            }
            "timeout" => v.timeout = Some(self.check_timeout(kw, &a[0])?),
            "reentry" => v.reentry = Some(self.uint(kw, &a[0], 0, i32::MAX as u32)?),
            "quiesce_server" => v.quiesce_server = Some(self.boolean(kw, &a[0])?),
            "client_monitor" => v.client_monitor = Some(self.string(&a[0])),
            "start_cmd" => v.start_cmd = Some(self.qstring(kw, &a[0])),
            "stop_cmd" => v.stop_cmd = Some(self.qstring(kw, &a[0])),
            "master" => v.master = Some(self.host(kw, &a[0], true)?),
            "dirs" => v.dirs = Some(self.list(kw, self.eq_span, a)?),
            "quorum" | "hysteresis" | "quorum_up" | "quorum_down" => self.quorum_key(v, kw, a)?,
            k if crate::checks::HEALTH_KEYS.contains(&k) => {
                self.health_key(&mut v.health, kw, a)?
            }
            _ => unreachable!("virtual keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    /// The quorum extension's keywords (issue 9).
    fn quorum_key(&mut self, v: &mut VirtualServer, kw: &str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "quorum" => v.quorum = Some(self.uint(kw, &a[0], 1, i32::MAX as u32)?),
            "hysteresis" => v.hysteresis = Some(self.uint(kw, &a[0], 0, i32::MAX as u32)?),
            _ => {
                let t = &a[0];
                if t.text.trim().is_empty() {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        "expected a command, found an empty string".into(),
                    );
                    d.hint = Some(format!(
                        "remove `{kw}`, or give a command line (run with /bin/sh -c)"
                    ));
                    return Err(d);
                }
                let cmd = Some(self.string(t));
                if kw == "quorum_up" {
                    v.quorum_up = cmd;
                } else {
                    v.quorum_down = cmd;
                }
            }
        }
        Ok(())
    }

    fn check_timeout(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<u32>> {
        let v = self.uint(kw, t, 0, i32::MAX as u32)?;
        if v.value == 0 {
            self.range_error = true;
            let mut d = self.err(
                t,
                ErrorKind::InvalidArgument,
                kw,
                "0 is not a usable check interval".into(),
            );
            d.hint = Some("Piranha's nanny divided by it; use 1 or more seconds".into());
            return Err(d);
        }
        Ok(v)
    }

    fn list(&mut self, kw: &str, eq_span: Span, a: &[Tok<'_>]) -> R<Spanned<Vec<String>>> {
        let bad = |p: &Self, t: &Tok<'_>| {
            let mut d = p.err(
                t,
                ErrorKind::ListExpected,
                kw,
                "expected `[ item ... ]`".into(),
            );
            d.hint = Some("a list is `[`, items and `]`, separated by blanks".into());
            d
        };
        let Some(first) = a.first() else {
            let mut d = Box::new(self.diag(
                Severity::Error,
                eq_span,
                ErrorKind::ListExpected,
                Some(kw.to_string()),
                "expected `[ item ... ]`".into(),
                None,
            ));
            d.hint = Some("a list is `[`, items and `]`, separated by blanks".into());
            return Err(d);
        };
        if first.text != "[" {
            return Err(bad(self, first));
        }
        let Some(end) = a.iter().position(|t| t.text == "]") else {
            return Err(bad(self, &a[a.len() - 1]));
        };
        if end + 1 < a.len() {
            let extra = &a[end + 1..];
            return Err(Box::new(self.diag(
                Severity::Error,
                span_of(extra),
                ErrorKind::UnexpectedArguments,
                Some(kw.to_string()),
                "text after the closing `]`".into(),
                None,
            )));
        }
        Ok(Spanned::at(
            a[1..end].iter().map(|t| t.text.to_string()).collect(),
            span_of(a),
        ))
    }

    fn failover_key(&mut self, f: &mut FailoverService, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "active" => f.active = Some(self.boolean(kw, &a[0])?),
            "address" => f.address = Some(self.ipdev(kw, a)?),
            "vip_nmask" => f.vip_nmask = Some(self.mask(kw, &a[0])?),
            "port" => f.port = Some(self.port(kw, &a[0], true)?),
            "send" => f.send = Some(self.qstring(kw, &a[0])),
            "expect" => f.expect = Some(self.qstring(kw, &a[0])),
            "send_program" => f.send_program = Some(self.qstring(kw, &a[0])),
            "timeout" => f.timeout = Some(self.check_timeout(kw, &a[0])?),
            "reentry" => f.reentry = Some(self.uint(kw, &a[0], 0, i32::MAX as u32)?),
            "start_cmd" => f.start_cmd = Some(self.qstring(kw, &a[0])),
            "stop_cmd" => f.stop_cmd = Some(self.qstring(kw, &a[0])),
            _ => {
                // Valid virtual keyword: checked, then ignored.
                let mut scratch = VirtualServer::default();
                self.virtual_key(&mut scratch, kw, a)?;
                self.warn_at(
                    a.first().map(|t| t.span).unwrap_or_default(),
                    Some(kw),
                    format!("`{kw}` has no effect in a failover block; it is ignored"),
                    None,
                );
            }
        }
        Ok(())
    }

    fn server_key(&mut self, r: &mut RealServer, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        match kw {
            "address" => r.address = Some(self.host(kw, &a[0], true)?),
            "active" => r.active = Some(self.boolean(kw, &a[0])?),
            "port" => r.port = Some(self.port(kw, &a[0], false)?),
            "weight" => r.weight = Some(self.uint(kw, &a[0], 0, 65535)?),
            k if crate::checks::HEALTH_KEYS.contains(&k) => {
                self.health_key(&mut r.health, kw, a)?
            }
            _ => unreachable!("server keyword {kw} in table but not parsed"),
        }
        Ok(())
    }

    // ---- semantic checks after a clean parse ----

    fn validate(&mut self) {
        let cfg = std::mem::take(&mut self.cfg);
        crate::validate::check(&cfg, &mut |sev, span, kw, detail, hint| {
            let d = self.diag(
                sev,
                span.unwrap_or_default(),
                ErrorKind::InvalidConfiguration,
                kw.map(str::to_string),
                detail,
                hint,
            );
            self.diags.push(d);
        });
        if !cfg.virtual_servers.is_empty() && !cfg.failover_services.is_empty() {
            let span = cfg.failover_services[0].name.span.unwrap_or_default();
            let d = self.diag(
                Severity::Warning,
                span,
                ErrorKind::BothVirtualAndFailover,
                Some("failover".into()),
                format!(
                    "the file has both virtual and failover blocks; with `service = {}` only the {} blocks are used",
                    if cfg.service() == ServiceType::Fos { "fos" } else { "lvs" },
                    if cfg.service() == ServiceType::Fos { "failover" } else { "virtual" }
                ),
                Some("Piranha 0.8.6 accepted this too; remove the unused blocks".into()),
            );
            self.diags.push(d);
        }
        self.cfg = cfg;
    }

    // ---- extension (issue 9): health-check keys ----

    fn health_key(&mut self, h: &mut HealthCheck, kw: &'static str, a: &[Tok<'_>]) -> R<()> {
        use crate::checks::{parse_status_list, CheckKind, DNS_TYPES};
        let t = &a[0];
        let text = |p: &mut Self, what: &str| -> R<Spanned<String>> {
            if t.text.is_empty() {
                let mut d = p.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("expected {what}, found an empty value"),
                );
                d.hint = Some(format!("`{kw}` takes {what}"));
                return Err(d);
            }
            Ok(p.string(t))
        };
        match kw {
            "check" => h.check = Some(self.choice(kw, t, &CheckKind::ALL)?),
            "check_path" => {
                let v = text(self, "a path starting with `/`")?;
                if !v.value.starts_with('/') || v.value.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a URL path", t.text),
                    );
                    d.hint = Some(
                        "write a path such as /health, starting with `/`, without blanks".into(),
                    );
                    return Err(d);
                }
                h.check_path = Some(v);
            }
            "check_status" => {
                if let Err(bad) = parse_status_list(t.text) {
                    let mut d = self.err(t, ErrorKind::InvalidArgument, kw, bad.to_string());
                    d.hint = Some("codes and ranges separated by commas, or quoted with blanks: \"200-299 301\"".into());
                    return Err(d);
                }
                h.check_status = Some(self.string(t));
            }
            "check_digest" => {
                if t.text.len() != 32 || !t.text.bytes().all(|b| b.is_ascii_hexdigit()) {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not an MD5 digest (32 hex digits)", t.text),
                    );
                    d.hint = Some("genhash(1) prints the digest of a page".into());
                    return Err(d);
                }
                h.check_digest = Some(Spanned::at(t.text.to_ascii_lowercase(), t.span));
            }
            "check_virtualhost" | "check_sni" | "check_helo" => {
                let v = text(self, "a host name")?;
                if v.value.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a host name", t.text),
                    ));
                }
                match kw {
                    "check_virtualhost" => h.check_virtualhost = Some(v),
                    "check_sni" => h.check_sni = Some(v),
                    _ => h.check_helo = Some(v),
                }
            }
            "check_verify" => h.check_verify = Some(self.boolean(kw, t)?),
            "check_ca" => h.check_ca = Some(text(self, "a file name")?),
            "check_dns_name" => {
                let v = text(self, "a domain name")?;
                if v.value.len() > 253
                    || v.value.bytes().any(|b| b <= b' ' || b == 0x7f)
                    || v.value.contains("..")
                {
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a domain name", t.text),
                    ));
                }
                h.check_dns_name = Some(v);
            }
            "check_dns_type" => {
                let up = t.text.to_ascii_uppercase();
                if !DNS_TYPES.contains(&up.as_str()) {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is not a query type this check knows", t.text),
                    );
                    d.hint = Some(format!("one of {}", DNS_TYPES.join(", ")));
                    return Err(d);
                }
                h.check_dns_type = Some(Spanned::at(up, t.span));
            }
            "check_program" => h.check_program = Some(self.qstring(kw, t)),
            "check_dynamic" => h.check_dynamic = Some(self.boolean(kw, t)?),
            "check_timeout" => h.check_timeout = Some(self.check_timeout(kw, t)?),
            "retry" => h.retry = Some(self.uint(kw, t, 0, 1000)?),
            "retry_delay" => h.retry_delay = Some(self.seconds(kw, t)?),
            "rise" => h.rise = Some(self.uint(kw, t, 1, 1_000_000)?),
            "warmup" => {
                h.warmup = Some(match value::parse_seconds(t.text) {
                    Ok((ms, _)) => Spanned::at(Seconds(ms), t.span),
                    Err(_) => self.seconds(kw, t)?,
                })
            }
            _ => unreachable!("health keyword {kw} not parsed"),
        }
        Ok(())
    }
}

fn octal_hint(tok: &str) -> String {
    let trimmed = tok.trim_start_matches('0');
    format!(
        "Piranha reads a leading 0 as octal; write `{}` for decimal",
        if trimmed.is_empty() { "0" } else { trimmed }
    )
}
