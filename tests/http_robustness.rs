//! Black-box robustness and authentication tests of the HTTP server, with
//! requests written by hand over the unix socket and TCP (spec `http.md`
//! §1–§3, `xmlrpc.md` §1–§2.3 and §5).
//!
//! After every abuse the daemon must still answer a normal
//! `supervisor.getState` and still be running.

mod common;

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use common::{wait_until, Daemon};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// Every socket read and write gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// The lines of a config with the RPC interface enabled.
const RPCINTERFACE: &str = "[rpcinterface:supervisor]\n\
     supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

/// A program that writes one line to its own log file and then idles.
const TALKER: &str = "[program:talker]\n\
     command=sh -c 'echo hello from talker; exec sleep 100'\n\
     startsecs=0\nstdout_logfile={dir}/talker.log\n";

const TALKER_LINE: &str = "hello from talker\n";

// ---------------------------------------------------------------------------
// A tiny HTTP client.

/// A byte stream to the daemon: either kind of socket.
trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

/// Where a daemon listens.
#[derive(Clone, Debug)]
enum Addr {
    Unix(PathBuf),
    Tcp(u16),
}

impl Addr {
    fn host(&self) -> String {
        match self {
            Addr::Unix(_) => "localhost".to_string(),
            Addr::Tcp(port) => format!("127.0.0.1:{port}"),
        }
    }
}

/// One client connection; requests are written through the reader's inner
/// stream, so the buffered reader stays in step across keep-alive requests.
struct Client {
    reader: BufReader<Box<dyn Io>>,
    host: String,
}

impl Client {
    fn connect(addr: &Addr) -> Client {
        let stream: Box<dyn Io> = match addr {
            Addr::Unix(path) => {
                let s = UnixStream::connect(path)
                    .unwrap_or_else(|e| panic!("connect to {}: {e}", path.display()));
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
                Box::new(s)
            }
            Addr::Tcp(port) => {
                let s = TcpStream::connect(("127.0.0.1", *port))
                    .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
                Box::new(s)
            }
        };
        Client {
            reader: BufReader::new(stream),
            host: addr.host(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).expect("request written");
        stream.flush().unwrap();
    }

    /// `POST path` with `body` and the headers Python's xmlrpc client sends,
    /// plus `extra` header lines (each ending in CRLF).
    fn post(&mut self, path: &str, body: &[u8], extra: &str) -> Response {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\n\
             User-Agent: robustness-test\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n\
             {extra}Content-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.send(&request);
        self.response()
    }

    /// `GET path` (HTTP/1.1) with `extra` header lines.
    fn get(&mut self, path: &str, extra: &str) -> Response {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{extra}\r\n", self.host);
        self.send(request.as_bytes());
        self.response()
    }

    /// An XML-RPC call to `/RPC2`.
    fn call(&mut self, method: &str, params: &[&str], extra: &str) -> Response {
        self.post("/RPC2", rpc_body(method, params).as_bytes(), extra)
    }

    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("response line read in time");
        assert!(
            line.ends_with(b"\n"),
            "connection ended inside a response head: {:?}",
            String::from_utf8_lossy(&line)
        );
        let text = String::from_utf8(line).expect("response head is UTF-8");
        text.trim_end_matches(['\r', '\n']).to_string()
    }

