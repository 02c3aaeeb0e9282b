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
