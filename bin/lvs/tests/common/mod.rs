//! Shared by lvs's integration tests.

use std::path::PathBuf;
use std::process::Command;

/// The nanny binary next to lvs (built on demand: `cargo test -p lvs`
/// builds only lvs's own binary).
pub fn nanny_bin() -> PathBuf {
    let lvs = PathBuf::from(env!("CARGO_BIN_EXE_lvs"));
    let nanny = lvs.with_file_name("nanny");
    if !nanny.exists() {
        let st = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "nanny", "--bin", "nanny"])
            .status()
            .expect("cargo build nanny");
        assert!(st.success(), "cargo build -p nanny failed");
    }
    nanny
}
