//! Black-box tests of the HTTP servers over loopback TCP and unix sockets in
//! temporary directories, with a fake backend and a raw-socket client.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;

use super::limits::MAX_STREAMS;
use super::listen::{self, IN_USE};
use super::{Backend, LogRequest, Reply, Servers};
use crate::config::model::{Credentials, InetHttpServer, UnixHttpServer};

/// Every client read and write gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- backend

#[derive(Default)]
struct Fake {
    logs: Mutex<HashMap<(String, bool), PathBuf>>,
    main: Mutex<Option<PathBuf>>,
    gate: Gate,
}

/// Holds `hang` calls (on their worker) and `later` calls (deferred) until
/// opened.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<GateState>, std::sync::Condvar)>);

#[derive(Default)]
struct GateState {
    open: bool,
    hanging: usize,
    deferred: Vec<mpsc::Sender<Vec<u8>>>,
}

impl Gate {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.0 .0.lock().unwrap()
    }

    /// Calls held on their worker, and deferred ones.
    fn held(&self) -> (usize, usize) {
        let state = self.state();
        (state.hanging, state.deferred.len())
    }

    fn open(&self) {
        let mut state = self.state();
        state.open = true;
        for sender in state.deferred.drain(..) {
            let _ = sender.send(b"<later/>".to_vec());
        }
        self.0 .1.notify_all();
    }

    fn hang(&self) {
        let mut state = self.state();
        state.hanging += 1;
        while !state.open {
            state = self.0 .1.wait(state).unwrap();
        }
        state.hanging -= 1;
    }

    fn later(&self) -> Reply {
        let (tx, rx) = mpsc::channel();
        let mut state = self.state();
        if state.open {
            let _ = tx.send(b"<later/>".to_vec());
        } else {
            state.deferred.push(tx);
        }
        Reply::Later(rx)
    }
}

impl Fake {
    fn with_log(self, namespec: &str, stderr: bool, path: &Path) -> Self {
        self.logs
            .lock()
            .unwrap()
            .insert((namespec.to_string(), stderr), path.to_path_buf());
        self
    }

    fn with_main(self, path: &Path) -> Self {
        *self.main.lock().unwrap() = Some(path.to_path_buf());
        self
    }

    fn with_gate(mut self, gate: &Gate) -> Self {
        self.gate = gate.clone();
        self
    }
}

impl Backend for Fake {
    fn probe(&self, which: crate::daemon::http::Probe) -> crate::daemon::http::ProbeAnswer {
        crate::daemon::http::ProbeAnswer {
            status: 200,
            body: format!("{which:?}\n"),
        }
    }

    fn rpc(&self, body: Vec<u8>) -> Reply {
        match body.as_slice() {
            b"slow" => {
                let (tx, rx) = mpsc::channel();
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(200));
                    let _ = tx.send(b"<slow/>".to_vec());
                });
                Reply::Later(rx)
            }
            b"dropped" => {
                let (_tx, rx) = mpsc::channel();
                Reply::Later(rx)
            }
            b"bad" => Reply::Error(400),
            b"hang" => {
                self.gate.hang();
                Reply::Ready(b"<hang/>".as_slice().into())
            }
            b"later" => self.gate.later(),
            _ => Reply::Ready([b"echo:".as_slice(), &body].concat().into()),
        }
    }

    fn log_file(&self, which: LogRequest) -> Option<PathBuf> {
        match which {
            LogRequest::Main => self.main.lock().unwrap().clone(),
            LogRequest::Process { namespec, stderr } => {
                self.logs.lock().unwrap().get(&(namespec, stderr)).cloned()
            }
        }
    }
}

// ---------------------------------------------------------------- config

fn creds(user: &str, password: &str) -> Option<Credentials> {
    Some(Credentials {
        username: user.to_string(),
        password: password.to_string(),
        open_probes: false,
        readonly: None,
    })
}

fn unix_section(path: &Path, chmod: u32, auth: Option<Credentials>) -> UnixHttpServer {
    UnixHttpServer {
        section: "unix_http_server".to_string(),
        file: path.to_path_buf(),
        chmod,
        chown: None,
        auth,
        refuse_get_actions: false,
    }
}

fn inet_section(auth: Option<Credentials>) -> InetHttpServer {
    InetHttpServer {
        section: "inet_http_server".to_string(),
        host: "127.0.0.1".to_string(),
        port: 0,
        auth,
        refuse_get_actions: false,
    }
}

