//! `/healthz`, `/readyz`, `/metrics` (parsed with Python's
//! `prometheus_client`), the opt-in `probes_without_auth`, and
//! `supervisorctl status --json`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

use common::http::free_port;
use common::{Daemon, RPC_SERVER};

const LIMIT: Duration = Duration::from_secs(20);
/// admin:secret
const BASIC: &str = "YWRtaW46c2VjcmV0";

/// One HTTP/1.0 request; `(status, headers, body)`.
fn request(
    stream: &mut dyn ReadWrite,
    method: &str,
    path: &str,
    auth: bool,
) -> (u16, String, String) {
    let auth = if auth {
        format!("Authorization: Basic {BASIC}\r\n")
    } else {
        String::new()
    };
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{auth}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn unix_get(d: &Daemon, path: &str) -> (u16, String, String) {
    let mut stream = UnixStream::connect(d.path("supervisor.sock")).unwrap();
    request(&mut stream, "GET", path, false)
}

fn tcp(port: u16, method: &str, path: &str, auth: bool) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    request(&mut stream, method, path, auth)
}

#[test]
fn healthz_is_a_round_trip_through_the_event_loop() {
    let mut d = Daemon::start(RPC_SERVER);
    common::wait_until("the socket", LIMIT, || d.path("supervisor.sock").exists());
    let (status, head, body) = unix_get(&d, "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(
        head.contains("Content-Type: text/plain; charset=utf-8"),
        "{head}"
    );
    // Only GET and HEAD: a probe never changes anything.
    let mut stream = UnixStream::connect(d.path("supervisor.sock")).unwrap();
    assert_eq!(request(&mut stream, "POST", "/healthz", false).0, 405);
    d.shutdown();
}

#[test]
fn readyz_lists_what_is_not_ready_until_everything_is() {
    let body = format!(
        "{RPC_SERVER}\
         [program:quick]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:slow]\ncommand=sleep 1000\nstartsecs=2\n\
         [program:after]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=slow\n\
         [program:oneshot]\ncommand=true\nstartsecs=0\nautorestart=false\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\n\
         [program:checked]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=test -e {{dir}}/healthy\nhealthcheck_interval=0.2\nhealthcheck_retries=1\n"
    );
    let mut d = Daemon::start(&body);
    d.wait_for("success: quick entered RUNNING", LIMIT);
    let (status, _, text) = unix_get(&d, "/readyz");
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("not ready: slow (STARTING)\n"), "{text}");
    assert!(text.contains("not ready: after (waiting for "), "{text}");
    assert!(
        text.contains("not ready: checked (RUNNING, health "),
        "{text}"
    );
    assert!(
        !text.contains("quick") && !text.contains("manual"),
        "{text}"
    );

    d.wait_for("success: slow entered RUNNING", LIMIT);
    std::fs::write(d.path("healthy"), "").unwrap();
    common::wait_until("readyz to say ready", LIMIT, || {
        let (status, _, text) = unix_get(&d, "/readyz");
        (status, text.as_str()) == (200, "ready\n")
    });
    // The one-shot exited 0 and stays EXITED: done, not unready.
    assert!(d.ctl(&["status", "oneshot"]).0.contains("EXITED"));

    d.ctl(&["stop", "quick"]);
    let (status, _, text) = unix_get(&d, "/readyz");
    assert_eq!(
        (status, text.as_str()),
        (503, "not ready: quick (STOPPED)\n")
    );
    d.shutdown();
}

#[test]
fn probes_need_credentials_unless_the_key_opens_them() {
    for open in [false, true] {
        let port = free_port();
        let body = format!(
            "{RPC_SERVER}[inet_http_server]\nport=127.0.0.1:{port}\nusername=admin\n\
             password=secret\nprobes_without_auth={open}\n\
             [program:a]\ncommand=sleep 1000\nstartsecs=0\n"
        );
        let mut d = Daemon::start(&body);
        d.wait_for("success: a entered RUNNING", LIMIT);
        for path in ["/healthz", "/readyz"] {
            let expected = if open { 200 } else { 401 };
            assert_eq!(
                tcp(port, "GET", path, false).0,
                expected,
                "{path} open={open}"
            );
            assert_eq!(
                tcp(port, "GET", path, true).0,
                200,
                "{path} with credentials"
            );
        }
        // Metrics, the API and every other page keep their password.
        for path in ["/metrics", "/RPC2", "/logtail/a", "/healthz/x", "/"] {
            assert_eq!(tcp(port, "GET", path, false).0, 401, "{path} open={open}");
        }
        assert_eq!(tcp(port, "GET", "/metrics", true).0, 200);
        d.shutdown();
    }
}

