//! The container lifecycle keys, end to end: essential programs and
//! supervisord's exit status, exit_when_done, dependencies, health checks,
//! restart policies and the shutdown budget. Every wait is a condition with
//! a deadline.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{lines_with, stamp_ms, wait_until, Daemon, RPC_SERVER};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// The status line of `name` in our supervisorctl's `status`.
fn status_of(d: &Daemon, name: &str) -> String {
    let (out, _) = d.ctl(&["status", name]);
    out.trim_end().to_string()
}

fn wait_status(d: &Daemon, name: &str, what: &str) -> String {
    let deadline = Instant::now() + SECS(15);
    loop {
        let line = status_of(d, name);
        if line.contains(what) {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never showed {what:?}: {line}\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- essential programs and supervisord's exit status ----

#[test]
fn an_essential_programs_exit_code_becomes_supervisords() {
    let mut d = Daemon::start(
        "[program:side]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:main]\ncommand=sh -c 'sleep 0.3; exit 3'\nstartsecs=0\n\
         essential=true\nautorestart=false\n",
    );
    let status = d.wait_exit(SECS(15));
    let log = d.log_text();
    assert_eq!(status.code(), Some(3), "{log}");
    assert!(
        log.contains("essential program main ended (exit status 3)"),
        "{log}"
    );
    assert!(log.contains("stopped: side"), "the rest was stopped: {log}");
}

#[test]
fn an_essential_program_killed_by_a_signal_exits_128_plus_n() {
    let mut d = Daemon::start(
        "[program:main]\ncommand=sh -c 'sleep 0.3; kill -9 $$'\nstartsecs=0\n\
         essential=true\nautorestart=false\n",
    );
    assert_eq!(d.wait_exit(SECS(15)).code(), Some(137), "{}", d.log_text());
}

#[test]
fn an_essential_program_that_cannot_be_spawned_exits_127() {
    let mut d = Daemon::start(
        "[program:main]\ncommand=/nonexistent/program\nstartretries=0\nessential=true\n",
    );
    let status = d.wait_exit(SECS(15));
    assert_eq!(status.code(), Some(127), "{}", d.log_text());
    assert!(d
        .log_text()
        .contains("essential program main could not be started"));
}

#[test]
fn stopping_or_restarting_an_essential_program_does_not_end_supervisord() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:main]\ncommand=sleep 1000\nstartsecs=0\nessential=true\n\
         [program:flaky]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\n\
         essential=true\nautorestart=true\n"
    ));
    d.wait_for("success: main", SECS(10));
    assert_eq!(d.ctl(&["stop", "main"]), ("main: stopped\n".into(), 0));
    // flaky ends and restarts; it never ends for good.
    d.wait_log("flaky restarted", SECS(10), |t| {
        lines_with(t, "spawned: 'flaky'").len() >= 3
    });
    assert!(d.rpc("supervisor.getState", &[]).contains("RUNNING"));
    assert!(!d.log_text().contains("essential program"));
    assert!(d.shutdown().success());
}

#[test]
fn exit_when_done_exits_0_when_every_program_succeeded() {
    let mut d = Daemon::start(
        "exit_when_done=true\n\
         [program:a]\ncommand=sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=false\n\
         [program:b]\ncommand=sh -c 'sleep 0.4; exit 0'\nstartsecs=0\nautorestart=false\n\
         [program:never]\ncommand=sleep 1000\nautostart=false\n",
    );
    assert_eq!(d.wait_exit(SECS(15)).code(), Some(0), "{}", d.log_text());
    assert!(d.log_text().contains("exit_when_done"));
}

#[test]
fn exit_when_done_exits_with_the_first_failure() {
    let mut d = Daemon::start(
        "exit_when_done=true\n\
         [program:first]\ncommand=sh -c 'sleep 0.2; exit 5'\nstartsecs=0\nautorestart=false\n\
         [program:later]\ncommand=sh -c 'sleep 0.6; exit 6'\nstartsecs=0\nautorestart=false\n\
         [program:fine]\ncommand=sh -c 'exit 0'\nstartsecs=0\nautorestart=false\n",
    );
    assert_eq!(d.wait_exit(SECS(15)).code(), Some(5), "{}", d.log_text());
}