    /// Read one response: the status line, the headers, and the body framed
    /// by `Content-Length`, or only the first chunk of a chunked body (log
    /// streams never end).
    fn response(&mut self) -> Response {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_string();
        assert!(
            version.starts_with("HTTP/1."),
            "bad status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            assert!(headers.len() < 200, "endless response head");
            let line = self.line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
            chunked: false,
        };
        if response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            response.chunked = true;
            let size_line = self.line();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {size_line:?}"));
            let mut chunk = vec![0u8; size];
            self.reader
                .read_exact(&mut chunk)
                .expect("first chunk read");
            assert_eq!(self.line(), "", "a chunk ends with CRLF");
            response.body = chunk;
        } else if let Some(length) = response.header("content-length") {
            let length: usize = length.parse().expect("numeric Content-Length");
            let mut body = vec![0u8; length];
            self.reader.read_exact(&mut body).expect("body read");
            response.body = body;
        }
        response
    }

    /// Assert that the server closes the connection (EOF) before the read
    /// timeout, ignoring anything else it still sends.
    fn assert_closed(&mut self, what: &str) {
        let deadline = Instant::now() + IO_TIMEOUT;
        let mut buf = [0u8; 4096];
        loop {
            assert!(
                Instant::now() < deadline,
                "{what}: connection not closed in time"
            );
            match self.reader.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ) =>
                {
                    return
                }
                Err(e) => panic!("{what}: connection not closed: {e}"),
            }
        }
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    /// The whole body, or the first chunk of a chunked one.
    body: Vec<u8>,
    chunked: bool,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// An XML-RPC fault's code, if the body is one.
    fn fault_code(&self) -> Option<i32> {
        let text = self.text();
        if !text.contains("<fault>") {
            return None;
        }
        let after = &text[text.find("<name>faultCode</name>")?..];
        let start = after.find("<int>")? + "<int>".len();
        let end = after.find("</int>")?;
        after[start..end].trim().parse().ok()
    }

    fn fault_string(&self) -> Option<String> {
        let text = self.text();
        let after = &text[text.find("<name>faultString</name>")?..];
        let start = after.find("<string>")? + "<string>".len();
        let end = after.find("</string>")?;
        Some(after[start..end].to_string())
    }

    /// A 200 `text/xml` response that is a methodResponse with params.
    fn assert_success(&self, what: &str) {
        assert_eq!(self.status, 200, "{what}: {self:?}\n{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("text/xml")),
            "{what}: {self:?}"
        );
        let text = self.text();
        assert!(
            text.contains("<methodResponse>") && text.contains("<params>"),
            "{what}: not a successful methodResponse:\n{text}"
        );
        assert!(!text.contains("<fault>"), "{what}: a fault:\n{text}");
    }

    /// A 200 `text/xml` XML-RPC fault with `code` and `name`.
    fn assert_fault(&self, code: i32, name: &str, what: &str) {
        assert_eq!(self.status, 200, "{what}: {self:?}\n{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("text/xml")),
            "{what}: {self:?}"
        );
        assert_eq!(
            self.fault_code(),
            Some(code),
            "{what}: fault code; body:\n{}",
            self.text()
        );
        let string = self.fault_string().unwrap_or_default();
        assert!(
            string == name || string.starts_with(&format!("{name}:")),
            "{what}: faultString {string:?}, wanted {name}"
        );
    }

    /// Medusa's HTML error page with `status`.
    fn assert_error(&self, status: u16, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}\n{}", self.text());
        assert!(
            self.text().contains(&format!("Error code {status}.")),
            "{what}: error page:\n{}",
            self.text()
        );
    }
}

fn rpc_body(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param>\n<value>{p}</value>\n</param>\n"))
        .collect();
    format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n\
         <params>\n{params}</params>\n</methodCall>\n"
    )
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Authorization: Basic {}\r\n",
        BASE64.encode(format!("{user}:{password}"))
    )
}

// ---------------------------------------------------------------------------
// Daemons.

/// A daemon with an unauthenticated unix socket, the RPC interface and a
/// program with a log file; returns it with its socket address.
fn rpc_daemon() -> (Daemon, Addr) {
    let body = format!(
        "[unix_http_server]\nfile={{dir}}/supervisor.sock\n{RPCINTERFACE}\
         [supervisorctl]\nserverurl=unix://{{dir}}/supervisor.sock\n{TALKER}"
    );
    let d = Daemon::start(&body);
    let sock = d.path("supervisor.sock");
    wait_until("the socket", SECS(10), || sock.exists());
    d.wait_log("talker running", SECS(10), |t| {
        t.contains("success: talker")
    });
    (d, Addr::Unix(sock))
}

