//! Black-box tests of the daemon: start the binary on temp configs and watch
//! its main log and /proc, as an operator would.

mod common;

use std::fs;
use std::time::Duration;

use common::{lines_with, stamp_ms, wait_until, Daemon};
use nix::sys::signal::Signal;

const SECS: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn programs_spawn_in_ascending_priority() {
    let mut d = Daemon::start(
        "[program:late]\ncommand=sleep 100\npriority=300\n\
         [program:early]\ncommand=sleep 100\npriority=100\n\
         [program:middle]\ncommand=sleep 100\npriority=200\n",
    );
    let log = d.wait_log("three spawns", SECS(10), |t| {
        lines_with(t, "spawned: ").len() == 3
    });
    let order: Vec<&str> = lines_with(&log, "spawned: ")
        .iter()
        .map(|l| l.split('\'').nth(1).unwrap())
        .collect();
    assert_eq!(order, ["early", "middle", "late"]);
    assert!(d.shutdown().success());
}

#[test]
fn running_is_reached_only_after_startsecs() {
    let mut d = Daemon::start("[program:web]\ncommand=sleep 100\nstartsecs=1\n");
    let log = d.wait_for(
        "success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
        SECS(10),
    );
    let spawned = stamp_ms(lines_with(&log, "spawned: 'web'")[0]);
    let running = stamp_ms(lines_with(&log, "success: web")[0]);
    let waited = running - spawned;
    // The clock starts when the spawn starts (Supervisor's `laststart` is
    // also taken before the fork); "spawned:" is logged once it is done,
    // and log stamps are truncated to the millisecond: the lines may be a
    // few ms less than startsecs apart.
    assert!((995..1300).contains(&waited), "RUNNING after {waited} ms");
    assert!(d.shutdown().success());
}

#[test]
fn instantly_exiting_program_backs_off_1_2_3_seconds_then_goes_fatal() {
    let mut d = Daemon::start("[program:flaky]\ncommand=false\nstartretries=3\n");
    let log = d.wait_for(
        "gave up: flaky entered FATAL state, too many start retries too quickly",
        SECS(15),
    );
    let spawns = lines_with(&log, "spawned: 'flaky'");
    let exits = lines_with(&log, "exited: flaky (exit status 1; not expected)");
    assert_eq!(spawns.len(), 4, "1 + startretries attempts:\n{log}");
    assert_eq!(exits.len(), 4, "{log}");
    for (i, expected_gap) in [1000, 2000, 3000].into_iter().enumerate() {
        let gap = stamp_ms(spawns[i + 1]) - stamp_ms(exits[i]);
        assert!(
            (gap - expected_gap).abs() <= 150,
            "retry {} came {gap} ms after the exit, expected {expected_gap}:\n{log}",
            i + 1
        );
    }
    assert!(d.shutdown().success());
}

#[test]
fn autorestart_modes() {
    // Each program reaches RUNNING at once (startsecs=0), then exits 0 or 1.
    let mut d = Daemon::start(
        "[program:never]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\nautorestart=false\n\
         [program:expected]\ncommand=sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=unexpected\n\
         [program:unexpected]\ncommand=sh -c 'sleep 0.2; exit 1'\nstartsecs=0\nautorestart=unexpected\n\
         [program:always]\ncommand=sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=true\n",
    );
    let restarted = |t: &str, name: &str| lines_with(t, &format!("spawned: '{name}'")).len() >= 3;
    let log = d.wait_log("restarts of always and unexpected", SECS(10), |t| {
        restarted(t, "always") && restarted(t, "unexpected")
    });
    assert!(
        log.contains("exited: never (exit status 1; not expected)"),
        "{log}"
    );
    assert!(
        log.contains("exited: expected (exit status 0; expected)"),
        "{log}"
    );
    // By now the others have run three times; these two ran once.
    assert_eq!(lines_with(&log, "spawned: 'never'").len(), 1, "{log}");
    assert_eq!(lines_with(&log, "spawned: 'expected'").len(), 1, "{log}");
    assert!(d.shutdown().success());
}

