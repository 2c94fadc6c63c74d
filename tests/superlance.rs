//! Interop: listeners from the superlance package (2.0.0, from PyPI, in
//! the test virtualenv) run unchanged under our daemon and do their jobs.
//! They read events with Supervisor's own `childutils` and call back over
//! XML-RPC with Supervisor's unix-socket transport.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{lines_with, wait_until, Daemon, RPC_SERVER};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A `sendmail -t -i` stand-in in `dir`: appends each message to
/// `dir/mail.txt`.
fn fake_sendmail(dir: &Path) -> PathBuf {
    let path = dir.join("sendmail");
    fs::write(
        &path,
        format!(
            "#!/bin/sh\ncat >> {}\necho >> {0}\n",
            dir.join("mail.txt").display()
        ),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn superlance(tool: &str) -> String {
    common::python_venv()
        .join("bin")
        .join(tool)
        .display()
        .to_string()
}

#[test]
fn crashmail_mails_when_a_program_dies_unexpectedly() {
    let dir = tempfile::tempdir().unwrap();
    let sendmail = fake_sendmail(dir.path());
    let body = format!(
        "{RPC_SERVER}[eventlistener:crashmail]\n\
         command={} -a -m ops@example.com -s \"{} -t -i\"\n\
         events=PROCESS_STATE_EXITED\nstderr_logfile={{dir}}/crashmail.err\n\
         [program:crasher]\ncommand=sh -c 'sleep 1.5; exit 2'\nstartsecs=0\nautorestart=false\n\
         [program:finisher]\ncommand=sh -c 'sleep 1.5; exit 0'\nstartsecs=0\nautorestart=false\n",
        superlance("crashmail"),
        sendmail.display()
    );
    let mut d = Daemon::launch(dir, &body, "info", &[]);
    let log = d.wait_for("exited: crasher (exit status 2; not expected)", SECS(20));
    d.wait_for("exited: finisher (exit status 0; expected)", SECS(20));
    let spawned = lines_with(&log, "spawned: 'crasher' with pid ")
        .pop()
        .unwrap()
        .to_string();
    let pid = spawned.rsplit(' ').next().unwrap();
    wait_until("the crash mail", SECS(20), || {
        fs::read_to_string(d.path("mail.txt")).is_ok_and(|m| m.contains("exited unexpectedly"))
    });
    let mail = fs::read_to_string(d.path("mail.txt")).unwrap();
    assert!(
        mail.starts_with("To: ops@example.com\nSubject:  crasher crashed at "),
        "{mail}"
    );
    assert!(
        mail.contains(&format!(
            "\n\nProcess crasher in group crasher exited unexpectedly (pid {pid}) from state RUNNING"
        )),
        "{mail}"
    );
    // The expected exit of `finisher` is no crash: one mail only.
    assert_eq!(mail.matches("Subject:").count(), 1, "{mail}");
    let (status, _) = d.ctl(&["status", "crashmail"]);
    assert!(
        status.contains("RUNNING"),
        "crashmail keeps running: {status}"
    );
    d.shutdown();
}

#[test]
fn memmon_restarts_a_program_over_its_memory_limit() {
    let body = format!(
        "{RPC_SERVER}[eventlistener:memmon]\n\
         command={} -p hog=20MB\nevents=TICK_5\nstderr_logfile={{dir}}/memmon.err\n\
         [program:hog]\n\
         command=python3 -c \"import time; hog = b'x' * (64 * 1024 * 1024); time.sleep(1000)\"\n\
         startsecs=1\n\
         [program:lean]\ncommand=sleep 1000\nstartsecs=0\n",
        superlance("memmon")
    );
    let mut d = Daemon::start(&body);
    let first = {
        let log = d.wait_for("spawned: 'hog' with pid ", SECS(10));
        lines_with(&log, "spawned: 'hog' with pid ").len()
    };
    // TICK_5 comes within 5 s; memmon stops and starts hog over XML-RPC.
    let log = d.wait_log("hog restarted", SECS(30), |t| {
        lines_with(t, "spawned: 'hog' with pid ").len() > first
    });
    assert!(
        log.contains("stopped: hog (terminated by SIGTERM)"),
        "{log}"
    );
    wait_until("memmon's report", SECS(10), || {
        fs::read_to_string(d.path("memmon.err")).is_ok_and(|t| t.contains("Restarting hog:hog"))
    });
    let report = fs::read_to_string(d.path("memmon.err")).unwrap();
    assert!(!report.contains("Restarting lean"), "{report}");
    assert!(lines_with(&d.log_text(), "spawned: 'lean'").len() == 1);
    d.shutdown();
}