// ---- dependencies ----

#[test]
fn a_dependent_starts_once_its_dependency_is_running() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}[program:db]\ncommand=sleep 1000\nstartsecs=1\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n"
    ));
    let waiting = wait_status(&d, "app", "waiting for db to be running");
    assert!(waiting.contains("STOPPED"), "{waiting}");
    let log = d.wait_for("spawned: 'app'", SECS(10));
    let running = stamp_ms(lines_with(&log, "success: db entered RUNNING")[0]);
    let spawned = stamp_ms(lines_with(&log, "spawned: 'app'")[0]);
    assert!(spawned >= running, "{log}");
    assert!(d.shutdown().success());
    let log = d.log_text();
    let app = log.find("stopped: app").expect("app stopped");
    let db = log.find("stopped: db").expect("db stopped");
    assert!(app < db, "dependents stop first: {log}");
}

#[test]
fn a_completed_dependency_and_a_failed_one() {
    let d = Daemon::start(&format!(
        "{RPC_SERVER}\
         [program:migrate]\ncommand=sh -c 'sleep 0.3; exit 0'\nstartsecs=0\nautorestart=false\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=migrate:completed\n\
         [program:broken]\ncommand=sh -c 'sleep 0.3; exit 2'\nstartsecs=0\nautorestart=false\n\
         [program:never]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=broken:completed\n"
    ));
    wait_status(&d, "app", "RUNNING");
    let fatal = wait_status(&d, "never", "FATAL");
    assert!(
        fatal.contains("dependency broken exited unexpectedly (exit status 2)"),
        "{fatal}"
    );
    assert!(!d.log_text().contains("spawned: 'never'"));
}

#[test]
fn a_healthy_dependency_waits_for_the_health_check() {
    let d = Daemon::start(&format!(
        "{RPC_SERVER}\
         [program:db]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=test -e {{dir}}/ready\nhealthcheck_interval=0.2\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n"
    ));
    wait_status(&d, "db", "RUNNING");
    let waiting = wait_status(&d, "app", "waiting for db to be healthy");
    assert!(waiting.contains("STOPPED"), "{waiting}");
    fs::write(d.path("ready"), "").unwrap();
    wait_status(&d, "db", "healthy");
    wait_status(&d, "app", "RUNNING");
}

#[test]
fn starting_a_program_starts_its_stopped_dependencies_first() {
    let d = Daemon::start(&format!(
        "{RPC_SERVER}\
         [program:db]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\
         [program:cache]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\ndepends_on=db\n\
         [program:app]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\
         depends_on=cache db\n"
    ));
    let sock = d.path("supervisor.sock");
    wait_until("the socket", SECS(10), || sock.exists());
    let (out, code) = d.ctl(&["start", "app"]);
    assert_eq!((out.as_str(), code), ("app: started\n", 0));
    for name in ["db", "cache", "app"] {
        assert!(status_of(&d, name).contains("RUNNING"), "{name}");
    }
    let log = d.log_text();
    let order: Vec<usize> = ["spawned: 'db'", "spawned: 'cache'", "spawned: 'app'"]
        .iter()
        .map(|n| log.find(n).expect(n))
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "{log}");
}

#[test]
fn stop_all_stops_dependents_before_their_dependencies() {
    let d = Daemon::start(&format!(
        "{RPC_SERVER}[program:db]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:app]\ncommand=sh -c 'trap \"sleep 0.5; exit 0\" TERM; echo up; \
         while :; do sleep 0.1; done'\nstartsecs=0\ndepends_on=db\n\
         stdout_logfile={{dir}}/app.out\n"
    ));
    wait_until("app's trap", SECS(10), || {
        fs::read_to_string(d.path("app.out")).is_ok_and(|t| t.contains("up"))
    });
    let (out, code) = d.ctl(&["stop", "all"]);
    assert_eq!(code, 0, "{out}");
    let log = d.log_text();
    let app = log.find("stopped: app").expect("app stopped");
    let db = log.find("stopped: db").expect("db stopped");
    assert!(app < db, "db went down while app still ran: {log}");
}

