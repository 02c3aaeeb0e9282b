//! ipvsadm's commands and its command/option matrix: which options each
//! command (and each tunnel type) requires, allows or forbids.

use ipvs::model::*;

use crate::action::{fail, Diag};

/// ipvsadm's commands, in its internal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `-A`
    Add,
    /// `-E`
    Edit,
    /// `-D`
    Del,
    /// `-C`
    Flush,
    /// `-L`/`-l`
    List,
    /// `-a`
    AddDest,
    /// `-d`
    DelDest,
    /// `-e`
    EditDest,
    /// `--set`
    Timeout,
    /// `--start-daemon`
    StartDaemon,
    /// `--stop-daemon`
    StopDaemon,
    /// `-R`
    Restore,
    /// `-S`
    Save,
    /// `-Z`
    Zero,
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

pub(super) const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

pub(super) mod optc {
    pub const NUMERIC: usize = 0;
    pub const CONNECTION: usize = 1;
    pub const SERVICE: usize = 2;
    pub const SCHEDULER: usize = 3;
    pub const PERSISTENT: usize = 4;
    pub const NETMASK: usize = 5;
    pub const SERVER: usize = 6;
    pub const FORWARD: usize = 7;
    pub const WEIGHT: usize = 8;
    pub const UTHRESHOLD: usize = 9;
    pub const LTHRESHOLD: usize = 10;
    pub const MCAST: usize = 11;
    pub const TIMEOUT: usize = 12;
    pub const DAEMON: usize = 13;
    pub const STATS: usize = 14;
    pub const RATE: usize = 15;
    pub const THRESHOLDS: usize = 16;
    pub const PERSISTENTCONN: usize = 17;
    pub const NOSORT: usize = 18;
    pub const SYNCID: usize = 19;
    pub const EXACT: usize = 20;
    pub const ONEPACKET: usize = 21;
    pub const PE: usize = 22;
    pub const SCHED_FLAGS: usize = 23;
    pub const MCAST_GROUP: usize = 24;
    pub const MCAST_PORT: usize = 25;
    pub const MCAST_TTL: usize = 26;
    pub const SYNC_MAXLEN: usize = 27;
    pub const TUN_INFO: usize = 28;
    pub const TUN_TYPE: usize = 29;
    pub const TUN_PORT: usize = 30;
    pub const TUN_NOCSUM: usize = 31;
    pub const TUN_CSUM: usize = 32;
    pub const TUN_REMCSUM: usize = 33;
}

/// Legal options per command: `+` required, `x` illegal, `1` at most one of
/// the `1`s, `.` optional. Columns follow [`OPT_NAMES`].
const MATRIX: [&[u8; 34]; 14] = [
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    b"xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b".11xxxxxxxxx11.......xxxxxxx.xxxxx",
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",
    b"xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Tunnel type x option matrix (columns: tun-port, tun-nocsum, tun-csum, tun-remcsum).
const TUN_MATRIX: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUN_OPTS: [usize; 4] = [
    optc::TUN_PORT,
    optc::TUN_NOCSUM,
    optc::TUN_CSUM,
    optc::TUN_REMCSUM,
];

pub(super) fn generic_opt_check(cmd: Command, options: u64) -> Result<(), Diag> {
    let i = cmd as usize;
    let row = MATRIX[i];
    let mut last = 0;
    let mut count = 0;
    for (j, &kind) in row.iter().enumerate() {
        if options & (1u64 << j) == 0 {
            if kind == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[i]
                ));
            }
        } else {
            if kind == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j], CMD_NAMES[i]
                ));
            }
            if kind == b'1' {
                count += 1;
                if count == 1 {
                    last = j;
                    continue;
                }
                return fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    OPT_NAMES[j], OPT_NAMES[last], CMD_NAMES[i]
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn tunnel_opt_check(t: TunnelType, options: u64) -> Result<(), Diag> {
    let i = t.to_kernel() as usize;
    let row = TUN_MATRIX[i];
    let mut last = 0;
    let mut count = 0;
    for (j, &kind) in row.iter().enumerate() {
        let k = TUN_OPTS[j];
        if options & (1u64 << k) == 0 {
            if kind == b'+' {
                return fail(format!(
                    "You need to supply the '{}' option for the '{}' tunnel type",
                    OPT_NAMES[k],
                    t.name()
                ));
            }
        } else {
            if kind == b'x' {
                return fail(format!(
                    "Illegal '{}' option with the '{}' tunnel type",
                    OPT_NAMES[k],
                    t.name()
                ));
            }
            if kind == b'1' {
                count += 1;
                if count == 1 {
                    last = k;
                    continue;
                }
                return fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                    OPT_NAMES[k],
                    OPT_NAMES[last],
                    t.name()
                ));
            }
        }
    }
    Ok(())
}