/// Parse `text` with prometheus_client's parser and print
/// `name{labels} value` per sample, sorted, for the test to read.
fn parse_with_prometheus_client(text: &str) -> String {
    let python = common::python_venv().join("bin/python");
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        out.append(f"{family.type} {s.name}{{{labels}}} {float(s.value)!r}")
print("\n".join(sorted(out)))
"#;
    let mut command = Command::new(python);
    command.args(["-c", script]);
    let out = common::output_with_stdin(command, text);
    assert!(
        out.status.success(),
        "prometheus_client rejected the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn metrics_parse_with_prometheus_client_and_count_what_happened() {
    let body = format!(
        "{RPC_SERVER}\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:crashy]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n\
         [program:off]\ncommand=sleep 1000\nautostart=false\n\
         [group:g]\nprograms=web\n"
    );
    let mut d = Daemon::start(&body);
    d.wait_for("success: web entered RUNNING", LIMIT);
    d.wait_for("exited: crashy (exit status 3; not expected)", LIMIT);
    d.ctl(&["restart", "g:web"]);
    let (status, head, text) = unix_get(&d, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    let samples = parse_with_prometheus_client(&text);
    let has = |line: &str| {
        assert!(
            samples.lines().any(|l| l == line),
            "no sample {line:?} in:\n{samples}"
        )
    };
    has("gauge supervisord_up{} 1.0");
    has("gauge supervisord_processes{state=RUNNING} 1.0");
    has("gauge supervisord_processes{state=EXITED} 1.0");
    has("gauge supervisord_processes{state=STOPPED} 1.0");
    has("gauge supervisord_process_up{group=g,name=web} 1.0");
    has("gauge supervisord_process_state{group=g,name=web} 20.0");
    has("counter supervisord_process_starts_total{group=g,name=web} 2.0");
    has("counter supervisord_process_restarts_total{group=g,name=web} 1.0");
    has("gauge supervisord_process_exit_status{group=crashy,name=crashy} 3.0");
    has("gauge supervisord_process_state{group=off,name=off} 0.0");
    has("counter supervisord_process_starts_total{group=off,name=off} 0.0");
    assert!(
        samples.contains("gauge supervisord_info{identifier=supervisor,state=RUNNING,version="),
        "{samples}"
    );
    // Never exited: no exit status sample.
    assert!(
        !samples.contains("supervisord_process_exit_status{group=off"),
        "{samples}"
    );
    d.shutdown();
}

#[test]
fn status_json_lists_every_process_info_member() {
    let body = format!(
        "{RPC_SERVER}\
         [program:a]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1000\nautostart=false\n"
    );
    let mut d = Daemon::start(&body);
    d.wait_for("success: a entered RUNNING", LIMIT);
    let (out, code) = d.ctl(&["status", "--json"]);
    assert_eq!(code, 3, "b is stopped: {out}");
    let python = r#"
import json, sys
infos = json.load(sys.stdin)
for i in infos:
    print(i["group"], i["name"], i["statename"], i["state"], i["pid"] > 0, sorted(i)[:3])
"#;
    let parsed = python_reads(python, &out);
    assert_eq!(
        parsed,
        "a a RUNNING 20 True ['description', 'exitstatus', 'group']\n\
         b b STOPPED 0 False ['description', 'exitstatus', 'group']\n"
    );
    // Names select as in the text form; an unknown one goes to stderr.
    let (out, code) = d.ctl(&["status", "a", "--json"]);
    assert_eq!(
        (
            python_reads("import json,sys; print(len(json.load(sys.stdin)))", &out),
            code
        ),
        ("1\n".into(), 0)
    );
    let (out, code) = d.ctl(&["status", "--json", "nosuch"]);
    assert_eq!((out.as_str(), code), ("[]\n", 4));
    d.shutdown();
}

fn python_reads(script: &str, input: &str) -> String {
    let mut command = Command::new("python3");
    command.args(["-c", script]);
    let out = common::output_with_stdin(command, input);
    assert!(out.status.success(), "python could not read: {input}");
    String::from_utf8(out.stdout).unwrap()
}
