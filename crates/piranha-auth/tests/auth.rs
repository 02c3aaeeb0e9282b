//! piranha-auth against hashes made by real tools, properties of hashing,
//! and the password file on disk.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use piranha_auth::{
    check_directory, check_min_length, hash_password, set_password, verify, AuthError, PasswdFile,
    GUI_USER, MIN_PASSWORD_CHARS,
};
use proptest::prelude::*;

/// Hashes of `Secr3t pass!` unless noted, made with Apache's htpasswd 2.4
/// (`htpasswd -nbB -C 10`, `-m`, `-s`, `-d`, `-2`, `-5`) and with glibc's
/// crypt(3) through Python's `crypt` module (`$1$`, `$5$`, `$6$`, `$2a$`,
/// `$2b$`, `$2y$`, DES).
const PW: &str = "Secr3t pass!";
const VECTORS: &[(&str, &str, &str)] = &[
    // (what, hash, password)
    ("htpasswd -B -C 10", "$2y$10$nNR87RJRoGfw2V1NHsJEieGZvhduVhImJDULXxXM9ZvbzhyxeU9y.", PW),
    ("htpasswd -B -C 5", "$2y$05$HzeYcxjTTlG7VmCuhTzFKOUIYaug2bZf9tWRm0vg/Ym3uz8AVO0ka", "p@ss"),
    ("crypt(3) $2a$", "$2a$05$abcdefghijklmnopqrstuuAUQWGtx/tCSMH8IO9k5RzTUAO8osQJO", PW),
    ("crypt(3) $2b$", "$2b$05$abcdefghijklmnopqrstuuAUQWGtx/tCSMH8IO9k5RzTUAO8osQJO", PW),
    ("crypt(3) $2y$", "$2y$05$abcdefghijklmnopqrstuuAUQWGtx/tCSMH8IO9k5RzTUAO8osQJO", PW),
    ("htpasswd -m", "$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.", PW),
    ("htpasswd -m, UTF-8", "$apr1$1X5v1T84$1YAP.U8I2gGDDNbYwvOM..", "pässwörd€"),
    ("htpasswd -s", "{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ=", PW),
    ("htpasswd -d", "Kufzw.yyR1M5g", "Secr3t p"),
    ("crypt(3) DES", "abIhuhMsc/6rA", PW),
    ("htpasswd -2", "$5$0xnUqPVgBYv9LaI1$mj16ZOzluxumEFTNBMc/ocjKMqfQlIZGjQ7rh85Qjg/", PW),
    (
        "htpasswd -5",
        "$6$IKpY80ZhGWt.4VYu$xbJehQr6e2jbHQhZj6DDmToH3zBr9NtIWU1H2O1sMlfFPbDtPjCpbE9Mk.NURsWVujmHYAsFdleQWr.zWBKOq/",
        PW,
    ),
    ("crypt(3) $1$", "$1$saltsalt$R.poGa.NtaQHb1tOj7Dbs/", PW),
    ("crypt(3) $5$", "$5$saltsaltsaltsa$QD2u/8Evq6jJ9cwkSkYf5um6yeb.F3b3yQZDWitRO81", PW),
    (
        "crypt(3) $6$",
        "$6$saltsaltsaltsa$SE9MrQEMSL54DwA9e2E9h.OiReNfjFwGueA0SROB0JP.nfyGo3Nkh4JyVGGFOpL7nb3xWG6uy2.cGbfy4FNCn/",
        PW,
    ),
    (
        "crypt(3) $6$rounds=10000",
        "$6$rounds=10000$saltsaltsaltsa$G30yr2qXQfIiyh/mOFdnmGa1gQPYvkzePuOjOC/9hXyLjpntxBd3w3oexloYNNU14AbO/ODpUVEqYveslItD0.",
        PW,
    ),
];

#[test]
fn every_format_verifies_its_password() {
    for (what, hash, pw) in VECTORS {
        assert!(verify(hash, pw), "{what}: {hash} should verify {pw:?}");
    }
}

#[test]
fn every_format_rejects_wrong_passwords() {
    for (what, hash, pw) in VECTORS {
        for wrong in ["", "secr3t pass!", "Secr3t pass", "Secr3t pass!!", "x"] {
            if wrong == *pw {
                continue;
            }
            // DES looks at 8 characters only: a longer wrong password with
            // the right first 8 verifies, as with crypt(3) itself.
            if hash.len() == 13 && wrong.len() >= 8 && wrong[..8] == pw[..8] {
                continue;
            }
            assert!(!verify(hash, wrong), "{what}: {hash} must reject {wrong:?}");
        }
    }
}

