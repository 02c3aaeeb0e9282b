//! Time `ipvsadm -R` parsing and batching against the in-memory fake table
//! (no kernel): `cargo run --release -p ipvs --example restore_fake [SERVICES]`.

use std::time::Instant;

use ipvs::fake::FakeIpvs;
use ipvs::ipvsadm::{run, Io};
use ipvs::Info;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let mut rules = String::new();
    for i in 0..n {
        let vip = format!(
            "10.{}.{}.{}:80",
            i / 65536 % 256 + 100,
            i / 256 % 256,
            i % 256
        );
        rules.push_str(&format!("-A -t {vip} -s wlc\n"));
        for j in 1..=5 {
            rules.push_str(&format!(
                "-a -t {vip} -r 192.168.{j}.{}:8080 -m -w {j}\n",
                i % 250 + 1
            ));
        }
    }
    let mut fake = FakeIpvs::new();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = rules.as_bytes();
    let argv = vec!["ipvsadm".to_string(), "-R".to_string()];
    let t = Instant::now();
    let code = run(
        &mut fake,
        Info::default(),
        &argv,
        &mut Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
        },
    );
    println!(
        "restore of {} lines: {:?} (exit {code})",
        n * 6,
        t.elapsed()
    );
    let argv = vec!["ipvsadm".to_string(), "-Ln".to_string()];
    let t = Instant::now();
    let mut input: &[u8] = b"";
    run(
        &mut fake,
        Info::default(),
        &argv,
        &mut Io {
            out: &mut out,
            err: &mut err,
            input: &mut input,
        },
    );
    println!("list: {:?}, {} bytes", t.elapsed(), out.len());
}