/// The daemon answers `supervisor.getState` (on a new connection, with
/// `auth` header lines) and its process is still running.
fn assert_alive(d: &mut Daemon, addr: &Addr, auth: &str, after: &str) {
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "supervisord exited after {after}; log:\n{}",
        d.log_text()
    );
    let mut client = Client::connect(addr);
    let response = client.call("supervisor.getState", &[], auth);
    response.assert_success(&format!("getState after {after}"));
    let text = response.text();
    assert!(
        text.contains("<name>statename</name>\n<value><string>RUNNING</string></value>"),
        "getState after {after}:\n{text}"
    );
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "supervisord exited after {after}"
    );
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A daemon whose unix socket and inet port both require `user` / `password`
/// (as written in the config), with the RPC interface and the talker
/// program. Retries with another port if the chosen one was taken meanwhile.
fn auth_daemon(password: &str) -> (Daemon, Addr, Addr) {
    for _ in 0..5 {
        let port = free_port();
        let body = format!(
            "[unix_http_server]\nfile={{dir}}/supervisor.sock\nusername=user\npassword={password}\n\
             [inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={password}\n\
             {RPCINTERFACE}{TALKER}"
        );
        let mut d = Daemon::start(&body);
        let sock = d.path("supervisor.sock");
        let deadline = Instant::now() + SECS(10);
        let mut exited = false;
        while !sock.exists() {
            if d.child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no socket; log:\n{}",
                d.log_text()
            );
            thread::sleep(Duration::from_millis(10));
        }
        if exited {
            // Most likely the port was taken between probing and binding.
            continue;
        }
        let log = d.path("talker.log");
        wait_until("talker's output", SECS(10), || {
            fs::read_to_string(&log).is_ok_and(|t| t == TALKER_LINE)
        });
        return (d, Addr::Unix(sock), Addr::Tcp(port));
    }
    panic!("could not start supervisord on a free port");
}

// ---------------------------------------------------------------------------
// Robustness.

#[test]
fn ten_megabyte_body_is_refused_and_the_daemon_survives() {
    let (mut d, addr) = rpc_daemon();
    let Addr::Unix(path) = &addr else {
        unreachable!()
    };
    let stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();

    // A well-formed call padded to 10 MB, sent by another thread: the server
    // may answer (and close) before it has read it all.
    let mut body = rpc_body("supervisor.getState", &[]).into_bytes();
    body.resize(10 * 1024 * 1024, b' ');
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        // Errors (EPIPE once the server has closed) are expected.
        let _ = writer.write_all(&body);
    });
    let mut client = Client {
        reader: BufReader::new(Box::new(stream)),
        host: addr.host(),
    };
    let response = client.response();
    assert!(
        matches!(response.status, 400 | 413),
        "10 MB body: {response:?}"
    );
    assert!(
        response
            .text()
            .contains(&format!("Error code {}.", response.status)),
        "{}",
        response.text()
    );
    assert_eq!(
        response.header("connection"),
        Some("close"),
        "the connection is closed after refusing a body it did not read"
    );
    client.assert_closed("after the 10 MB body");
    sender.join().unwrap();
    assert_alive(&mut d, &addr, "", "a 10 MB body");

    // The same announced size without the body following: refused at once
    // (the server must not wait for 10 MB that never come).
    let mut client = Client::connect(&addr);
    client.send(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10485760\r\n\r\n<?xml");
    let response = client.response();
    assert!(
        matches!(response.status, 400 | 413),
        "announced 10 MB body: {response:?}"
    );
    client.assert_closed("after the announced 10 MB body");
    assert_alive(&mut d, &addr, "", "an announced 10 MB body");
    assert!(d.shutdown().success());
}

