//! Page latency and memory of piranha-gui (`make bench`).
//!
//! Starts the given piranha-gui binary on a copy of etc/nat-web-farm.cf,
//! logs in, then times N sequential keep-alive requests per panel (GET) and
//! N ACCEPTs of GLOBAL SETTINGS that each really rewrite lvs.cf, and reads
//! the server's RSS and PSS from /proc/PID/smaps_rollup before and after.
//!
//! Usage: gui_bench [PIRANHA-GUI-BINARY] [N]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

type B = Full<bytes::Bytes>;

fn mem(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (get("Rss:"), get("Pss:"))
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("target/release/piranha-gui"),
    );
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let cf = dir.path().join("lvs.cf");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"),
        &cf,
    )
    .unwrap();
    let pw = dir.path().join("piranha.passwd");
    piranha_auth::set_password(&pw, "piranha", "bench").unwrap();
    let me = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .unwrap()
        .name;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&bin)
        .args([
            "-n",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--user",
            &me,
            "--ipvsadm",
            "/bin/true",
        ])
        .arg("-c")
        .arg(&cf)
        .arg("--passwd-file")
        .arg(&pw)
        .arg("--pidfile")
        .arg(dir.path().join("pid"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start piranha-gui");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id();
    let idle = mem(pid);
    let client: Client<_, B> = Client::builder(TokioExecutor::new()).build_http();
    let base = format!("http://127.0.0.1:{port}");
    let send = |method: &str, path: &str, cookie: &str, body: String| {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(bytes::Bytes::from(body)))
            .unwrap();
        let c = client.clone();
        async move {
            let r = c.request(req).await.expect("request");
            let status = r.status();
            let set = r
                .headers()
                .get("set-cookie")
                .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
            let body = r.into_body().collect().await.unwrap().to_bytes();
            (status, set, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let csrf = |b: &str| {
        let i = b.find("name=\"csrf\" value=\"").unwrap() + 19;
        b[i..i + 64].to_string()
    };
    let (_, anon, page) = send("GET", "/login", "", String::new()).await;
    let anon = anon.unwrap();
    let tok = csrf(&page);
    let (st, cookie, _) = send(
        "POST",
        "/login",
        &anon,
        format!("csrf={tok}&username=piranha&password=bench"),
    )
    .await;
    assert_eq!(st.as_u16(), 303);
    let cookie = cookie.unwrap();
    let (_, _, page) = send("GET", "/global_settings", &cookie, String::new()).await;
    let tok = csrf(&page);

    println!("piranha-gui page latency, {n} sequential keep-alive requests each (ms)");
    println!("{:<44} {:>8} {:>8}", "request", "p50", "p99");
    let mut summary = Vec::new();
    let routes = [
        "/login",
        "/control",
        "/global_settings",
        "/redundancy",
        "/virtual_main",
        "/virtual_edit_virt?vs=www",
        "/virtual_edit_real?vs=www",
        "/virtual_edit_real_server?vs=www&rs=web1",
        "/virtual_edit_services?vs=www",
    ];
    for r in routes {
        let ck = if r == "/login" { "" } else { cookie.as_str() };
        for _ in 0..20 {
            send("GET", r, ck, String::new()).await;
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let (st, _, _) = send("GET", r, ck, String::new()).await;
            v.push(t.elapsed());
            assert_eq!(st.as_u16(), 200, "{r}");
        }
        let p50 = pct(&mut v, 0.5);
        println!(
            "{:<44} {:>8.3} {:>8.3}",
            format!("GET {r}"),
            p50,
            pct(&mut v, 0.99)
        );
        if r == "/virtual_main" {
            summary.push(format!(
                "SUMMARY|piranha-gui|GET VIRTUAL SERVERS panel (p50)|{p50:.3} ms|-|-|-"
            ));
        }
    }
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let body = format!("csrf={tok}&action=accept&tcp_timeout={}", 900 + i % 2);
        let t = Instant::now();
        let (st, _, _) = send("POST", "/global_settings", &cookie, body).await;
        v.push(t.elapsed());
        assert_eq!(st.as_u16(), 303);
    }
    let p50 = pct(&mut v, 0.5);
    println!(
        "{:<44} {:>8.3} {:>8.3}",
        "POST /global_settings (writes)",
        p50,
        pct(&mut v, 0.99)
    );
    summary.push(format!(
        "SUMMARY|piranha-gui|ACCEPT that rewrites lvs.cf (p50)|{p50:.3} ms|-|-|-"
    ));
    let mut v = Vec::new();
    for _ in 0..20 {
        let (_, anon, page) = send("GET", "/login", "", String::new()).await;
        let body = format!("csrf={}&username=piranha&password=bench", csrf(&page));
        let t = Instant::now();
        let (st, _, _) = send("POST", "/login", &anon.unwrap(), body).await;
        v.push(t.elapsed());
        assert_eq!(st.as_u16(), 303);
    }
    println!(
        "{:<44} {:>8.3} {:>8.3}",
        "POST /login (bcrypt cost 10), 20 logins",
        pct(&mut v, 0.5),
        pct(&mut v, 0.99)
    );
    let loaded = mem(pid);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    println!(
        "server memory: idle RSS {} KiB PSS {} KiB; after the run RSS {} KiB PSS {} KiB; {}",
        idle.0,
        idle.1,
        loaded.0,
        loaded.1,
        hwm.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    summary.push(format!(
        "SUMMARY|piranha-gui|server memory after the run, PSS|{:.1} MiB|-|-|-",
        loaded.1 as f64 / 1024.0
    ));
    for l in summary {
        println!("{l}");
    }
    let _ = child.kill();
    let _ = child.wait();
}
