//! An argv scanner that behaves like popt 1.19 with ipvsadm's option table.
//!
//! ipvsadm's messages and exit codes depend on popt's exact behaviour: the
//! first option must be a command, short options bundle (`-Ln`, `-p360`,
//! `-s=rr`), `--opt=value` and `--opt value` both work, a word that is not an
//! option is set aside for later (`--set`'s three timeouts), `--` ends option
//! processing, `-p` takes the next word only if it does not start with `-`,
//! and the "bad option" of an error is the last argv word consumed.

/// Options ipvsadm declares.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    Optional,
}

struct Def {
    long: &'static str,
    short: u8,
    arg: Arg,
    opt: Opt,
}

const fn d(long: &'static str, short: u8, arg: Arg, opt: Opt) -> Def {
    Def {
        long,
        short,
        arg,
        opt,
    }
}

/// ipvsadm's table, in its order (lookups take the first match).
const TABLE: &[Def] = &[
    d("add-service", b'A', Arg::None, Opt::AddService),
    d("edit-service", b'E', Arg::None, Opt::EditService),
    d("delete-service", b'D', Arg::None, Opt::DeleteService),
    d("clear", b'C', Arg::None, Opt::Clear),
    d("list", b'L', Arg::None, Opt::List),
    d("list", b'l', Arg::None, Opt::List),
    d("zero", b'Z', Arg::None, Opt::Zero),
    d("add-server", b'a', Arg::None, Opt::AddServer),
    d("edit-server", b'e', Arg::None, Opt::EditServer),
    d("delete-server", b'd', Arg::None, Opt::DeleteServer),
    d("set", 0, Arg::None, Opt::Set),
    d("help", b'h', Arg::None, Opt::Help),
    d("version", b'v', Arg::None, Opt::Version),
    d("restore", b'R', Arg::None, Opt::Restore),
    d("save", b'S', Arg::None, Opt::Save),
    d("start-daemon", 0, Arg::Required, Opt::StartDaemon),
    d("stop-daemon", 0, Arg::Required, Opt::StopDaemon),
    d("tcp-service", b't', Arg::Required, Opt::TcpService),
    d("udp-service", b'u', Arg::Required, Opt::UdpService),
    d("sctp-service", 0, Arg::Required, Opt::SctpService),
    d("fwmark-service", b'f', Arg::Required, Opt::FwmarkService),
    d("scheduler", b's', Arg::Required, Opt::Scheduler),
    d("persistent", b'p', Arg::Optional, Opt::Persistent),
    d("netmask", b'M', Arg::Required, Opt::Netmask),
    d("real-server", b'r', Arg::Required, Opt::RealServer),
    d("masquerading", b'm', Arg::None, Opt::Masquerading),
    d("ipip", b'i', Arg::None, Opt::Ipip),
    d("gatewaying", b'g', Arg::None, Opt::Gatewaying),
    d("weight", b'w', Arg::Required, Opt::Weight),
    d("u-threshold", b'x', Arg::Required, Opt::UThreshold),
    d("l-threshold", b'y', Arg::Required, Opt::LThreshold),
    d("numeric", b'n', Arg::None, Opt::Numeric),
    d("connection", b'c', Arg::None, Opt::Connection),
    d("mcast-interface", 0, Arg::Required, Opt::McastInterface),
    d("syncid", 0, Arg::Required, Opt::SyncId),
    d("timeout", 0, Arg::None, Opt::Timeout),
    d("daemon", 0, Arg::None, Opt::Daemon),
    d("stats", 0, Arg::None, Opt::Stats),
    d("rate", 0, Arg::None, Opt::Rate),
    d("thresholds", 0, Arg::None, Opt::Thresholds),
    d("persistent-conn", 0, Arg::None, Opt::PersistentConn),
    d("nosort", 0, Arg::None, Opt::NoSort),
    d("sort", 0, Arg::None, Opt::Sort),
    d("exact", b'X', Arg::None, Opt::Exact),
    d("ipv6", b'6', Arg::None, Opt::Ipv6),
    d("ops", b'o', Arg::None, Opt::Ops),
    d("pe", 0, Arg::Required, Opt::Pe),
    d("sched-flags", b'b', Arg::Required, Opt::SchedFlags),
    d("mcast-group", 0, Arg::Required, Opt::McastGroup),
    d("mcast-port", 0, Arg::Required, Opt::McastPort),
    d("mcast-ttl", 0, Arg::Required, Opt::McastTtl),
    d("sync-maxlen", 0, Arg::Required, Opt::SyncMaxlen),
    d("tun-info", 0, Arg::None, Opt::TunInfo),
    d("tun-type", 0, Arg::Required, Opt::TunType),
    d("tun-port", 0, Arg::Required, Opt::TunPort),
    d("tun-nocsum", 0, Arg::None, Opt::TunNoCsum),
    d("tun-csum", 0, Arg::None, Opt::TunCsum),
    d("tun-remcsum", 0, Arg::None, Opt::TunRemCsum),
];