#[test]
fn program_ignoring_sigterm_is_killed_after_stopwaitsecs() {
    let mut d = Daemon::start(
        "[program:stubborn]\n\
         command=sh -c \"trap '' TERM; touch {dir}/ready; while :; do sleep 0.05; done\"\n\
         stopwaitsecs=1\nstartsecs=0\n",
    );
    // SIGTERM must come after the shell has started ignoring it.
    let ready = d.path("ready");
    wait_until("the trap to be set", SECS(10), || ready.exists());
    let log = d.log_text();
    let pid: i32 = lines_with(&log, "spawned: 'stubborn'")[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    d.signal(Signal::SIGTERM);
    let status = d.wait_exit(SECS(10));
    assert!(status.success());
    let log = d.log_text();
    assert!(
        log.contains(&format!("killing 'stubborn' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    let asked = stamp_ms(lines_with(&log, "received SIGTERM indicating exit request")[0]);
    let killed = stamp_ms(lines_with(&log, "with SIGKILL")[0]);
    assert!(
        (1000..1200).contains(&(killed - asked)),
        "SIGKILL after {} ms",
        killed - asked
    );
}

#[test]
fn stopasgroup_stops_the_shells_grandchildren() {
    let mut d = Daemon::start(
        "[program:wrapper]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/grandchild.pid; wait'\n\
         stopasgroup=true\nstartsecs=0\n",
    );
    let pid_file = d.path("grandchild.pid");
    wait_until("the grandchild's pid", SECS(10), || {
        fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let grandchild: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(grandchild));
    assert!(d.shutdown().success());
    wait_until("the grandchild to be gone", SECS(5), || !alive(grandchild));
}

/// A process that exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap().trim_start().chars().next();
            state != Some('Z')
        }
        Err(_) => false,
    }
}

#[test]
fn child_sees_user_umask_directory_and_environment() {
    let running_as_root = nix::unistd::Uid::effective().is_root();
    let user_line = if running_as_root { "user=nobody\n" } else { "" };
    let dir = tempfile::tempdir().unwrap();
    // `nobody` must be able to reach and write these.
    for (path, mode) in [
        (dir.path().to_path_buf(), 0o755),
        (dir.path().join("out"), 0o777),
        (dir.path().join("work"), 0o755),
    ] {
        fs::create_dir_all(&path).unwrap();
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let mut d = Daemon::launch(
        dir,
        &format!(
            "[supervisord]\nenvironment=GLOBAL=g,SHARED=from-supervisord\n\
             [program:probe]\n\
             command=sh -c 'echo uid=$(id -u) umask=$(umask) pwd=$(pwd) > {{dir}}/out/probe.txt; env >> {{dir}}/out/probe.txt; echo END >> {{dir}}/out/probe.txt; exec sleep 100'\n\
             umask=027\ndirectory={{dir}}/work\nenvironment=LOCAL=l,SHARED=from-program\n{user_line}"
        ),
        "info",
        &[],
    );
    let out = d.path("out/probe.txt");
    wait_until("the probe's report", SECS(10), || {
        fs::read_to_string(&out).is_ok_and(|s| s.ends_with("END\n"))
    });
    let report = fs::read_to_string(&out).unwrap();
    let first = report.lines().next().unwrap();
    let expected_uid = if running_as_root {
        nix::unistd::User::from_name("nobody")
            .unwrap()
            .unwrap()
            .uid
            .as_raw()
    } else {
        nix::unistd::Uid::effective().as_raw()
    };
    assert_eq!(
        first,
        format!(
            "uid={expected_uid} umask=0027 pwd={}",
            d.path("work").display()
        )
    );
    let env: Vec<&str> = report.lines().skip(1).collect();
    for expected in [
        "GLOBAL=g",
        "LOCAL=l",
        "SHARED=from-program",
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=probe",
        "SUPERVISOR_GROUP_NAME=probe",
    ] {
        assert!(env.contains(&expected), "{expected} missing from\n{report}");
    }
    if running_as_root {
        let home = nix::unistd::User::from_name("nobody").unwrap().unwrap().dir;
        assert!(
            env.contains(&format!("HOME={}", home.display()).as_str()),
            "{report}"
        );
        assert!(
            env.contains(&"USER=nobody") && env.contains(&"LOGNAME=nobody"),
            "{report}"
        );
    }
    assert!(d.shutdown().success());
}

#[test]
fn sighup_with_a_broken_config_keeps_everything_running() {
    let mut d = Daemon::start("[program:steady]\ncommand=sleep 100\nstartsecs=0\n");
    let log = d.wait_for("success: steady entered RUNNING state", SECS(10));
    let pid = lines_with(&log, "spawned: 'steady'")[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let good = fs::read_to_string(&d.conf).unwrap();
    fs::write(&d.conf, format!("{good}startsecs=abc\n")).unwrap();
    d.signal(Signal::SIGHUP);
    let log = d.wait_for("does not load", SECS(10));
    assert!(
        log.contains("received SIGHUP indicating restart request"),
        "{log}"
    );
    assert!(
        log.contains("invalid literal for int() with base 10: 'abc'"),
        "{log}"
    );
    assert!(!log.contains("stopped: steady"), "{log}");
    assert!(alive(pid.parse().unwrap()), "steady was stopped");
    // A valid config then restarts it.
    fs::write(&d.conf, good).unwrap();
    d.signal(Signal::SIGHUP);
    let log = d.wait_log("a second spawn", SECS(10), |t| {
        lines_with(t, "spawned: 'steady'").len() == 2
    });
    assert!(
        log.contains("stopped: steady (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(d.shutdown().success());
}

#[test]
fn sigterm_stops_everything_and_exits_zero() {
    let mut d = Daemon::start(
        "[program:a]\ncommand=sleep 100\nstartsecs=0\n[program:b]\ncommand=sleep 100\nstartsecs=0\n",
    );
    d.wait_log("both running", SECS(10), |t| {
        lines_with(t, "success: ").len() == 2
    });
    let status = d.shutdown();
    assert_eq!(status.code(), Some(0));
    let log = d.log_text();
    assert!(log.contains("stopped: a (terminated by SIGTERM)"), "{log}");
    assert!(log.contains("stopped: b (terminated by SIGTERM)"), "{log}");
    assert!(!d.path("supervisord.pid").exists(), "pidfile left behind");
}

#[test]
fn shutdown_stops_in_reverse_priority_waves() {
    let mut d = Daemon::start(
        "[program:first]\ncommand=sleep 100\npriority=1\nstartsecs=0\n\
         [program:second]\ncommand=sleep 100\npriority=2\nstartsecs=0\n\
         [program:second_too]\ncommand=sleep 100\npriority=2\nstartsecs=0\n",
    );
    d.wait_log("all running", SECS(10), |t| {
        lines_with(t, "success: ").len() == 3
    });
    assert!(d.shutdown().success());
    let log = d.log_text();
    let stopped: Vec<&str> = lines_with(&log, "stopped: ")
        .iter()
        .map(|l| {
            l.split("stopped: ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(stopped.len(), 3, "{log}");
    assert_eq!(stopped[2], "first", "priority 1 stops last:\n{log}");
}

#[test]
fn pidfile_holds_our_pid_while_running() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 100\n");
    d.wait_for("supervisord started with pid", SECS(10));
    let written = fs::read_to_string(d.path("supervisord.pid")).unwrap();
    assert_eq!(written, format!("{}\n", d.pid()));
    assert!(d.shutdown().success());
}

#[test]
fn an_unknown_signal_is_logged_not_fatal() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 100\n");
    d.wait_for("supervisord started with pid", SECS(10));
    d.signal(Signal::SIGUSR1);
    d.wait_for("received SIGUSR1", SECS(10));
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "SIGUSR1 killed supervisord"
    );
    assert!(d.shutdown().success());
}

#[test]
fn a_command_that_cannot_be_found_backs_off_with_the_spawn_error() {
    let mut d = Daemon::start("[program:ghost]\ncommand=/nonexistent/ghost\nstartretries=1\n");
    let log = d.wait_for("gave up: ghost entered FATAL state", SECS(10));
    assert_eq!(
        lines_with(&log, "spawnerr: can't find command '/nonexistent/ghost'").len(),
        2,
        "{log}"
    );
    assert!(!log.contains("spawned: 'ghost'"), "{log}");
    assert!(d.shutdown().success());
}

#[test]
fn output_is_drained_so_a_chatty_child_never_blocks() {
    // 8 MB is far more than a pipe holds: undrained, the child would hang.
    let mut d = Daemon::start(
        "[program:chatty]\ncommand=sh -c 'head -c 8000000 /dev/zero; echo; head -c 8000000 /dev/zero >&2'\n\
         startsecs=0\nautorestart=false\n",
    );
    d.wait_for("exited: chatty (exit status 0; expected)", SECS(20));
    assert!(d.shutdown().success());
}

#[test]
fn umask_and_directory_of_supervisord_apply_in_the_foreground() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let mut d = Daemon::launch(
        dir,
        "[supervisord]\numask=077\ndirectory={dir}/work\n\
         [program:probe]\ncommand=sh -c 'echo $(umask) $(pwd) > {dir}/probe.txt; exec sleep 100'\n",
        "info",
        &[],
    );
    let out = d.path("probe.txt");
    wait_until("the probe", SECS(10), || {
        fs::read_to_string(&out).is_ok_and(|s| s.ends_with('\n'))
    });
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        format!("0077 {}\n", work.display())
    );
    assert!(d
        .log_text()
        .contains(&format!("set current directory: '{}'", work.display())));
    assert!(d.shutdown().success());
}

#[test]
fn sigusr2_reopens_the_main_log_after_it_was_moved() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 100\n");
    d.wait_for("supervisord started with pid", SECS(10));
    fs::rename(&d.log, d.path("supervisord.log.old")).unwrap();
    d.signal(Signal::SIGUSR2);
    let log = d.wait_for("supervisord logreopen", SECS(10));
    assert!(!log.contains("supervisord started"), "a fresh file: {log}");
    let old = fs::read_to_string(d.path("supervisord.log.old")).unwrap();
    assert!(
        old.contains("received SIGUSR2 indicating log reopen request"),
        "{old}"
    );
    assert!(d.shutdown().success());
}

#[test]
fn without_nodaemon_it_daemonizes_and_writes_the_daemons_pid() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "{}{}[program:x]\ncommand=sleep 100\nstartsecs=0\n",
            common::header(dir.path(), "info"),
            common::RPC_SERVER.replace("{dir}", dir.path().to_str().unwrap())
        ),
    )
    .unwrap();
    let started = std::process::Command::new(common::BIN)
        .arg("-c")
        .arg(&conf)
        .status()
        .unwrap();
    assert!(started.success(), "the parent exits 0 at once");
    let pidfile = dir.path().join("supervisord.pid");
    wait_until("the pidfile", SECS(10), || {
        fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n'))
    });
    let pid: i32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let log = fs::read_to_string(dir.path().join("supervisord.log")).unwrap();
    assert!(log.contains("daemonizing the supervisord process"), "{log}");
    // The parent's exit must not take the socket file with it.
    let (text, _) = common::run_ctl(common::our_ctl(), &conf, &["status"]);
    // A new session: the daemon leads it, detached from our terminal.
    assert_eq!(
        nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid)))
            .unwrap()
            .as_raw(),
        pid
    );
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    wait_until("the daemon to exit", SECS(10), || !pidfile.exists());
    assert!(text.starts_with("x ") && text.contains("RUNNING"), "{text}");
}

