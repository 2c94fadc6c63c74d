//! Regressions in supervisorctl: each runs Python's supervisorctl 4.3.0 and
//! ours in the same situation (against Python's supervisord and ours, or a
//! server that is not there) and requires the same output and exit status.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use supervisord::xmlrpc::{faults, parse_call, write_fault, write_response, Fault, Limits, Value};

use super::common::{self, BIN, RPC_SERVER};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A supervisord, Python's or ours, in a directory of its own.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    conf: PathBuf,
    python: bool,
}

impl Server {
    /// Start on the config `sections` (`{dir}` is the directory); returns
    /// once `ready` holds for our supervisorctl's `status` output.
    fn start(python: bool, sections: &str, ready: impl Fn(&str) -> bool) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("supervisord.conf");
        let body = sections.replace("{dir}", dir.path().to_str().unwrap());
        fs::write(
            &conf,
            format!("{}{body}", common::header(dir.path(), "info")),
        )
        .unwrap();
        let program = if python {
            common::python_venv().join("bin/supervisord")
        } else {
            PathBuf::from(BIN)
        };
        let child = Command::new(program)
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            dir,
            conf,
            python,
        };
        let deadline = Instant::now() + SECS(20);
        loop {
            let (out, _) = ours(&server.conf, &["status"]);
            if ready(&out) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: never ready; status:\n{out}",
                server.who()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `unix://` URL of its socket `{dir}/supervisor.sock`.
    fn socket_url(&self) -> String {
        format!("unix://{}/supervisor.sock", self.dir.path().display())
    }

    fn who(&self) -> &'static str {
        if self.python {
            "python supervisord"
        } else {
            "our supervisord"
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        common::terminate(&mut self.child);
    }
}

/// Python's supervisorctl: (stdout, exit status).
fn python(conf: &Path, args: &[&str]) -> (String, i32) {
    common::run_ctl(
        Command::new(common::python_venv().join("bin/supervisorctl")),
        conf,
        args,
    )
}

/// Our supervisorctl: (stdout, exit status).
fn ours(conf: &Path, args: &[&str]) -> (String, i32) {
    common::run_ctl(common::our_ctl(), conf, args)
}