/// One unix server (no auth) in `dir` with `backend`.
fn unix_server(dir: &Path, backend: Fake) -> (Servers, PathBuf) {
    let path = dir.join("supervisor.sock");
    let servers =
        Servers::start_with(&[unix_section(&path, 0o700, None)], &[], Arc::new(backend)).unwrap();
    (servers, path)
}

fn tcp_server(backend: Fake, auth: Option<Credentials>) -> (Servers, SocketAddr) {
    let servers = Servers::start_with(&[], &[inet_section(auth)], Arc::new(backend)).unwrap();
    let addr = servers.tcp_addrs()[0];
    (servers, addr)
}

/// Poll `cond` every 10 ms for at most `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    cond()
}

// ---------------------------------------------------------------- client

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Client {
    r: BufReader<Stream>,
}

#[derive(Debug)]
struct Response {
    status_line: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    fn tcp(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            r: BufReader::new(Stream::Tcp(s)),
        }
    }

    fn unix(path: &Path) -> Client {
        let s = UnixStream::connect(path).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            r: BufReader::new(Stream::Unix(s)),
        }
    }

    fn set_read_timeout(&self, t: Duration) {
        match self.r.get_ref() {
            Stream::Tcp(s) => s.set_read_timeout(Some(t)).unwrap(),
            Stream::Unix(s) => s.set_read_timeout(Some(t)).unwrap(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).unwrap();
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        line
    }

    /// Status line and headers.
    fn head(&mut self) -> Response {
        let status_line = self.line();
        assert!(status_line.ends_with("\r\n"), "status line {status_line:?}");
        let status_line = status_line.trim_end().to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        for _ in 0..100 {
            let line = self.line();
            assert!(line.ends_with("\r\n"), "header line {line:?}");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").unwrap();
            headers.push((name.to_string(), value.to_string()));
        }
        Response {
            status_line,
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// A response with a `Content-Length` body.
    fn response(&mut self) -> Response {
        let mut response = self.head();
        let length: usize = response
            .header("Content-Length")
            .expect("Content-Length")
            .parse()
            .unwrap();
        response.body = vec![0; length];
        self.r.read_exact(&mut response.body).unwrap();
        response
    }

    /// A response to HEAD: no body.
    fn head_response(&mut self) -> Response {
        self.head()
    }

    /// One chunk of a chunked body.
    fn chunk(&mut self) -> Vec<u8> {
        let size_line = self.line();
        assert!(size_line.ends_with("\r\n"), "chunk size line {size_line:?}");
        let size = usize::from_str_radix(size_line.trim_end(), 16).unwrap();
        assert_eq!(format!("{size:x}"), size_line.trim_end(), "lower-case hex");
        let mut data = vec![0; size + 2];
        self.r.read_exact(&mut data).unwrap();
        assert_eq!(&data[size..], b"\r\n");
        data.truncate(size);
        data
    }

    /// Chunks until their concatenation is `expected` long (at most `limit`).
    fn chunks_until(&mut self, expected: &[u8], limit: Duration) -> Vec<u8> {
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        while got.len() < expected.len() && Instant::now() < deadline {
            got.extend(self.chunk());
        }
        got
    }

    /// Raw bytes (at least `n`, within the read timeout).
    fn raw(&mut self, n: usize) -> Vec<u8> {
        let mut data = vec![0; n];
        self.r.read_exact(&mut data).unwrap();
        data
    }

    /// True if the server closes the connection (EOF, or a reset) within the
    /// read timeout, with no more data.
    fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.r.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }

    /// True if nothing arrives within `wait` and the connection stays open.
    fn quiet_for(&mut self, wait: Duration) -> bool {
        self.set_read_timeout(wait);
        let mut byte = [0u8; 1];
        let quiet = match self.r.read(&mut byte) {
            Ok(_) => false,
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        self.set_read_timeout(IO_TIMEOUT);
        quiet
    }
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Authorization: Basic {token}\r\n")
}

fn post_rpc(body: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n").into_bytes()
}

/// What supervisorctl sends for `tail -f`: note the extra CRLF at the end.
fn get_stream(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
         User-agent: Supervisor HTTP Client\r\n{extra}\r\n\r\n"
    )
    .into_bytes()
}

fn append(path: &Path, data: &[u8]) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

fn numbered_lines(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| format!("out line {i}\n").into_bytes())
        .collect()
}