#[test]
fn hostile_requests_leave_the_daemon_running() {
    let (mut d, addr) = rpc_daemon();

    // Bodies the HTTP layer reads but the XML-RPC parser must refuse cheaply.
    let nested = format!(
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName>\
         <params><param><value>{}<string>x</string>{}</value></param></params></methodCall>",
        "<array><data><value>".repeat(20_000),
        "</value></data></array>".repeat(20_000)
    );
    let many_params = rpc_body("supervisor.getState", &vec!["<int>1</int>"; 50_000]);
    let mut two_megabytes = rpc_body("supervisor.getState", &[]).into_bytes();
    two_megabytes.resize(2 * 1024 * 1024, b' ');
    let laughs = format!(
        "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]>\
         <methodCall><methodName>&lol9;</methodName></methodCall>",
        (1..10)
            .map(|i| {
                let previous = if i == 1 {
                    String::new()
                } else {
                    (i - 1).to_string()
                };
                format!(
                    "<!ENTITY lol{i} \"{}\">",
                    format!("&lol{previous};").repeat(10)
                )
            })
            .collect::<String>()
    );
    let bodies: &[(&str, &[u8])] = &[
        ("20000 nested arrays", nested.as_bytes()),
        ("50000 parameters", many_params.as_bytes()),
        ("entity expansion", laughs.as_bytes()),
    ];
    // A valid call padded to 2 MB is within the 4 MiB request limit: answered.
    let mut client = Client::connect(&addr);
    let response = client.post("/RPC2", &two_megabytes, "");
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.text().contains("RUNNING"), "{}", response.text());
    for (what, body) in bodies {
        let started = Instant::now();
        let mut client = Client::connect(&addr);
        let response = client.post("/RPC2", body, "");
        assert!(
            matches!(response.status, 400 | 413)
                || (response.status == 200 && response.fault_code() == Some(2)),
            "{what}: {response:?}\n{}",
            response.text()
        );
        assert!(
            started.elapsed() < SECS(10),
            "{what}: took {:?}",
            started.elapsed()
        );
        assert_alive(&mut d, &addr, "", what);
    }

    // Clients that vanish halfway.
    let partial: &[(&str, &[u8])] = &[
        (
            "a client gone inside its body",
            b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n<?xml",
        ),
        (
            "a client gone inside its head",
            b"POST /RPC2 HTTP/1.1\r\nHost: localh",
        ),
        ("a client gone after connecting", b""),
    ];
    for (what, bytes) in partial {
        let mut client = Client::connect(&addr);
        client.send(bytes);
        drop(client);
        assert_alive(&mut d, &addr, "", what);
    }

    // A head beyond any sane size is refused, not buffered forever.
    let mut client = Client::connect(&addr);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(256 * 1024)
    );
    // The server may answer and close before reading it all.
    let _ = client.reader.get_mut().write_all(huge.as_bytes());
    let response = client.response();
    assert!(
        (400..500).contains(&response.status),
        "a 256 KiB header: {response:?}"
    );
    client.assert_closed("after a 256 KiB header");
    assert_alive(&mut d, &addr, "", "a 256 KiB header");
    assert!(d.shutdown().success());
}

#[test]
fn malformed_xml_is_a_400() {
    let (mut d, addr) = rpc_daemon();
    let bodies: &[(&str, &[u8])] = &[
        ("not XML at all", b"this is not xml"),
        (
            "truncated XML",
            b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState",
        ),
        (
            "mismatched tags",
            b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</params></methodCall>",
        ),
        (
            "no methodName",
            b"<?xml version='1.0'?><methodCall><params></params></methodCall>",
        ),
        (
            "empty methodName",
            b"<?xml version='1.0'?><methodCall><methodName></methodName></methodCall>",
        ),
        ("empty body", b""),
        ("binary garbage", b"\x00\x01\x02<\xfe\xff>"),
    ];
    for (what, body) in bodies {
        let mut client = Client::connect(&addr);
        let response = client.post("/RPC2", body, "");
        response.assert_error(400, what);
        assert_alive(&mut d, &addr, "", what);
    }
    // A 400 for a bad body does not end a keep-alive connection that is
    // still in step: the next call on it is answered.
    let mut client = Client::connect(&addr);
    client
        .post("/RPC2", b"<oops", "")
        .assert_error(400, "keep-alive");
    client
        .call("supervisor.getState", &[], "")
        .assert_success("getState after a 400 on the same connection");
    assert!(d.shutdown().success());
}

#[test]
fn unknown_methods_are_fault_1() {
    let (mut d, addr) = rpc_daemon();
    let mut client = Client::connect(&addr);
    for method in [
        "supervisor.noSuchMethod",
        "nosuch.getState",
        "supervisor._private",
        "getState",
        "supervisor.getState.extra",
        "system.nothing",
    ] {
        let response = client.call(method, &[], "");
        response.assert_fault(1, "UNKNOWN_METHOD", method);
        assert_eq!(
            response.fault_string().as_deref(),
            Some("UNKNOWN_METHOD"),
            "{method}"
        );
    }
    assert_alive(&mut d, &addr, "", "unknown methods");
    assert!(d.shutdown().success());
}

