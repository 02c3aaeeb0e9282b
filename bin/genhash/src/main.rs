//! `genhash`: fetch one page over HTTP or HTTPS and print the MD5 digest of
//! its body, the value lvs.cf's `check_digest` (nanny's `--http-digest`)
//! expects. The options are keepalived's genhash's (see genhash(1)); the
//! request and the digest rule are nanny's http check's, shared code.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{ArgAction, Parser};
use nanny_core::health::{Fail, HttpGet, Tls};

/// Bytes of the body dumped in verbose mode.
const VERBOSE_BODY: usize = 64 * 1024;

#[derive(Parser, Debug)]
#[command(
    name = "genhash",
    about = "Print the MD5 digest of a web page's body (for lvs.cf check_digest)",
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Args {
    /// Remote server address.
    #[arg(short = 's', long = "server")]
    server: String,
    /// Remote server port.
    #[arg(short = 'p', long = "port")]
    port: u16,
    /// URL path to fetch.
    #[arg(short = 'u', long = "url")]
    url: String,
    /// Use SSL (TLS); the certificate is not verified.
    #[arg(short = 'S', long = "use-ssl")]
    ssl: bool,
    /// Send the virtual host (-V) as TLS SNI.
    #[arg(short = 'I', long = "use-sni")]
    sni: bool,
    /// Host header to send.
    #[arg(short = 'V', long = "use-virtualhost")]
    vhost: Option<String>,
    /// HTTP protocol: only 1.0 is sent (1.0c and 1.1 are accepted and mean 1.0).
    #[arg(short = 'P', long = "protocol")]
    protocol: Option<String>,
    /// Timeout in seconds (default 5).
    #[arg(short = 't', long = "timeout", default_value_t = 5)]
    timeout: u64,
    /// Verbose: dump the headers and the body.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Show this help.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
}

/// `server` (an address of either family, or a name: its IPv4 address
/// first, else its IPv6 one) at `port`.
fn resolve(server: &str, port: u16) -> Option<SocketAddr> {
    let server = server
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(server);
    (server, port)
        .to_socket_addrs()
        .ok()?
        .min_by_key(SocketAddr::is_ipv6)
}

fn hexdump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, row) in data.chunks(16).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!("{:04}  {:<48}  {ascii}\n", i * 16, hex.join(" ")));
    }
    out
}

fn main() -> ExitCode {
    // The check's own log lines (why a fetch failed, at debug) go to stderr
    // when RUST_LOG asks for them; nothing is printed by default.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .format_timestamp(None)
        .init();
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.kind() == clap::error::ErrorKind::DisplayHelp {
                0
            } else {
                1
            });
        }
    };
    if let Some(p) = &args.protocol {
        if !matches!(p.as_str(), "1.0" | "1.0c" | "1.0C" | "1.1") {
            eprintln!("genhash: bad protocol -- {p} (expected 1.0, 1.0c or 1.1)");
            return ExitCode::from(1);
        }
    }
    let Some(addr) = resolve(&args.server, args.port) else {
        eprintln!("genhash: cannot resolve server {}", args.server);
        return ExitCode::from(1);
    };
    if args.url.is_empty() || args.url.bytes().any(|b| b <= b' ') {
        eprintln!("genhash: bad url -- {}", args.url);
        return ExitCode::from(1);
    }
    let get = HttpGet {
        addr,
        path: args.url.clone(),
        vhost: args.vhost.clone(),
        tls: args.ssl.then(|| Tls {
            sni: if args.sni { args.vhost.clone() } else { None },
            verify: false,
            ca: None,
        }),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let started = Instant::now();
    let keep = if args.verbose { VERBOSE_BODY } else { 0 };
    match get.run(None, keep) {
        Ok(r) => {
            if args.verbose {
                println!(
                    "-----------------------[    HTTP Header Buffer    ]-----------------------"
                );
                print!("{}", hexdump(&r.head));
                println!(
                    "-----------------------[ HTTP Header Ascii Buffer ]-----------------------"
                );
                println!("{}", String::from_utf8_lossy(&r.head));
                println!(
                    "-----------------------[        HTML Buffer        ]-----------------------"
                );
                print!("{}", hexdump(&r.body_start));
                if r.body_len > r.body_start.len() as u64 {
                    println!("... ({} bytes in all)", r.body_len);
                }
                if let Some(cl) = r.content_length {
                    if cl != r.body_len {
                        println!("Content-Length {cl} but {} body bytes received", r.body_len);
                    }
                }
                println!();
                println!(
                    "-----------------------[ HTML hash final resulting ]-----------------------"
                );
            }
            println!("{}", r.digest);
            if args.verbose {
                println!();
                println!(
                    "Global response time for [{}] = {} usecs",
                    args.url,
                    started.elapsed().as_micros()
                );
            }
            ExitCode::SUCCESS
        }
        Err(Fail::NoData) => {
            eprintln!("no data received from remote webserver");
            ExitCode::from(1)
        }
        Err(Fail::Down(e)) => {
            eprintln!("genhash: {e}");
            ExitCode::from(1)
        }
        Err(Fail::Interrupted) => ExitCode::from(1),
    }
}