#[test]
fn output_goes_to_the_configured_log_files_byte_for_byte() {
    let mut d = Daemon::start(
        "[program:writer]\ncommand=sh -c 'printf \"out\\\\n\"; printf \"err\\\\n\" >&2; exec sleep 100'\n\
         stdout_logfile={dir}/out.log\nstderr_logfile={dir}/err.log\n",
    );
    let (out, err) = (d.path("out.log"), d.path("err.log"));
    wait_until("both logs", SECS(10), || {
        fs::read_to_string(&out).is_ok_and(|s| s == "out\n")
            && fs::read_to_string(&err).is_ok_and(|s| s == "err\n")
    });
    assert!(d.shutdown().success());
}

#[test]
fn minfds_raises_the_open_files_limit() {
    // Start with a low soft limit (any user may lower it), and ask for more.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "{}minfds=600\n[program:x]\ncommand=sleep 100\n",
            common::header(dir.path(), "info")
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -Sn 512 && exec {} -n -c {}",
            common::BIN,
            conf.display()
        ))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = dir.path().join("supervisord.log");
    wait_until("the limit to be raised", SECS(10), || {
        fs::read_to_string(&log).is_ok_and(|t| t.contains("Increased RLIMIT_NOFILE limit to 600"))
    });
    let limits = fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert_eq!(line.split_whitespace().nth(3), Some("600"), "{line}");
    assert!(common::sigterm_and_wait(&mut child, SECS(10)).success());
}

