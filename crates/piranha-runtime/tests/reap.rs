//! `reap_exited` waits for *any* child, so it gets a test process of its
//! own (in the unit tests it would steal other tests' children).

use std::process::Command;
use std::time::Duration;

use piranha_runtime::spawn::{reap_exited, Completion};

#[test]
fn reap_exited_collects_every_dead_child() {
    let mut pids = Vec::new();
    for code in [0, 7] {
        let child = Command::new("sh")
            .args(["-c", &format!("exit {code}")])
            .spawn()
            .unwrap();
        pids.push((child.id() as i32, code));
        // Reaped below by reap_exited, not by Child::wait.
        std::mem::forget(child);
    }
    let killed = Command::new("sleep").arg("30").spawn().unwrap();
    let kpid = killed.id() as i32;
    std::mem::forget(killed);
    // SAFETY: SIGKILL to the child just started.
    unsafe { libc::kill(kpid, libc::SIGKILL) };
    let mut got = Vec::new();
    for _ in 0..500 {
        got.extend(reap_exited());
        if got.len() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut want: Vec<(i32, Completion)> = pids
        .iter()
        .map(|(p, c)| (*p, Completion::Exited(*c)))
        .collect();
    want.push((kpid, Completion::Signalled(libc::SIGKILL)));
    want.sort_by_key(|(p, _)| *p);
    got.sort_by_key(|(p, _)| *p);
    assert_eq!(got, want);
    assert!(reap_exited().is_empty(), "ECHILD: nothing left");
}
