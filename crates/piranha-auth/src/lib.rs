//! The Piranha Configuration Tool's password file.
//!
//! The GUI logs its one user (`piranha`) in with HTTP Basic authentication
//! against `/etc/sysconfig/ha/conf/piranha.passwd`, an Apache htpasswd file
//! (`user:hash` lines). This crate reads that file, verifies passwords against
//! every hash format Apache's `htpasswd` has written (so a file made by
//! Piranha keeps working after an upgrade), and writes new hashes as bcrypt
//! (`$2y$`, cost 10, what `htpasswd -B` writes), atomically.
//!
//! | format | example prefix | how it is checked |
//! |---|---|---|
//! | bcrypt | `$2y$`, `$2b$`, `$2a$` | the `bcrypt` crate (constant-time) |
//! | Apache MD5 | `$apr1$` | `crypt3_rs`, compared in constant time |
//! | SHA-1 | `{SHA}` | `sha1` + `base64`, compared in constant time |
//! | glibc MD5, SHA-256, SHA-512 crypt | `$1$`, `$5$`, `$6$` | `crypt3_rs`, compared in constant time |
//! | traditional DES crypt | 13 characters | `crypt3_rs`, compared in constant time |
//!
//! Anything else never verifies.
//!
//! ```
//! use piranha_auth::{set_password, PasswdFile, GUI_USER};
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("piranha.passwd");
//! set_password(&file, GUI_USER, "s3cret")?;
//! let users = PasswdFile::load(&file)?;
//! assert!(users.check(GUI_USER, "s3cret"));
//! assert!(!users.check(GUI_USER, "guess"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use nix::unistd::{Gid, Uid, User};
use sha1::{Digest as _, Sha1};
use subtle::ConstantTimeEq;

/// Where Piranha kept the GUI's password file.
pub const DEFAULT_PASSWD_FILE: &str = "/etc/sysconfig/ha/conf/piranha.passwd";

/// The one user the GUI knows, and the system user it runs as.
pub const GUI_USER: &str = "piranha";

/// bcrypt cost of new hashes (Apache `htpasswd -B`'s default).
pub const BCRYPT_COST: u32 = 10;

/// bcrypt looks at the first 72 bytes of a password only.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// The fewest characters `piranha-passwd` takes without `--force`
/// ([`check_min_length`]); [`set_password`] itself does not insist.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A bcrypt cost-10 hash of a random string nobody knows, checked for
/// unknown users so that they take as long as known ones.
const UNKNOWN_USER_HASH: &str = "$2y$10$b9cIJ8LQ9ckWtdjPO6CuSejcVl67P4jLzELZRfSEV4HgBiWUNh78a";

/// Mode of the password file.
const FILE_MODE: u32 = 0o600;