#[test]
fn wrong_parameter_types_are_fault_2() {
    let (mut d, addr) = rpc_daemon();
    let cases: &[(&str, &[&str])] = &[
        ("supervisor.getProcessInfo", &["<int>1</int>"]),
        ("supervisor.getProcessInfo", &["<boolean>1</boolean>"]),
        (
            "supervisor.getProcessInfo",
            &["<array><data><value><string>talker</string></value></data></array>"],
        ),
        ("supervisor.getProcessInfo", &["<struct></struct>"]),
        ("supervisor.getProcessInfo", &["<nil/>"]),
        (
            "supervisor.readLog",
            &["<string>abc</string>", "<int>10</int>"],
        ),
        (
            "supervisor.readLog",
            &["<int>0</int>", "<string>ten</string>"],
        ),
        (
            "supervisor.readProcessStdoutLog",
            &[
                "<string>talker</string>",
                "<string>x1</string>",
                "<int>10</int>",
            ],
        ),
        (
            "supervisor.tailProcessStdoutLog",
            &[
                "<string>talker</string>",
                "<int>0</int>",
                "<array><data></data></array>",
            ],
        ),
        ("supervisor.startProcess", &["<int>5</int>"]),
        ("supervisor.stopProcess", &["<double>1.5</double>"]),
        (
            "supervisor.signalProcess",
            &["<int>1</int>", "<string>HUP</string>"],
        ),
        // Wrong counts.
        ("supervisor.getState", &["<string>extra</string>"]),
        ("supervisor.getProcessInfo", &[]),
        ("supervisor.readLog", &["<int>0</int>"]),
    ];
    let mut client = Client::connect(&addr);
    for (method, params) in cases {
        let what = format!("{method}({})", params.join(", "));
        let response = client.call(method, params, "");
        response.assert_fault(2, "INCORRECT_PARAMETERS", &what);
        // Every answer is a fault with HTTP 200, so the connection stays usable.
    }
    assert_alive(&mut d, &addr, "", "wrong parameter types");

    // Controls: numeric strings are fine where Supervisor applies int().
    let mut client = Client::connect(&addr);
    client
        .call(
            "supervisor.readLog",
            &["<string>0</string>", "<string>0</string>"],
            "",
        )
        .assert_success("readLog with numeric strings");
    client
        .call(
            "supervisor.getProcessInfo",
            &["<string>talker</string>"],
            "",
        )
        .assert_success("getProcessInfo(talker)");
    assert!(d.shutdown().success());
}

