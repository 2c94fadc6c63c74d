//! Transport::call and Transport::stream against fake servers.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::*;

/// Longest any test waits for anything.
const WAIT: Duration = Duration::from_secs(5);

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// A listener on a unix socket in `dir`, or on 127.0.0.1:0; and its URL.
    fn new(tcp: bool, dir: &tempfile::TempDir) -> (Listener, String) {
        if tcp {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            (Listener::Tcp(listener), format!("http://127.0.0.1:{port}"))
        } else {
            let path = dir.path().join("test.sock");
            let listener = UnixListener::bind(&path).unwrap();
            (
                Listener::Unix(listener),
                format!("unix://{}", path.display()),
            )
        }
    }

    /// One connection, within WAIT and unless `stop` is set; reads on it
    /// time out after WAIT.
    fn accept(&self, stop: &AtomicBool) -> Option<Sock> {
        let deadline = Instant::now() + WAIT;
        match self {
            Listener::Unix(l) => l.set_nonblocking(true).unwrap(),
            Listener::Tcp(l) => l.set_nonblocking(true).unwrap(),
        }
        while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
            let accepted = match self {
                Listener::Unix(l) => l.accept().map(|(s, _)| Sock::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Sock::Tcp(s)),
            };
            match accepted {
                Ok(sock) => {
                    sock.set_nonblocking(false).unwrap();
                    match &sock {
                        Sock::Unix(s) => s.set_read_timeout(Some(WAIT)).unwrap(),
                        Sock::Tcp(s) => s.set_read_timeout(Some(WAIT)).unwrap(),
                    }
                    return Some(sock);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(2))
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
        None
    }
}

/// Bytes up to and including the blank line after the headers.
fn read_request_head(sock: &mut Sock) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 1 << 20 {
        match sock.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// One whole request (head and Content-Length body); None at its end.
fn read_request(sock: &mut Sock) -> Option<Vec<u8>> {
    let mut request = read_request_head(sock)?;
    let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0; length];
    sock.read_exact(&mut body).ok()?;
    request.extend_from_slice(&body);
    Some(request)
}

/// What the fake server does with a request.
enum Act {
    /// Send these bytes, keep the connection.
    Reply(Vec<u8>),
    /// Send these bytes, then close.
    ReplyClose(Vec<u8>),
    /// Close without answering.
    Close,
}

type Script = dyn Fn(usize, usize) -> Act + Send + Sync;