// ---------------------------------------------------------------- sockets

#[test]
fn servers_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Servers>();
}

#[test]
fn unix_socket_modes_and_removal() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sock");
    let b = dir.path().join("b.sock");
    let servers = Servers::start_with(
        &[unix_section(&a, 0o700, None), unix_section(&b, 0o770, None)],
        &[],
        Arc::new(Fake::default()),
    )
    .unwrap();
    for (path, mode) in [(&a, 0o700), (&b, 0o770)] {
        let meta = fs::metadata(path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o7777, mode);
    }
    assert_eq!(servers.unix_paths(), vec![a.clone(), b.clone()]);
    assert_eq!(
        servers.crit_messages(),
        [
            "Server 'unix_http_server' running without any HTTP authentication checking",
            "Server 'unix_http_server' running without any HTTP authentication checking",
        ]
    );
    // Only the two sockets: the temporary names are gone.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    let mut client = Client::unix(&a);
    client.send(&get("/ok.html", ""));
    assert_eq!(client.response().text(), "OK");
    servers.stop();
    assert!(!a.exists() && !b.exists());
    assert!(UnixStream::connect(&a).is_err());
}

#[test]
fn stale_socket_is_replaced_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    drop(UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let mut notes = Vec::new();
    let (listener, file) =
        listen::bind_unix(&unix_section(&path, 0o700, None), &mut notes).unwrap();
    assert_eq!(
        String::from_utf8(notes).unwrap(),
        format!("Unlinking stale socket {}\n", path.display())
    );
    assert_eq!(file.path(), path);
    drop(listener);
    file.remove();
    assert!(!path.exists());
}

#[test]
fn live_socket_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sock");
    let other = UnixListener::bind(&path).unwrap();
    other.set_nonblocking(true).unwrap();
    // Answer the probe like a server would, for at most 5 s.
    let answer = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok((mut s, _)) = other.accept() {
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    });
    let err = Servers::start_with(
        &[unix_section(&path, 0o700, None)],
        &[],
        Arc::new(Fake::default()),
    )
    .err()
    .unwrap();
    assert_eq!(
        err,
        "Another program is already listening on a port that one of our HTTP servers is \
         configured to use.  Shut this program down first before starting supervisord."
    );
    assert_eq!(err, IN_USE);
    assert!(answer.join().unwrap());
    assert!(path.exists(), "the other server's socket is left alone");
}

#[test]
fn tcp_port_in_use() {
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut section = inet_section(None);
    section.port = other.local_addr().unwrap().port();
    let err = Servers::start_with(&[], &[section], Arc::new(Fake::default()))
        .err()
        .unwrap();
    assert_eq!(err, IN_USE);
}

#[test]
fn missing_directory_and_failed_start_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sock");
    let bad = dir.path().join("nodir").join("s.sock");
    let err = Servers::start_with(
        &[
            unix_section(&good, 0o700, None),
            unix_section(&bad, 0o700, None),
        ],
        &[],
        Arc::new(Fake::default()),
    )
    .err()
    .unwrap();
    assert_eq!(
        err,
        "Cannot open an HTTP server: socket.error reported errno.ENOENT (2)"
    );
    assert!(!good.exists(), "the server that did start is stopped again");
}

#[test]
fn tcp_round_trip_and_headers() {
    let (servers, addr) = tcp_server(Fake::default(), None);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    assert_eq!(
        servers.crit_messages(),
        ["Server 'inet_http_server' running without any HTTP authentication checking"]
    );
    let mut client = Client::tcp(addr);
    client.send(&post_rpc("<call/>", ""));
    let response = client.response();
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("Content-Type"), Some("text/xml"));
    assert_eq!(response.header("Server"), Some("Medusa/1.12"));
    assert!(response.header("Date").unwrap().ends_with(" GMT"));
    assert_eq!(response.header("Connection"), None);
    assert_eq!(response.text(), "echo:<call/>");
    servers.stop();
}

// ---------------------------------------------------------------- /RPC2

