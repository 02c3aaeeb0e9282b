//! `send_arp [-i dev] src_ip_addr src_hw_addr targ_ip_addr tar_hw_addr`:
//! send one gratuitous ARP (Piranha's send_arp).  Exit 0 sent, 1 usage or
//! any error.

use std::process::ExitCode;

use pulse::arp::{self, ArpError};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = arp::parse_args(&args).and_then(|r| arp::send(&r));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(ArpError::Usage) => {
            eprint!("{}", arp::USAGE);
            ExitCode::from(1)
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            eprintln!("send_arp: {msg}");
            ExitCode::from(1)
        }
    }
}
