//! The smtp check: 220, HELO, 250, QUIT.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use piranha_runtime::spawn::Interrupt;

use super::io::*;

/// A complete SMTP reply in `buf`: its code, once the last line (`NNN `
/// or a bare `NNN`, then CRLF) has arrived. `Ok(None)`: not complete yet.
/// `Err`: not an SMTP reply.
pub fn smtp_reply(buf: &[u8]) -> Result<Option<u16>, Garbled> {
    let mut rest = buf;
    loop {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() >= 3 && !rest[..3].iter().all(u8::is_ascii_digit) {
                return Err(Garbled::NotSmtp);
            }
            return Ok(None);
        };
        let line = &rest[..nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
            return Err(Garbled::SmtpLine(reply_line(line)));
        }
        let code: u16 = std::str::from_utf8(&line[..3])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or(Garbled::NotSmtp)?;
        match line.get(3) {
            Some(b'-') => rest = &rest[nl + 1..],
            None | Some(b' ') => return Ok(Some(code)),
            Some(_) => return Err(Garbled::SmtpSeparator),
        }
    }
}

fn smtp_read(s: &mut Bounded<'_>, what: &str) -> Res<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(code) = smtp_reply(&buf).map_err(|e| Fail::Down(format!("{what}: {e}")))? {
            return Ok(code);
        }
        if buf.len() >= MAX_HEADER {
            return down(format!("{what}: reply longer than {MAX_HEADER} bytes"));
        }
        match read_some(s, &mut chunk)? {
            0 => return down(format!("{what}: connection closed")),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The smtp check: banner 220, `HELO name` answered 250, `QUIT`.
pub fn smtp_check(
    addr: SocketAddr,
    helo: &str,
    timeout: Duration,
    intr: Option<&Interrupt<'_>>,
) -> Res<()> {
    let deadline = Instant::now() + timeout;
    let mut s = connect_tcp(addr, deadline, intr)?;
    let code = smtp_read(&mut s, "banner")?;
    if code != 220 {
        return down(format!("banner status {code}, not 220"));
    }
    s.write_all(format!("HELO {helo}\r\n").as_bytes())
        .map_err(|e| io_fail("send HELO", &e))?;
    let code = smtp_read(&mut s, "HELO reply")?;
    if code != 250 {
        return down(format!("HELO status {code}, not 250"));
    }
    let _ = s.write_all(b"QUIT\r\n");
    Ok(())
}
