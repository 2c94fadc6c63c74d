//! Interop: the real Python `supervisorctl` 4.3.0 and Python's
//! `xmlrpc.client` against our daemon. These prove "drop-in": the client
//! people already have must work unchanged.
//!
//! Python Supervisor is installed into `target/interop-venv` on first use
//! (the test command `tests/run.sh` does it up front).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{wait_until, Daemon};

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn venv() -> PathBuf {
    common::python_venv()
}

/// A daemon with a unix socket, the RPC interface and a [supervisorctl] section.
fn daemon(programs: &str) -> Daemon {
    let body = format!(
        "[unix_http_server]\nfile={{dir}}/supervisor.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/supervisor.sock\n{programs}"
    );
    let d = Daemon::start(&body);
    let sock = d.path("supervisor.sock");
    wait_until("the socket", SECS(10), || sock.exists());
    d
}

/// Run Python's supervisorctl with `args` against `d`.
fn ctl(d: &Daemon, args: &[&str]) -> Output {
    Command::new(venv().join("bin/supervisorctl"))
        .arg("-c")
        .arg(&d.conf)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const PROGRAMS: &str =
    "[program:web]\ncommand=sh -c 'echo hello web; exec sleep 100'\nstartsecs=0\n\
     stdout_logfile={dir}/web.log\n\
     [program:idle]\ncommand=sleep 100\nautostart=false\n\
     [group:grp]\nprograms=ga,gb\n\
     [program:ga]\ncommand=sleep 100\nstartsecs=0\n\
     [program:gb]\ncommand=sleep 100\nautostart=false\n\
     [program:nofile]\ncommand=/nonexistent/program\nautostart=false\n";

#[test]
fn python_supervisorctl_status_start_stop_restart() {
    let mut d = daemon(PROGRAMS);
    d.wait_log("web and ga running", SECS(10), |t| {
        t.contains("success: web") && t.contains("success: ga")
    });

    let status = ctl(&d, &["status"]);
    let text = out(&status);
    assert_eq!(
        status.status.code(),
        Some(3),
        "a stopped process makes status 3:\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["grp:ga", "grp:gb", "idle", "nofile", "web"],
        "{text}"
    );
    let web = lines.iter().find(|l| l.starts_with("web ")).unwrap();
    assert!(
        web.starts_with(&format!("{:<33}{:<10}pid ", "web", "RUNNING")),
        "{web:?}"
    );
    assert!(lines
        .iter()
        .any(|l| *l == format!("{:<33}{:<10}Not started", "idle", "STOPPED")));

    let started = ctl(&d, &["start", "idle"]);
    assert_eq!(
        (started.status.code(), out(&started)),
        (Some(0), "idle: started\n".into())
    );
    let again = ctl(&d, &["start", "idle"]);
    assert_eq!(out(&again), "idle: ERROR (already started)\n");
    assert_eq!(again.status.code(), Some(0));
    let nofile = ctl(&d, &["start", "nofile"]);
    assert_eq!(out(&nofile), "nofile: ERROR (no such file)\n");
    assert_eq!(nofile.status.code(), Some(1));
    let group = ctl(&d, &["start", "grp:*"]);
    assert_eq!(out(&group), "grp:gb: started\n");

    let stopped = ctl(&d, &["stop", "idle"]);
    assert_eq!(
        (stopped.status.code(), out(&stopped)),
        (Some(0), "idle: stopped\n".into())
    );
    let not_running = ctl(&d, &["stop", "idle"]);
    assert_eq!(out(&not_running), "idle: ERROR (not running)\n");
    let restarted = ctl(&d, &["restart", "web"]);
    assert_eq!(out(&restarted), "web: stopped\nweb: started\n");
    let nosuch = ctl(&d, &["status", "nosuch"]);
    assert_eq!(
        (nosuch.status.code(), out(&nosuch)),
        (Some(4), "nosuch: ERROR (no such process)\n".into())
    );
    assert!(d.shutdown().success());
}

#[test]
fn python_supervisorctl_signal_pid_tail_clear_avail_version() {
    let mut d = daemon(PROGRAMS);
    d.wait_log("web running", SECS(10), |t| t.contains("success: web"));
    let web_log = d.path("web.log");
    wait_until("web's output", SECS(10), || {
        fs::read_to_string(&web_log).is_ok_and(|t| t == "hello web\n")
    });

    let version = ctl(&d, &["version"]);
    assert_eq!(out(&version), "4.3.0\n");

    let pid = ctl(&d, &["pid"]);
    assert_eq!(out(&pid), format!("{}\n", d.pid()));
    let web_pid = ctl(&d, &["pid", "web"]);
    let web_pid: i32 = out(&web_pid).trim().parse().unwrap();
    assert!(web_pid > 0);
    let idle_pid = ctl(&d, &["pid", "idle"]);
    assert_eq!(
        (idle_pid.status.code(), out(&idle_pid)),
        (Some(7), "0\n".into())
    );

    let signalled = ctl(&d, &["signal", "HUP", "idle"]);
    assert_eq!(
        (signalled.status.code(), out(&signalled)),
        (Some(7), "idle: ERROR (not running)\n".into())
    );
    let bad = ctl(&d, &["signal", "BOGUS", "web"]);
    assert_eq!(out(&bad), "web: ERROR (bad signal name)\n");
    let usr1 = ctl(&d, &["signal", "USR1", "grp:ga"]);
    assert_eq!(out(&usr1), "grp:ga: signalled\n");

    let tail = ctl(&d, &["tail", "web"]);
    assert_eq!(out(&tail), "hello web\n\n");
    let tail_err = ctl(&d, &["tail", "web", "stderr"]);
    assert!(
        out(&tail_err).is_empty() || out(&tail_err) == "\n",
        "{}",
        out(&tail_err)
    );
    let maintail = ctl(&d, &["maintail", "-200"]);
    let main_log = fs::read(&d.log).unwrap();
    let last = String::from_utf8_lossy(&main_log[main_log.len() - 200..]);
    assert_eq!(out(&maintail), format!("{last}\n"));

    let cleared = ctl(&d, &["clear", "web"]);
    assert_eq!(out(&cleared), "web: cleared\n");
    assert_eq!(fs::read_to_string(&web_log).unwrap(), "");

    let avail = ctl(&d, &["avail"]);
    let text = out(&avail);
    assert!(
        text.lines()
            .any(|l| l == format!("{:<32} {:<9} {:<9} {}", "web", "in use", "auto", "999:999")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            == format!(
                "{:<32} {:<9} {:<9} {}",
                "idle", "in use", "manual", "999:999"
            )),
        "{text}"
    );
    assert!(d.shutdown().success());
}

#[test]
fn python_supervisorctl_tail_f_streams_new_lines() {
    let mut d = daemon(
        "[program:ticker]\ncommand=sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'\n\
         startsecs=0\nstdout_logfile={dir}/ticker.log\n",
    );
    d.wait_log("ticker running", SECS(10), |t| {
        t.contains("success: ticker")
    });
    let mut child = Command::new(venv().join("bin/supervisorctl"))
        .arg("-c")
        .arg(&d.conf)
        .args(["tail", "-f", "ticker"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&text).matches("tick").count() >= 15 {
                break;
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let deadline = std::time::Instant::now() + SECS(15);
    while !reader.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "tail -f showed too little"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = reader.join().unwrap();
    // Ctrl-C ends it, as a user would.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + SECS(10);
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "tail -f did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(text.starts_with("==> Press Ctrl-C to exit <==\n"), "{text}");
    assert!(text.matches("tick").count() >= 15, "{text}");
    assert!(d.shutdown().success());
}

#[test]
fn python_supervisorctl_shutdown() {
    let mut d = daemon(PROGRAMS);
    d.wait_log("running", SECS(10), |t| t.contains("success: web"));
    let shutdown = ctl(&d, &["shutdown"]);
    assert_eq!(
        (shutdown.status.code(), out(&shutdown)),
        (Some(0), "Shut down\n".into())
    );
    let status = d.wait_exit(SECS(15));
    assert!(status.success());
    assert!(
        !d.path("supervisor.sock").exists(),
        "the socket file is removed at exit"
    );
}

/// Every method of the API through Python's own XML-RPC client.
#[test]
fn python_xmlrpc_client_calls_every_method() {
    let mut d = daemon(PROGRAMS);
    d.wait_log("running", SECS(10), |t| {
        t.contains("success: web") && t.contains("success: ga")
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop_xmlrpc.py");
    let run = Command::new(venv().join("bin/python"))
        .arg(&script)
        .arg(d.path("supervisor.sock"))
        .arg(d.pid().to_string())
        .output()
        .unwrap();
    let report = format!("{}{}", out(&run), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "{report}");
    assert!(report.contains("all methods ok"), "{report}");
    assert!(d.shutdown().success());
}