#[test]
fn unknown_dependencies_and_cycles_are_config_errors() {
    for (body, expected) in [
        (
            "[program:a]\ncommand=sleep 1\ndepends_on=nope\n",
            "program \"a\" depends on \"nope\", which is not a program or group",
        ),
        (
            "[program:a]\ncommand=sleep 1\ndepends_on=b\n\
             [program:b]\ncommand=sleep 1\ndepends_on=a:healthy\n",
            "depends_on makes a cycle: a -> b -> a",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("s.conf");
        fs::write(&conf, format!("[supervisord]\n{body}")).unwrap();
        let out = std::process::Command::new(common::BIN)
            .args(["--check-config", "-c"])
            .arg(&conf)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(stderr.contains("key 'depends_on'"), "{stderr}");
    }
}

// ---- health checks ----

/// A TCP port nothing listens on: bind, note it, close.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn health_checks_of_each_kind() {
    let web = free_port();
    let closed = free_port();
    let d = Daemon::start(&format!(
        "{RPC_SERVER}\
         [program:web]\ncommand=python3 -m http.server {web} --bind 127.0.0.1\n\
         directory={{dir}}\nstartsecs=0\n\
         healthcheck=http://127.0.0.1:{web}/\nhealthcheck_interval=0.2\n\
         [program:missing]\ncommand=python3 -m http.server {closed} --bind 127.0.0.1\n\
         directory={{dir}}\nstartsecs=0\n\
         healthcheck=http://127.0.0.1:{closed}/nothing-here\nhealthcheck_interval=0.2\n\
         healthcheck_retries=2\n\
         [program:port]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=tcp://127.0.0.1:{web}\nhealthcheck_interval=0.2\n\
         [program:cmd]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=sh -c 'exit 1'\nhealthcheck_interval=0.2\nhealthcheck_retries=2\n"
    ));
    assert!(wait_status(&d, "web", "healthy").contains(", healthy"));
    assert!(wait_status(&d, "port", "healthy").contains(", healthy"));
    // A 404 is not healthy.
    assert!(wait_status(&d, "missing", "unhealthy").contains(", unhealthy"));
    assert!(wait_status(&d, "cmd", "unhealthy").contains(", unhealthy"));
    // The extra member is there for processes with a check only.
    let info = d.rpc("supervisor.getProcessInfo", &["web"]);
    assert!(info.contains("<name>health</name>"), "{info}");
    assert!(info.contains("<string>healthy</string>"), "{info}");
    assert!(!d
        .rpc("supervisor.getProcessInfo", &["port"])
        .contains("unhealthy"));
}

#[test]
fn start_period_failures_do_not_count_and_an_unhealthy_program_is_restarted() {
    let d = Daemon::start(&format!(
        "{RPC_SERVER}\
         [program:slow]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=sh -c 'exit 1'\nhealthcheck_interval=0.2\nhealthcheck_retries=1\n\
         healthcheck_start_period=1.5\n\
         [program:sick]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=test -e {{dir}}/fine\nhealthcheck_interval=0.2\nhealthcheck_retries=1\n\
         restart_when_unhealthy=true\n"
    ));
    fs::write(d.path("fine"), "").unwrap();
    // Within the start period the failures are not counted.
    let started = Instant::now();
    wait_status(&d, "slow", "unhealthy");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "unhealthy during the start period"
    );
    wait_status(&d, "sick", "healthy");
    let first = d.ctl(&["pid", "sick"]).0;
    fs::remove_file(d.path("fine")).unwrap();
    d.wait_for("restarting sick: it is unhealthy", SECS(10));
    fs::write(d.path("fine"), "").unwrap();
    wait_until("sick restarted", SECS(10), || {
        let pid = d.ctl(&["pid", "sick"]).0;
        pid != first && pid.trim() != "0"
    });
}

