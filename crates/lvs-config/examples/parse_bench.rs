//! `make bench`: parse generated lvs.cf files of 1,000, 10,000 and 100,000
//! virtual servers (two real servers each) and print time and memory.
//!
//! Time is the median of several runs; memory is the peak of heap bytes
//! allocated during one parse (a counting allocator), next to the file size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lvs_config::{parse_str, reparse_in_place, write_config, ParseOptions, Reparsed, Resolver};

struct Counting;

static CUR: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = CUR.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) };
        CUR.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

fn generate(n: usize) -> String {
    let mut s = String::with_capacity(n * 520);
    s.push_str("serial_no = 1\nprimary = 192.168.0.10\nbackup_active = 1\nbackup = 192.168.0.11\nkeepalive = 2\ndeadtime = 6\nnetwork = nat\nnat_router = 10.255.255.254 eth1:1\n");
    for i in 0..n {
        let (a, b) = ((i >> 8) & 0xff, i & 0xff);
        let _ = write!(
            s,
            "virtual vs{i} {{\n     active = 1\n     address = 172.{}.{a}.{b} eth0:1\n     port = 80\n     send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n     expect = \"HTTP\"\n     scheduler = wlc\n     protocol = tcp\n     timeout = 6\n     reentry = 15\n     server web1 {{\n         address = 10.{}.{a}.{b}\n         active = 1\n         weight = 1\n     }}\n     server web2 {{\n         address = 10.{}.{a}.{b}\n         active = 1\n         weight = 2\n     }}\n}}\n",
            16 + (i >> 16), 1 + (i >> 16), 100 + (i >> 16)
        );
    }
    s
}

fn main() {
    let opts = ParseOptions {
        file: "bench.cf".into(),
        resolver: Resolver::None,
    };
    println!("lvs.cf parse (generated: N virtual servers x 2 real servers; median of runs)");
    println!(
        "{:>8} {:>10} {:>10} {:>11} {:>12} {:>12} {:>12} {:>10}",
        "N",
        "file MiB",
        "parse ms",
        "µs/virtual",
        "peak heap MiB",
        "write ms",
        "reparse ms",
        "runs"
    );
    let sizes: Vec<usize> = std::env::var("PARSE_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let mut summary = Vec::new();
    for n in sizes {
        let text = generate(n);
        let runs = if n >= 100_000 { 3 } else { 9 };
        let mut times: Vec<Duration> = Vec::new();
        let mut peak = 0;
        let mut parsed = None;
        for _ in 0..runs {
            let base = CUR.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let t = Instant::now();
            let p = parse_str(&text, &opts).expect("generated file parses");
            times.push(t.elapsed());
            peak = PEAK.load(Ordering::Relaxed) - base;
            parsed = Some(p);
        }
        times.sort();
        let med = times[times.len() / 2];
        let mut parsed = parsed.unwrap();
        // One weight changed in the middle block: lvs's SIGHUP case.
        let mid = text.len() / 2;
        let at = mid + text[mid..].find("weight = 2").expect("a weight line");
        let edited = format!("{}weight = 9{}", &text[..at], &text[at + 10..]);
        // In place, as lvs does it: the edit, then back (both timed).
        let mut re: Vec<Duration> = (0..runs)
            .map(|i| {
                let (from, to) = if i % 2 == 0 {
                    (&text, &edited)
                } else {
                    (&edited, &text)
                };
                let t = Instant::now();
                let r = reparse_in_place(from, &mut parsed, to, &opts).expect("edited file parses");
                let e = t.elapsed();
                assert!(matches!(r, Reparsed::Virtual(..)), "one block re-parsed");
                assert_eq!(parsed.config.virtual_servers.len(), n);
                e
            })
            .collect();
        if runs % 2 == 1 {
            reparse_in_place(&edited, &mut parsed, &text, &opts).expect("parses");
        }
        re.sort();
        let cfg = parsed.config;
        assert_eq!(cfg.virtual_servers.len(), n);
        let t = Instant::now();
        let out = write_config(&cfg);
        let wt = t.elapsed();
        assert!(!out.is_empty());
        if n == 10_000 {
            let ms = med.as_secs_f64() * 1e3;
            summary.push(format!(
                "SUMMARY|lvs.cf|parse 10,000 virtual servers x 2 real servers|{ms:.0} ms|goal (Piranha publishes none)|50 ms|{:.1}",
                ms / 50.0
            ));
            summary.push(format!(
                "SUMMARY|lvs.cf|re-parse after one edited weight (10,000 virtual servers)|{:.1} ms|full parse|{ms:.0} ms|{:.2}",
                re[re.len() / 2].as_secs_f64() * 1e3,
                re[re.len() / 2].as_secs_f64() * 1e3 / ms
            ));
        }
        println!(
            "{:>8} {:>10.2} {:>10.1} {:>11.2} {:>12.1} {:>12.1} {:>12.2} {:>10}",
            n,
            text.len() as f64 / 1048576.0,
            med.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e6 / n as f64,
            peak as f64 / 1048576.0,
            wt.as_secs_f64() * 1e3,
            re[re.len() / 2].as_secs_f64() * 1e3,
            runs
        );
    }
    println!(
        "goal: 10,000 virtual servers in under 50 ms, linear growth (Piranha publishes no figure)"
    );
    println!("reparse: the same file with one weight changed, re-parsed in place from the previous parse (lvs's SIGHUP path)");
    for l in summary {
        println!("{l}");
    }
}