#[test]
fn deferred_reply_does_not_hold_up_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let (servers, path) = unix_server(dir.path(), Fake::default());
    let start = Instant::now();
    let slow_path = path.clone();
    let slow = thread::spawn(move || {
        let mut client = Client::unix(&slow_path);
        client.send(&post_rpc("slow", ""));
        let response = client.response();
        (response.text(), Instant::now())
    });
    thread::sleep(Duration::from_millis(30));
    let mut fast = Client::unix(&path);
    for i in 0..5 {
        fast.send(&post_rpc(&format!("fast{i}"), ""));
        assert_eq!(fast.response().text(), format!("echo:fast{i}"));
    }
    let fast_done = Instant::now();
    let (slow_text, slow_done) = slow.join().unwrap();
    assert_eq!(slow_text, "<slow/>");
    assert!(
        fast_done < slow_done,
        "the fast client waited for the slow one"
    );
    assert!(slow_done - start >= Duration::from_millis(200));
    servers.stop();
}

#[test]
fn dropped_deferred_reply_is_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let (servers, path) = unix_server(dir.path(), Fake::default());
    let mut client = Client::unix(&path);
    client.send(&post_rpc("dropped", ""));
    let response = client.response();
    assert_eq!(response.status, 500);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());
    servers.stop();
}

#[test]
fn rpc_http_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (servers, path) = unix_server(dir.path(), Fake::default());

    // GET → 400, and the connection goes on.
    let mut client = Client::unix(&path);
    client.send(&get("/RPC2", ""));
    let response = client.response();
    assert_eq!(response.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(response.header("Content-Type"), Some("text/html"));
    assert!(response.text().contains("<p>Error code 400.\r\n"));
    client.send(&post_rpc("again", ""));
    assert_eq!(client.response().text(), "echo:again");

    // Any URI starting with /RPC2.
    client.send(b"POST /RPC2/x HTTP/1.1\r\nContent-Length: 1\r\n\r\nx".as_slice());
    assert_eq!(client.response().text(), "echo:x");

    // A backend error status.
    client.send(&post_rpc("bad", ""));
    assert_eq!(client.response().status, 400);

    // No Content-Length → 411 and close.
    let mut client = Client::unix(&path);
    client.send(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status_line, "HTTP/1.1 411 Length Required");
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());

    // Chunked request body → 411 too.
    let mut client = Client::unix(&path);
    client.send(b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(client.response().status, 411);
    assert!(client.closed());

    // Too big → 413 without reading the body, and close.
    let mut client = Client::unix(&path);
    let big = super::limits::MAX_BODY + 1;
    client.send(format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {big}\r\n\r\n").as_bytes());
    let response = client.response();
    assert_eq!(response.status, 413);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());

    // Unparseable request line → 400 and close.
    let mut client = Client::unix(&path);
    client.send(b"GET /\r\n\r\n");
    assert_eq!(client.response().status, 400);
    assert!(client.closed());
    servers.stop();
}

#[test]
fn keep_alive_pipelining_and_http10() {
    let (servers, addr) = tcp_server(Fake::default(), None);

    // Two sequential requests on one HTTP/1.1 connection (supervisorctl).
    let mut client = Client::tcp(addr);
    client.send(&post_rpc("one", ""));
    assert_eq!(client.response().text(), "echo:one");
    client.send(&post_rpc("two", ""));
    assert_eq!(client.response().text(), "echo:two");

    // Pipelined: answered in order.
    let mut both = post_rpc("three", "");
    both.extend(post_rpc("four", ""));
    client.send(&both);
    assert_eq!(client.response().text(), "echo:three");
    assert_eq!(client.response().text(), "echo:four");

    // HTTP/1.1 + Connection: close → said and done.
    client.send(&post_rpc("five", "Connection: close\r\n"));
    let response = client.response();
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());

    // HTTP/1.0 → close, with the header.
    let mut client = Client::tcp(addr);
    client.send(b"GET /ok.html HTTP/1.0\r\n\r\n");
    let response = client.response();
    assert_eq!(response.status_line, "HTTP/1.0 200 OK");
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());

    // HTTP/1.0 keep-alive.
    let mut client = Client::tcp(addr);
    for _ in 0..2 {
        client.send(b"GET /ok.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let response = client.response();
        assert_eq!(response.header("Connection"), Some("Keep-Alive"));
        assert_eq!(response.text(), "OK");
    }
    servers.stop();
}