#[test]
fn user_option_drops_supervisords_own_privileges() {
    if !nix::unistd::Uid::effective().is_root() {
        return; // switching users needs root
    }
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let mut d = Daemon::launch(
        dir,
        "[program:x]\ncommand=sleep 100\n",
        "info",
        &["-u", "nobody"],
    );
    d.wait_for(
        &format!("Set uid to user {} succeeded", nobody.uid),
        SECS(10),
    );
    let status = fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let uids: Vec<&str> = uid_line.split_whitespace().skip(1).collect();
    assert_eq!(uids, vec![nobody.uid.to_string(); 4], "{uid_line}");
    assert!(!d.log_text().contains("Supervisor is running as root"));
    assert!(d.shutdown().success());
}

#[test]
fn a_realtime_signal_is_logged_not_fatal() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 100\n");
    d.wait_for("supervisord started with pid", SECS(10));
    // SIGRTMIN+3 is what some container tools send an init to stop it.
    let rt = 37;
    let rc = std::process::Command::new("kill")
        .arg(format!("-{rt}"))
        .arg(d.pid().to_string())
        .status()
        .unwrap();
    assert!(rc.success());
    d.wait_for("received signal 37", SECS(10));
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "a real-time signal killed supervisord"
    );
    assert!(d.shutdown().success());
}