/// What went wrong while hashing, reading or writing passwords.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The new password is empty.
    #[error("refusing an empty password")]
    EmptyPassword,
    /// The new password is longer than bcrypt can use.
    #[error(
        "the password is {0} bytes long; bcrypt uses only the first {MAX_PASSWORD_BYTES}, refusing it"
    )]
    PasswordTooLong(usize),
    /// The new password contains a character a password file line cannot carry.
    #[error("the password contains a NUL byte")]
    PasswordNul,
    /// The new password has fewer than [`MIN_PASSWORD_CHARS`] characters
    /// (only [`check_min_length`] says so).
    #[error("the password has {0} characters; use at least {MIN_PASSWORD_CHARS}")]
    PasswordTooShort(usize),
    /// The user name cannot be written as `user:hash`.
    #[error("invalid user name {0:?}: it must be non-empty, without ':' or line breaks")]
    InvalidUser(String),
    /// bcrypt failed (no randomness for the salt).
    #[error("failed to hash the password")]
    Hash(#[source] bcrypt::BcryptError),
    /// The password file could not be read.
    #[error("failed to read password file {path}")]
    Read {
        /// The password file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A line of the password file is not `user:hash`.
    #[error("{path}:{line}: malformed line, expected user:hash")]
    Malformed {
        /// The password file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The directory of the password file does not exist (it is not
    /// created: a mistyped `--file` must not leave directories behind, and
    /// the default one is made by the installation).
    #[error("directory {dir} of password file {path} does not exist")]
    NoDirectory {
        /// The password file.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// Writing the new password file failed (the old one is unchanged).
    #[error("failed to write password file {path}")]
    Write {
        /// The password file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The new file could not be given its owner (the old one is unchanged).
    #[error("failed to give password file {path} the owner {uid}:{gid}")]
    Chown {
        /// The password file.
        path: PathBuf,
        /// Wanted owner.
        uid: u32,
        /// Wanted group.
        gid: u32,
        /// The system error.
        #[source]
        source: nix::Error,
    },
}

impl AuthError {
    /// Whether the password file (or its directory) does not exist: no
    /// password has been set yet.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AuthError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// Whether the failure was a permission problem (EACCES, EPERM).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            AuthError::Read { source, .. } | AuthError::Write { source, .. } => {
                source.kind() == io::ErrorKind::PermissionDenied
            }
            AuthError::Chown { source, .. } => {
                matches!(source, nix::Error::EPERM | nix::Error::EACCES)
            }
            _ => false,
        }
    }
}

/// Hashes a new password as bcrypt `$2y$` with cost [`BCRYPT_COST`], the
/// format `htpasswd -B` writes and Apache, nginx and this crate verify.
///
/// Refuses an empty password, one with a NUL byte and one longer than
/// [`MAX_PASSWORD_BYTES`] (bcrypt would silently ignore the rest).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    check_new_password(password)?;
    let parts = bcrypt::hash_with_result(password, BCRYPT_COST).map_err(AuthError::Hash)?;
    Ok(parts.format_for_version(bcrypt::Version::TwoY))
}

/// Refuses a password of fewer than [`MIN_PASSWORD_CHARS`] characters
/// (Unicode scalar values, not bytes). An empty one is left to
/// [`hash_password`], which refuses it in any case.
pub fn check_min_length(password: &str) -> Result<(), AuthError> {
    match password.chars().count() {
        n @ 1.. if n < MIN_PASSWORD_CHARS => Err(AuthError::PasswordTooShort(n)),
        _ => Ok(()),
    }
}

fn check_new_password(password: &str) -> Result<(), AuthError> {
    if password.is_empty() {
        return Err(AuthError::EmptyPassword);
    }
    if password.contains('\0') {
        return Err(AuthError::PasswordNul);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::PasswordTooLong(password.len()));
    }
    Ok(())
}

/// Whether `password` matches `hash`, in any format listed in the crate
/// documentation. An unknown or damaged hash is `false`, never a panic.
pub fn verify(hash: &str, password: &str) -> bool {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        // The bcrypt crate compares in constant time.
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    if let Some(b64) = hash.strip_prefix("{SHA}") {
        let Ok(want) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return false;
        };
        let got = Sha1::digest(password.as_bytes());
        return want.len() == got.len() && bool::from(got.as_slice().ct_eq(&want));
    }
    verify_crypt(hash, password)
}

/// The crypt(3)-style formats. `crypt3_rs` marks them deprecated for new
/// passwords; we only verify old ones, never create them.
#[allow(deprecated)]
fn verify_crypt(hash: &str, password: &str) -> bool {
    let computed = if hash.starts_with("$apr1$") {
        crypt3_rs::crypt::apr1::hash_with(hash, password)
    } else if hash.starts_with("$1$") {
        crypt3_rs::crypt::md5::hash_with(hash, password)
    } else if hash.starts_with("$5$") {
        crypt3_rs::crypt::sha256::hash_with(hash, password)
    } else if hash.starts_with("$6$") {
        crypt3_rs::crypt::sha512::hash_with(hash, password)
    } else if is_des_crypt(hash) {
        crypt3_rs::crypt::unix::hash_with(hash, password)
    } else {
        return false;
    };
    match computed {
        Ok(h) => {
            let h = h.as_str();
            h.len() == hash.len() && bool::from(h.as_bytes().ct_eq(hash.as_bytes()))
        }
        Err(_) => false,
    }
}