/// popt's error kinds (with `poptStrerror` wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoptError {
    /// `POPT_ERROR_NOARG`.
    NoArg,
    /// `POPT_ERROR_BADOPT`.
    BadOpt,
    /// `POPT_ERROR_UNWANTEDARG`.
    UnwantedArg,
}

impl PoptError {
    /// `poptStrerror` text.
    pub fn message(self) -> &'static str {
        match self {
            PoptError::NoArg => "missing argument",
            PoptError::BadOpt => "unknown option",
            PoptError::UnwantedArg => "option does not take an argument",
        }
    }
}

/// The scanner state (one `poptContext`).
pub struct Popt<'a> {
    argv: &'a [String],
    next: usize,
    /// Remaining characters of a short-option bundle: (argv index, byte offset).
    next_char: Option<(usize, usize)>,
    rest_leftover: bool,
    leftovers: Vec<String>,
    next_leftover: usize,
}

impl<'a> Popt<'a> {
    /// Start scanning after `argv[0]`.
    pub fn new(argv: &'a [String]) -> Self {
        Popt {
            argv,
            next: 1,
            next_char: None,
            rest_leftover: false,
            leftovers: Vec::new(),
            next_leftover: 0,
        }
    }

    /// `poptBadOption`: the last argv word consumed.
    pub fn bad_option(&self) -> &str {
        self.argv
            .get(self.next.wrapping_sub(1))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// `poptGetArg`: the next word set aside.
    pub fn get_arg(&mut self) -> Option<String> {
        let r = self.leftovers.get(self.next_leftover).cloned();
        if r.is_some() {
            self.next_leftover += 1;
        }
        r
    }

    /// `poptGetNextOpt`: the next option and its argument; `Ok(None)` at the end.
    pub fn next_opt(&mut self) -> Result<Option<(Opt, Option<String>)>, PoptError> {
        loop {
            let mut long_arg: Option<String> = None;
            let mut def: Option<&Def> = None;
            if self.next_char.is_none() {
                if self.next >= self.argv.len() {
                    return Ok(None);
                }
                let idx = self.next;
                let word = &self.argv[idx];
                self.next += 1;
                if self.rest_leftover || !word.starts_with('-') || word == "-" {
                    self.leftovers.push(word.clone());
                    continue;
                }
                if word == "--" {
                    self.rest_leftover = true;
                    continue;
                }
                let bytes = word.as_bytes();
                if bytes[1] == b'-' {
                    let body = &word[2..];
                    let (name, arg) = match body.find('=') {
                        Some(i) => (&body[..i], Some(body[i + 1..].to_string())),
                        None => (body, None),
                    };
                    match TABLE.iter().find(|d| d.long == name) {
                        Some(d) => {
                            def = Some(d);
                            long_arg = arg;
                        }
                        None => return Err(PoptError::BadOpt),
                    }
                } else {
                    // single dash: no option is ONEDASH, so it is a bundle
                    self.next_char = Some((idx, 1));
                }
            }
            if let Some((idx, pos)) = self.next_char.take() {
                let word = self.argv[idx].as_bytes();
                let c = *word.get(pos).ok_or(PoptError::BadOpt)?;
                let d = TABLE
                    .iter()
                    .find(|d| d.short != 0 && d.short == c)
                    .ok_or(PoptError::BadOpt)?;
                def = Some(d);
                let np = pos + 1;
                if np < word.len() {
                    self.next_char = Some((idx, np));
                }
            }
            let d = def.ok_or(PoptError::BadOpt)?;
            let mut value = None;
            if d.arg == Arg::None {
                let eq_next = self
                    .next_char
                    .is_some_and(|(i, p)| self.argv[i].as_bytes().get(p) == Some(&b'='));
                if long_arg.is_some() || eq_next {
                    return Err(PoptError::UnwantedArg);
                }
            } else {
                if let Some(a) = long_arg {
                    value = Some(a);
                } else if let Some((idx, pos)) = self.next_char.take() {
                    // the rest of the bundle, without a leading '='
                    let w = self.argv[idx].as_bytes();
                    let pos = pos + usize::from(w.get(pos) == Some(&b'='));
                    value = Some(String::from_utf8_lossy(&w[pos.min(w.len())..]).into_owned());
                } else if self.next >= self.argv.len() {
                    if d.arg != Arg::Optional {
                        return Err(PoptError::NoArg);
                    }
                } else if d.arg == Arg::Optional && self.argv[self.next].starts_with('-') {
                    // popt leaves it for the next option
                } else {
                    value = Some(self.argv[self.next].clone());
                    self.next += 1;
                }
            }
            return Ok(Some((d.opt, value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scan = (
        Vec<(Opt, Option<String>)>,
        Option<(PoptError, String)>,
        Vec<String>,
    );

    fn scan(args: &[&str]) -> Scan {
        let argv: Vec<String> = std::iter::once("ipvsadm")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let mut p = Popt::new(&argv);
        let mut out = Vec::new();
        let err = loop {
            match p.next_opt() {
                Ok(Some(x)) => out.push(x),
                Ok(None) => break None,
                Err(e) => break Some((e, p.bad_option().to_string())),
            }
        };
        let mut left = Vec::new();
        while let Some(a) = p.get_arg() {
            left.push(a);
        }
        (out, err, left)
    }

    #[test]
    fn bundles_and_attached_arguments() {
        let (o, e, _) = scan(&[
            "-Ln",
            "-p360",
            "-s=rr",
            "--weight=3",
            "--tcp-service",
            "1.2.3.4:80",
        ]);
        assert!(e.is_none());
        assert_eq!(
            o,
            vec![
                (Opt::List, None),
                (Opt::Numeric, None),
                (Opt::Persistent, Some("360".into())),
                (Opt::Scheduler, Some("rr".into())),
                (Opt::Weight, Some("3".into())),
                (Opt::TcpService, Some("1.2.3.4:80".into())),
            ]
        );
    }

    #[test]
    fn optional_persistent_argument() {
        let (o, _, _) = scan(&["-A", "-p", "-t", "x"]);
        assert_eq!(o[1], (Opt::Persistent, None));
        let (o, _, _) = scan(&["-A", "-p", "100"]);
        assert_eq!(o[1], (Opt::Persistent, Some("100".into())));
        let (o, _, _) = scan(&["-A", "-p"]);
        assert_eq!(o[1], (Opt::Persistent, None));
    }

    #[test]
    fn errors_name_the_last_word() {
        let (_, e, _) = scan(&["-A", "-t"]);
        assert_eq!(e, Some((PoptError::NoArg, "-t".into())));
        let (_, e, _) = scan(&["-L", "--bogus"]);
        assert_eq!(e, Some((PoptError::BadOpt, "--bogus".into())));
        let (_, e, _) = scan(&["-Lq"]);
        assert_eq!(e, Some((PoptError::BadOpt, "-Lq".into())));
        let (_, e, _) = scan(&["-Ln="]);
        assert_eq!(e, Some((PoptError::UnwantedArg, "-Ln=".into())));
        let (_, e, _) = scan(&["--list=x"]);
        assert_eq!(e, Some((PoptError::UnwantedArg, "--list=x".into())));
    }

    #[test]
    fn leftovers_and_double_dash() {
        let (o, _, l) = scan(&["--set", "1", "2", "--", "-3"]);
        assert_eq!(o, vec![(Opt::Set, None)]);
        assert_eq!(l, vec!["1", "2", "-3"]);
    }
}
