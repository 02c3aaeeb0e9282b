//! The Piranha `lvs.cf` language.
//!
//! Parsing runs in stages: the pest grammar (`src/lvs.pest`) splits the text into
//! lines and tokens; the parser turns them into a typed [`Config`] whose
//! values keep their source [`Span`]s, together with a [`Layout`] of where
//! every key and block sits; validation adds the checks Piranha never made.
//! Errors carry `file:line:col`, the keyword, Piranha's error text for their
//! category and a hint. [`write_config`] prints a configuration canonically
//! and [`Editor`] changes a file while keeping every untouched byte.
//!
//! ```
//! use lvs_config::{parse_str, ParseOptions, Resolver};
//! let text = "primary = 10.0.0.1\nvirtual www {\n  active = 1\n  address = 10.0.0.100 eth0:1\n}\n";
//! let opts = ParseOptions { file: "lvs.cf".into(), resolver: Resolver::None };
//! let cfg = parse_str(text, &opts).unwrap().config;
//! assert_eq!(cfg.virtual_servers[0].port(), 80);
//! ```

#![warn(missing_docs)]

pub mod checks;
pub mod config;
pub mod diag;
pub mod editor;
mod incremental;
pub mod keywords;
mod lex;
pub mod parse;
mod validate;
pub mod value;
pub mod writer;

pub use checks::{CheckKind, HealthCheck};
pub use config::*;
pub use diag::{Diagnostic, Diagnostics, ErrorKind, Severity, Span};
pub use editor::{EditError, Editor, Target};
pub use incremental::{reparse, reparse_file_in_place, reparse_in_place, ReparseTrace, Reparsed};
pub use parse::{
    parse_file, parse_file_with, parse_str, read_file, BlockKind, BlockLayout, KeyLine, Layout,
    ParseOptions, Parsed, Resolver,
};
pub use writer::{write_config, write_config_in_order};

/// What `--config-test` prints and returns, shared by `lvs` and `pulse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigTest {
    /// Diagnostics (warnings or errors), one per line; printed first, to stderr.
    pub stderr: String,
    /// `configuration file FILE is valid`, or with `print` the canonical
    /// configuration; printed to stdout.
    pub stdout: String,
    /// 0 valid, 1 invalid.
    pub code: u8,
}

/// Parse and validate `path` for `--config-test`. With `print`, stdout is
/// the canonical configuration, its blocks in the file's order, and the
/// verdict goes to stderr.
pub fn config_test(path: &std::path::Path, print: bool) -> ConfigTest {
    let mut stderr = String::new();
    match parse_file(path) {
        Ok(p) => {
            for w in &p.warnings {
                stderr.push_str(&format!("{w}\n"));
            }
            let verdict = format!(
                "configuration file {} is valid{}\n",
                path.display(),
                match p.warnings.len() {
                    0 => String::new(),
                    n => format!(" ({n} warning{})", if n == 1 { "" } else { "s" }),
                }
            );
            let stdout = if print {
                stderr.push_str(&verdict);
                write_config_in_order(&p.config, &p.layout.blocks)
            } else {
                verdict
            };
            ConfigTest {
                stderr,
                stdout,
                code: 0,
            }
        }
        Err(d) => {
            for x in &d.0 {
                stderr.push_str(&format!("{x}\n"));
            }
            let n = d.errors().count();
            stderr.push_str(&format!(
                "configuration file {} is not valid: {n} error{}\n",
                path.display(),
                if n == 1 { "" } else { "s" }
            ));
            ConfigTest {
                stderr,
                stdout: String::new(),
                code: 1,
            }
        }
    }
}
