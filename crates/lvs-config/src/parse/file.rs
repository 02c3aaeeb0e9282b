//! Reading lvs.cf: bytes to text (UTF-8, else Latin-1, as written back), and the whole-file entry points.

use std::path::Path;

use super::layout::*;
use super::options::*;
use super::reader::*;
use crate::diag::{Diagnostic, Diagnostics, ErrorKind, Severity, Span};

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

/// Read and [`decode`] a file; the error names it. A file that is
/// [`not_text`] is one error, "not a text file", rather than a
/// diagnostic for every line of garbage.
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
    if let Some(d) = not_text(&bytes, &file) {
        return Err(Diagnostics(vec![d]));
    }
    Ok(decode_owned(bytes))
}

/// How much of a file [`not_text`] counts control characters in.
pub const TEXT_SAMPLE: usize = 8192;

/// Why `bytes` are not a text file, if they are not: at least one byte in
/// ten of the first [`TEXT_SAMPLE`] bytes a control character other than
/// tab, LF, CR and form feed (NUL included: a program, an archive, UTF-16).
/// A text file with a stray control byte is read as text, as Piranha read
/// it (its C strings ended at a NUL; the parser shows such a byte escaped).
/// Bytes 0x80 and up count as text (a Latin-1 file is text, see
/// [`decode`]). The error is about the whole file: [`ErrorKind::NotText`],
/// line 0 (the span holds the first NUL's offset, if any).
pub fn not_text(bytes: &[u8], file: &str) -> Option<Diagnostic> {
    let mut span = Span::default();
    let sample = &bytes[..bytes.len().min(TEXT_SAMPLE)];
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
        .count();
    if control == 0 || control * 10 < sample.len() {
        return None;
    }
    let mut detail = format!(
        "{control} of its first {} bytes are control characters",
        sample.len()
    );
    if let Some(at) = memchr::memchr(0, sample) {
        (span.start, span.end) = (at, at + 1);
        detail.push_str(&format!(", the first NUL at offset {at}"));
    }
    Some(Diagnostic {
        severity: Severity::Error,
        kind: ErrorKind::NotText,
        file: file.to_string(),
        span,
        keyword: None,
        detail,
        hint: Some("lvs.cf is plain text; is this the right file?".into()),
    })
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

pub(super) fn latin1(bytes: &[u8]) -> String {
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