#[test]
fn two_hundred_concurrent_keep_alive_clients() {
    const CLIENTS: usize = 200;
    const CALLS: usize = 3;
    let (mut d, addr) = rpc_daemon();
    // Everyone connects first, then all call at once.
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addr = addr.clone();
            let barrier = barrier.clone();
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut client = Client::connect(&addr);
                    barrier.wait();
                    let mut ok = 0;
                    for call in 0..CALLS {
                        let response = client.call("supervisor.getAllProcessInfo", &[], "");
                        response.assert_success(&format!("client {i} call {call}"));
                        assert!(
                            response.text().contains("<string>talker</string>"),
                            "client {i} call {call}:\n{}",
                            response.text()
                        );
                        assert_ne!(
                            response.header("connection"),
                            Some("close"),
                            "client {i} call {call}: keep-alive connection closed"
                        );
                        ok += 1;
                    }
                    ok
                })
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + SECS(120);
    let mut answered = 0;
    let mut failures = Vec::new();
    for (i, t) in threads.into_iter().enumerate() {
        while !t.is_finished() {
            assert!(Instant::now() < deadline, "client {i} still waiting");
            thread::sleep(Duration::from_millis(5));
        }
        match t.join() {
            Ok(n) => answered += n,
            Err(e) => failures.push(format!(
                "client {i}: {}",
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CLIENTS} clients failed, first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(answered, CLIENTS * CALLS);
    assert_alive(&mut d, &addr, "", "200 concurrent clients");
    assert!(d.shutdown().success());
}

#[test]
fn wrong_method_missing_length_and_unknown_path() {
    let (mut d, addr) = rpc_daemon();

    let mut client = Client::connect(&addr);
    client.get("/RPC2", "").assert_error(400, "GET /RPC2");
    assert_alive(&mut d, &addr, "", "GET /RPC2");

    let mut client = Client::connect(&addr);
    let body = rpc_body("supervisor.getState", &[]);
    let request =
        format!("POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\r\n{body}");
    client.send(request.as_bytes());
    let response = client.response();
    response.assert_error(411, "POST without Content-Length");
    assert_eq!(
        response.header("connection"),
        Some("close"),
        "411: the body cannot be found, so the connection ends"
    );
    client.assert_closed("after 411");
    assert_alive(&mut d, &addr, "", "POST without Content-Length");

    for path in [
        "/nosuch",
        "/RPC",
        "/rpc2",
        "/index.html/",
        "/logtail/nosuch",
    ] {
        let mut client = Client::connect(&addr);
        let response = client.get(path, "");
        response.assert_error(404, &format!("GET {path}"));
        assert_eq!(
            response.header("content-type"),
            Some("text/html"),
            "GET {path}"
        );
        // A 404 keeps the connection: the next request on it is answered.
        client
            .call("supervisor.getState", &[], "")
            .assert_success(&format!("getState after GET {path}"));
    }
    assert_alive(&mut d, &addr, "", "unknown paths");
    assert!(d.shutdown().success());
}

// ---------------------------------------------------------------------------
// Authentication.

/// Check Basic auth on `/RPC2` and `/logtail/talker` over `addr`:
/// `good` is the password that works, `bad` ones must not.
fn check_auth(d: &mut Daemon, addr: &Addr, good: &str, bad: &[&str]) {
    let log = d.path("talker.log");
    let mut refusals = vec![("no Authorization".to_string(), String::new())];
    for password in bad {
        refusals.push((format!("password {password:?}"), basic("user", password)));
    }
    refusals.push(("wrong user".to_string(), basic("other", good)));
    refusals.push((
        "Digest scheme".to_string(),
        "Authorization: Digest abc\r\n".into(),
    ));

    for (what, auth) in &refusals {
        let what = format!("{addr:?} POST /RPC2, {what}");
        let mut client = Client::connect(addr);
        let response = client.call("supervisor.getState", &[], auth);
        assert_unauthorized(&response, &what);
        client.assert_closed(&what);

        let what = format!("{addr:?} GET /logtail/talker, {what}");
        let mut client = Client::connect(addr);
        let response = client.get("/logtail/talker", auth);
        assert_unauthorized(&response, &what);
        client.assert_closed(&what);
    }

    let auth = basic("user", good);
    let mut client = Client::connect(addr);
    let response = client.call("supervisor.getState", &[], &auth);
    response.assert_success(&format!("{addr:?} POST /RPC2 with credentials"));
    assert!(response.text().contains("RUNNING"), "{}", response.text());
    // The authorized connection stays usable.
    client
        .call("supervisor.getPID", &[], &auth)
        .assert_success(&format!("{addr:?} second call with credentials"));

    let mut client = Client::connect(addr);
    let response = client.get("/logtail/talker", &auth);
    assert_eq!(response.status, 200, "{addr:?} /logtail: {response:?}");
    assert!(
        response.chunked,
        "{addr:?} /logtail is chunked: {response:?}"
    );
    let expected = fs::read(&log).unwrap();
    assert_eq!(
        response.text(),
        String::from_utf8_lossy(&expected),
        "{addr:?} /logtail: the first chunk is the log's tail"
    );
    assert_eq!(response.text(), TALKER_LINE);
    drop(client);

    assert_alive(d, addr, &auth, &format!("auth checks over {addr:?}"));
}

fn assert_unauthorized(response: &Response, what: &str) {
    response.assert_error(401, what);
    assert_eq!(
        response.header("www-authenticate"),
        Some("Basic realm=\"default\""),
        "{what}: {response:?}"
    );
    assert_eq!(
        response.header("connection"),
        Some("close"),
        "{what}: {response:?}"
    );
}

#[test]
fn basic_auth_with_a_plain_password_on_unix_and_tcp() {
    let (mut d, unix, tcp) = auth_daemon("s3cret:pw");
    for addr in [&unix, &tcp] {
        check_auth(
            &mut d,
            addr,
            "s3cret:pw",
            &["wrong", "s3cret", "", "S3CRET:PW"],
        );
    }
    assert!(d.shutdown().success());
}

/// SHA-1 of "thepassword", lower-case hex (as printed by
/// `python3 -c "import hashlib; print(hashlib.sha1(b'thepassword').hexdigest())"`).
const THEPASSWORD_SHA1: &str = "82ab876d1387bfafe46cc1c8a2ef074eae50cb1d";

#[test]
fn basic_auth_with_a_sha_password_on_unix_and_tcp() {
    let configured = format!("{{SHA}}{THEPASSWORD_SHA1}");
    let (mut d, unix, tcp) = auth_daemon(&configured);
    for addr in [&unix, &tcp] {
        check_auth(
            &mut d,
            addr,
            "thepassword",
            &[&configured, THEPASSWORD_SHA1, "wrong", ""],
        );
    }
    assert!(d.shutdown().success());
}