#[test]
fn lenient_parsing_and_expect_continue() {
    let (servers, addr) = tcp_server(Fake::default(), None);
    let mut client = Client::tcp(addr);
    // Leading blank lines, no space after the colon, odd header case.
    client.send(b"\r\n\r\nPOST /RPC2 HTTP/1.1\r\ncontent-LENGTH:2\r\n\r\nhi");
    assert_eq!(client.response().text(), "echo:hi");

    client.send(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(client.line(), "HTTP/1.1 100 Continue\r\n");
    assert_eq!(client.line(), "\r\n");
    client.send(b"body");
    assert_eq!(client.response().text(), "echo:body");
    servers.stop();
}

#[test]
fn pages_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let (servers, path) = unix_server(dir.path(), Fake::default());
    let mut client = Client::unix(&path);

    client.send(&get("/ok.html", ""));
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Type"), Some("text/plain"));
    assert_eq!(response.header("Content-Length"), Some("2"));
    assert_eq!(response.text(), "OK");

    client.send(&get("/nothing/here", ""));
    let response = client.response();
    assert_eq!(response.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(response.header("Content-Type"), Some("text/html"));
    assert_eq!(response.header("Content-Length"), Some("134"));
    assert_eq!(
        response.text(),
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n\
         <h1>Error response</h1>\r\n<p>Error code 404.\r\n<p>Message: Not Found.\r\n\
         </body>\r\n"
    );

    // HEAD: headers only.
    client.send(b"HEAD /nothing HTTP/1.1\r\n\r\n");
    let response = client.head_response();
    assert_eq!(response.status, 404);
    assert_eq!(response.header("Content-Length"), Some("134"));

    // Other methods on other paths → 400; the connection goes on.
    client.send(b"DELETE /nothing HTTP/1.1\r\n\r\n");
    assert_eq!(client.response().status, 400);

    // A body on a request that does not want one is skipped.
    client.send(b"POST /ok.html HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(client.response().text(), "OK");
    client.send(&get("/ok.html", ""));
    assert_eq!(client.response().text(), "OK");
    client.send(b"POST /ok.html HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(client.line(), "HTTP/1.1 100 Continue\r\n");
    assert_eq!(client.line(), "\r\n");
    client.send(b"ab");
    assert_eq!(client.response().text(), "OK");

    // A body too big to skip: 413 and close.
    let big = super::limits::MAX_BODY + 1;
    client.send(format!("GET /ok.html HTTP/1.1\r\nContent-Length: {big}\r\n\r\n").as_bytes());
    let response = client.response();
    assert_eq!(response.status, 413);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed());
    servers.stop();
}

// ---------------------------------------------------------------- auth

fn check_auth(mut connect: impl FnMut() -> Client, user: &str, password: &str, log: &Path) {
    fs::write(log, b"hello\n").unwrap();
    let cases: [(&str, String, bool); 5] = [
        ("none", String::new(), false),
        ("wrong password", basic(user, "wrong"), false),
        ("wrong user", basic("nobody", password), false),
        ("right", basic(user, password), true),
        (
            "malformed",
            "Authorization: Basic bm9jb2xvbg==\r\n".to_string(),
            false,
        ),
    ];
    for (what, header, ok) in cases {
        for path in ["/RPC2", "/logtail/foo", "/ok.html", "/nothing"] {
            let mut client = connect();
            let request = if path == "/RPC2" {
                post_rpc("x", &header)
            } else {
                get(path, &header)
            };
            client.send(&request);
            if !ok {
                let response = client.response();
                assert_eq!(response.status, 401, "{what} {path}");
                assert_eq!(
                    response.header("WWW-Authenticate"),
                    Some("Basic realm=\"default\""),
                    "{what} {path}"
                );
                assert_eq!(response.header("Connection"), Some("close"));
                assert_eq!(response.header("Content-Length"), Some("137"));
                assert!(client.closed(), "{what} {path}: connection closed");
                continue;
            }
            match path {
                "/logtail/foo" => {
                    let response = client.head();
                    assert_eq!(response.status, 200, "{what} {path}");
                    assert_eq!(client.chunk(), b"hello\n");
                }
                "/nothing" => assert_eq!(client.response().status, 404),
                _ => assert_eq!(client.response().status, 200, "{what} {path}"),
            }
        }
    }
}

#[test]
fn auth_over_tcp_and_unix() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("foo.log");
    let sock = dir.path().join("auth.sock");
    let backend = Fake::default().with_log("foo", false, &log);
    let servers = Servers::start_with(
        // sha1("thepassword")
        &[unix_section(
            &sock,
            0o700,
            creds("admin", "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d"),
        )],
        &[inet_section(creds("user", "pass:word"))],
        Arc::new(backend),
    )
    .unwrap();
    assert!(servers.crit_messages().is_empty());
    let addr = servers.tcp_addrs()[0];
    check_auth(|| Client::tcp(addr), "user", "pass:word", &log);
    check_auth(|| Client::unix(&sock), "admin", "thepassword", &log);

    // The {SHA} string itself is not the password.
    let mut client = Client::unix(&sock);
    client.send(&post_rpc(
        "x",
        &basic("admin", "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d"),
    ));
    assert_eq!(client.response().status, 401);

    // A 401 closes even a keep-alive connection that still has a body coming.
    let mut client = Client::tcp(addr);
    client.send(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
    client.send(&[b'x'; 50_000]);
    assert_eq!(client.response().status, 401);
    assert!(client.closed());
    servers.stop();
}

// ---------------------------------------------------------------- streams

#[test]
fn logtail_follows_appends_rotation_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("foo.log");
    let content = numbered_lines(300);
    fs::write(&log, &content).unwrap();
    let (servers, sock) = unix_server(dir.path(), Fake::default().with_log("foo", false, &log));
    let mut client = Client::unix(&sock);
    client.send(&get_stream("/logtail/foo", ""));
    let head = client.head();
    assert_eq!(head.status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        head.header("Content-Type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(head.header("X-Accel-Buffering"), Some("no"));
    assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
    assert!(head.header("Last-Modified").unwrap().ends_with(" GMT"));
    assert_eq!(head.header("Content-Length"), None);
    assert_eq!(client.chunk(), &content[content.len() - 1024..]);

    // An appended line arrives as its own chunk within a second.
    let start = Instant::now();
    append(&log, b"out line 300\n");
    assert_eq!(client.chunk(), b"out line 300\n");
    assert!(start.elapsed() < Duration::from_secs(1));

    // Rotation: the end of the old file, then the new file from its start.
    append(&log, b"last old line\n");
    fs::rename(&log, dir.path().join("foo.log.1")).unwrap();
    fs::write(&log, b"first new line\n").unwrap();
    let expected = b"last old line\nfirst new line\n";
    assert_eq!(client.chunks_until(expected, IO_TIMEOUT), expected);
    append(&log, b"second new line\n");
    assert_eq!(client.chunk(), b"second new line\n");

    // Truncation in place: a notice, then from offset 0.
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    thread::sleep(Duration::from_millis(250));
    append(&log, b"after truncation\n");
    let expected = b"==> File truncated <==\nafter truncation\n";
    assert_eq!(client.chunks_until(expected, IO_TIMEOUT), expected);

    // The client goes: the stream ends and its slot is free again.
    assert_eq!(servers.streams_open(), 1);
    drop(client);
    assert!(eventually(Duration::from_secs(2), || servers
        .streams_open()
        == 0));
    servers.stop();
}

#[test]
fn logtail_small_file_stderr_and_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.log");
    let err = dir.path().join("err.log");
    let empty = dir.path().join("empty.log");
    fs::write(&out, b"stdout text\n").unwrap();
    fs::write(&err, b"stderr text\n").unwrap();
    fs::write(&empty, b"").unwrap();
    let backend = Fake::default()
        .with_log("grp:foo", false, &out)
        .with_log("grp:foo", true, &err)
        .with_log("empty", false, &empty)
        .with_log("missing", false, &dir.path().join("nope.log"));
    let (servers, sock) = unix_server(dir.path(), backend);

    let mut client = Client::unix(&sock);
    client.send(&get_stream("/logtail/grp%3Afoo", ""));
    assert_eq!(client.head().status, 200);
    assert_eq!(client.chunk(), b"stdout text\n");

    let mut client = Client::unix(&sock);
    client.send(&get_stream("/logtail/grp:foo/stderr?x=1", ""));
    assert_eq!(client.head().status, 200);
    assert_eq!(client.chunk(), b"stderr text\n");

    // An empty file: headers, then nothing until something is written.
    let mut client = Client::unix(&sock);
    client.send(&get_stream("/logtail/empty/stdout", ""));
    assert_eq!(client.head().status, 200);
    assert!(client.quiet_for(Duration::from_millis(300)));
    append(&empty, b"x\n");
    assert_eq!(client.chunk(), b"x\n");

    for path in [
        "/logtail/nosuch",
        "/logtail/grp:foo/other",
        "/logtail/missing",
        "/logtail",
        "/logtail/",
        "/mainlogtail",
    ] {
        let mut client = Client::unix(&sock);
        client.send(&get_stream(path, ""));
        assert_eq!(client.response().status, 404, "{path}");
    }
    let mut client = Client::unix(&sock);
    client.send(b"POST /logtail/grp:foo HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(client.response().status, 400);
    servers.stop();
}

#[test]
fn mainlogtail_and_http10_raw_stream() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("supervisord.log");
    fs::write(&main, b"main log\n").unwrap();
    let (servers, addr) = tcp_server(Fake::default().with_main(&main), None);

    let mut client = Client::tcp(addr);
    client.send(&get_stream("/mainlogtail", ""));
    let head = client.head();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("X-Accel-Buffering"), None);
    assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(client.chunk(), b"main log\n");
    append(&main, b"more\n");
    assert_eq!(client.chunk(), b"more\n");

    // HTTP/1.0: raw bytes, unbuffered, Connection: close.
    let mut client = Client::tcp(addr);
    client.send(b"GET /mainlogtail HTTP/1.0\r\n\r\n");
    let head = client.head();
    assert_eq!(head.status_line, "HTTP/1.0 200 OK");
    assert_eq!(head.header("Connection"), Some("close"));
    assert_eq!(head.header("Transfer-Encoding"), None);
    assert_eq!(client.raw(14), b"main log\nmore\n");
    append(&main, b"raw\n");
    assert_eq!(client.raw(4), b"raw\n");
    servers.stop();
}

#[test]
fn stream_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("foo.log");
    fs::write(&log, b"x\n").unwrap();
    let (servers, sock) = unix_server(dir.path(), Fake::default().with_log("foo", false, &log));
    let mut streams = Vec::new();
    for _ in 0..MAX_STREAMS {
        let mut client = Client::unix(&sock);
        client.send(&get_stream("/logtail/foo", ""));
        assert_eq!(client.head().status, 200);
        streams.push(client);
    }
    let mut client = Client::unix(&sock);
    client.send(&get_stream("/logtail/foo", ""));
    assert_eq!(client.response().status, 503);
    streams.pop();
    assert!(eventually(Duration::from_secs(2), || {
        let mut client = Client::unix(&sock);
        client.send(&get_stream("/logtail/foo", ""));
        client.head().status == 200
    }));
    servers.stop();
}

