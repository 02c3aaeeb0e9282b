//! Stages 2 and 3: lines of tokens → typed [`Config`](crate::Config) with spans, plus the
//! [`Layout`] the editor needs, plus validation.

mod file;
mod keys;
mod layout;
mod options;
mod reader;
mod report;
mod values;

pub use file::{
    decode, decode_owned, encode, not_text, parse_file, parse_file_with, read_file, TEXT_SAMPLE,
};
pub use layout::{BlockKind, BlockLayout, KeyLine, Layout, Parsed};
pub use options::{ParseOptions, Resolver};
pub use reader::parse_str;
pub(crate) use reader::{detect_eol, parse_fragment, validates_clean};
