//! Where each block and keyword of the file is (what the editor rewrites in place), and the result of a parse.

use std::ops::Range;

use crate::config::*;
use crate::diag::Diagnostic;

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