#[test]
fn stop_ends_streams_and_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("foo.log");
    fs::write(&log, b"x\n").unwrap();
    let (servers, sock) = unix_server(dir.path(), Fake::default().with_log("foo", false, &log));
    let mut idle = Client::unix(&sock);
    idle.send(&get("/ok.html", ""));
    assert_eq!(idle.response().text(), "OK");
    let mut stream = Client::unix(&sock);
    stream.send(&get_stream("/logtail/foo", ""));
    assert_eq!(stream.head().status, 200);
    assert_eq!(stream.chunk(), b"x\n");
    let sites = servers.sites();
    let start = Instant::now();
    servers.stop();
    assert!(idle.closed());
    assert!(stream.closed());
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(eventually(Duration::from_secs(2), || sites
        .iter()
        .all(|site| site.streams.load(Ordering::SeqCst) == 0)));
    assert!(!sock.exists());
}

mod budgets;

#[test]
fn a_burst_of_tcp_clients_beyond_128_waited_for_syn_retries() {
    // std's TcpListener::bind listens with a backlog of 128: clients past it
    // had their SYN dropped and waited a second or more for a retry. Ours
    // queues as many as the system allows (at least the 300 here).
    let section = InetHttpServer {
        host: "127.0.0.1".into(),
        port: 0,
        ..inet_section(None)
    };
    let listener = listen::bind_tcp(&section).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut clients = Vec::new();
    for i in 0..300 {
        // Nobody accepts: each connect completes only if the kernel queues it.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(stream) => clients.push(stream),
            Err(e) => panic!("client {i} was not queued: {e}"),
        }
    }
    assert_eq!(clients.len(), 300);
}
