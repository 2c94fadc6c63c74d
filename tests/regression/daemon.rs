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

/// The descriptors of a process of supervisord, by their numbers.
fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn pid_of(d: &Daemon, name: &str) -> i32 {
    let info = d.rpc("supervisor.getProcessInfo", &[name]);
    info.split("<name>pid</name>\n<value><int>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {info}"))
}

/// A program that leaves a background child holding its stdout and
/// stderr kept its pipes (and their log files) open in supervisord after
/// every exit: four more descriptors per restart, until spawning failed.
/// The program stays up on its 5th and 50th run; the descriptors counted
/// then must be the same.
#[test]
fn a_program_leaving_a_child_on_its_output_leaked_descriptors() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:leaver]\n\
         command=sh -c 'sleep 30 & n=$(($(cat {{dir}}/n 2>/dev/null || echo 0)+1)); \
         echo $n > {{dir}}/n; echo run $n; echo err $n >&2; \
         if [ $n = 5 ] || [ $n = 50 ]; then exec sleep 1000; fi'\n\
         startsecs=0\nautorestart=true\n"
    ));
    let runs = |n: &str| {
        super::common::wait_until(&format!("run {n}"), SECS(20), || {
            std::fs::read_to_string(d.path("n")).is_ok_and(|t| t.trim() == n)
                && d.rpc("supervisor.getProcessInfo", &["leaver"])
                    .contains("RUNNING")
        })
    };
    runs("5");
    let at_5 = open_fds(d.pid());
    kill(Pid::from_raw(pid_of(&d, "leaver")), Signal::SIGKILL).unwrap();
    runs("50");
    // A client connection of the wait above may not be closed yet on the
    // server's side: wait for the count to come back, with a deadline.
    let settled = std::time::Instant::now() + SECS(5);
    let mut at_50 = open_fds(d.pid());
    while at_50 > at_5 && std::time::Instant::now() < settled {
        std::thread::sleep(Duration::from_millis(20));
        at_50 = open_fds(d.pid());
    }
    // Nothing is lost either: every run's line reaches the log (the last
    // one may still be on its way while the program sleeps).
    let tail = || {
        d.rpc(
            "supervisor.tailProcessStdoutLog",
            &["leaver", "0", "100000"],
        )
    };
    super::common::wait_until("run 50 in the log", SECS(10), || {
        tail().contains("run 50\n")
    });
    let tail = tail();
    for n in 1..=50 {
        assert!(
            tail.contains(&format!("run {n}\n")),
            "run {n} missing: {tail}"
        );
    }
    assert!(
        at_50 <= at_5,
        "supervisord held {at_5} descriptors on the 5th run, {at_50} on the 50th"
    );
    // The sleeps the runs left behind are ours to end (supervisord reaps them).
    let program = pid_of(&d, "leaver");
    for child in super::common::children_of(d.pid())
        .into_iter()
        .filter(|&c| c != program)
    {
        let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
    }
    assert!(d.shutdown().success());
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `sendProcessStdin` to a program that never reads its stdin queued
/// everything in supervisord: 150 calls of 3 MB grew it to 462 MB. The
/// backlog is bounded now, and a full one is a clear fault.
#[test]
fn stdin_for_a_program_that_never_reads_grew_without_bound() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:deaf]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:cat]\ncommand=cat\nstartsecs=0\nstdout_logfile={{dir}}/cat.log\n"
    ));
    d.wait_for("success: cat", SECS(10));
    let chunk = "x".repeat(1024 * 1024);
    let mut refused = 0;
    for _ in 0..30 {
        let answer = d.rpc("supervisor.sendProcessStdin", &["deaf", &chunk]);
        if answer.contains("<name>faultCode</name>") {
            assert!(answer.contains("<int>30</int>"), "{answer}");
            assert!(answer.contains("FAILED: stdin of deaf is full"), "{answer}");
            refused += 1;
        }
    }
    // The pipe takes 64 KiB, the backlog 4 MiB: about 4 of 30 fit.
    assert!(refused >= 25, "only {refused} of 30 refused");
    let rss = rss_kib(d.pid());
    assert!(rss < 64 * 1024, "supervisord's RSS is {rss} KiB");
    // A program that reads gets every byte, whatever was refused elsewhere.
    for _ in 0..10 {
        let answer = d.rpc("supervisor.sendProcessStdin", &["cat", &chunk]);
        assert!(answer.contains("<boolean>1</boolean>"), "{answer}");
    }
    super::common::wait_until("cat's 10 MiB", SECS(20), || {
        std::fs::metadata(d.path("cat.log")).is_ok_and(|m| m.len() == 10 * 1024 * 1024)
    });
    assert!(d.shutdown().success());
}

/// A log file that could not be opened always made the spawn error say
/// "EIO", whatever the reason (the error lost its errno on the way):
/// Supervisor names the errno, and "too many open files to spawn 'x'" when
/// descriptors run out.
#[test]
fn a_log_file_that_cannot_open_always_said_eio() {
    let mut d = Daemon::start(
        "[program:dirlog]\ncommand=sleep 1000\nstartretries=0\nstdout_logfile={dir}\n",
    );
    let log = d.wait_for("gave up: dirlog", SECS(10));
    assert!(
        log.contains("spawnerr: unknown error making dispatchers for 'dirlog': EISDIR"),
        "{log}"
    );
    assert!(d.shutdown().success());
}

/// A test that ended without `shutdown` SIGKILLed its supervisord on the way
/// out, and the programs lived on (one full test run left fourteen `sleep
/// 1000`s and two HTTP servers behind, reparented to init).
#[test]
fn a_test_daemon_dropped_without_shutdown_left_its_programs_running() {
    let d = Daemon::start("[program:left]\ncommand=sleep 1000\nstartsecs=0\n");
    let log = d.wait_for("success: left entered RUNNING", SECS(10));
    let pid: i32 = super::common::lines_with(&log, "spawned: 'left' with pid")[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    drop(d);
    // Gone, or a zombie for init to reap.
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(')')
                .next()
                .unwrap()
                .trim_start()
                .starts_with('Z')
        })
    };
    let deadline = Instant::now() + SECS(10);
    while !gone() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(), "program {pid} outlived its supervisord");
}

/// AUTO log files are created as their programs spawn, and the others with
/// the first published status: a program that does not start must still
/// have its file, named in its process info, from the first answer on.
#[test]
fn auto_logs_of_programs_not_started_exist_from_the_first_answer() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:idle]\ncommand=sleep 1000\nautostart=false\n\
         [program:busy]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    for name in ["idle", "busy"] {
        let info = d.rpc("supervisor.getProcessInfo", &[name]);
        for channel in ["stdout", "stderr"] {
            let member = format!("<name>{channel}_logfile</name>");
            let after = info
                .find(&member)
                .unwrap_or_else(|| panic!("no {channel} log for {name}: {info}"));
            let start = after + info[after..].find("<string>").unwrap() + "<string>".len();
            let path = &info[start..start + info[start..].find('<').unwrap()];
            assert!(
                path.contains(&format!("{name}-{channel}---")),
                "{name}: {path}"
            );
            assert!(std::path::Path::new(path).is_file(), "{name}: {path}");
        }
    }
    assert!(d.shutdown().success());
}
