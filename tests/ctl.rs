//! Our supervisorctl, one command at a time, against the real Python
//! supervisord 4.3.0 and against ours: the same table of cases, the outputs
//! and exit codes of the spec (supervisorctl.md §3–§4).

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn venv() -> PathBuf {
    common::python_venv()
}

const PROGRAMS: &str =
    "[program:web]\ncommand=sh -c 'echo hello web; exec sleep 100'\nstartsecs=0\n\
     stdout_logfile={dir}/web.log\n\
     [program:idle]\ncommand=sleep 100\nautostart=false\nstartsecs=0\n\
     [group:grp]\nprograms=ga,gb\n\
     [program:ga]\ncommand=sleep 100\nstartsecs=0\n\
     [program:gb]\ncommand=sleep 100\nautostart=false\nstartsecs=0\n\
     [program:nofile]\ncommand=/nonexistent/program\nautostart=false\n";

/// A supervisord (ours or Python's) in its own directory.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    conf: PathBuf,
}

impl Server {
    fn start(python: bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = dir.path().join("supervisord.conf");
        fs::write(
            &conf,
            format!(
                "{}[unix_http_server]\nfile={d}/s.sock\n\
                 [rpcinterface:supervisor]\n\
                 supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
                 [supervisorctl]\nserverurl=unix://{d}/s.sock\n{}",
                common::header(dir.path(), "info"),
                PROGRAMS.replace("{dir}", &d.to_string())
            ),
        )
        .unwrap();
        let program = if python {
            venv().join("bin/supervisord")
        } else {
            PathBuf::from(BIN)
        };
        let child = start_in_foreground(&program, &conf);
        let server = Server { child, dir, conf };
        let log = server.dir.path().join("web.log");
        let deadline = Instant::now() + SECS(20);
        while !fs::read_to_string(&log).is_ok_and(|t| t == "hello web\n") {
            assert!(
                Instant::now() < deadline,
                "the server never got web running"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // ga too (Python starts everything in one tick, but be sure).
        let deadline = Instant::now() + SECS(20);
        while !ctl(&server, &["status", "grp:ga"]).0.contains("RUNNING") {
            assert!(Instant::now() < deadline, "ga never ran");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

/// A supervisord (`program`: ours or Python's) on `conf`, in the
/// foreground, its own output discarded.
fn start_in_foreground(program: &std::path::Path, conf: &std::path::Path) -> Child {
    Command::new(program)
        .arg("-n")
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        common::terminate(&mut self.child);
    }
}

/// Our supervisorctl (the binary under its busybox name) with `args`.
fn ctl(server: &Server, args: &[&str]) -> (String, i32) {
    common::run_ctl(common::our_ctl(), &server.conf, args)
}

/// Cases run in order against one server: (args, expected stdout, exit status).
/// `None` as output: checked by a predicate in `check_special`.
fn cases() -> Vec<(&'static [&'static str], Option<&'static str>, i32)> {
    vec![
        (&["start", "idle"], Some("idle: started\n"), 0),
        (
            &["start", "idle"],
            Some("idle: ERROR (already started)\n"),
            0,
        ),
        (
            &["start", "nofile"],
            Some("nofile: ERROR (no such file)\n"),
            1,
        ),
        (&["start", "grp:*"], Some("grp:gb: started\n"), 0),
        (
            &["start", "nosuch:*"],
            Some("nosuch: ERROR (no such group)\n"),
            2,
        ),
        (
            &["start", "nosuch"],
            Some("nosuch: ERROR (no such process)\n"),
            1,
        ),
        (&["stop", "idle"], Some("idle: stopped\n"), 0),
        (&["stop", "idle"], Some("idle: ERROR (not running)\n"), 0),
        (&["restart", "web"], Some("web: stopped\nweb: started\n"), 0),
        (
            &["signal", "HUP", "idle"],
            Some("idle: ERROR (not running)\n"),
            7,
        ),
        (
            &["signal", "BOGUS", "grp:ga"],
            Some("grp:ga: ERROR (bad signal name)\n"),
            1,
        ),
        (&["pid", "idle"], Some("0\n"), 7),
        (&["pid", "nosuch"], Some("No such process nosuch\n"), 1),
        (&["version"], Some("4.3.0\n"), 0),
        (
            &["status", "nosuch"],
            Some("nosuch: ERROR (no such process)\n"),
            4,
        ),
        (&["bogus"], Some("*** Unknown syntax: bogus\n"), 1),
        (
            &["help"],
            Some(
                "\ndefault commands (type help <topic>):\n=====================================\n\
                 add    exit      open  reload  restart   start   tail   \n\
                 avail  fg        pid   remove  shutdown  status  update \n\
                 clear  maintail  quit  reread  signal    stop    version\n\n",
            ),
            0,
        ),
        (
            &["signal", "0", "grp:*"],
            Some("grp:ga: signalled\ngrp:gb: signalled\n"),
            0,
        ),
        (
            &["avail"],
            Some(
                "grp:ga                           in use    auto      999:999\n\
                 grp:gb                           in use    manual    999:999\n\
                 idle                             in use    manual    999:999\n\
                 nofile                           in use    manual    999:999\n\
                 web                              in use    auto      999:999\n",
            ),
            0,
        ),
        (&["clear", "web"], Some("web: cleared\n"), 0),
        (&["tail", "web"], Some("\n"), 0),
        (&["pid", "all"], None, 0),
        (&["maintail", "-40"], None, 0),
        (&["stop", "all"], None, 0),
        (&["status"], None, 3),
        (&["shutdown"], Some("Shut down\n"), 0),
    ]
}

fn run_table(python: bool) {
    let server = Server::start(python);
    let who = if python {
        "python supervisord"
    } else {
        "our supervisord"
    };
    for (args, expected, status) in cases() {
        let (out, code) = ctl(&server, args);
        match expected {
            Some(expected) => assert_eq!(out, expected, "{who}: {args:?}"),
            None if args == ["pid", "all"] => {
                let pids: Vec<i64> = out.lines().map(|l| l.parse().unwrap()).collect();
                assert_eq!(pids.len(), 5, "{who}: {out}");
                assert_eq!(pids.iter().filter(|&&p| p > 0).count(), 3, "{who}: {out}");
            }
            None if args == ["maintail", "-40"] => {
                let log = fs::read(server.dir.path().join("supervisord.log")).unwrap();
                let tail = String::from_utf8_lossy(&log[log.len() - 40..]).into_owned();
                assert_eq!(out, format!("{tail}\n"), "{who}");
            }
            None if args == ["stop", "all"] => {
                let mut lines: Vec<&str> = out.lines().collect();
                lines.sort();
                assert_eq!(
                    lines,
                    ["grp:ga: stopped", "grp:gb: stopped", "web: stopped"],
                    "{who}: {out}"
                );
            }
            None => {
                let names: Vec<(&str, &str)> = out
                    .lines()
                    .map(|l| {
                        let mut w = l.split_whitespace();
                        (w.next().unwrap(), w.next().unwrap())
                    })
                    .collect();
                assert_eq!(
                    names,
                    [
                        ("grp:ga", "STOPPED"),
                        ("grp:gb", "STOPPED"),
                        ("idle", "STOPPED"),
                        ("nofile", "STOPPED"),
                        ("web", "STOPPED")
                    ],
                    "{who}: {out}"
                );
                for line in out.lines() {
                    assert_eq!(
                        &line[33..43],
                        "STOPPED   ",
                        "{who}: column layout: {line:?}"
                    );
                }
            }
        }
        assert_eq!(
            code, status,
            "{who}: exit status of {args:?} (output {out:?})"
        );
    }
    // The server is gone now: status says so, as Supervisor's client does.
    let deadline = Instant::now() + SECS(20);
    while server.dir.path().join("s.sock").exists() {
        assert!(Instant::now() < deadline, "{who} kept its socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (out, code) = ctl(&server, &["status"]);
    let url = format!("unix://{}/s.sock", server.dir.path().display());
    assert_eq!((out, code), (format!("{url} no such file\n"), 4), "{who}");
}

#[test]
fn our_supervisorctl_against_python_supervisord() {
    run_table(true);
}

#[test]
fn our_supervisorctl_against_our_supervisord() {
    run_table(false);
}

#[test]
fn reread_against_python_supervisord() {
    let server = Server::start(true);
    assert_eq!(
        ctl(&server, &["reread"]),
        ("No config updates to processes\n".into(), 0)
    );
    assert_eq!(ctl(&server, &["update"]), (String::new(), 0));
}

#[test]
fn tail_f_streams_until_interrupted() {
    for python in [false, true] {
        let server = Server::start(python);
        let mut child = Command::new(BIN)
            .arg("ctl")
            .arg("-c")
            .arg(&server.conf)
            .args(["tail", "-f", "web"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut text = Vec::new();
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + SECS(10);
        while !String::from_utf8_lossy(&text).contains("hello web") {
            use std::io::Read;
            assert!(
                Instant::now() < deadline,
                "no output: {:?}",
                String::from_utf8_lossy(&text)
            );
            let n = stdout.read(&mut buf).unwrap();
            assert!(n > 0, "stream ended: {:?}", String::from_utf8_lossy(&text));
            text.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&text).starts_with("==> Press Ctrl-C to exit <==\n"));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let deadline = Instant::now() + SECS(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "tail -f ignored Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn command_line_errors() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("ctl").args(args).output().unwrap();
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    assert_eq!(
        run(&["-x"]),
        (
            format!("Error: option -x not recognized\nFor help, use {BIN} ctl -h\n"),
            Some(2)
        )
    );
    assert_eq!(
        run(&["-s", "foo", "status"]),
        (
            format!(
                "Error: invalid value for -s 'foo': value 'foo' is not a URL\nFor help, use {BIN} ctl -h\n"
            ),
            Some(2)
        )
    );
    assert_eq!(
        run(&["-u", "a", "-u", "b"]),
        (
            format!("Error: conflicting command line option '-u'\nFor help, use {BIN} ctl -h\n"),
            Some(2)
        )
    );
}

#[test]
fn fg_forwards_stdin_and_shows_the_output() {
    let mut d = common::Daemon::start(
        "[unix_http_server]\nfile={dir}/s.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{dir}/s.sock\n\
         [program:echo]\ncommand=cat\nstartsecs=0\nstdout_logfile={dir}/echo.log\n",
    );
    d.wait_for("success: echo", SECS(10));
    let mut child = Command::new(BIN)
        .arg("ctl")
        .arg("-c")
        .arg(&d.conf)
        .args(["fg", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    use std::io::{Read, Write};
    stdin.write_all(b"hello through fg\n").unwrap();
    let mut text = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + SECS(10);
    while !String::from_utf8_lossy(&text).contains("hello through fg") {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            String::from_utf8_lossy(&text)
        );
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "{:?}", String::from_utf8_lossy(&text));
        text.extend_from_slice(&buf[..n]);
    }
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("Exiting foreground"), "{rest:?}");
    assert!(child.wait().unwrap().success());
    assert!(d.shutdown().success());
}

/// `status` sends the upcheck and getAllProcessInfo as one multicall; a
/// server that serves XML-RPC without the supervisor namespace must still
/// get the upcheck's words and exit status, as Python's client gives them.
#[test]
fn status_in_one_multicall_keeps_the_upcheck_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = dir.path().join("supervisord.conf");
    // No [rpcinterface:supervisor]: only the system namespace is served.
    fs::write(
        &conf,
        format!(
            "{}[unix_http_server]\nfile={d}/s.sock\n\
             [supervisorctl]\nserverurl=unix://{d}/s.sock\n",
            common::header(dir.path(), "info")
        ),
    )
    .unwrap();
    let mut python = start_in_foreground(&venv().join("bin/supervisord"), &conf);
    let mut theirs = Command::new(venv().join("bin/supervisorctl"));
    theirs.stderr(Stdio::null());
    common::wait_until("the Python server's socket", SECS(20), || {
        dir.path().join("s.sock").exists()
    });
    let (their_out, their_code) = common::run_ctl(theirs, &conf, &["status"]);
    let (out, code) = common::run_ctl(common::our_ctl(), &conf, &["status"]);
    common::terminate(&mut python);
    assert!(
        their_out.starts_with("Sorry, supervisord responded but did not recognize"),
        "{their_out}"
    );
    assert!(
        out.starts_with(
            "Sorry, supervisord responded but did not recognize the supervisor namespace"
        ),
        "{out}"
    );
    assert_eq!(code, their_code, "{out}");
}

/// An XML-RPC server whose multicall wraps each result in an array (Python's
/// own `SimpleXMLRPCServer` does) must not be taken for one with a strange
/// API version: `status` falls back to the two calls.
#[test]
fn status_against_a_server_whose_multicall_wraps_results() {
    const SERVER: &str = r#"
import sys
from xmlrpc.server import SimpleXMLRPCServer
server = SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
server.register_multicall_functions()
server.register_function(lambda: "3.0", "supervisor.getVersion")
info = {"name": "web", "group": "web", "statename": "RUNNING", "state": 20,
        "description": "pid 42, uptime 0:00:01", "pid": 42, "start": 0, "stop": 0,
        "now": 1, "exitstatus": 0, "spawnerr": "", "logfile": "",
        "stdout_logfile": "", "stderr_logfile": ""}
server.register_function(lambda: [info], "supervisor.getAllProcessInfo")
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
    let mut python = Command::new("python3")
        .args(["-c", SERVER])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(python.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}", port.trim());
    let out = common::our_ctl()
        .args(["-s", &url, "status"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    common::terminate(&mut python);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("web ") && stdout.contains("RUNNING   pid 42, uptime 0:00:01"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}