/// (connection number, request bytes) of every request received.
type Log = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// A fake XML-RPC server: each connection on a thread of its own; the
/// script is told the connection's number and the request's number on
/// it. Every request received is logged with its connection's number.
struct Fake {
    url: String,
    log: Log,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Fake {
    fn start(tcp: bool, script: impl Fn(usize, usize) -> Act + Send + Sync + 'static) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let (listener, url) = Listener::new(tcp, &dir);
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let acceptor = {
            let (log, stop) = (log.clone(), stop.clone());
            thread::spawn(move || {
                let mut conn_no = 0;
                while let Some(mut sock) = listener.accept(&stop) {
                    let (log, script) = (log.clone(), script.clone());
                    thread::spawn(move || {
                        for nth in 0.. {
                            let Some(request) = read_request(&mut sock) else {
                                break;
                            };
                            log.lock().unwrap().push((conn_no, request));
                            match script(conn_no, nth) {
                                Act::Reply(bytes) => {
                                    if sock.write_all(&bytes).is_err() {
                                        break;
                                    }
                                }
                                Act::ReplyClose(bytes) => {
                                    let _ = sock.write_all(&bytes);
                                    break;
                                }
                                Act::Close => break,
                            }
                        }
                    });
                    conn_no += 1;
                }
            })
        };
        Fake {
            url,
            log,
            stop,
            acceptor: Some(acceptor),
            _dir: dir,
        }
    }

    /// (connection number, request bytes) of every request so far.
    fn requests(&self) -> Vec<(usize, Vec<u8>)> {
        self.log.lock().unwrap().clone()
    }

    /// The connection numbers the requests came on.
    fn conns(&self) -> Vec<usize> {
        self.requests().into_iter().map(|(c, _)| c).collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A 200 answer carrying `body`, with extra header lines.
fn answer(extra: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn ok(value: &Value) -> Vec<u8> {
    answer("", &xmlrpc::write_response(value))
}

fn version() -> Result<Result<Value, Fault>, TransportError> {
    Ok(Ok(Value::str("3.0")))
}

fn settle() {
    thread::sleep(Duration::from_millis(100));
}

fn expected_request(host: &str, auth: Option<&str>, body: &[u8]) -> Vec<u8> {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: Basic {a}\r\n"));
    let mut bytes = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\
         User-Agent: Python-xmlrpc/3.11\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n\
         {auth}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn call_round_trip_on_unix_socket_sends_pythons_request() {
    let fake = Fake::start(false, |_, _| Act::Reply(ok(&Value::str("3.0"))));
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.url(), fake.url);
    assert_eq!(t.call("supervisor.getVersion", &[]), version());
    let body = xmlrpc::write_call("supervisor.getVersion", &[]);
    assert_eq!(body.len(), 115);
    assert_eq!(
        fake.requests(),
        vec![(0, expected_request("localhost", None, &body))]
    );
}

#[test]
fn call_over_tcp_with_credentials() {
    let fault = Fault::new(10, "BAD_NAME: x");
    let reply = answer("", &xmlrpc::write_fault(&fault));
    let fake = Fake::start(true, move |_, _| Act::Reply(reply.clone()));
    let mut t = Transport::new(&fake.url, Some("user"), Some("pass")).unwrap();
    let params = [Value::str("x"), Value::Int(-1600), Value::Bool(true)];
    assert_eq!(t.call("supervisor.startProcess", &params), Ok(Err(fault)));
    let host = fake.url.strip_prefix("http://").unwrap();
    let body = xmlrpc::write_call("supervisor.startProcess", &params);
    let expected = expected_request(host, Some("dXNlcjpwYXNz"), &body);
    assert_eq!(fake.requests(), vec![(0, expected)]);
}

#[test]
fn authorization_only_when_username_and_password_are_set() {
    let fake = Fake::start(false, |_, _| Act::Reply(ok(&Value::str("3.0"))));
    let mut t = Transport::new(&fake.url, Some("user"), None).unwrap();
    t.call("m", &[]).unwrap().unwrap();
    t.set_credentials(None, Some("pass"));
    t.call("m", &[]).unwrap().unwrap();
    t.set_credentials(Some(""), Some(""));
    t.call("m", &[]).unwrap().unwrap();
    t.set_credentials(Some("user"), Some("pass"));
    t.call("m", &[]).unwrap().unwrap();
    let body = xmlrpc::write_call("m", &[]);
    let expected = vec![
        (0, expected_request("localhost", None, &body)),
        (0, expected_request("localhost", None, &body)),
        (0, expected_request("localhost", Some("Og=="), &body)),
        (
            0,
            expected_request("localhost", Some("dXNlcjpwYXNz"), &body),
        ),
    ];
    assert_eq!(fake.requests(), expected);
}

#[test]
fn calls_reuse_one_connection() {
    for tcp in [false, true] {
        let fake = Fake::start(tcp, |_, _| Act::Reply(ok(&Value::str("3.0"))));
        let mut t = Transport::new(&fake.url, None, None).unwrap();
        for _ in 0..3 {
            assert_eq!(t.call("supervisor.getVersion", &[]), version());
        }
        assert_eq!(fake.conns(), vec![0, 0, 0]);
    }
}

#[test]
fn idle_connection_closed_by_the_server_is_replaced() {
    let fake = Fake::start(false, |conn, _| {
        if conn == 0 {
            Act::ReplyClose(ok(&Value::str("3.0")))
        } else {
            Act::Reply(ok(&Value::str("3.0")))
        }
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.call("a", &[]), version());
    settle();
    assert_eq!(t.call("b", &[]), version());
    assert_eq!(fake.conns(), vec![0, 1]);
}

#[test]
fn reused_connection_closed_without_answer_is_resent_once() {
    // The second request reaches the server, which closes without a
    // byte of answer (as a server closing an idle connection at that
    // moment would): sent again on a new connection.
    let fake = Fake::start(false, |conn, nth| match (conn, nth) {
        (0, 1) => Act::Close,
        _ => Act::Reply(ok(&Value::str("3.0"))),
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.call("a", &[]), version());
    assert_eq!(t.call("b", &[]), version());
    let requests = fake.requests();
    assert_eq!(fake.conns(), vec![0, 0, 1]);
    assert_eq!(requests[1].1, requests[2].1);

    // Only once: the new connection failing the same way is an error.
    let fake = Fake::start(false, |conn, nth| match (conn, nth) {
        (0, 0) => Act::Reply(ok(&Value::str("3.0"))),
        _ => Act::Close,
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.call("a", &[]), version());
    assert!(matches!(t.call("b", &[]), Err(TransportError::Io(_))));
    settle();
    assert_eq!(fake.conns(), vec![0, 0, 1]);
}

#[test]
fn new_connection_closed_without_answer_is_not_resent() {
    for tcp in [false, true] {
        let fake = Fake::start(tcp, |_, _| Act::Close);
        let mut t = Transport::new(&fake.url, None, None).unwrap();
        assert_eq!(
            t.call("supervisor.startProcess", &[Value::str("x")]),
            Err(TransportError::Io(
                "Remote end closed connection without response".into()
            ))
        );
        settle();
        assert_eq!(fake.conns(), vec![0]);
    }
}

#[test]
fn partial_answer_is_not_resent() {
    let partials: [&[u8]; 3] = [
        b"HTTP/1.1 200 OK\r\nContent-Len",
        b"H",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<?xml",
    ];
    for partial in partials {
        let fake = Fake::start(false, move |_, nth| match nth {
            0 => Act::Reply(ok(&Value::str("3.0"))),
            _ => Act::ReplyClose(partial.to_vec()),
        });
        let mut t = Transport::new(&fake.url, None, None).unwrap();
        assert_eq!(t.call("a", &[]), version());
        assert_eq!(
            t.call("b", &[]),
            Err(TransportError::Io(
                "connection closed in the middle of the response".into()
            ))
        );
        settle();
        assert_eq!(fake.conns(), vec![0, 0]);
        // The broken connection is not kept: the next call opens one.
        assert_eq!(t.call("c", &[]), version());
        assert_eq!(fake.conns(), vec![0, 0, 1]);
    }
}

#[test]
fn connection_close_and_http_1_0_are_honoured() {
    // The server keeps every connection open; the client must not.
    let fake = Fake::start(true, |conn, _| {
        let body = xmlrpc::write_response(&Value::str("3.0"));
        Act::Reply(match conn {
            0 => answer("Connection: close\r\n", &body),
            1 => {
                let mut a = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                    .into_bytes();
                a.extend_from_slice(&body);
                a
            }
            _ => {
                let mut a = format!(
                    "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                a.extend_from_slice(&body);
                a
            }
        })
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    for _ in 0..4 {
        assert_eq!(t.call("a", &[]), version());
    }
    assert_eq!(fake.conns(), vec![0, 1, 2, 2]);
}

#[test]
fn status_401_is_unauthorized_and_drops_the_connection() {
    // Like Python's supervisord: 401 with a body, connection left open.
    let fake = Fake::start(false, |conn, _| match conn {
        0 => Act::Reply(
            b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 3\r\n\r\nno!"
                .to_vec(),
        ),
        _ => Act::Reply(ok(&Value::str("3.0"))),
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.call("a", &[]), Err(TransportError::Unauthorized));
    t.set_credentials(Some("user"), Some("pass"));
    assert_eq!(t.call("a", &[]), version());
    assert_eq!(fake.conns(), vec![0, 1]);
}

#[test]
fn other_status_is_an_http_error() {
    // A 500 answer without a length on a connection the server keeps
    // open: the body is not waited for, the connection is dropped.
    let fake = Fake::start(true, |conn, _| match conn {
        0 => Act::Reply(b"HTTP/1.1 500 Internal Server Error\r\n\r\nbody".to_vec()),
        _ => Act::Reply(ok(&Value::str("3.0"))),
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(t.call("a", &[]), Err(TransportError::Http(500)));
    assert_eq!(t.call("a", &[]), version());
    assert_eq!(fake.conns(), vec![0, 1]);
}

#[test]
fn connect_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}/missing.sock", dir.path().display());
    let mut t = Transport::new(&missing, None, None).unwrap();
    assert_eq!(t.call("a", &[]), Err(TransportError::NoSuchFile));
    assert_eq!(
        t.stream("/mainlogtail", &Cancel::default(), &mut |_| true),
        Err(TransportError::NoSuchFile)
    );

    let path = dir.path().join("stale.sock");
    drop(UnixListener::bind(&path).unwrap());
    let mut t = Transport::new(&format!("unix://{}", path.display()), None, None).unwrap();
    assert_eq!(t.call("a", &[]), Err(TransportError::Refused));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut t = Transport::new(&format!("http://127.0.0.1:{port}"), None, None).unwrap();
    assert_eq!(t.call("a", &[]), Err(TransportError::Refused));
    assert_eq!(
        t.stream("/mainlogtail", &Cancel::default(), &mut |_| true),
        Err(TransportError::Refused)
    );

    let mut t = Transport::new("http://no-such-host.invalid:9001", None, None).unwrap();
    assert!(matches!(t.call("a", &[]), Err(TransportError::Io(_))));
}

#[test]
fn raw_control_characters_in_strings_parse() {
    let body = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
                 <value><string>\x1b[31mred\x1b[0m \x01</string></value>\n\
                 </param>\n</params>\n</methodResponse>\n";
    let reply = answer("", body);
    let fake = Fake::start(false, move |_, _| Act::Reply(reply.clone()));
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    assert_eq!(
        t.call("supervisor.readProcessStdoutLog", &[]),
        Ok(Ok(Value::str("\x1b[31mred\x1b[0m \x01")))
    );
}

#[test]
fn lenient_answer_framing() {
    let body = xmlrpc::write_response(&Value::str("3.0"));
    let (first, second) = body.split_at(40);
    let mut chunked = format!(
        "\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1  200  OK\ntransfer-encoding :  Chunked\n\n\
         {:x};ext=1\r\n",
        first.len()
    )
    .into_bytes();
    chunked.extend_from_slice(first);
    chunked.extend_from_slice(format!("\r\n{:X}\r\n", second.len()).as_bytes());
    chunked.extend_from_slice(second);
    chunked.extend_from_slice(b"\r\n0\r\nX-Trailer: 1\r\n\r\n");
    let mut lower =
        format!("HTTP/1.1 200 OK\r\ncontent-length :{}\r\n\r\n", body.len()).into_bytes();
    lower.extend_from_slice(&body);
    let mut unframed = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    unframed.extend_from_slice(&body);
    let fake = Fake::start(false, move |conn, nth| match (conn, nth) {
        (0, 0) => Act::Reply(chunked.clone()),
        (0, 1) => Act::Reply(lower.clone()),
        (0, _) => Act::ReplyClose(unframed.clone()),
        _ => Act::Reply(ok(&Value::Int(7))),
    });
    let mut t = Transport::new(&fake.url, None, None).unwrap();
    for _ in 0..3 {
        assert_eq!(t.call("a", &[]), version());
    }
    assert_eq!(t.call("a", &[]), Ok(Ok(Value::Int(7))));
    // Chunked and Content-Length answers keep the connection, a
    // close-delimited one does not.
    assert_eq!(fake.conns(), vec![0, 0, 0, 1]);
}

#[test]
fn bad_answers_are_protocol_errors() {
    let cases: [(&[u8], &str); 4] = [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "bad status line"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "bad Content-Length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "not well-formed",
        ),
    ];
    for (reply, _) in cases {
        let reply = reply.to_vec();
        let fake = Fake::start(false, move |_, _| Act::Reply(reply.clone()));
        let mut t = Transport::new(&fake.url, None, None).unwrap();
        assert!(matches!(t.call("a", &[]), Err(TransportError::Protocol(_))));
    }
}

/// A one-connection streaming server: reads the GET request, sends it
/// back through the channel, then runs `serve`.
fn stream_server(
    tcp: bool,
    serve: impl FnOnce(&mut Sock) + Send + 'static,
) -> (
    String,
    mpsc::Receiver<Vec<u8>>,
    JoinHandle<()>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let (listener, url) = Listener::new(tcp, &dir);
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let stop = AtomicBool::new(false);
        if let Some(mut sock) = listener.accept(&stop) {
            if let Some(request) = read_request_head(&mut sock) {
                let _ = tx.send(request);
                serve(&mut sock);
            }
        }
    });
    (url, rx, handle, dir)
}

const STREAM_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\n\
                             X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn stream_hands_chunks_over_as_they_arrive() {
    // The client reports how many bytes it was handed; the server checks
    // them before sending more.
    let (seen_tx, seen_rx) = mpsc::channel::<usize>();
    let (verdict_tx, verdict_rx) = mpsc::channel();
    let (url, requests, server, _dir) = stream_server(false, move |sock| {
        sock.write_all(STREAM_HEAD).unwrap();
        // Part of a chunk: handed over without waiting for the rest.
        sock.write_all(b"c\r\nout ").unwrap();
        let part = seen_rx.recv_timeout(WAIT).ok();
        sock.write_all(b"line 72\n\r\n").unwrap();
        thread::sleep(Duration::from_millis(200));
        // The whole first chunk was handed over before the second is sent.
        let first = seen_rx.try_iter().last();
        verdict_tx.send((part, first)).unwrap();
        sock.write_all(b"c\r\nout line 73\n\r\n").unwrap();
        // Wait for the client to go away.
        let mut buf = [0u8; 16];
        let _ = sock.read(&mut buf);
    });
    let t = Transport::new(&url, None, Some("")).unwrap();
    let mut got = Vec::new();
    let result = t.stream("/logtail/web/stdout", &Cancel::default(), &mut |data| {
        got.extend_from_slice(data);
        let _ = seen_tx.send(got.len());
        got.len() < 24
    });
    assert_eq!(result, Ok(()));
    server.join().unwrap();
    assert_eq!(got, b"out line 72\nout line 73\n");
    assert_eq!(verdict_rx.recv().unwrap(), (Some(4), Some(12)));
    assert_eq!(
        requests.recv().unwrap(),
        b"GET /logtail/web/stdout HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: chunked\r\n\
          Accept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n"
    );
}

#[test]
fn stream_stops_when_on_data_says_so() {
    let (url, requests, server, _dir) = stream_server(true, |sock| {
        let _ = sock.write_all(STREAM_HEAD);
        for _ in 0..500 {
            if sock.write_all(b"3\r\nabc\r\n").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    let t = Transport::new(&url, Some("user"), Some("pass")).unwrap();
    let mut calls = 0;
    let started = Instant::now();
    let result = t.stream("/mainlogtail", &Cancel::default(), &mut |data| {
        assert!(!data.is_empty());
        calls += 1;
        false
    });
    assert_eq!(result, Ok(()));
    assert_eq!(calls, 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    let host = url.strip_prefix("http://").unwrap();
    let expected = format!(
        "GET /mainlogtail HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
         User-agent: Supervisor HTTP Client\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n"
    );
    assert_eq!(requests.recv().unwrap(), expected.as_bytes());
    server.join().unwrap();
}

#[test]
fn stream_status_other_than_200() {
    for (reply, expected) in [
        (
            &b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"[..],
            TransportError::Http(404),
        ),
        (
            &b"HTTP/1.1 401 Unauthorized\r\n\r\n"[..],
            TransportError::Unauthorized,
        ),
        (
            &b"HTTP/1.1 500 Internal Server Error\r\n\r\n"[..],
            TransportError::Http(500),
        ),
    ] {
        let (url, _, server, _dir) = stream_server(false, move |sock| {
            let _ = sock.write_all(reply);
            // Keep the connection open: the client must not wait for a body.
            let mut buf = [0u8; 16];
            let _ = sock.read(&mut buf);
        });
        let t = Transport::new(&url, None, None).unwrap();
        let mut calls = 0;
        assert_eq!(
            t.stream("/logtail/x", &Cancel::default(), &mut |_| {
                calls += 1;
                true
            }),
            Err(expected)
        );
        assert_eq!(calls, 0);
        server.join().unwrap();
    }
}

#[test]
fn stream_bodies_not_chunked_and_ends() {
    let replies: [(&[u8], &[u8]); 4] = [
        // Content-Length: only that many bytes, even if more follow.
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdefXYZ",
            b"abcdef",
        ),
        // Until the end of the connection.
        (b"HTTP/1.0 200 OK\r\n\r\nabc\x00\xffdef", b"abc\x00\xffdef"),
        // The last chunk ends the stream though the connection stays.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n",
            b"abc",
        ),
        // A chunked stream cut in the middle of a chunk (Python's
        // truncation crash): what came is handed over, then Ok.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\nde",
            b"abcde",
        ),
    ];
    for (i, (reply, expected)) in replies.into_iter().enumerate() {
        let (url, _, server, _dir) = stream_server(false, move |sock| {
            let _ = sock.write_all(reply);
            if i == 0 || i == 2 {
                let mut buf = [0u8; 16];
                let _ = sock.read(&mut buf);
            }
        });
        let t = Transport::new(&url, None, None).unwrap();
        let mut got = Vec::new();
        let result = t.stream("/logtail/x", &Cancel::default(), &mut |d| {
            got.extend_from_slice(d);
            true
        });
        assert_eq!(result, Ok(()), "{i}");
        assert_eq!(got, expected, "{i}");
        server.join().unwrap();
    }
}

#[test]
fn stream_path_is_made_safe() {
    let (url, requests, server, _dir) = stream_server(false, |sock| {
        let _ = sock.write_all(b"HTTP/1.1 404 Not Found\r\n\r\n");
    });
    let t = Transport::new(&url, None, None).unwrap();
    let _ = t.stream(
        "logtail/a b\r\nX: é/stdout",
        &Cancel::default(),
        &mut |_| true,
    );
    let request = requests.recv().unwrap();
    assert!(request.starts_with(b"GET /logtail/a%20b%0D%0AX:%20%C3%A9/stdout HTTP/1.1\r\n"));
    server.join().unwrap();
}

#[test]
fn cancel_ends_a_waiting_stream_and_one_not_yet_started() {
    let (url, _, server, _dir) = stream_server(false, |sock| {
        let _ = sock.write_all(STREAM_HEAD);
        let _ = sock.write_all(b"3\r\nabc\r\n");
        // Then nothing, until the client goes away.
        let mut buf = [0u8; 16];
        let _ = sock.read(&mut buf);
    });
    let t = Transport::new(&url, None, None).unwrap();
    let cancel = Cancel::default();
    let (got_tx, got_rx) = mpsc::channel();
    let started = Instant::now();
    thread::scope(|scope| {
        let streaming = scope.spawn(|| {
            t.stream("/mainlogtail", &cancel, &mut |data| {
                let _ = got_tx.send(data.to_vec());
                true
            })
        });
        // Cancelled while it waits for more.
        assert_eq!(got_rx.recv_timeout(WAIT).unwrap(), b"abc");
        cancel.cancel();
        let _ = streaming.join().unwrap();
    });
    assert!(started.elapsed() < WAIT);
    server.join().unwrap();
    // Once cancelled, a stream returns without asking.
    let (url, requests, server, _dir) = stream_server(false, |_| {});
    let t = Transport::new(&url, None, None).unwrap();
    assert_eq!(t.stream("/mainlogtail", &cancel, &mut |_| true), Ok(()));
    drop(t);
    server.join().unwrap();
    assert!(requests.try_recv().is_err());
}
