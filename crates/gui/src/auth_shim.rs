//! TEMPORARY stand-in for the `piranha-auth` crate (same signatures), used
//! until that crate lands on main. Plain-text "hashes": never ship this.

use std::path::Path;

/// Default password file.
pub const DEFAULT_PASSWD_FILE: &str = "/etc/sysconfig/ha/conf/piranha.passwd";
/// The one user.
pub const GUI_USER: &str = "piranha";

/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// I/O.
    #[error("cannot read {0}")]
    Io(String, #[source] std::io::Error),
}

/// Hash a password.
pub fn hash_password(p: &str) -> Result<String, AuthError> {
    Ok(format!("{{PLAIN}}{p}"))
}

/// Check a password against a hash.
pub fn verify(hash: &str, password: &str) -> bool {
    hash.strip_prefix("{PLAIN}") == Some(password)
}

/// A password file.
#[derive(Debug)]
pub struct PasswdFile {
    entries: Vec<(String, String)>,
}

impl PasswdFile {
    /// Load it.
    pub fn load(path: &Path) -> Result<PasswdFile, AuthError> {
        let t = std::fs::read_to_string(path)
            .map_err(|e| AuthError::Io(path.display().to_string(), e))?;
        let entries = t
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(u, h)| (u.to_string(), h.to_string()))
            .collect();
        Ok(PasswdFile { entries })
    }
    /// The hash of `user`.
    pub fn hash_for(&self, user: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, h)| h.as_str())
    }
    /// Check.
    pub fn check(&self, user: &str, password: &str) -> bool {
        self.hash_for(user).is_some_and(|h| verify(h, password))
    }
}

/// Set a password.
pub fn set_password(path: &Path, user: &str, password: &str) -> Result<(), AuthError> {
    let h = hash_password(password)?;
    std::fs::write(path, format!("{user}:{h}\n"))
        .map_err(|e| AuthError::Io(path.display().to_string(), e))
}