#[test]
fn des_uses_the_first_eight_characters_like_crypt3() {
    assert!(verify("Kufzw.yyR1M5g", "Secr3t pass!"));
    assert!(verify("abIhuhMsc/6rA", "Secr3t p"));
}

#[test]
fn a_damaged_hash_never_verifies() {
    let damaged = [
        "",
        "piranha",
        "$2y$10$nNR87RJRoGfw2V1NHsJEieGZvhduVhImJDULXxXM9ZvbzhyxeU9y",
        "$2y$10$nNR87RJRoGfw2V1NHsJEieGZvhduVhImJDULXxXM9ZvbzhyxeU9y.x",
        "$2y$99$nNR87RJRoGfw2V1NHsJEieGZvhduVhImJDULXxXM9ZvbzhyxeU9y.",
        "$2x$05$abcdefghijklmnopqrstuuAUQWGtx/tCSMH8IO9k5RzTUAO8osQJO",
        "$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv",
        "$apr1$Zda4m9Au",
        "$apr1$",
        "{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ",
        "{SHA}!!!",
        "{SHA}",
        "{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQA",
        "$1$saltsalt$R.poGa.NtaQHb1tOj7Dbs",
        "$6$",
        "$5$rounds=x$salt$abc",
        "Kufzw.yyR1M5",
        "Kufzw.yyR1M5g ",
        "Secr3t pass!",
        "$7$CU..../....",
        "$y$j9T$abc$def",
    ];
    for hash in damaged {
        assert!(!verify(hash, PW), "{hash:?} must not verify");
        assert!(
            !verify(hash, ""),
            "{hash:?} must not verify the empty password"
        );
    }
}

#[test]
fn plaintext_is_not_a_hash() {
    // htpasswd -p is Windows/NetWare only; on Linux Apache never compares
    // plain text, and neither do we.
    assert!(!verify("hunter22", "hunter22"));
}

#[test]
fn new_hashes_are_htpasswd_bcrypt_cost_10() {
    let h = hash_password(PW).unwrap();
    assert!(h.starts_with("$2y$10$"), "{h}");
    assert_eq!(h.len(), 60);
    assert!(verify(&h, PW));
    assert!(!verify(&h, "Secr3t pass?"));
    assert_ne!(h, hash_password(PW).unwrap(), "salt must be random");
}

#[test]
fn new_password_rules() {
    assert!(matches!(hash_password(""), Err(AuthError::EmptyPassword)));
    assert!(matches!(hash_password("a\0b"), Err(AuthError::PasswordNul)));
    let long = "a".repeat(73);
    assert!(matches!(
        hash_password(&long),
        Err(AuthError::PasswordTooLong(73))
    ));
    // 72 bytes is the most bcrypt uses, and htpasswd agrees on it.
    assert!(verify(
        "$2y$04$XZHirwnh8iyJjSnUHMCBa.GnRw/FRxIU6Su35gLuGDiJE2GmJI96S",
        &"a".repeat(72)
    ));
    assert!(hash_password(&"a".repeat(72)).is_ok());
}

