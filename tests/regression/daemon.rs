//! Regressions in the daemon: processes, logs, RPC methods, the event loop.

use std::time::{Duration, Instant};

use super::common::{call_body, Daemon, RPC_SERVER};

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn int(n: &str) -> String {
    format!("<value><int>{n}</int></value>")
}

fn string(s: &str) -> String {
    format!("<value><string>{s}</string></value>")
}

/// `tailProcessStdoutLog('x', 0, 99999999999)` allocated the requested
/// length up front: "memory allocation of … bytes failed", abort, every
/// program orphaned. The same for the other log reads, for lengths sent as
/// `<int>`, `<i8>` or a string, and for offsets at the ends of 64 bits.
#[test]
fn huge_log_read_lengths_aborted_the_daemon() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:talker]\ncommand=sh -c 'echo hello-from-talker; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile={{dir}}/talker.log\n"
    ));
    d.wait_for("success: talker", SECS(10));
    common_wait_file(&d.path("talker.log"), "hello-from-talker");
    let huge = ["99999999999", "9223372036854775807", "-9223372036854775808"];
    for n in huge {
        for length in [int(n), format!("<value><i8>{n}</i8></value>"), string(n)] {
            for method in [
                "supervisor.tailProcessStdoutLog",
                "supervisor.tailProcessLog",
                "supervisor.tailProcessStderrLog",
                "supervisor.readProcessStdoutLog",
                "supervisor.readProcessLog",
                "supervisor.readProcessStderrLog",
            ] {
                for offset in [int("0"), int(n)] {
                    d.rpc_values(method, &[&string("talker"), &offset, &length]);
                }
            }
            d.rpc_values("supervisor.readLog", &[&int("0"), &length]);
            d.rpc_values("supervisor.readLog", &[&length, &int("0")]);
        }
    }
    // An integer literal beyond 64 bits saturates, as Python's int() would
    // have it huge: the answer is still the whole (small) log.
    let (status, answer) = d.post_rpc(
        "<?xml version='1.0'?><methodCall><methodName>supervisor.tailProcessLog</methodName>\
         <params><param><value><string>talker</string></value></param>\
         <param><value><int>0</int></value></param>\
         <param><value><int>999999999999999999999999999</int></value></param></params></methodCall>",
    );
    assert_eq!(status, 200);
    assert!(answer.contains("hello-from-talker"), "{answer}");
    let tail = d.rpc_values(
        "supervisor.tailProcessStdoutLog",
        &[&string("talker"), &int("0"), &int("99999999999")],
    );
    assert!(tail.contains("hello-from-talker"), "{tail}");
    assert!(d.rpc("supervisor.getState", &[]).contains("RUNNING"));
    assert!(d.child.try_wait().unwrap().is_none(), "supervisord died");
    assert!(d.shutdown().success());
}

fn common_wait_file(path: &std::path::Path, needle: &str) {
    super::common::wait_until(needle, SECS(10), || {
        std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
    });
}

/// `removeProcessGroup` racing a `stopProcess(wait=true)` panicked the
/// event loop: the stop's waiter looked its process up in a slot the
/// removal had just emptied (exit 101, every program orphaned). The window
/// is one pass of the loop: the program's exit and the removal must be
/// handled together, before waiting calls are settled. Freezing
/// supervisord while the program dies and the removal is sent puts both in
/// one pass; repeated a bounded number of times.
#[test]
fn remove_group_racing_a_waiting_stop_panicked_the_loop() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:p]\ncommand=sh -c 'trap \"\" TERM; echo ready; while :; do sleep 1; done'\n\
         startsecs=0\nautostart=false\nstopwaitsecs=100\nstdout_logfile={{dir}}/p.log\n"
    ));
    let daemon = Pid::from_raw(d.pid());
    for round in 0..20 {
        d.rpc("supervisor.addProcessGroup", &["p"]);
        assert!(d
            .rpc("supervisor.startProcess", &["p", "1"])
            .contains("<boolean>1</boolean>"));
        // SIGTERM is ignored only once the trap is set.
        super::common::wait_until("the program's trap", SECS(10), || {
            std::fs::read_to_string(d.path("p.log"))
                .is_ok_and(|log| log.matches("ready").count() > round)
        });
        let info = d.rpc("supervisor.getProcessInfo", &["p"]);
        let pid: i32 = info
            .split("<name>pid</name>\n<value><int>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no pid in {info}"));
        let d = &d;
        std::thread::scope(|scope| {
            // The stop waits: the program ignores SIGTERM.
            let stop = call_body("supervisor.stopProcess", &[&string("p"), &int("1")]);
            let waiting = scope.spawn(move || d.post_rpc(&stop));
            let deadline = Instant::now() + SECS(10);
            while !d
                .rpc("supervisor.getProcessInfo", &["p"])
                .contains("STOPPING")
            {
                assert!(
                    Instant::now() < deadline,
                    "not STOPPING; log:\n{}",
                    d.log_text()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            kill(daemon, Signal::SIGSTOP).unwrap();
            kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
            let remove = call_body("supervisor.removeProcessGroup", &[&string("p")]);
            let removing = scope.spawn(move || d.post_rpc(&remove));
            // Give the removal time to reach the (frozen) socket.
            std::thread::sleep(Duration::from_millis(20));
            kill(daemon, Signal::SIGCONT).unwrap();
            let _ = removing.join();
            let (status, stopped) = waiting.join().unwrap();
            assert!(running(d.pid()), "supervisord died in round {round}");
            assert_eq!(status, 200, "{stopped}");
            assert!(stopped.contains("<boolean>1</boolean>"), "{stopped}");
        });
        assert!(running(d.pid()), "supervisord died in round {round}");
    }
    assert!(d.shutdown().success());
}

/// Whether `pid` (a child of ours, so a zombie until reaped) still runs.
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}
