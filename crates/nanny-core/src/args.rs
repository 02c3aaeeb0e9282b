//! The one lvs→nanny contract: [`Options`], the flags of one nanny. lvs
//! builds it from lvs.cf and hands it over with [`Options::to_argv`] (the
//! argv Piranha's lvsd gave, word for word); nanny reads it back with
//! [`Options::from_argv`] (or, for a hand-typed command line, clap), and a
//! property test checks that the two are inverse.

use std::ffi::OsString;

use crate::config::Options;

impl Options {
    /// The argv of a nanny started as `program` with these options, in
    /// Piranha's order (lvsd.c `createMonitor`): `-c`, `-h`, `-p`, `-r`,
    /// the check, `-a -I -t -w -V -M`, `-U`, then lvs's own flags and the
    /// extension's long options. A value is given when set (an option that
    /// is `None`, a flag that is off and a default `-S` are left out).
    pub fn to_argv(&self, program: &str) -> Vec<String> {
        let mut v = vec![program.to_string()];
        fn flag(v: &mut Vec<String>, on: bool, f: &str) {
            if on {
                v.push(f.to_string());
            }
        }
        fn opt(v: &mut Vec<String>, f: &str, x: Option<String>) {
            if let Some(x) = x {
                v.push(f.to_string());
                v.push(x);
            }
        }
        flag(&mut v, self.nofork, "-c");
        opt(&mut v, "-h", self.server.clone());
        opt(&mut v, "-p", Some(self.port.to_string()));
        opt(&mut v, "-r", self.rport.map(|p| p.to_string()));
        opt(
            &mut v,
            "-f",
            (self.fwmark != 0).then(|| self.fwmark.to_string()),
        );
        flag(&mut v, self.udp, "-u");
        opt(&mut v, "-e", self.send_program.clone());
        opt(&mut v, "-s", self.send.clone());
        opt(&mut v, "-x", self.expect.clone());
        flag(&mut v, self.quiesce, "-q");
        flag(&mut v, self.regex, "--regex");
        flag(&mut v, self.verbose, "-v");
        opt(&mut v, "-a", Some(self.reentry.to_string()));
        opt(&mut v, "-I", Some(self.ipvsadm.clone()));
        opt(&mut v, "-t", Some(self.interval.to_string()));
        opt(&mut v, "-w", Some(self.weight.to_string()));
        opt(&mut v, "-V", self.vip.clone());
        opt(&mut v, "-M", Some(self.method.clone()));
        let d = Options::default();
        opt(&mut v, "-U", self.loadcmd.clone());
        opt(
            &mut v,
            "-S",
            (self.scale != d.scale).then(|| self.scale.to_string()),
        );
        flag(&mut v, self.suppress, "-T");
        flag(&mut v, self.norun, "--norun");
        flag(&mut v, self.fos, "--fos");
        flag(&mut v, self.nodaemon, "--nodaemon");
        flag(&mut v, self.lvs_table, "--lvs-table");
        flag(&mut v, self.lvs, "--lvs");
        let e = &self.ext;
        opt(&mut v, "--check", e.check.clone());
        opt(&mut v, "--http-path", e.http_path.clone());
        opt(&mut v, "--http-status", e.http_status.clone());
        opt(&mut v, "--http-digest", e.http_digest.clone());
        opt(&mut v, "--http-virtualhost", e.http_vhost.clone());
        opt(&mut v, "--tls-sni", e.tls_sni.clone());
        opt(&mut v, "--tls-ca", e.tls_ca.clone());
        opt(&mut v, "--smtp-helo", e.smtp_helo.clone());
        opt(&mut v, "--dns-name", e.dns_name.clone());
        opt(&mut v, "--dns-type", e.dns_type.clone());
        opt(&mut v, "--misc-program", e.misc_program.clone());
        opt(
            &mut v,
            "--io-timeout",
            self.io_timeout.map(|t| t.to_string()),
        );
        opt(&mut v, "--retry", e.retry.map(|t| t.to_string()));
        opt(&mut v, "--retry-delay", e.retry_delay.clone());
        opt(&mut v, "--rise", e.rise.map(|t| t.to_string()));
        opt(&mut v, "--warmup", e.warmup.clone());
        flag(&mut v, e.tls_verify, "--tls-verify");
        flag(&mut v, e.misc_dynamic, "--misc-dynamic");
        v
    }