#[test]
fn pythons_supervisorctl_shows_health_and_ignores_the_extra_member() {
    let venv = common::python_venv();
    let d = Daemon::start(&format!(
        "{RPC_SERVER}[program:db]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=true\nhealthcheck_interval=0.2\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db:healthy\n"
    ));
    wait_status(&d, "app", "RUNNING");
    let (out, code) = common::run_ctl(
        std::process::Command::new(venv.join("bin/supervisorctl")),
        &d.conf,
        &["status"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("healthy"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("app") && l.contains("RUNNING")),
        "{out}"
    );
}

// ---- restart policies ----

#[test]
fn a_crash_loop_restarts_at_most_once_a_second() {
    let d = Daemon::start("[program:crash]\ncommand=false\nstartsecs=0\nautorestart=true\n");
    d.wait_for("spawned: 'crash'", SECS(10));
    let since = Instant::now();
    wait_until("2.5 s of crashing", SECS(10), || {
        since.elapsed() >= Duration::from_millis(2500)
    });
    let log = d.log_text();
    let spawns = lines_with(&log, "spawned: 'crash'");
    assert!(spawns.len() <= 4, "{} spawns in 2.5 s", spawns.len());
    let stamps: Vec<i64> = spawns.iter().map(|l| stamp_ms(l)).collect();
    let gaps: Vec<i64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!(
        "figure: crash loop: {} spawns in 2.5 s, gaps {gaps:?} ms",
        spawns.len()
    );
    for pair in stamps.windows(2) {
        assert!(
            pair[1] - pair[0] >= 950,
            "respawned after {} ms",
            pair[1] - pair[0]
        );
    }
}

#[test]
fn expected_exits_with_autorestart_true_still_restart_at_once() {
    let d = Daemon::start("[program:quick]\ncommand=true\nstartsecs=0\nautorestart=true\n");
    d.wait_log("many restarts", SECS(10), |t| {
        lines_with(t, "spawned: 'quick'").len() >= 20
    });
}

#[test]
fn exponential_backoff_doubles_up_to_its_cap() {
    let d = Daemon::start(
        "[program:bad]\ncommand=false\nstartsecs=1\nstartretries=4\n\
         backoff=exponential\nbackoff_max=2\n",
    );
    let log = d.wait_for("gave up: bad", SECS(20));
    let stamps: Vec<i64> = lines_with(&log, "spawned: 'bad'")
        .iter()
        .map(|l| stamp_ms(l))
        .collect();
    assert_eq!(stamps.len(), 5, "{log}");
    let gaps: Vec<i64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    eprintln!("figure: exponential backoff (cap 2 s): gaps {gaps:?} ms");
    for (gap, want) in gaps.iter().zip([1000, 2000, 2000, 2000]) {
        assert!(
            (want - 100..want + 400).contains(gap),
            "gaps {gaps:?}, wanted 1, 2, 2, 2 s"
        );
    }
}

#[test]
fn infinite_retries_never_give_up() {
    let d = Daemon::start(
        "[program:bad]\ncommand=false\nstartsecs=1\nstartretries=infinite\nbackoff_max=0.1\n",
    );
    d.wait_log("ten attempts", SECS(15), |t| {
        lines_with(t, "spawned: 'bad'").len() >= 10
    });
    assert!(!d.log_text().contains("gave up"));
}

#[test]
fn a_fatal_program_is_retried_after_fatal_retry_after() {
    let d = Daemon::start(
        "[program:bad]\ncommand=false\nstartsecs=1\nstartretries=0\nfatal_retry_after=1\n",
    );
    let log = d.wait_for("retrying bad", SECS(15));
    let fatal = stamp_ms(lines_with(&log, "gave up: bad")[0]);
    let retry = stamp_ms(lines_with(&log, "retrying bad")[0]);
    eprintln!(
        "figure: fatal_retry_after=1: retried {} ms after FATAL",
        retry - fatal
    );
    assert!((900..1500).contains(&(retry - fatal)), "{log}");
    d.wait_log("a second attempt", SECS(10), |t| {
        lines_with(t, "spawned: 'bad'").len() >= 2
    });
}

// ---- the shutdown budget ----

#[test]
fn shutdown_timeout_bounds_the_stop_and_a_second_sigterm_escalates() {
    for second_signal in [false, true] {
        let mut d = Daemon::start(
            "shutdown_timeout=3\n\
             [program:stubborn]\ncommand=sh -c 'trap \"\" TERM; echo ready; while :; do sleep 1; done'\n\
             startsecs=0\nstopwaitsecs=60\nstdout_logfile={dir}/out\n",
        );
        wait_until("the trap", SECS(10), || {
            fs::read_to_string(d.path("out")).is_ok_and(|t| t.contains("ready"))
        });
        let asked = Instant::now();
        d.signal(nix::sys::signal::Signal::SIGTERM);
        if second_signal {
            d.wait_for("waiting for stubborn to die", SECS(10));
            d.signal(nix::sys::signal::Signal::SIGTERM);
        }
        let status = d.wait_exit(SECS(10));
        let took = asked.elapsed();
        eprintln!(
            "figure: shutdown_timeout=3 with a TERM-ignoring program{}: exit after {} ms",
            if second_signal {
                ", second SIGTERM"
            } else {
                ""
            },
            took.as_millis()
        );
        assert!(status.success(), "{}", d.log_text());
        if second_signal {
            assert!(took < Duration::from_millis(1500), "took {took:?}");
            assert!(d.log_text().contains("second request to exit"));
        } else {
            assert!(
                (Duration::from_millis(2000)..Duration::from_millis(3000)).contains(&took),
                "took {took:?}"
            );
            assert!(d
                .log_text()
                .contains("shutdown_timeout is running out: sending SIGKILL to stubborn"));
        }
    }
}

#[test]
fn as_pid1_the_budget_also_covers_the_leftovers_of_the_namespace() {
    // The program ignores SIGTERM and leaves a child that ignores it too.
    let (took, log) = stop_as_pid1(
        "shutdown_timeout=3\n",
        "sh -c '(trap \"\" TERM; while :; do sleep 1; done) & \
         trap \"\" TERM; touch {d}/ready; while :; do sleep 1; done'",
    );
    eprintln!(
        "figure: PID 1, shutdown_timeout=3, a TERM-ignoring program and its leftover: exit after {} ms",
        took.as_millis()
    );
    assert!(
        took < SECS(3) + Duration::from_millis(500),
        "took {took:?}: {log}"
    );
    assert!(log.contains("sending SIGKILL"), "{log}");
}

#[test]
fn as_pid1_the_wait_for_leftovers_was_silent() {
    // The program stops on SIGTERM, but leaves a child that ignores it:
    // the 5 s of TERM-then-KILL for the namespace's leftovers are logged.
    let (took, log) = stop_as_pid1(
        "",
        "sh -c '(trap \"\" TERM; while :; do sleep 1; done) & touch {d}/ready; exec sleep 1000'",
    );
    assert!(
        log.contains(
            "as PID 1, sending SIGTERM to the processes left in the namespace (SIGKILL in 5.0 s): "
        ),
        "{log}"
    );
    assert!(
        log.contains("as PID 1, sending SIGKILL to the processes still left: "),
        "{log}"
    );
    assert!(took >= SECS(5) && took < SECS(8), "took {took:?}: {log}");
}

/// Run supervisord as PID 1 of a new namespace with one program
/// (`command`, where `{d}` is the temp dir; it touches `{d}/ready` when up)
/// and `extra` lines in `[supervisord]`; SIGTERM it once the program is up.
/// Returns how long it took to exit (with status 0) and its log.
fn stop_as_pid1(extra: &str, command: &str) -> (Duration, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
             childlogdir={d}\nsilent=true\n{extra}\
             [program:leaver]\ncommand={}\nstartsecs=0\nstopwaitsecs=60\n",
            command.replace("{d}", &d)
        ),
    )
    .unwrap();
    let mut unshare = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", common::BIN, "-n", "-c"])
        .arg(&conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("unshare runs (root on Linux)");
    wait_until("the program", SECS(10), || {
        dir.path().join("ready").exists()
    });
    let pid: i32 = fs::read_to_string(dir.path().join("supervisord.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The pidfile holds the namespace's view (1); signal unshare's child.
    assert_eq!(pid, 1);
    let asked = Instant::now();
    let supervisord = common::children_of(unshare.id() as i32)[0];
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisord),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = loop {
        if let Some(status) = unshare.try_wait().unwrap() {
            break status;
        }
        assert!(asked.elapsed() < SECS(15), "supervisord did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = asked.elapsed();
    let log = fs::read_to_string(dir.path().join("supervisord.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{log}");
    (took, log)
}
