//! `send_arp [-i dev] src_ip_addr src_hw_addr targ_ip_addr tar_hw_addr`:
//! send one gratuitous ARP (Piranha's send_arp), or, when `src_ip_addr` is
//! an IPv6 literal, one unsolicited neighbour advertisement
//! (`send_arp -i eth0 2001:db8::100 MAC ff02::1 333300000001`).  Exit 0
//! sent, 1 usage or any error.

use std::process::ExitCode;

use piranha_runtime::arp::{self, ArpError};
use piranha_runtime::error::Chain;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = arp::parse_command(&args).and_then(|a| arp::announce(&a));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(ArpError::Usage) => {
            eprint!("{}", arp::USAGE);
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("send_arp: {}", Chain(&e));
            ExitCode::from(1)
        }
    }
}
