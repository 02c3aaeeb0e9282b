//! The load monitor: asking a real server for its load average and turning
//! it into a weight, with Piranha's formula.
//!
//! With `-U CMD` nanny runs `CMD RIP` (`CMD RIP uptime` when CMD is `rsh` or
//! `ssh`) every weight step, takes the 1-minute load average L from text such
//! as `... load average: 0.42, 0.30, 0.21` (uptime, rup) or `... load 0.42,
//! ...` (ruptime), and moves the weight:
//!
//! * L < 1: `w = last + (weight/2)·∛(1−L)`, at most `scale·weight`;
//! * L > 1: `w = last − (weight/2)·∛(L−1)`, at least `weight`;
//! * the new weight is used only if it differs from the last by at least
//!   `weight/4`.

use std::net::IpAddr;

/// The argv of the load command for `rip`, or `None` for `none`.
pub fn load_argv(cmd: &str, rip: IpAddr) -> Option<Vec<String>> {
    if cmd == "none" {
        return None;
    }
    let mut argv = vec![cmd.to_string(), rip.to_string()];
    if cmd == "rsh" || cmd == "ssh" {
        argv.push("uptime".to_string());
    }
    Some(argv)
}

/// The 1-minute load average in `output`, or `None` if there is none.
///
/// Finds the first `load`, skips an optional `average`/`averages`, an
/// optional `:` and blanks, then reads digits and dots; the number must be
/// followed by `,`, a blank or the end, and must not be empty.
pub fn parse_loadavg(output: &[u8]) -> Option<f64> {
    let at = output.windows(4).position(|w| w == b"load")?;
    let skip_blanks =
        |r: &[u8]| -> usize { r.iter().take_while(|b| **b == b' ' || **b == b'\t').count() };
    let mut rest = &output[at + 4..];
    rest = &rest[skip_blanks(rest)..];
    for word in [&b"averages"[..], b"average"] {
        if let Some(r) = rest.strip_prefix(word) {
            rest = r;
            break;
        }
    }
    rest = &rest[skip_blanks(rest)..];
    if let Some(r) = rest.strip_prefix(b":") {
        rest = r;
    }
    rest = &rest[skip_blanks(rest)..];
    let n = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    if n == 0 {
        return None;
    }
    match rest.get(n) {
        None | Some(b',') | Some(b' ') | Some(b'\t') | Some(b'\n') | Some(b'\r') => {}
        Some(_) => return None,
    }
    let text = std::str::from_utf8(&rest[..n]).ok()?;
    // Piranha read the number into a C float.
    let v: f32 = text.parse().ok()?;
    v.is_finite().then_some(v as f64)
}

/// The weight the load monitor sets, or `None` to leave `last` alone.
pub fn load_weight(last: i32, weight: i32, scale: i32, load: f64) -> Option<i32> {
    if load.is_nan() || load < 0.0 || load == 1.0 {
        return None;
    }
    let factor = weight as f64 / 2.0;
    let new = if load < 1.0 {
        let w = (last as f64 + factor * (1.0 - load).cbrt()) as i64;
        w.min(scale as i64 * weight as i64)
    } else {
        let w = (last as f64 - factor * (load - 1.0).cbrt()) as i64;
        w.max(weight as i64)
    };
    let new = new.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    let thresh = weight as f32 / 4.0;
    ((new as i64 - last as i64).abs() as f32 >= thresh).then_some(new)
}

/// The next slow-start weight after `last` (doubling, capped at `weight`).
pub fn slow_start_next(last: i32, weight: i32) -> i32 {
    last.saturating_mul(2).min(weight)
}

/// The weight a server is (re-)added with: `max(1, weight >> 5)`.
pub fn initial_weight(weight: i32) -> i32 {
    (weight >> 5).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_forms() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(load_argv("none", ip), None);
        assert_eq!(load_argv("rup", ip).unwrap(), ["rup", "10.0.0.2"]);
        assert_eq!(load_argv("ssh", ip).unwrap(), ["ssh", "10.0.0.2", "uptime"]);
        assert_eq!(
            load_argv("/usr/local/bin/l", ip).unwrap(),
            ["/usr/local/bin/l", "10.0.0.2"]
        );
    }

    #[test]
    fn parses_uptime_rup_ruptime() {
        let up = b" 10:01:02 up 3 days,  4:05,  2 users,  load average: 0.42, 0.30, 0.21\n";
        assert_eq!(parse_loadavg(up), Some(0.42f32 as f64));
        let rup = b"host1    up  3 days,  4:05,  load average: 1.50, 0.30, 0.21";
        assert_eq!(parse_loadavg(rup), Some(1.5));
        let ruptime = b"host1   up  3+04:05,     2 users,  load 2.00, 0.05, 0.01";
        assert_eq!(parse_loadavg(ruptime), Some(2.0));
        assert_eq!(parse_loadavg(b"load average: 0.5"), Some(0.5));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_loadavg(b"no such host"), None);
        assert_eq!(parse_loadavg(b"load average: , 1"), None);
        assert_eq!(parse_loadavg(b"load average: 0.5x"), None);
        assert_eq!(parse_loadavg(b"load:"), None);
        assert_eq!(parse_loadavg(b"load: 1.2.3,"), None);
    }

    #[test]
    fn formula_matches_piranha() {
        // weight 8: factor 4, threshold 2.
        assert_eq!(load_weight(8, 8, 10, 0.0), Some(12));
        assert_eq!(
            load_weight(78, 8, 10, 0.0),
            Some(80),
            "capped at scale*weight"
        );
        assert_eq!(
            load_weight(80, 8, 10, 0.0),
            None,
            "no change below threshold"
        );
        assert_eq!(load_weight(20, 8, 10, 9.0), Some(12), "20 - 4*2 = 12");
        assert_eq!(
            load_weight(9, 8, 10, 9.0),
            None,
            "floored at weight; |8-9| < 2"
        );
        assert_eq!(load_weight(8, 8, 10, 1.0), None);
        assert_eq!(load_weight(8, 8, 10, -1.0), None);
        // truncation toward zero, as C's double-to-int
        assert_eq!(load_weight(5, 5, 10, 0.0), Some(7), "5 + 2.5 = 7.5 -> 7");
        assert_eq!(
            load_weight(10, 10, 10, 0.875),
            None,
            "10 + 5*0.5 = 12.5 -> 12; 2 < 2.5"
        );
    }

    #[test]
    fn slow_start() {
        assert_eq!(initial_weight(1), 1);
        assert_eq!(initial_weight(0), 1);
        assert_eq!(initial_weight(100), 3);
        let mut w = initial_weight(100);
        let mut seq = vec![w];
        while w < 100 {
            w = slow_start_next(w, 100);
            seq.push(w);
        }
        assert_eq!(seq, [3, 6, 12, 24, 48, 96, 100]);
    }
}