/// Traditional DES crypt: 2 salt and 11 hash characters from `./0-9A-Za-z`.
fn is_des_crypt(hash: &str) -> bool {
    hash.len() == 13
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// A parsed password file: `user:hash` lines; blank lines and lines starting
/// with `#` are ignored, CRLF line ends and surrounding blanks are tolerated.
/// As in Apache, the first line of a user counts, and anything after a
/// second `:` is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswdFile {
    entries: Vec<(String, String)>,
}

impl PasswdFile {
    /// Reads and parses `path`. Errors name the file (and the line of a
    /// malformed entry).
    pub fn load(path: &Path) -> Result<PasswdFile, AuthError> {
        let bytes = fs::read(path).map_err(|source| AuthError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| AuthError::Read {
            path: path.to_owned(),
            source: io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        })?;
        Self::parse(&text).map_err(|line| AuthError::Malformed {
            path: path.to_owned(),
            line,
        })
    }

    /// Parses the text of a password file; the error is the 1-based number
    /// of the first malformed line.
    pub fn parse(text: &str) -> Result<PasswdFile, usize> {
        let mut entries = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split(':');
            let user = fields.next().unwrap_or_default();
            let Some(hash) = fields.next() else {
                return Err(i + 1);
            };
            if user.is_empty() {
                return Err(i + 1);
            }
            entries.push((user.to_owned(), hash.to_owned()));
        }
        Ok(PasswdFile { entries })
    }

    /// The stored hash of `user` (its first line), if any.
    pub fn hash_for(&self, user: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, h)| h.as_str())
    }

    /// Whether `user` exists and `password` matches its hash. An unknown
    /// user costs one bcrypt check all the same, so the time taken does not
    /// tell which user names exist.
    pub fn check(&self, user: &str, password: &str) -> bool {
        match self.hash_for(user) {
            Some(h) => verify(h, password),
            None => {
                let _ = verify(UNKNOWN_USER_HASH, password);
                false
            }
        }
    }

    /// The users in file order (duplicates included).
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(u, _)| u.as_str())
    }
}

/// Sets `user`'s password in the file at `path` to a new bcrypt hash.
///
/// Every other line is kept byte for byte; the user's first line is
/// replaced (later duplicates dropped) or a line is appended. The file is
/// written atomically: a temporary file in the same directory, mode 0600,
/// fsync, rename over `path`, fsync of the directory. An existing file keeps
/// its owner and group; a new file goes to `piranha:piranha` when that system
/// user exists and we are root (as Piranha's `piranha-passwd` did). The
/// directory must exist ([`AuthError::NoDirectory`] otherwise): it is not
/// created.
pub fn set_password(path: &Path, user: &str, password: &str) -> Result<(), AuthError> {
    if user.is_empty() || user.contains([':', '\n', '\r']) {
        return Err(AuthError::InvalidUser(user.to_owned()));
    }
    let hash = hash_password(password)?;
    let gui = gui_user();
    let dir = directory_of(path);
    check_directory(path)?;

    let rerr = |source| AuthError::Read {
        path: path.to_owned(),
        source,
    };
    let (old, owner) = match File::open(path) {
        Ok(mut f) => {
            let meta = f.metadata().map_err(rerr)?;
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).map_err(rerr)?;
            (bytes, Some((meta.uid(), meta.gid())))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), None),
        Err(source) => return Err(rerr(source)),
    };
    let owner = owner.or_else(|| {
        if Uid::effective().is_root() {
            gui.as_ref().map(|u| (u.uid.as_raw(), u.gid.as_raw()))
        } else {
            None
        }
    });
    let content = replace_user_line(&old, user, &hash);
    write_atomically(path, &dir, &content, owner)
}

/// The `piranha` system user, if it exists.
fn gui_user() -> Option<User> {
    User::from_name(GUI_USER).ok().flatten()
}

