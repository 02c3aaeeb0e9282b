//! `ipvsadm`: administer the Linux IPVS table (drop-in for ipvsadm 1.31).
//! Everything lives in [`ipvsadm_cli`]; this file only hands over argv and
//! turns the result into the exit code.

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(ipvsadm_cli::main(argv));
}
