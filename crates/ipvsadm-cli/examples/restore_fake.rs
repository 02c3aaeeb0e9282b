//! Time `ipvsadm -R` parsing and batching against the in-memory fake table
//! (no kernel): `cargo run --release -p ipvsadm-cli --example restore_fake [SERVICES]`.

use std::time::Instant;

use ipvs::fake::FakeIpvs;
use ipvs::Info;
use ipvsadm_cli::{run, Io};

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
    if std::env::var_os("NULL_BACKEND").is_some() {
        let mut null = Null;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = rules.as_bytes();
        let argv = vec!["ipvsadm".to_string(), "-R".to_string()];
        let t = Instant::now();
        let code = run(
            &mut null,
            Info::default(),
            &argv,
            &mut Io {
                out: &mut out,
                err: &mut err,
                input: &mut input,
            },
        );
        println!(
            "null restore of {} lines: {:?} (exit {code})",
            n * 6,
            t.elapsed()
        );
        return;
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

struct Null;

impl ipvs::IpvsBackend for Null {
    fn info(&mut self) -> Result<Info, ipvs::Error> {
        Ok(Info::default())
    }
    fn services(&mut self) -> Result<Vec<ipvs::Service>, ipvs::Error> {
        Ok(vec![])
    }
    fn service(&mut self, id: &ipvs::Service) -> Result<ipvs::Service, ipvs::Error> {
        Ok(id.clone())
    }
    fn dests(&mut self, _: &ipvs::Service) -> Result<Vec<ipvs::Destination>, ipvs::Error> {
        Ok(vec![])
    }
    fn timeouts(&mut self) -> Result<ipvs::Timeouts, ipvs::Error> {
        Ok(ipvs::Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<ipvs::Daemon>, ipvs::Error> {
        Ok(vec![])
    }
    fn apply(&mut self, ops: &[ipvs::Op]) -> Vec<Result<(), ipvs::Error>> {
        ops.iter().map(|_| Ok(())).collect()
    }
}
