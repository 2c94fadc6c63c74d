//! HTTP helpers for tests that put the servers under pressure: a daemon with
//! a unix socket and a TCP port, one-shot XML-RPC calls with timing, raw
//! connections, and the daemon's threads, memory and descriptors from /proc.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use super::Daemon;

/// Every socket read and write of a helper gives up after this long.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// The RPC interface lines of a config.
pub const RPCINTERFACE: &str = "[rpcinterface:supervisor]\n\
     supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Raise this test process's open-files limit to `wanted` (or the hard
/// limit); returns the soft limit now in force.
pub fn raise_nofile(wanted: u64) -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let target = if hard == RLIM_INFINITY {
        wanted
    } else {
        wanted.min(hard)
    };
    if soft != RLIM_INFINITY && soft < target {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard).unwrap();
        return target;
    }
    soft
}

/// A running daemon with `{dir}/supervisor.sock` and a TCP port on
/// 127.0.0.1, both without authentication, the RPC interface, `minfds` in
/// `[supervisord]` and `programs` (config sections).
pub struct Served {
    pub daemon: Daemon,
    pub port: u16,
}

impl Served {
    pub fn start(minfds: u64, programs: &str) -> Served {
        for _ in 0..5 {
            let port = free_port();
            let body = format!(
                "minfds={minfds}\n[unix_http_server]\nfile={{dir}}/supervisor.sock\n\
                 [inet_http_server]\nport=127.0.0.1:{port}\n{RPCINTERFACE}{programs}"
            );
            let mut daemon = Daemon::start(&body);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if daemon.child.try_wait().unwrap().is_some() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && UnixStream::connect(daemon.path("supervisor.sock")).is_ok()
                {
                    return Served { daemon, port };
                }
                assert!(
                    Instant::now() < deadline,
                    "servers not up; log:\n{}",
                    daemon.log_text()
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            // Most likely the port was taken between probing and binding.
        }
        panic!("could not start supervisord on a free port");
    }

    pub fn sock(&self) -> std::path::PathBuf {
        self.daemon.path("supervisor.sock")
    }

    pub fn pid(&self) -> i32 {
        self.daemon.pid()
    }

    /// The orderly end of a test: SIGTERM, and supervisord exits cleanly.
    pub fn finish(mut self) {
        assert!(self.daemon.shutdown().success());
    }
}

/// The body of an XML-RPC call with string parameters.
pub fn rpc_body(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value><string>{p}</string></value></param>"))
        .collect();
    format!(
        "<?xml version='1.0'?>\n<methodCall><methodName>{method}</methodName>\
         <params>{params}</params></methodCall>\n"
    )
}

/// A complete `POST /RPC2` request (HTTP/1.1, keep-alive).
pub fn rpc_request(method: &str, params: &[&str]) -> Vec<u8> {
    post_rpc(&rpc_body(method, params))
}

/// `supervisor.readProcessStdoutLog(name, 0, 0)`: the whole log.
pub fn read_whole_log_request(name: &str) -> Vec<u8> {
    post_rpc(&format!(
        "<?xml version='1.0'?>\n<methodCall>\
         <methodName>supervisor.readProcessStdoutLog</methodName><params>\
         <param><value><string>{name}</string></value></param>\
         <param><value><int>0</int></value></param>\
         <param><value><int>0</int></value></param></params></methodCall>\n"
    ))
}

/// `body` as a complete `POST /RPC2` request (HTTP/1.1, keep-alive).
pub fn post_rpc(body: &str) -> Vec<u8> {
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A response: status, lower-cased headers, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Read one response with a `Content-Length` body (or none).
pub fn read_response(reader: &mut impl BufRead) -> io::Result<Response> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("status {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        if headers.len() > 200 {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Where to call.
#[derive(Clone, Debug)]
pub enum Target<'a> {
    Unix(&'a Path),
    Tcp(u16),
}

/// One call on a fresh connection: the response and how long it took from
/// connect to the last byte.
pub fn timed_call(target: Target<'_>, method: &str) -> (io::Result<Response>, Duration) {
    let start = Instant::now();
    let result = (|| {
        let request = rpc_request(method, &[]);
        match target {
            Target::Unix(path) => {
                let stream = UnixStream::connect(path)?;
                stream.set_read_timeout(Some(IO_TIMEOUT))?;
                stream.set_write_timeout(Some(IO_TIMEOUT))?;
                (&stream).write_all(&request)?;
                read_response(&mut BufReader::new(stream))
            }
            Target::Tcp(port) => {
                let stream = TcpStream::connect(("127.0.0.1", port))?;
                stream.set_read_timeout(Some(IO_TIMEOUT))?;
                stream.set_write_timeout(Some(IO_TIMEOUT))?;
                (&stream).write_all(&request)?;
                read_response(&mut BufReader::new(stream))
            }
        }
    })();
    (result, start.elapsed())
}

/// `supervisor.getState` on a fresh connection must answer 200 within
/// `limit`; returns how long it took.
pub fn assert_answers_within(target: Target<'_>, limit: Duration, what: &str) -> Duration {
    let (response, took) = timed_call(target.clone(), "supervisor.getState");
    let response = response.unwrap_or_else(|e| panic!("{what}: {target:?}: {e}"));
    assert_eq!(response.status, 200, "{what}: {target:?}: {response:?}");
    assert!(
        response.text().contains("RUNNING"),
        "{what}: {target:?}: {}",
        response.text()
    );
    assert!(took < limit, "{what}: {target:?} answered after {took:?}");
    took
}

/// A field of /proc/<pid>/status (`Threads`, `VmRSS` in kB) as a number.
pub fn proc_status(pid: i32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The connections of `pid`'s TCP server on 127.0.0.1:`port` that it holds
/// open (sockets of its descriptors with that local port, not listening):
/// for each, the bytes in its send queue not yet taken by the client.
pub fn server_connections(pid: i32, port: u16) -> Vec<u64> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|link| {
                    let link = link.to_string_lossy().into_owned();
                    Some(
                        link.strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local address, state (0A: listening), tx_queue:rx_queue, inode
            let ours = fields.len() > 9
                && fields[1] == local
                && fields[3] != "0A"
                && inodes.contains(fields[9]);
            let queued = fields.get(4)?.split(':').next()?;
            ours.then(|| u64::from_str_radix(queued, 16).unwrap_or(0))
        })
        .collect()
}

/// Open descriptors of `pid`.
pub fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Wait until the peer closes `stream` (EOF or reset), discarding what it
/// sends; `Err` with what happened otherwise (data kept coming, or nothing
/// within `limit`).
pub fn wait_closed(stream: &TcpStream, limit: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let mut reader = stream;
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(format!("still open after {limit:?}"));
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match reader.read(&mut buf) {
            Ok(0) => return Ok(start.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(start.elapsed()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("read error {e}")),
        }
    }
}

/// Maximum of the daemon's `Threads` and `VmRSS` (kB) seen by a sampler
/// running until `done` is set.
pub struct Peak {
    pub threads: u64,
    pub rss_kb: u64,
    pub samples: usize,
}

/// Sample `pid`'s threads and RSS every few milliseconds until `done`.
pub fn sample_until(pid: i32, done: &std::sync::atomic::AtomicBool) -> Peak {
    let mut peak = Peak {
        threads: 0,
        rss_kb: 0,
        samples: 0,
    };
    // Bounded: the caller sets `done`; at most ten minutes regardless.
    let deadline = Instant::now() + Duration::from_secs(600);
    while !done.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
        if let (Some(threads), Some(rss)) = (proc_status(pid, "Threads"), proc_status(pid, "VmRSS"))
        {
            peak.threads = peak.threads.max(threads);
            peak.rss_kb = peak.rss_kb.max(rss);
            peak.samples += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    peak
}

/// What a burst of concurrent one-call clients got.
#[derive(Debug, Default)]
pub struct Burst {
    /// Responses received, by status.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Clients that got no complete response, with why.
    pub failures: Vec<String>,
    /// From the first connect to the last response.
    pub elapsed: Duration,
    /// The longest any client waited for its response.
    pub slowest: Duration,
}

impl Burst {
    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

/// `clients` connections to 127.0.0.1:`port` opened at once, each sending
/// `request` and reading one response, all from this thread with
/// non-blocking sockets; gives up after `limit`.
pub fn burst(port: u16, clients: usize, request: &[u8], limit: Duration) -> Burst {
    use mio::{Events, Interest, Poll, Token};

    struct Client {
        stream: mio::net::TcpStream,
        sent: usize,
        got: Vec<u8>,
        done: bool,
    }

    let mut poll = Poll::new().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    let mut result = Burst::default();
    let mut all = Vec::with_capacity(clients);
    for i in 0..clients {
        let mut stream = mio::net::TcpStream::connect(addr).expect("non-blocking connect");
        poll.registry()
            .register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )
            .unwrap();
        all.push(Client {
            stream,
            sent: 0,
            got: Vec::new(),
            done: false,
        });
    }
    let mut events = Events::with_capacity(1024);
    let mut left = clients;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let Some(wait) = limit.checked_sub(start.elapsed()) else {
            break;
        };
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            assert_eq!(e.kind(), io::ErrorKind::Interrupted, "poll: {e}");
        }
        for event in events.iter() {
            let i = event.token().0;
            let client = &mut all[i];
            if client.done {
                continue;
            }
            let mut failed = None;
            while client.sent < request.len() {
                match client.stream.write(&request[client.sent..]) {
                    Ok(n) => client.sent += n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
                        ) =>
                    {
                        break
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failed = Some(format!("client {i}: write: {e}"));
                        break;
                    }
                }
            }
            let mut eof = false;
            while failed.is_none() {
                match client.stream.read(&mut buf) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => client.got.extend_from_slice(&buf[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
                        ) =>
                    {
                        break
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => failed = Some(format!("client {i}: read: {e}")),
                }
            }
            if let Some(status) = complete_status(&client.got) {
                *result.statuses.entry(status).or_default() += 1;
                result.slowest = result.slowest.max(start.elapsed());
            } else if eof {
                failed = Some(format!(
                    "client {i}: closed after {:?}",
                    String::from_utf8_lossy(&client.got)
                ));
            } else if failed.is_none() {
                continue;
            }
            if let Some(why) = failed {
                result.failures.push(why);
            }
            client.done = true;
            left -= 1;
            let _ = poll.registry().deregister(&mut client.stream);
        }
    }
    for (i, client) in all.iter().enumerate().filter(|(_, c)| !c.done) {
        result.failures.push(format!(
            "client {i}: no response within {limit:?} (sent {} bytes, got {:?})",
            client.sent,
            String::from_utf8_lossy(&client.got)
        ));
    }
    result.elapsed = start.elapsed();
    result
}

/// The status of a complete response with a `Content-Length` body in `got`.
fn complete_status(got: &[u8]) -> Option<u16> {
    let end = got.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&got[..end]).ok()?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (got.len() >= end + length).then_some(status)
}