#[test]
fn minimum_length_counts_characters() {
    assert_eq!(MIN_PASSWORD_CHARS, 8);
    let e = check_min_length("seven77").unwrap_err();
    assert!(matches!(e, AuthError::PasswordTooShort(7)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the password has 7 characters; use at least 8"
    );
    check_min_length("eight888").unwrap();
    // Characters, not bytes: seven two-byte letters are still seven.
    assert!(matches!(
        check_min_length("ééééééé"),
        Err(AuthError::PasswordTooShort(7))
    ));
    check_min_length("éééééééé").unwrap();
    // An empty password is hash_password's to refuse, whatever the length rule.
    check_min_length("").unwrap();
    // set_password itself takes a short one (the rule is piranha-passwd's).
    assert!(hash_password("x").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn hash_then_verify_round_trips(pw in "\\PC{1,24}", other in "\\PC{0,24}") {
        prop_assume!(pw.len() <= 72 && !pw.contains('\0'));
        let h = hash_password(&pw).unwrap();
        prop_assert!(verify(&h, &pw));
        prop_assume!(other != pw);
        prop_assert!(!verify(&h, &other));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary text after a known prefix never panics and never verifies.
    /// The tail has no digits after bcrypt's `$2?$` and no `=`, so no test
    /// case asks for 2^31 bcrypt rounds or a billion SHA-crypt rounds.
    #[test]
    fn garbage_never_verifies_nor_panics(
        prefix in prop::sample::select(vec![
            "", "$2a$04$", "$2b$05$", "$2y$04$", "$apr1$", "$apr1$abcdefgh$", "{SHA}", "$1$",
            "$1$saltsalt$", "$5$", "$5$saltsalt$", "$6$", "$6$saltsalt$", "ab",
        ]),
        tail in "[./A-Za-z$:{}+=]{0,60}",
        pw in "\\PC{0,16}",
    ) {
        let tail = if prefix.starts_with("$2") { tail } else { tail.replace('=', "") };
        let hash = format!("{prefix}{tail}");
        prop_assert!(!verify(&hash, &pw), "{hash:?} verified {pw:?}");
    }
}

#[test]
fn passwd_file_parses_apache_style() {
    let text = "# GUI users\r\n\r\npiranha:$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.\r\n  \
                alice:{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ=:extra field  \r\npiranha:Kufzw.yyR1M5g\r\n";
    let f = PasswdFile::parse(text).unwrap();
    assert_eq!(
        f.users().collect::<Vec<_>>(),
        ["piranha", "alice", "piranha"]
    );
    assert_eq!(
        f.hash_for("piranha"),
        Some("$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.")
    );
    assert_eq!(
        f.hash_for("alice"),
        Some("{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ=")
    );
    assert_eq!(f.hash_for("bob"), None);
    assert!(f.check("piranha", PW));
    assert!(f.check("alice", PW));
    assert!(
        !f.check("piranha", "Secr3t p"),
        "only the first line of a user counts"
    );
    assert!(!f.check("bob", PW));
    assert!(!f.check("piranha", ""));
}

#[test]
fn passwd_file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("piranha.passwd");
    fs::write(&p, "piranha:x\nno colon here\n").unwrap();
    let e = PasswdFile::load(&p).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:2: malformed line, expected user:hash", p.display())
    );
    fs::write(&p, ":nouser\n").unwrap();
    assert!(matches!(
        PasswdFile::load(&p),
        Err(AuthError::Malformed { line: 1, .. })
    ));

    let missing = dir.path().join("missing");
    let e = PasswdFile::load(&missing).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("failed to read password file {}", missing.display())
    );

    fs::write(&p, b"piranha:\xff\n").unwrap();
    assert!(PasswdFile::load(&p)
        .unwrap_err()
        .to_string()
        .contains(&*p.to_string_lossy()));
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn dir_entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn set_password_creates_the_file_but_not_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ha/conf");
    let p = conf.join("piranha.passwd");
    let e = set_password(&p, GUI_USER, "n3w secret").unwrap_err();
    assert!(
        matches!(&e, AuthError::NoDirectory { path, dir } if *path == p && *dir == conf),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "directory {} of password file {} does not exist",
            conf.display(),
            p.display()
        )
    );
    assert!(!dir.path().join("ha").exists(), "no directory was created");
    assert!(matches!(
        check_directory(&p),
        Err(AuthError::NoDirectory { .. })
    ));

    fs::create_dir_all(&conf).unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o750)).unwrap();
    check_directory(&p).unwrap();
    set_password(&p, GUI_USER, "n3w secret").unwrap();
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(&conf), 0o750);
    let f = PasswdFile::load(&p).unwrap();
    assert!(f.hash_for(GUI_USER).unwrap().starts_with("$2y$10$"));
    assert!(f.check(GUI_USER, "n3w secret"));
    assert!(!f.check(GUI_USER, "old"));
    assert_eq!(
        dir_entries(&conf),
        ["piranha.passwd"],
        "no temporary file left behind"
    );
}

