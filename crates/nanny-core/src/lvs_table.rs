//! `--lvs-table` (the quorum extension, issue 9): nanny does not change
//! IPVS itself; it prints the entry it wants for its real server on stdout
//! and lvs, which reads that pipe, owns the table.  lvs needs this for a
//! virtual server with `quorum`: while the quorum is lost a real server that
//! comes up must stay out of the table, which only one writer can promise.
//!
//! One line per change, on stdout only (not syslog):
//!
//! ```text
//! nanny: [lvs-table] 10.0.0.2:80 weight 3
//! nanny: [lvs-table] 10.0.0.2:80 absent
//! ```
//!
//! `weight W` is an add or an edit (`-a`/`-e ... -w W`); `absent` a delete.

use std::io::Write;

use crate::ipvsadm::{Op, Table};

/// The marker lvs looks for (lvsd's `quorum` module reads the lines).
pub const MARK: &str = "[lvs-table] ";

/// The line for `op` on `name` (`RIP:PORT`), without the ident prefix.
pub fn line(name: &str, op: Op) -> String {
    match op {
        Op::Add(w) | Op::Edit(w) => format!("{MARK}{name} weight {}", w.max(0)),
        Op::Delete => format!("{MARK}{name} absent"),
    }
}

/// The [`Table`] that reports instead of applying.
#[derive(Debug, Clone)]
pub struct LvsTable {
    /// `RIP:PORT`.
    pub name: String,
}

impl Table for LvsTable {
    fn apply(&mut self, op: Op) -> bool {
        let l = piranha_runtime::logger::stdout_line("nanny", &line(&self.name, op));
        log::debug!("{}", line(&self.name, op));
        let mut out = std::io::stdout().lock();
        // lvs applies the change and owns its failures; a closed pipe means
        // lvs is gone, and nanny ends with it (SIGTERM via pdeathsig).
        let _ = out.write_all(l.as_bytes());
        let _ = out.flush();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            line("10.0.0.2:80", Op::Add(3)),
            "[lvs-table] 10.0.0.2:80 weight 3"
        );
        assert_eq!(
            line("10.0.0.2:80", Op::Edit(0)),
            "[lvs-table] 10.0.0.2:80 weight 0"
        );
        assert_eq!(
            line("10.0.0.2:80", Op::Delete),
            "[lvs-table] 10.0.0.2:80 absent"
        );
        assert!(LvsTable {
            name: "10.0.0.2:80".into()
        }
        .apply(Op::Delete));
    }
}
