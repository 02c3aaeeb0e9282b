//! The Piranha `lvs.cf` language.
//!
//! Parsing runs in stages: the pest grammar ([`lex`]) splits the text into
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

pub mod config;
pub mod diag;
pub mod editor;
pub mod keywords;
mod lex;
pub mod parse;
mod validate;
pub mod value;
pub mod writer;

pub use config::*;
pub use diag::{Diagnostic, Diagnostics, ErrorKind, Severity, Span};
pub use editor::{EditError, Editor, Target};
pub use parse::{
    parse_file, parse_file_with, parse_str, BlockKind, BlockLayout, KeyLine, Layout, ParseOptions,
    Parsed, Resolver,
};
pub use writer::write_config;

/// The outcome of `--config-test` for one file: the text to print and the
/// exit code (0 valid, 1 invalid), shared by `lvs` and `pulse`.
pub fn config_test(path: &std::path::Path, print: bool) -> (String, String, i32) {
    match parse_file(path) {
        Ok(p) => {
            let mut err = String::new();
            for w in &p.warnings {
                err.push_str(&w.to_string());
                err.push('\n');
            }
            let mut out = format!("configuration file {} is valid\n", path.display());
            if print {
                out = write_config(&p.config);
            } else if !p.warnings.is_empty() {
                out.push_str(&format!("{} warning(s)\n", p.warnings.len()));
            }
            if print {
                err.push_str(&format!("configuration file {} is valid\n", path.display()));
            }
            (out, err, 0)
        }
        Err(d) => {
            let mut err = String::new();
            for x in &d.0 {
                err.push_str(&x.to_string());
                err.push('\n');
            }
            let n = d.errors().count();
            err.push_str(&format!(
                "configuration file {} is not valid: {n} error(s)\n",
                path.display()
            ));
            (String::new(), err, 1)
        }
    }
}