/// Out of descriptors (the limit set for supervisord alone), spawns say
/// Supervisor's "too many open files to spawn 'x'".
#[test]
fn running_out_of_descriptors_at_spawn_says_too_many_open_files() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = dir.path().join("supervisord.conf");
    let body = format!(
        "{}minfds=10\n[program:many]\ncommand=sleep 1000\nnumprocs=20\n\
         process_name=%(program_name)s_%(process_num)s\nstartsecs=0\nstartretries=0\n\
         stdout_logfile={d}/%(process_num)s.out\nstderr_logfile={d}/%(process_num)s.err\n",
        common::header(dir.path(), "info")
    );
    std::fs::write(&conf, body).unwrap();
    // A low limit of our own, inherited by supervisord only.
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 24 && exec {} -n -c {}",
            common::BIN,
            conf.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon {
        child,
        log: dir.path().join("supervisord.log"),
        conf,
        dir,
    };
    let log = daemon.wait_for("gave up", Duration::from_secs(10));
    assert!(
        log.contains("spawnerr: too many open files to spawn 'many_"),
        "{log}"
    );
    assert!(!log.contains("unknown error"), "{log}");
    assert!(daemon.shutdown().success());
}

#[test]
fn programs_started_together_each_get_their_own_pipes_pid_and_outcome_in_order() {
    // Spawns due at once overlap (one thread clones while the next spawn is
    // prepared); each process must still end up with its own pipes and pid,
    // and the log must tell the outcomes in the order of the spawns.
    let mut d = Daemon::start(
        "[program:a]\nnumprocs=6\nprocess_name=a_%(process_num)s\nstartsecs=0\n\
         command=sh -c 'echo out-%(process_num)s; echo err-%(process_num)s >&2; exec sleep 100'\n\
         stdout_logfile={dir}/%(process_num)s.out\nstderr_logfile={dir}/%(process_num)s.err\n\
         [program:b]\ncommand=/nonexistent/ghost\nstartretries=0\n\
         [program:c]\ncommand=sh -c 'echo out-c; exec sleep 100'\nstartsecs=0\n\
         stdout_logfile={dir}/c.out\n",
    );
    let log = d.wait_log("every outcome", SECS(10), |log| {
        log.contains("gave up: b entered FATAL state")
            && log.contains("success: c entered RUNNING state")
            && lines_with(log, "success: a_").len() == 6
    });
    let position = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"))
    };
    let mut order: Vec<usize> = (0..6)
        .map(|n| position(&format!("spawned: 'a_{n}'")))
        .collect();
    order.push(position(
        "spawnerr: can't find command '/nonexistent/ghost'",
    ));
    order.push(position("spawned: 'c'"));
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order:\n{log}"
    );
    for n in 0..6 {
        let (out, err) = (d.path(&format!("{n}.out")), d.path(&format!("{n}.err")));
        wait_until(&format!("the logs of a_{n}"), SECS(10), || {
            fs::read_to_string(&out).is_ok_and(|s| s == format!("out-{n}\n"))
                && fs::read_to_string(&err).is_ok_and(|s| s == format!("err-{n}\n"))
        });
    }
    let c_out = d.path("c.out");
    wait_until("the log of c", SECS(10), || {
        fs::read_to_string(&c_out).is_ok_and(|s| s == "out-c\n")
    });
    // Each pid logged is a live child of ours, and no two are the same.
    let mut pids: Vec<i32> = lines_with(&log, "spawned: '")
        .iter()
        .map(|line| line.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    let children = common::children_of(d.pid());
    assert!(
        pids.iter().all(|pid| children.contains(pid)),
        "{pids:?} vs {children:?}"
    );
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 7, "{log}");
    assert!(d.shutdown().success());
}
