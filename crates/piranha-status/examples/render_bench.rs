//! How long rendering the status takes for N services x 4 real servers
//! (make bench): the JSON (pretty and compact), the text and the metrics.
//!     cargo run --release -p piranha-status --example render_bench [N]

use std::time::Instant;

use piranha_status::model::{example, Director};

fn director(n: usize) -> Director {
    let mut d = example();
    let lvs = d.lvs.as_mut().unwrap();
    let proto = lvs.services[0].clone();
    lvs.services = (0..n)
        .map(|i| {
            let mut s = proto.clone();
            s.name = format!("vs{i}");
            s.key = format!("tcp 10.1.{}.{}:80", i / 250, i % 250 + 1);
            let r = s.servers[0].clone();
            s.servers = (0..4)
                .map(|j| {
                    let mut r = r.clone();
                    r.name = format!("rs{j}");
                    r.address = format!("10.0.{}.2:80", j + 2);
                    r
                })
                .collect();
            s
        })
        .collect();
    d
}

fn time<T>(what: &str, f: impl Fn() -> T, size: impl Fn(&T) -> usize) {
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        bytes = size(&out);
    }
    println!("{what:<28} {:>8.1} ms {:>10} bytes", best * 1000.0, bytes);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let d = director(n);
    println!("{n} services x 4 real servers (best of 5)");
    time("JSON, pretty", || d.to_json(), |s| s.len());
    time(
        "JSON, compact (the wire)",
        || d.to_json_compact(),
        |s| s.len(),
    );
    time("text", || piranha_status::text::render(&d), |s| s.len());
    time(
        "metrics",
        || piranha_status::metrics::render(&d),
        |s| s.len(),
    );
    let wire = d.to_json_compact();
    time(
        "JSON read back",
        || Director::from_json(&wire).unwrap(),
        |x| x.lvs.as_ref().map(|l| l.services.len()).unwrap_or(0),
    );
}