/// The directory a password file `path` lives in (`.` for a bare name).
pub fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// [`AuthError::NoDirectory`] when the directory of `path` does not exist.
/// Anything else that is wrong with it (not a directory, not searchable)
/// is left to the write, whose error names the file.
pub fn check_directory(path: &Path) -> Result<(), AuthError> {
    let dir = directory_of(path);
    match fs::metadata(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(AuthError::NoDirectory {
            path: path.to_owned(),
            dir,
        }),
        _ => Ok(()),
    }
}

/// `old` with `user`'s first line replaced by `user:hash` (or that line
/// appended) and its other lines dropped; all other bytes unchanged.
fn replace_user_line(old: &[u8], user: &str, hash: &str) -> Vec<u8> {
    let crlf = old.windows(2).any(|w| w == b"\r\n");
    let mut entry = format!("{user}:{hash}").into_bytes();
    entry.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    let prefix = format!("{user}:");

    let mut out = Vec::with_capacity(old.len() + entry.len());
    let mut placed = false;
    let mut rest = old;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        if line.trim_ascii_start().starts_with(prefix.as_bytes()) {
            if !placed {
                out.extend_from_slice(&entry);
                placed = true;
            }
            continue;
        }
        out.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            // A last line without a line end: end it before appending.
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
    }
    if !placed {
        out.extend_from_slice(&entry);
    }
    out
}

fn write_atomically(
    path: &Path,
    dir: &Path,
    content: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<(), AuthError> {
    let werr = |source| AuthError::Write {
        path: path.to_owned(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)
        .map_err(werr)?;
    // The umask cannot widen 0600, but set it explicitly all the same.
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(FILE_MODE))
        .map_err(werr)?;
    if let Some((uid, gid)) = owner {
        let meta = tmp.as_file().metadata().map_err(werr)?;
        if (meta.uid(), meta.gid()) != (uid, gid) {
            nix::unistd::fchown(
                tmp.as_file().as_raw_fd(),
                Some(Uid::from_raw(uid)),
                Some(Gid::from_raw(gid)),
            )
            .map_err(|source| AuthError::Chown {
                path: path.to_owned(),
                uid,
                gid,
                source,
            })?;
        }
    }
    tmp.write_all(content).map_err(werr)?;
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(werr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_keeps_other_lines_and_comments() {
        let old = b"# admins\nalice:x\npiranha:old\nbob:y\npiranha:dup\n";
        let new = replace_user_line(old, "piranha", "H");
        assert_eq!(new, b"# admins\nalice:x\npiranha:H\nbob:y\n");
    }

    #[test]
    fn replace_appends_and_ends_an_unterminated_last_line() {
        assert_eq!(
            replace_user_line(b"alice:x", "piranha", "H"),
            b"alice:x\npiranha:H\n"
        );
        assert_eq!(replace_user_line(b"", "piranha", "H"), b"piranha:H\n");
    }

    #[test]
    fn replace_keeps_crlf() {
        let new = replace_user_line(b"alice:x\r\npiranha:old\r\n", "piranha", "H");
        assert_eq!(new, b"alice:x\r\npiranha:H\r\n");
    }

    #[test]
    fn replace_does_not_touch_a_user_whose_name_extends_ours() {
        let new = replace_user_line(b"piranha2:x\n", "piranha", "H");
        assert_eq!(new, b"piranha2:x\npiranha:H\n");
    }

    #[test]
    fn the_unknown_user_hash_is_real_bcrypt_cost_10() {
        // Otherwise an unknown user would be rejected faster than a known one.
        let parts: Vec<&str> = UNKNOWN_USER_HASH.split('$').collect();
        assert_eq!(parts[1..3], ["2y", "10"]);
        assert_eq!(UNKNOWN_USER_HASH.len(), 60);
        assert!(bcrypt::verify("", UNKNOWN_USER_HASH).is_ok());
    }

    #[test]
    fn des_shape() {
        assert!(is_des_crypt("aZGJuE6EXrjEE"));
        assert!(!is_des_crypt("aZGJuE6EXrjE"));
        assert!(!is_des_crypt("aZGJuE6EXrj:E"));
    }
}