    /// The argv lvs builds, read without clap.
    ///
    /// lvs starts a nanny per real server, thousands of them on a large
    /// director, and clap's parser was most of the work a forked nanny did before
    /// its first check (and most of the heap it dirtied).  lvs's argv has one
    /// strict shape: every option a whole word (`-t`, `--interval`), its value the
    /// next word.  This reads exactly that shape and gives up (`None`, then clap
    /// parses) on anything else: a clustered or attached form (`-nc`, `-t5`,
    /// `--interval=5`), an unknown word, a value clap would refuse or read
    /// differently (a leading `-` where the option allows none, a number that
    /// does not parse), help, usage and version.  So the result is always what
    /// clap would have produced (through nanny's `options`); the tests compare the two
    /// for every option.
    pub fn from_argv(argv: &[OsString]) -> Option<Options> {
        let mut a = Options::default();
        let mut words = argv.iter().skip(1);
        // A value that must not look like an option (clap would take it for one).
        fn plain(v: &str) -> Option<String> {
            (!v.starts_with('-')).then(|| v.to_string())
        }
        // A value that may start with `-` (allow_hyphen_values), but not the
        // lone `--` whose reading is clap's business.
        fn any(v: &str) -> Option<String> {
            (v != "--").then(|| v.to_string())
        }
        // A number (allow_negative_numbers): what clap's i64 parser accepts.
        fn num(v: &str) -> Option<i64> {
            if v.starts_with('+') {
                return None;
            }
            v.parse().ok()
        }
        while let Some(word) = words.next() {
            let word = word.to_str()?;
            let mut value = || words.next().and_then(|v| v.to_str());
            match word {
                "-t" | "--interval" => a.interval = num(value()?)?,
                "--io-timeout" => a.io_timeout = Some(num(value()?)?),
                "-I" | "--ipvsadm" => a.ipvsadm = plain(value()?)?,
                "-U" | "--loadcmd" => a.loadcmd = Some(plain(value()?)?),
                "-M" | "--method" => a.method = any(value()?)?,
                "-n" | "--nodaemon" => a.nodaemon = true,
                "-c" | "--nofork" => a.nofork = true,
                "-p" | "--port" => a.port = num(value()?)?,
                "-r" | "--rport" => a.rport = Some(num(value()?)?),
                "-a" | "--reentrytime" => a.reentry = num(value()?)?,
                "-S" | "--scale" => a.scale = num(value()?)?,
                "-h" | "--server" => a.server = Some(plain(value()?)?),
                "-e" | "--send_program" => a.send_program = Some(any(value()?)?),
                "-s" | "--send_string" => a.send = Some(any(value()?)?),
                "-x" | "--expect_string" => a.expect = Some(any(value()?)?),
                "--regex" => a.regex = true,
                "-T" | "--suppress" => a.suppress = true,
                "-q" | "--quiesce_server" => a.quiesce = true,
                "-u" | "--udp" => a.udp = true,
                "-v" | "--verbose" => a.verbose = true,
                "-V" | "--virtaddress" => a.vip = Some(plain(value()?)?),
                "-f" | "--fwmark" => a.fwmark = num(value()?)?,
                "-w" | "--weight" => a.weight = num(value()?)?,
                "--test-start" => a.norun = true,
                "--norun" => a.norun = true,
                "--fos" => a.fos = true,
                "--lvs" => a.lvs = true,
                "--lvs-table" => a.lvs_table = true,
                "--check" => a.ext.check = Some(plain(value()?)?),
                "--http-path" => a.ext.http_path = Some(plain(value()?)?),
                "--http-status" => a.ext.http_status = Some(plain(value()?)?),
                "--http-digest" => a.ext.http_digest = Some(plain(value()?)?),
                "--http-virtualhost" => a.ext.http_vhost = Some(plain(value()?)?),
                "--tls-sni" => a.ext.tls_sni = Some(plain(value()?)?),
                "--tls-verify" => a.ext.tls_verify = true,
                "--tls-ca" => a.ext.tls_ca = Some(plain(value()?)?),
                "--smtp-helo" => a.ext.smtp_helo = Some(plain(value()?)?),
                "--dns-name" => a.ext.dns_name = Some(plain(value()?)?),
                "--dns-type" => a.ext.dns_type = Some(plain(value()?)?),
                "--misc-program" => a.ext.misc_program = Some(any(value()?)?),
                "--misc-dynamic" => a.ext.misc_dynamic = true,
                "--retry" => a.ext.retry = Some(num(value()?)?),
                "--retry-delay" => a.ext.retry_delay = Some(plain(value()?)?),
                "--rise" => a.ext.rise = Some(num(value()?)?),
                "--warmup" => a.ext.warmup = Some(plain(value()?)?),
                _ => return None,
            }
        }
        Some(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExtOptions;
    use proptest::prelude::*;

    /// A value for an option whose value must not look like an option.
    fn plain() -> impl Strategy<Value = String> {
        "([^-\\x00][^\\x00]{0,12})?"
    }

    /// A value for an option that takes anything but `--`.
    fn any_value() -> impl Strategy<Value = String> {
        "[^\\x00]{0,12}".prop_filter("`--` is clap's", |s| s != "--")
    }

    prop_compose! {
        fn ext()(
            strings in proptest::collection::vec(proptest::option::of(plain()), 12),
            misc in proptest::option::of(any_value()),
            retry in proptest::option::of(any::<i64>()),
            rise in proptest::option::of(any::<i64>()),
            flags in any::<(bool, bool)>(),
        ) -> ExtOptions {
            let mut s = strings.into_iter();
            let mut next = || s.next().flatten();
            ExtOptions {
                check: next(),
                http_path: next(),
                http_status: next(),
                http_digest: next(),
                http_vhost: next(),
                tls_sni: next(),
                tls_verify: flags.0,
                tls_ca: next(),
                smtp_helo: next(),
                dns_name: next(),
                dns_type: next(),
                misc_program: misc,
                misc_dynamic: flags.1,
                retry,
                retry_delay: next(),
                rise,
                warmup: next(),
            }
        }
    }

    prop_compose! {
        fn options()(
            nums in any::<(i64, i64, i64, i64, i64, i64)>(),
            opt_nums in any::<(Option<i64>, Option<i64>)>(),
            plains in (plain(), proptest::option::of(plain()), proptest::option::of(plain()), proptest::option::of(plain())),
            anys in (any_value(), proptest::option::of(any_value()), proptest::option::of(any_value()), proptest::option::of(any_value())),
            flags in proptest::collection::vec(any::<bool>(), 11),
            ext in ext(),
        ) -> Options {
            Options {
                interval: nums.0,
                io_timeout: opt_nums.0,
                ipvsadm: plains.0,
                loadcmd: plains.1,
                method: anys.0,
                nodaemon: flags[0],
                nofork: flags[1],
                port: nums.1,
                rport: opt_nums.1,
                reentry: nums.2,
                scale: nums.3,
                server: plains.2,
                send_program: anys.1,
                send: anys.2,
                expect: anys.3,
                regex: flags[2],
                suppress: flags[3],
                quiesce: flags[4],
                udp: flags[5],
                verbose: flags[6],
                vip: plains.3,
                fwmark: nums.4,
                weight: nums.5,
                norun: flags[7],
                fos: flags[8],
                lvs: flags[9],
                lvs_table: flags[10],
                ext,
            }
        }
    }

    proptest! {
        #[test]
        fn to_argv_and_from_argv_are_inverse(o in options()) {
            let argv: Vec<OsString> = o.to_argv("nanny").into_iter().map(OsString::from).collect();
            prop_assert_eq!(Options::from_argv(&argv), Some(o));
        }
    }

    #[test]
    fn piranhas_argv_shape() {
        let o = Options {
            nofork: true,
            server: Some("10.0.0.1".into()),
            port: 80,
            rport: Some(8080),
            send: Some("GET / HTTP/1.0\\r\\n\\r\\n".into()),
            expect: Some("HTTP".into()),
            reentry: 15,
            ipvsadm: "/usr/sbin/ipvsadm".into(),
            interval: 6,
            weight: 1,
            vip: Some("192.168.1.100".into()),
            lvs: true,
            ..Options::default()
        };
        assert_eq!(
            o.to_argv("/usr/sbin/nanny").join(" "),
            "/usr/sbin/nanny -c -h 10.0.0.1 -p 80 -r 8080 -s GET / HTTP/1.0\\r\\n\\r\\n -x HTTP -a 15 -I /usr/sbin/ipvsadm -t 6 -w 1 -V 192.168.1.100 -M -m --lvs"
        );
    }
}
