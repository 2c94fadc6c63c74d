//! supervisord as PID 1 of a pid namespace (`unshare --pid --fork
//! --mount-proc`), as in a container: orphans are reaped, SIGTERM ends
//! everything and the exit status is 0.

mod common;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

/// `(pid, ppid, state, command name)` of every process, from /proc.
fn processes() -> Vec<(i32, i32, char, String)> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = rest.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.push((pid, ppid, state, comm));
    }
    out
}

fn wait_until(what: &str, limit: Duration, test: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !test() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn as_pid1_orphans_leave_no_zombies_and_sigterm_exits_zero() {
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "this test needs `unshare --pid --fork --mount-proc` (root on Linux)"
    );

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "{}[program:orphaner]\n\
             command=sh -c 'for i in $(seq 1000); do (sleep 0.5 &); done; touch {d}/done; exec sleep 1000'\n\
             startsecs=0\n",
            common::header(dir.path(), "info")
        ),
    )
    .unwrap();
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", BIN, "-n", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let unshare_pid = unshare.id() as i32;

    // supervisord is unshare's only child; inside the namespace it is PID 1.
    let mut supervisord = 0;
    wait_until("supervisord to start", Duration::from_secs(10), || {
        processes()
            .iter()
            .any(|&(_, ppid, _, ref comm)| ppid == unshare_pid && comm == "supervisord")
    });
    for (pid, ppid, _, comm) in processes() {
        if ppid == unshare_pid && comm == "supervisord" {
            supervisord = pid;
        }
    }
    let log = dir.path().join("supervisord.log");

    wait_until("the orphans to be created", Duration::from_secs(30), || {
        dir.path().join("done").exists()
    });
    // Every orphaned `sleep 0.5` is re-parented to supervisord. Once they
    // have exited, its only child must be the program itself (which exec'd
    // into `sleep 1000`): no orphan left, and no zombie.
    let children = || -> Vec<(i32, i32, char, String)> {
        processes()
            .into_iter()
            .filter(|&(_, ppid, _, _)| ppid == supervisord)
            .collect()
    };
    wait_until("every orphan to be reaped", Duration::from_secs(15), || {
        children().len() == 1
    });
    let left = children();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0].2, 'Z', "{left:?}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisord),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = unshare.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "supervisord did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "log:\n{text}");
    assert!(text.contains("stopped: orphaner"), "{text}");
}