/// A supervisorctl (`client`) with `-c conf`, no action and `input` on
/// stdin: the shell, as a script drives it. (stdout, exit status).
fn shell(mut client: Command, conf: &Path, input: &str) -> (String, i32) {
    client.arg("-c").arg(conf);
    let out = common::output_with_stdin(client, input);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A supervisorctl (`client`) with `-c conf`, `args` and `input` on
/// stdin: (stdout, exit status), the status `None` if it did not finish
/// within ten seconds (it is killed then).
fn with_input(
    mut client: Command,
    conf: &Path,
    args: &[&str],
    input: &str,
) -> (String, Option<i32>) {
    use std::io::Read;
    client.arg("-c").arg(conf).args(args).stdout(Stdio::piped());
    let mut child = common::spawn_with_stdin(client, input);
    let deadline = Instant::now() + SECS(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (out, status)
}

/// What may differ between the two: uptimes tick between two runs, and
/// the generic error line is ours on purpose (`error: <message>` instead
/// of Python's exception class, source file and line). Everything else
/// must be the same, byte for byte.
fn comparable(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.starts_with("error: ") {
                "error: (generic error line)\n".to_string()
            } else if let Some(at) = line.find(", uptime ") {
                format!("{}, uptime -\n", &line[..at])
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// Both supervisorctls with `-c conf` and `args`: they must agree. Returns
/// what ours printed and its exit status.
fn agree(conf: &Path, args: &[&str], context: &str) -> (String, i32) {
    let theirs = python(conf, args);
    let ours = ours(conf, args);
    assert_eq!(
        (comparable(&ours.0), ours.1),
        (comparable(&theirs.0), theirs.1),
        "{context}: {args:?}: ours (left) and Python's supervisorctl (right) differ\n\
         ours: {ours:?}\nPython's: {theirs:?}"
    );
    ours
}

/// Processes in the states the status cases need: `foo` and `grp:ga`
/// RUNNING, `idle` STOPPED, `quick` FATAL.
const STATES: &str = "[program:foo]\ncommand=sleep 100\nstartsecs=0\n\
    [program:idle]\ncommand=sleep 100\nautostart=false\n\
    [program:quick]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=0\n\
    [group:grp]\nprograms=ga\n\
    [program:ga]\ncommand=sleep 100\nstartsecs=0\n";

fn states_settled(status: &str) -> bool {
    let state = |name: &str, state: &str| {
        status
            .lines()
            .any(|l| l.split_whitespace().take(2).eq([name, state]))
    };
    state("foo", "RUNNING") && state("grp:ga", "RUNNING") && state("quick", "FATAL")
}

#[test]
fn status_of_an_unknown_and_a_stopped_process_exited_4() {
    // (args, exit status): unknown names set 4, then each process shown
    // that is not running sets 3; the last assignment wins.
    let cases: [(&[&str], i32); 10] = [
        (&["status", "nosuch", "idle"], 3),
        (&["status", "nosuch", "quick"], 3),
        (&["status", "idle", "nosuch"], 3),
        (&["status", "grp:nosuch", "foo"], 4),
        (&["status", "nosuch:*", "foo"], 4),
        (&["status", "foo", "nosuch"], 4),
        (&["status", "nosuch", "grp:*"], 4),
        (&["status", "nosuch", "foo", "idle"], 3),
        (&["status", "foo", "grp:ga"], 0),
        (&["status", "all", "nosuch"], 3),
    ];
    for python_daemon in [true, false] {
        let server = Server::start(
            python_daemon,
            &format!("{RPC_SERVER}{STATES}"),
            states_settled,
        );
        for (args, status) in cases {
            let (out, code) = agree(&server.conf, args, server.who());
            assert_eq!(code, status, "{}: {args:?}: {out}", server.who());
        }
    }
}

#[test]
fn commands_without_upcheck_worded_a_server_that_is_down_as_the_upcheck_does() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let urls = [
        (
            format!("unix://{}/missing.sock", dir.path().display()),
            "No such file or directory (os error 2)",
        ),
        (
            format!("unix://{}", stale.display()),
            "Connection refused (os error 111)",
        ),
        (
            format!("http://127.0.0.1:{port}"),
            "Connection refused (os error 111)",
        ),
    ];
    for (i, (url, why)) in urls.iter().enumerate() {
        let conf = dir.path().join(format!("ctl{i}.conf"));
        fs::write(&conf, format!("[supervisorctl]\nserverurl={url}\n")).unwrap();
        // Without an upcheck: the generic error line, exit 1; once, even
        // with several names.
        for args in [
            &["reread"][..],
            &["update"],
            &["update", "all"],
            &["update", "foo"],
            &["avail"],
            &["add", "foo", "bar"],
            &["remove", "foo", "bar"],
            &["reload"],
        ] {
            let (out, code) = agree(&conf, args, url);
            assert_eq!(
                (out, code),
                (format!("error: {url}: {why}\n"), 1),
                "{args:?}"
            );
        }
        // Nothing to do: nothing asked, nothing said.
        for args in [&["add"][..], &["remove"]] {
            assert_eq!(agree(&conf, args, url), (String::new(), 0));
        }
        // With an upcheck, and shutdown, the words of their own stay.
        for args in [
            &["status"][..],
            &["start", "foo"],
            &["version"],
            &["shutdown"],
        ] {
            agree(&conf, args, url);
        }
    }
}

/// A program that ignores SIGTERM: its supervisord stays shutting down
/// (for `stopwaitsecs`) until the test kills it.
const STUBBORN: &str = "[program:stubborn]\n\
    command=sh -c 'trap \"\" TERM; while true; do sleep 0.2; done'\n\
    startsecs=0\nstopwaitsecs=120\n\
    [program:idle]\ncommand=sleep 100\nautostart=false\n";

#[test]
fn update_while_shutting_down_said_supervisor_shutting_down() {
    for python_daemon in [true, false] {
        let server = Server::start(
            python_daemon,
            &format!("{RPC_SERVER}{STUBBORN}"),
            |status| {
                status.starts_with("idle")
                    && status.contains("\nstubborn ")
                    && status.contains("RUNNING")
            },
        );
        let who = server.who();
        let (pid, _) = ours(&server.conf, &["pid", "stubborn"]);
        // Killed at the end, even when an assertion fails: it would outlive
        // its supervisord otherwise.
        let _stubborn = KillOnDrop(pid.trim().parse().unwrap());
        assert_eq!(
            ours(&server.conf, &["shutdown"]),
            ("Shut down\n".into(), 0),
            "{who}"
        );
        let deadline = Instant::now() + SECS(10);
        while ours(&server.conf, &["avail"]).0 != "ERROR: supervisor shutting down\n" {
            assert!(
                Instant::now() < deadline,
                "{who} never said it was shutting down"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        for args in [&["update"][..], &["update", "all"], &["update", "idle"]] {
            assert_eq!(
                agree(&server.conf, args, who),
                ("ERROR: already shutting down\n".into(), 1)
            );
        }
        for args in [
            &["reread"][..],
            &["avail"],
            &["add", "idle"],
            &["remove", "idle"],
            &["status"],
            &["reload"],
            &["shutdown"],
        ] {
            agree(&server.conf, args, who);
        }
    }
}

/// SIGKILL a program the test's supervisord started, when dropped.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A supervisord whose socket asks for credentials, and a supervisorctl
/// section that has them.
const WITH_AUTH: &str = "[unix_http_server]\nfile={dir}/supervisor.sock\n\
    username=user\npassword=secret\n\
    [rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
    [supervisorctl]\nserverurl=unix://{dir}/supervisor.sock\n\
    username=user\npassword=secret\n\
    [program:idle]\ncommand=sleep 100\nautostart=false\n";

#[test]
fn open_sent_no_credentials_to_the_new_server() {
    for python_daemon in [true, false] {
        let server = Server::start(python_daemon, WITH_AUTH, |s| s.starts_with("idle "));
        let who = server.who();
        let input = format!("open {}\nversion\n", server.socket_url());
        let python = common::python_venv().join("bin/supervisorctl");
        let theirs = shell(Command::new(python), &server.conf, &input);
        let ours = shell(common::our_ctl(), &server.conf, &input);
        assert_eq!(ours, theirs, "{who}: ours (left), Python's (right)");
        let idle = format!("{:<33}{:<10}Not started\n", "idle", "STOPPED");
        assert_eq!(
            ours,
            (
                format!("{idle}supervisor> {idle}supervisor> 4.3.0\nsupervisor> \n"),
                0
            ),
            "{who}"
        );
    }
}

/// A stand-in supervisord on TCP that answers each call with `answer`
/// (method, parameters), for answers no real one gives. Keep-alive, one
/// thread per connection; it lives as long as the test process.
fn fake_server(
    answer: impl Fn(&str, &[Value]) -> Result<Value, Fault> + Send + Sync + 'static,
) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut writer = conn;
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    let mut get = None;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if get.is_none() {
                            get = Some(line.starts_with("GET "));
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    if get == Some(true) {
                        // A log stream with nothing to say, until the
                        // client goes.
                        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                        let _ = writer.write_all(head.as_bytes());
                        let _ = reader.read_line(&mut line);
                        return;
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let call = parse_call(&body, &Limits::default()).unwrap();
                    let xml = match answer(&call.method, &call.params) {
                        Ok(value) => write_response(&value),
                        Err(fault) => write_fault(&fault),
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
                        xml.len()
                    );
                    if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&xml).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// A result struct of the `…All…`/group methods.
fn result(group: &str, name: &str, status: i32) -> Value {
    Value::structure([
        ("group", Value::str(group)),
        ("name", Value::str(name)),
        ("status", Value::Int(status.into())),
        ("description", Value::str(faults::name(status))),
    ])
}

/// A supervisorctl config for the server at `url`, in `dir`.
fn ctl_conf(dir: &Path, url: &str) -> PathBuf {
    let conf = dir.join("ctl.conf");
    fs::write(&conf, format!("[supervisorctl]\nserverurl={url}\n")).unwrap();
    conf
}

#[test]
fn clear_with_a_result_code_it_has_no_words_for_went_on() {
    let url = fake_server(|method, params| {
        let name = params.first().and_then(Value::as_str).unwrap_or("");
        let code = match (method, name) {
            ("supervisor.getVersion", _) => return Ok(Value::str("3.0")),
            ("supervisor.clearAllProcessLogs", _) => {
                return Ok(Value::Array(vec![
                    result("a", "a", faults::SUCCESS),
                    result("g", "b", faults::SPAWN_ERROR),
                    result("c", "c", faults::SUCCESS),
                ]))
            }
            (_, "fine") => return Ok(Value::Bool(true)),
            (_, "bad") => faults::BAD_NAME,
            (_, "broken") => faults::FAILED,
            (_, "dead") => faults::NOT_RUNNING,
            (_, "spawn") => faults::SPAWN_ERROR,
            (_, "abnormal") => faults::ABNORMAL_TERMINATION,
            _ => faults::BAD_ARGUMENTS,
        };
        Err(Fault::named(code, Some(name)))
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    // Supervisor knows SUCCESS, BAD_NAME and FAILED for clear; any other
    // code is an unexpected error that ends the command (so clear never
    // exits 7, whatever the spec's result-code table suggests).
    let cases: [(&[&str], &str, i32); 9] = [
        (&["clear", "fine"], "fine: cleared\n", 0),
        (&["clear", "bad"], "bad: ERROR (no such process)\n", 1),
        (&["clear", "broken"], "broken: ERROR (failed)\n", 1),
        (
            &["clear", "dead"],
            "error: Unknown result code 70 for dead\n",
            1,
        ),
        (
            &["clear", "spawn"],
            "error: Unknown result code 50 for spawn\n",
            1,
        ),
        (
            &["clear", "abnormal"],
            "error: Unknown result code 40 for abnormal\n",
            1,
        ),
        (
            &["clear", "dead", "fine"],
            "error: Unknown result code 70 for dead\n",
            1,
        ),
        (
            &["clear", "fine", "dead"],
            "fine: cleared\nerror: Unknown result code 70 for dead\n",
            1,
        ),
        (
            &["clear", "all"],
            "a: cleared\nerror: Unknown result code 50 for g:b\n",
            1,
        ),
    ];
    for (args, out, status) in cases {
        assert_eq!(agree(&conf, args, &url), (out.to_string(), status));
    }
}

#[test]
fn a_piped_shell_hung_on_the_question_of_shutdown() {
    let server = Server::start(
        false,
        &format!("{RPC_SERVER}[program:idle]\ncommand=sleep 100\nautostart=false\n"),
        |s| s.starts_with("idle "),
    );
    let input = "shutdown\nn\nreload\nno\nversion\n";
    let python = common::python_venv().join("bin/supervisorctl");
    let theirs = shell(Command::new(python), &server.conf, input);
    let (out, status) = with_input(common::our_ctl(), &server.conf, &[], input);
    let ours = (out, status.expect("the shell did not finish its input"));
    assert_eq!(ours, theirs, "ours (left), Python's (right)");
    let idle = format!("{:<33}{:<10}Not started\n", "idle", "STOPPED");
    assert_eq!(
        ours.0,
        format!(
            "{idle}supervisor> Really shut the remote supervisord process down y/N? \
             supervisor> Really restart the remote supervisord process y/N? \
             supervisor> 4.3.0\nsupervisor> \n"
        )
    );
}

/// Run a supervisorctl (`client`) with `args` (none: the shell), `before`
/// written to its stdin; once its output shows `ready`, SIGINT it as Ctrl-C
/// would, write `after` (once the shell prompts again) and close its stdin. Returns its output and exit
/// status, or `None` as status if it did not exit within five seconds
/// (it is killed then).
fn interrupt(
    mut client: Command,
    conf: &Path,
    args: &[&str],
    before: &str,
    ready: &str,
    after: &str,
) -> (String, Option<i32>) {
    use std::io::{Read, Write};
    let mut child = client
        .arg("-c")
        .arg(conf)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(before.as_bytes()).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let deadline = Instant::now() + SECS(10);
    while !String::from_utf8_lossy(&out).contains(ready) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(data) => out.extend(data),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("never saw {ready:?}: {:?}", String::from_utf8_lossy(&out));
            }
        }
    }
    // Ctrl-C once it waits again: Python's tail -f loses its empty line
    // to a Ctrl-C that comes while it handles data.
    let asleep = || {
        fs::read_to_string(format!("/proc/{}/stat", child.id()))
            .ok()
            .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('S')))
            .unwrap_or(false)
    };
    let deadline = Instant::now() + SECS(5);
    while !(asleep() && {
        std::thread::sleep(Duration::from_millis(20));
        asleep()
    }) {
        assert!(Instant::now() < deadline, "the client never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    // Typed after Ctrl-C, once the shell shows its prompt again.
    if !after.is_empty() {
        let seen = out.len();
        let deadline = Instant::now() + SECS(5);
        while !String::from_utf8_lossy(&out[seen..]).contains("supervisor> ") {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(data) => out.extend(data),
                Err(_) => break,
            }
        }
        let _ = stdin.write_all(after.as_bytes());
    }
    drop(stdin);
    let deadline = Instant::now() + SECS(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // All output, up to the end of the pipe (the child is gone).
    while let Ok(data) = rx.recv_timeout(SECS(5)) {
        out.extend(data);
    }
    (String::from_utf8_lossy(&out).into_owned(), status)
}

/// `web` says hello once and sleeps; `cat` and `cat2` echo their stdin.
const FOLLOWED: &str = "[program:web]\ncommand=sh -c 'echo hello web; exec sleep 100'\n\
    startsecs=0\nstdout_logfile={dir}/web.log\n\
    [program:cat]\ncommand=cat\nstartsecs=0\n\
    [program:cat2]\ncommand=cat\nstartsecs=0\n";

fn followed_ready(status: &str) -> bool {
    status.lines().filter(|l| l.contains("RUNNING")).count() == 3
}

#[test]
fn ctrl_c_in_tail_f_killed_supervisorctl() {
    let banner = "==> Press Ctrl-C to exit <==\n";
    for python_daemon in [true, false] {
        let server = Server::start(
            python_daemon,
            &format!("{RPC_SERVER}{FOLLOWED}"),
            followed_ready,
        );
        let who = server.who();
        let web_log = server.dir.path().join("web.log");
        let deadline = Instant::now() + SECS(10);
        while !fs::read_to_string(&web_log).is_ok_and(|t| t == "hello web\n") {
            assert!(Instant::now() < deadline, "{who}: web said nothing");
            std::thread::sleep(Duration::from_millis(20));
        }
        let python = || Command::new(common::python_venv().join("bin/supervisorctl"));
        // One-shot: an empty line, exit 0.
        let args = ["tail", "-f", "web"];
        let theirs = interrupt(python(), &server.conf, &args, "", "hello web\n", "");
        let ours = interrupt(
            common::our_ctl(),
            &server.conf,
            &args,
            "",
            "hello web\n",
            "",
        );
        assert_eq!(ours, theirs, "{who}: ours (left), Python's (right)");
        assert_eq!(ours, (format!("{banner}hello web\n\n"), Some(0)), "{who}");
        // maintail -f the same way (the main log's lines may differ).
        for client in [python(), common::our_ctl()] {
            let (out, status) =
                interrupt(client, &server.conf, &["maintail", "-f"], "", "INFO", "");
            assert!(out.starts_with(banner), "{who}: {out:?}");
            assert!(out.ends_with("\n\n"), "{who}: {out:?}");
            assert_eq!(status, Some(0), "{who}: {out:?}");
        }
        // The shell: back at the prompt.
        let (input, after) = ("tail -f web\n", "version\n");
        let theirs = interrupt(python(), &server.conf, &[], input, "hello web\n", after);
        let ours = interrupt(
            common::our_ctl(),
            &server.conf,
            &[],
            input,
            "hello web\n",
            after,
        );
        assert_eq!(
            (comparable(&ours.0), ours.1),
            (comparable(&theirs.0), theirs.1),
            "{who}: ours (left), Python's (right)"
        );
        assert!(
            ours.0.ends_with(&format!(
                "supervisor> {banner}hello web\n\nsupervisor> 4.3.0\nsupervisor> \n"
            )),
            "{who}: {ours:?}"
        );
        assert_eq!(ours.1, Some(0), "{who}");
    }
}

#[test]
fn ctrl_c_in_fg_killed_supervisorctl() {
    let banner = "==> Press Ctrl-C to exit <==\n";
    for python_daemon in [true, false] {
        let server = Server::start(
            python_daemon,
            &format!("{RPC_SERVER}{FOLLOWED}"),
            followed_ready,
        );
        let who = server.who();
        let python = || Command::new(common::python_venv().join("bin/supervisorctl"));
        // Python's fg says "Exiting foreground" but then often hangs (its
        // stream thread is not stopped): the same output is required, and
        // of ours a prompt exit 0 (spec supervisorctl.md §7.7).
        // Each its own program: fg shows the end of the log first.
        let (input, ready) = ("hello cat\n", "hello cat\n");
        let theirs = interrupt(python(), &server.conf, &["fg", "cat"], input, ready, "");
        let ours = interrupt(
            common::our_ctl(),
            &server.conf,
            &["fg", "cat2"],
            input,
            ready,
            "",
        );
        assert_eq!(ours.0, theirs.0, "{who}: ours (left), Python's (right)");
        assert!(
            theirs.1.is_none() || theirs.1 == Some(0),
            "{who}: {theirs:?}"
        );
        assert_eq!(
            ours,
            (format!("{banner}hello cat\nExiting foreground\n"), Some(0)),
            "{who}"
        );
        // The shell: back at the prompt. (The end of cat's log, the line
        // above, is shown first.)
        let (input, after) = ("fg cat\n", "version\n");
        let theirs = interrupt(python(), &server.conf, &[], input, ready, after);
        let ours = interrupt(common::our_ctl(), &server.conf, &[], input, ready, after);
        assert_eq!(
            comparable(&ours.0),
            comparable(&theirs.0),
            "{who}: ours (left), Python's (right)"
        );
        assert!(
            ours.0.ends_with(&format!(
                "supervisor> {banner}hello cat\nExiting foreground\nsupervisor> 4.3.0\nsupervisor> \n"
            )),
            "{who}: {ours:?}"
        );
        assert_eq!(ours.1, Some(0), "{who}");
    }
}

#[test]
fn usage_errors_came_before_the_upcheck() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}/missing.sock", dir.path().display());
    let conf = ctl_conf(dir.path(), &url);
    let down = format!("{url} no such file\n");
    for args in [
        &["start"][..],
        &["stop"],
        &["restart"],
        &["restart", "foo"],
        &["signal"],
        &["signal", "HUP"],
        &["tail"],
        &["tail", "-f"],
        &["tail", "-x", "foo"],
        &["tail", "a", "b", "c", "d"],
        &["tail", "foo", "bogus"],
        &["maintail", "-x"],
        &["maintail", "a", "b"],
        &["clear"],
        &["fg"],
        &["fg", "a", "b"],
    ] {
        // One line, once (restart does not go on to stop and start).
        assert_eq!(agree(&conf, args, &url), (down.clone(), 7), "{args:?}");
    }
    // version looks at its arguments first, as ours did.
    agree(&conf, &["version", "x"], &url);
}

#[test]
fn tail_and_fg_worded_some_errors_their_own_way() {
    let url = fake_server(|method, params| {
        let name = params.first().and_then(Value::as_str).unwrap_or("");
        match (method, name) {
            ("supervisor.getVersion", _) => Ok(Value::str("3.0")),
            (_, "bad") => Err(Fault::named(faults::BAD_NAME, Some(name))),
            _ => Err(Fault::named(faults::FAILED, Some("it's broken"))),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let cases: [(&[&str], &str, i32); 5] = [
        // The channel as Python shows a string: lower-cased, quoted.
        (&["tail", "web", "BOGUS"], "Error: bad channel 'bogus'\n", 1),
        (&["tail", "web", "It's"], "Error: bad channel \"it's\"\n", 1),
        // No help after this one.
        (
            &["fg", "a", "b"],
            "ERROR: too many process names supplied\n",
            1,
        ),
        (&["fg", "bad"], "ERROR: bad process name supplied\n", 1),
        // Another fault: shown as Python shows it, the status left alone.
        (
            &["fg", "web"],
            "ERROR: <Fault 30: \"FAILED: it's broken\">\n",
            0,
        ),
    ];
    for (args, out, status) in cases {
        assert_eq!(agree(&conf, args, &url), (out.to_string(), status));
    }
}

#[test]
fn start_stop_and_signal_worded_result_codes_of_one_another() {
    let url = fake_server(|method, params| {
        let name = params.first().and_then(Value::as_str).unwrap_or("");
        if method == "supervisor.getVersion" {
            return Ok(Value::str("3.0"));
        }
        if method.ends_with("AllProcesses") {
            return Ok(Value::Array(vec![
                result("a", "a", faults::SUCCESS),
                result("b", "b", faults::NO_FILE),
                result("c", "c", faults::SUCCESS),
            ]));
        }
        if method.ends_with("ProcessGroup") {
            return Ok(Value::Array(vec![
                result("g", "ok", faults::SUCCESS),
                result("g", "x", faults::FAILED),
                result("g", "y", faults::SUCCESS),
            ]));
        }
        let code = match name {
            "ok" => return Ok(Value::Bool(true)),
            "failed" => faults::FAILED,
            "notrunning" => faults::NOT_RUNNING,
            "spawn" => faults::SPAWN_ERROR,
            "nofile" => faults::NO_FILE,
            "badsignal" => faults::BAD_SIGNAL,
            _ => 99,
        };
        Err(Fault::named(code, Some(name)))
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let unknown = |code: i32, ns: &str| format!("error: Unknown result code {code} for {ns}\n");
    let cases: Vec<(&[&str], String, i32)> = vec![
        // Codes of stopping and signalling are unexpected for start ...
        (&["start", "failed"], unknown(30, "failed"), 1),
        (&["start", "notrunning"], unknown(70, "notrunning"), 1),
        (&["start", "badsignal"], unknown(11, "badsignal"), 1),
        // ... and end the command.
        (&["start", "failed", "ok"], unknown(30, "failed"), 1),
        (
            &["start", "ok", "failed"],
            format!("ok: started\n{}", unknown(30, "failed")),
            1,
        ),
        (
            &["start", "g:*", "ok"],
            format!("g:ok: started\n{}", unknown(30, "g:x")),
            1,
        ),
        // Codes of starting are unexpected for stop and signal.
        (&["stop", "spawn"], unknown(50, "spawn"), 1),
        (&["signal", "HUP", "nofile"], unknown(20, "nofile"), 1),
        (
            &["stop", "all"],
            format!("a: stopped\n{}", unknown(20, "b")),
            1,
        ),
        // Codes they know, as before.
        (&["stop", "failed"], "FAILED: failed\n".into(), 1),
        (
            &["stop", "g:*"],
            "g:ok: stopped\nFAILED\ng:y: stopped\n".into(),
            1,
        ),
        (
            &["start", "spawn"],
            "spawn: ERROR (spawn error)\n".into(),
            7,
        ),
        (
            &["signal", "HUP", "notrunning"],
            "notrunning: ERROR (not running)\n".into(),
            7,
        ),
        (&["start", "weird"], unknown(99, "weird"), 1),
        // restart: an unexpected error in stop leaves start undone.
        (&["restart", "spawn"], unknown(50, "spawn"), 1),
        (&["restart", "ok"], "ok: stopped\nok: started\n".into(), 0),
    ];
    for (args, out, status) in cases {
        assert_eq!(agree(&conf, args, &url), (out, status), "{args:?}");
    }
}

#[test]
fn pid_went_on_after_an_unexpected_fault() {
    let url = fake_server(|method, params| {
        let name = params.first().and_then(Value::as_str).unwrap_or("");
        match (method, name) {
            ("supervisor.getVersion", _) => Ok(Value::str("3.0")),
            (_, "up") => Ok(Value::structure([("pid", Value::Int(42))])),
            (_, "bad") => Err(Fault::named(faults::BAD_NAME, Some(name))),
            _ => Err(Fault::named(faults::FAILED, Some(name))),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let cases: [(&[&str], &str, i32); 3] = [
        (&["pid", "bad", "up"], "No such process bad\n42\n", 1),
        (&["pid", "up", "broken"], "42\nerror: FAILED: broken\n", 1),
        (&["pid", "broken", "up"], "error: FAILED: broken\n", 1),
    ];
    for (args, out, status) in cases {
        assert_eq!(
            agree(&conf, args, &url),
            (out.to_string(), status),
            "{args:?}"
        );
    }
}

#[test]
fn update_skipped_stopped_lines_and_went_on_after_errors() {
    let url = fake_server(|method, params| {
        let group = params.first().and_then(Value::as_str).unwrap_or("");
        let names = |names: &[&str]| Value::Array(names.iter().map(|n| Value::str(*n)).collect());
        match (method, group) {
            ("supervisor.getVersion", _) => Ok(Value::str("3.0")),
            ("supervisor.reloadConfig", _) => Ok(Value::Array(vec![Value::Array(vec![
                names(&["new", "newbad", "new2"]),
                names(&["chg", "chgfail"]),
                names(&["gone", "bad"]),
            ])])),
            ("supervisor.getAllProcessInfo", _) => Ok(Value::Array(
                ["chg", "chgfail", "gone", "bad"]
                    .iter()
                    .map(|g| result(g, g, faults::SUCCESS))
                    .collect(),
            )),
            ("supervisor.stopProcessGroup", "bad" | "chgfail") => {
                Ok(Value::Array(vec![result(group, "p", faults::FAILED)]))
            }
            ("supervisor.stopProcessGroup", _) => {
                Ok(Value::Array(vec![result(group, "p", faults::SUCCESS)]))
            }
            (_, "newbad") => Err(Fault::named(faults::FAILED, Some(group))),
            _ => Ok(Value::Bool(true)),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let everything = "gone: stopped\ngone: removed process group\n\
                      bad: stopped\nbad: has problems; not removing\n\
                      chg: stopped\nchg: updated process group\n\
                      chgfail: stopped\nchgfail: updated process group\n\
                      new: added process group\nerror: FAILED: newbad\n";
    let cases: [(&[&str], &str, i32); 4] = [
        (&["update"], everything, 1),
        (&["update", "all", "bogus"], everything, 1),
        // Each name once.
        (
            &["update", "bogus", "bogus", "chg", "new2"],
            "ERROR: no such group: bogus\nchg: stopped\nchg: updated process group\n\
             new2: added process group\n",
            1,
        ),
        (
            &["update", "chg", "new2"],
            "chg: stopped\nchg: updated process group\nnew2: added process group\n",
            0,
        ),
    ];
    for (args, out, status) in cases {
        assert_eq!(
            agree(&conf, args, &url),
            (out.to_string(), status),
            "{args:?}"
        );
    }
}

#[test]
fn tail_and_maintail_called_any_fault_an_unknown_error_reading_the_log() {
    let url = fake_server(|method, params| {
        let first = params.first();
        let name = first.and_then(Value::as_str).unwrap_or("");
        let code = match (method, name) {
            ("supervisor.getVersion", _) => return Ok(Value::str("3.0")),
            ("supervisor.readLog", _) => match first.and_then(Value::as_int) {
                Some(-1) => faults::NO_FILE,
                Some(-2) => faults::FAILED,
                _ => faults::BAD_ARGUMENTS,
            },
            (_, "nofile") => faults::NO_FILE,
            (_, "failed") => faults::FAILED,
            (_, "bad") => faults::BAD_NAME,
            _ => faults::BAD_ARGUMENTS,
        };
        Err(Fault::named(code, None))
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let cases: [(&[&str], &str); 7] = [
        (&["tail", "nofile"], "nofile: ERROR (no log file)\n"),
        (
            &["tail", "failed"],
            "failed: ERROR (unknown error reading log)\n",
        ),
        (
            &["tail", "bad", "stderr"],
            "bad: ERROR (no such process name)\n",
        ),
        (&["tail", "other"], "error: BAD_ARGUMENTS\n"),
        (&["maintail", "-1"], "supervisord: ERROR (no log file)\n"),
        (
            &["maintail", "-2"],
            "supervisord: ERROR (unknown error reading log)\n",
        ),
        (&["maintail", "-3"], "error: BAD_ARGUMENTS\n"),
    ];
    for (args, out) in cases {
        assert_eq!(agree(&conf, args, &url), (out.to_string(), 1), "{args:?}");
    }
}

#[test]
fn fg_took_any_failure_to_send_for_a_process_gone() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let url = fake_server(move |method, params| {
        let name = params.first().and_then(Value::as_str).unwrap_or("");
        let state = |state: &str| {
            let code = if state == "RUNNING" { 20 } else { 100 };
            Ok(Value::structure([
                ("state", Value::Int(code)),
                ("statename", Value::str(state)),
            ]))
        };
        match (method, name) {
            ("supervisor.getVersion", _) => Ok(Value::str("3.0")),
            ("supervisor.getProcessInfo", "dying") => {
                // Running when fg starts, exited after the first line.
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                state(if n.is_multiple_of(2) {
                    "RUNNING"
                } else {
                    "EXITED"
                })
            }
            ("supervisor.getProcessInfo", _) => state("RUNNING"),
            (_, "stuck") => Err(Fault::named(faults::FAILED, Some("it's stuck"))),
            (_, "notrunning") => Err(Fault::named(faults::NOT_RUNNING, None)),
            _ => Ok(Value::Bool(true)),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let conf = ctl_conf(dir.path(), &url);
    let banner = "==> Press Ctrl-C to exit <==\n";
    let cases = [
        (
            "stuck",
            "ERROR: <Fault 30: \"FAILED: it's stuck\">\nExiting foreground\n",
        ),
        ("notrunning", "Process got killed\nExiting foreground\n"),
        ("dying", "Process got killed\nExiting foreground\n"),
        ("fine", "Exiting foreground\n"),
    ];
    for (name, end) in cases {
        let args = ["fg", name];
        let python = common::python_venv().join("bin/supervisorctl");
        let theirs = with_input(Command::new(python), &conf, &args, "hello\n");
        let ours = with_input(common::our_ctl(), &conf, &args, "hello\n");
        // Python's fg may hang after its last line (spec supervisorctl.md
        // §7.7); its output is what counts.
        assert_eq!(ours.0, theirs.0, "{name}: ours (left), Python's (right)");
        assert!(matches!(theirs.1, None | Some(0)), "{name}: {theirs:?}");
        assert_eq!(ours, (format!("{banner}{end}"), Some(0)), "{name}");
    }
}