#[test]
fn set_password_keeps_other_users_comments_and_owner() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("piranha.passwd");
    let before = "# managed by hand\nalice:$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.\n\
                  piranha:Kufzw.yyR1M5g\nbob:{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ=\n";
    fs::write(&p, before).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    let owner = {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(&p).unwrap();
        (m.uid(), m.gid())
    };
    set_password(&p, GUI_USER, "other pw").unwrap();

    let after = fs::read_to_string(&p).unwrap();
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], "# managed by hand");
    assert_eq!(lines[1], "alice:$apr1$Zda4m9Au$BG4aWloVbnb4E0vXg82fv.");
    assert!(lines[2].starts_with("piranha:$2y$10$"));
    assert_eq!(lines[3], "bob:{SHA}qD4dihjsOpj2e/YxPyPIAS5xACQ=");
    assert_eq!(mode(&p), 0o600, "the file is tightened to 0600");
    {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), owner);
    }
    let f = PasswdFile::load(&p).unwrap();
    assert!(f.check(GUI_USER, "other pw"));
    assert!(f.check("alice", PW));
    assert!(f.check("bob", PW));
    assert_eq!(dir_entries(dir.path()), ["piranha.passwd"]);

    // A second user is appended; piranha's line stays where it is.
    set_password(&p, "carol", "c4rol").unwrap();
    let f = PasswdFile::load(&p).unwrap();
    assert_eq!(
        f.users().collect::<Vec<_>>(),
        ["alice", "piranha", "bob", "carol"]
    );
    assert!(f.check(GUI_USER, "other pw"));
    assert!(f.check("carol", "c4rol"));
}

#[test]
fn set_password_replaces_the_file_by_rename() {
    // An open reader keeps the old content: the file was replaced, not
    // rewritten in place (a crash mid-write cannot leave half a file).
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("piranha.passwd");
    fs::write(&p, "piranha:Kufzw.yyR1M5g\n").unwrap();
    let old_ino = fs::metadata(&p).unwrap().ino();
    let old_handle = fs::File::open(&p).unwrap();
    set_password(&p, GUI_USER, "fresh").unwrap();
    assert_ne!(fs::metadata(&p).unwrap().ino(), old_ino);
    let mut old = String::new();
    std::io::Read::read_to_string(&mut &old_handle, &mut old).unwrap();
    assert_eq!(old, "piranha:Kufzw.yyR1M5g\n");
    assert!(PasswdFile::load(&p).unwrap().check(GUI_USER, "fresh"));
}

#[test]
fn set_password_refusals_leave_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("piranha.passwd");
    fs::write(&p, "piranha:Kufzw.yyR1M5g\n").unwrap();
    assert!(matches!(
        set_password(&p, GUI_USER, ""),
        Err(AuthError::EmptyPassword)
    ));
    assert!(matches!(
        set_password(&p, "a:b", "x"),
        Err(AuthError::InvalidUser(_))
    ));
    assert!(matches!(
        set_password(&p, "", "x"),
        Err(AuthError::InvalidUser(_))
    ));
    assert!(matches!(
        set_password(&p, "a\nb", "x"),
        Err(AuthError::InvalidUser(_))
    ));
    assert_eq!(fs::read_to_string(&p).unwrap(), "piranha:Kufzw.yyR1M5g\n");
    assert_eq!(dir_entries(dir.path()), ["piranha.passwd"]);
}

#[test]
fn set_password_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // The "directory" is a regular file: creating the file in it fails.
    let blocker = dir.path().join("conf");
    fs::write(&blocker, "").unwrap();
    let p = blocker.join("piranha.passwd");
    let e = set_password(&p, GUI_USER, "x").unwrap_err();
    assert!(e.to_string().contains(&*blocker.to_string_lossy()), "{e}");
}

/// Cross-check with Apache itself: `htpasswd -v` accepts what we write.
/// Needs apache2-utils; the literal vectors above keep the default run
/// independent of it.
#[test]
#[ignore = "needs htpasswd (apache2-utils)"]
fn htpasswd_accepts_our_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("piranha.passwd");
    set_password(&p, GUI_USER, "Cr0ss check!").unwrap();
    let ok = std::process::Command::new("htpasswd")
        .args(["-v", "-b"])
        .arg(&p)
        .args([GUI_USER, "Cr0ss check!"])
        .output()
        .expect("run htpasswd");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = std::process::Command::new("htpasswd")
        .args(["-v", "-b"])
        .arg(&p)
        .args([GUI_USER, "wrong"])
        .output()
        .expect("run htpasswd");
    assert!(!bad.status.success());
}
