//! supervisorctl's connection to supervisord: XML-RPC over keep-alive
//! HTTP/1.1 on a unix socket or TCP, and log streaming.
//!
//! * [`Transport::call`] sends `POST /RPC2` with the headers Python's
//!   `SupervisorTransport` sends (spec xmlrpc.md §2.2) on one persistent
//!   connection, opened on first use and kept while the server keeps it.
//! * [`Transport::stream`] sends the `GET` Python's streaming client sends
//!   (spec http.md §4) on a connection of its own and hands the (chunked)
//!   body over piece by piece, as it arrives.
//!
//! Where we differ from Python (spec supervisorctl.md §7.10, §7.11):
//!
//! * Before reusing the idle connection we check, without blocking, that the
//!   server has not closed it; if it has, a new one is opened. If the server
//!   turns out to have closed a reused connection anyway (EPIPE/ECONNRESET
//!   while sending, or end of stream before any byte of an answer), the
//!   request is sent once more on a new connection. Never after any byte of
//!   an answer arrived: start/stop are not idempotent.
//! * The connection is dropped after any status other than 200 without
//!   reading the body (Python's supervisord leaves a 401 connection open and
//!   deaf), and after `Connection: close` or an HTTP/1.0 answer.
//! * Answers are read leniently: blank lines before the status line, `\n`
//!   line ends, spaces around header names, interim 1xx answers, chunked or
//!   close-delimited bodies; XML with raw control characters is left to
//!   [`xmlrpc::parse_response`].
//! * A stream's body need not be chunked (Python's client would not follow
//!   it); no extra CRLF is sent after the request's blank line.
//!
//! The process must ignore SIGPIPE (Rust's runtime does so before `main`),
//! or writing to a socket the server closed would kill it instead of failing
//! with EPIPE.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;

use crate::xmlrpc::{self, Fault, Value};

/// Why a call could not be made (the server's faults are not errors here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused (TCP, or a stale unix socket file).
    Refused,
    /// The unix socket file does not exist.
    NoSuchFile,
    /// HTTP 401.
    Unauthorized,
    /// Another HTTP status than 200.
    Http(u16),
    /// Any other socket error, with its text.
    Io(String),
    /// An answer that is not HTTP/XML-RPC.
    Protocol(String),
}

/// How long a TCP connect may take per address (calls themselves have no
/// time limit: a `startProcess` may legitimately wait a long time).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// What Python's `xmlrpc.client.Transport` sends (captured with 3.11).
const USER_AGENT: &str = "Python-xmlrpc/3.11";
/// What Python's `supervisor.http_client` sends on streams.
const STREAM_USER_AGENT: &str = "Supervisor HTTP Client";
/// Longest status, header or chunk-size line accepted.
const MAX_LINE: usize = 64 * 1024;
/// Most bytes of status line and headers of one answer (interim ones included).
const MAX_HEAD: usize = 256 * 1024;
/// Most interim (1xx) answers skipped before the real one.
const MAX_INTERIM: usize = 8;
/// Largest XML-RPC answer body accepted (a huge `tail` is far smaller).
const MAX_BODY: u64 = 1 << 30;
/// Read buffer size.
const BUF_SIZE: usize = 16 * 1024;

#[derive(Debug, Clone)]
enum Endpoint {
    Unix(PathBuf),
    Tcp { host: String, port: u16 },
}

pub struct Transport {
    url: String,
    endpoint: Endpoint,
    /// The `Host` header value.
    host: String,
    username: Option<String>,
    password: Option<String>,
    /// The idle keep-alive connection, if any. Only connections that
    /// completed an exchange are kept here.
    conn: Option<Reader<Sock>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("url", &self.url)
            .field("connected", &self.conn.is_some())
            .finish()
    }
}

impl Transport {
    /// `serverurl` is `unix:///abs/path` or `http://host[:port][/…]`.
    /// Err: the text of an unusable URL (unknown scheme).
    pub fn new(
        serverurl: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Transport, String> {
        let (endpoint, host) = if let Some(path) = serverurl.strip_prefix("unix://") {
            (Endpoint::Unix(PathBuf::from(path)), "localhost".to_string())
        } else if let Some(rest) = serverurl.strip_prefix("http://") {
            let (host, port) = parse_http_authority(serverurl, rest)?;
            // As Python's http.client: the port is left out when it is 80,
            // an IPv6 address is bracketed.
            let mut header = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            if port != 80 {
                let _ = write!(header, ":{port}");
            }
            (Endpoint::Tcp { host, port }, header)
        } else {
            return Err(format!("Unknown protocol for serverurl {serverurl}"));
        };
        Ok(Transport {
            url: serverurl.to_string(),
            endpoint,
            host,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
            conn: None,
        })
    }

    /// The URL as given, for messages (`unix:///path`, `http://127.0.0.1:9001`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Credentials for the following requests (the connection is kept).
    pub fn set_credentials(&mut self, username: Option<&str>, password: Option<&str>) {
        self.username = username.map(str::to_string);
        self.password = password.map(str::to_string);
    }

    /// One XML-RPC call on the persistent connection (connect on first use).
    pub fn call(
        &mut self,
        method: &str,
        params: &[Value],
    ) -> Result<Result<Value, Fault>, TransportError> {
        let request = self.rpc_request(&xmlrpc::write_call(method, params));
        let mut may_resend = true;
        loop {
            let kept = self
                .conn
                .take()
                .and_then(|mut conn| conn.idle_and_open().then_some(conn));
            let (mut conn, reused) = match kept {
                Some(conn) => (conn, true),
                None => (Reader::new(connect(&self.endpoint)?), false),
            };
            let head = match exchange(&mut conn, &request) {
                Ok(head) => head,
                Err(Failure::Unanswered(_)) if reused && may_resend => {
                    may_resend = false;
                    continue;
                }
                Err(Failure::Unanswered(e) | Failure::Failed(e)) => return Err(e),
            };
            match head.status {
                200 => {}
                401 => return Err(TransportError::Unauthorized),
                status => return Err(TransportError::Http(status)),
            }
            let (body, delimited) =
                read_body(&mut conn, &head).map_err(|e| read_error(e, false))?;
            if delimited && head.keep_alive() && conn.buffered().is_empty() {
                self.conn = Some(conn);
            }
            return xmlrpc::parse_response(&body).map_err(TransportError::Protocol);
        }
    }

    /// GET `path` (e.g. `/logtail/web/stdout`, `/mainlogtail`) on a new connection and hand
    /// each piece of the (chunked) body to `on_data` until it returns false or the stream ends.
    /// A non-200 status → Err(TransportError::Http(status)) (401 → Unauthorized).
    ///
    /// Bytes of `path` that may not appear raw in a request line (controls,
    /// space, non-ASCII) are percent-encoded; `%` is left alone, so the
    /// caller percent-encodes names that contain it.
    pub fn stream(
        &self,
        path: &str,
        on_data: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), TransportError> {
        let mut conn = Reader::new(connect(&self.endpoint)?);
        conn.inner
            .write_all(&self.stream_request(path))
            .map_err(|e| TransportError::Io(e.to_string()))?;
        let head = read_head(&mut conn).map_err(|e| read_error(e, conn.received == 0))?;
        match head.status {
            200 => {}
            401 => return Err(TransportError::Unauthorized),
            status => return Err(TransportError::Http(status)),
        }
        let io_error = |e: io::Error| TransportError::Io(e.to_string());
        if head.chunked() {
            let mut chunks = ChunkDecoder::default();
            loop {
                if !conn.fill().map_err(io_error)? {
                    return Ok(());
                }
                if !chunks.feed(conn.take_buffered(usize::MAX), on_data)? {
                    return Ok(());
                }
            }
        }
        let mut remaining = head.content_length().map_err(|e| read_error(e, false))?;
        loop {
            if remaining == Some(0) || !conn.fill().map_err(io_error)? {
                return Ok(());
            }
            let max = remaining.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
            let data = conn.take_buffered(max);
            if let Some(n) = remaining.as_mut() {
                *n -= data.len() as u64;
            }
            if !on_data(data) {
                return Ok(());
            }
        }
    }

    /// The whole `POST /RPC2` request, headers in Python's order.
    fn rpc_request(&self, body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\n\
             User-Agent: {USER_AGENT}\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
            self.host
        );
        if let (Some(user), Some(pass)) = (&self.username, &self.password) {
            let _ = write!(head, "Authorization: Basic {}\r\n", basic(user, pass));
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        request
    }

    /// The streaming `GET` request, as Python's `http_client` sends it
    /// (credentials only when the password is not empty).
    fn stream_request(&self, path: &str) -> Vec<u8> {
        let mut target = String::new();
        if !path.starts_with('/') {
            target.push('/');
        }
        for &b in path.as_bytes() {
            if b <= b' ' || b >= 0x7f {
                let _ = write!(target, "%{b:02X}");
            } else {
                target.push(char::from(b));
            }
        }
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: {STREAM_USER_AGENT}\r\n",
            self.host
        );
        match &self.password {
            Some(pass) if !pass.is_empty() => {
                let user = self.username.as_deref().unwrap_or("");
                let _ = write!(request, "Authorization: Basic {}\r\n", basic(user, pass));
            }
            _ => {}
        }
        request.push_str("\r\n");
        request.into_bytes()
    }
}

fn basic(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}

/// Host and port of `http://` URLs, as Python's `urlparse` reads them: the
/// authority ends at `/`, `?` or `#`; user info is dropped; the host is
/// lower-cased; an empty port means 80.
fn parse_http_authority(url: &str, rest: &str) -> Result<(String, u16), String> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostinfo = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = hostinfo.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(format!("Invalid IPv6 URL in serverurl {url}"));
        };
        match after.strip_prefix(':') {
            Some(port) => (host, port),
            None if after.is_empty() => (host, ""),
            None => return Err(format!("Invalid host in serverurl {url}")),
        }
    } else {
        hostinfo.split_once(':').unwrap_or((hostinfo, ""))
    };
    if host.is_empty() {
        return Err(format!("No host in serverurl {url}"));
    }
    if host.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("Invalid host in serverurl {url}"));
    }
    let port = if port.is_empty() {
        80
    } else if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse::<u16>()
            .map_err(|_| "Port out of range 0-65535".to_string())?
    } else {
        return Err(format!(
            "Port could not be cast to integer value as '{port}'"
        ));
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// A connected socket of either kind.
enum Sock {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.set_nonblocking(on),
            Sock::Tcp(s) => s.set_nonblocking(on),
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.read(buf),
            Sock::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.write(buf),
            Sock::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn connect(endpoint: &Endpoint) -> Result<Sock, TransportError> {
    let refused_or = |e: io::Error, not_found: bool| match e.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::Refused,
        io::ErrorKind::NotFound if not_found => TransportError::NoSuchFile,
        _ => TransportError::Io(e.to_string()),
    };
    match endpoint {
        Endpoint::Unix(path) => UnixStream::connect(path)
            .map(Sock::Unix)
            .map_err(|e| refused_or(e, true)),
        Endpoint::Tcp { host, port } => {
            let addrs = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| TransportError::Io(e.to_string()))?;
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        return Ok(Sock::Tcp(stream));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(match last {
                Some(e) => refused_or(e, false),
                None => TransportError::Io(format!("no address found for {host}")),
            })
        }
    }
}

/// How an exchange failed.
enum Failure {
    /// The server closed the connection before any byte of an answer (or
    /// while the request was being sent): safe to send again on a new
    /// connection if this one was reused.
    Unanswered(TransportError),
    Failed(TransportError),
}

/// Send `request` and read the answer's status line and headers.
fn exchange(conn: &mut Reader<Sock>, request: &[u8]) -> Result<Head, Failure> {
    if let Err(e) = conn.inner.write_all(request) {
        let error = TransportError::Io(e.to_string());
        return Err(if is_disconnect(&e) {
            Failure::Unanswered(error)
        } else {
            Failure::Failed(error)
        });
    }
    let before = conn.received;
    read_head(conn).map_err(|e| {
        let nothing = conn.received == before;
        let disconnect = match &e {
            ReadError::Eof => true,
            ReadError::Io(e) => is_disconnect(e),
            ReadError::Protocol(_) => false,
        };
        let error = read_error(e, nothing);
        if nothing && disconnect {
            Failure::Unanswered(error)
        } else {
            Failure::Failed(error)
        }
    })
}

fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
    )
}

/// Failures while reading an answer.
#[derive(Debug)]
enum ReadError {
    /// The connection ended early.
    Eof,
    Io(io::Error),
    Protocol(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// `nothing`: no byte of the answer had arrived.
fn read_error(e: ReadError, nothing: bool) -> TransportError {
    match e {
        ReadError::Eof if nothing => {
            TransportError::Io("Remote end closed connection without response".into())
        }
        ReadError::Eof => {
            TransportError::Io("connection closed in the middle of the response".into())
        }
        ReadError::Io(e) => TransportError::Io(e.to_string()),
        ReadError::Protocol(text) => TransportError::Protocol(text),
    }
}

/// A buffered reader that counts the bytes received.
struct Reader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    received: u64,
}

impl<R: Read> Reader<R> {
    fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            len: 0,
            received: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// Up to `max` buffered bytes, consumed.
    fn take_buffered(&mut self, max: usize) -> &[u8] {
        let start = self.pos;
        self.pos += (self.len - start).min(max);
        &self.buf[start..self.pos]
    }

    /// Make sure bytes are buffered, reading once if none are. Ok(false): end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.len = n;
                    self.received += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// One line without its `\n` or `\r\n`; None: end of stream before any byte of it.
    fn read_line(&mut self, limit: usize) -> Result<Option<Vec<u8>>, ReadError> {
        let mut line = Vec::new();
        loop {
            if !self.fill()? {
                return if line.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Eof)
                };
            }
            let avail = &self.buf[self.pos..self.len];
            let newline = avail.iter().position(|&b| b == b'\n');
            let used = newline.map_or(avail.len(), |i| i + 1);
            line.extend_from_slice(&avail[..newline.unwrap_or(avail.len())]);
            self.pos += used;
            if line.len() > limit {
                return Err(ReadError::Protocol("line too long in the response".into()));
            }
            if newline.is_some() {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
        }
    }

    /// A complete line if one is already buffered (never reads).
    fn buffered_line(&mut self) -> Option<Vec<u8>> {
        let avail = self.buffered();
        let i = avail.iter().position(|&b| b == b'\n')?;
        let mut line = avail[..i].to_vec();
        self.pos += i + 1;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(line)
    }

    /// Append exactly `n` bytes to `out`.
    fn read_exact_into(&mut self, mut n: u64, out: &mut Vec<u8>) -> Result<(), ReadError> {
        while n > 0 {
            if !self.fill()? {
                return Err(ReadError::Eof);
            }
            let data = self.take_buffered(usize::try_from(n).unwrap_or(usize::MAX));
            n -= data.len() as u64;
            out.extend_from_slice(data);
        }
        Ok(())
    }
}

impl Reader<Sock> {
    /// Whether the kept connection is still usable: nothing unread, and a
    /// non-blocking read finds neither data nor end of stream nor an error.
    fn idle_and_open(&mut self) -> bool {
        if !self.buffered().is_empty() || self.inner.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let result = loop {
            match self.inner.read(&mut byte) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => break result,
            }
        };
        let restored = self.inner.set_nonblocking(false).is_ok();
        restored && matches!(result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Status line and headers of an answer.
#[derive(Debug)]
struct Head {
    status: u16,
    /// HTTP/1.1 or later: persistent unless `Connection: close`.
    persistent: bool,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header `name` lists `token`.
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    fn chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    fn content_length(&self) -> Result<Option<u64>, ReadError> {
        let Some(value) = self.get("content-length") else {
            return Ok(None);
        };
        let first = value.split(',').next().unwrap_or("").trim();
        first.parse::<u64>().map(Some).map_err(|_| {
            ReadError::Protocol(format!("bad Content-Length {}", excerpt(value.as_bytes())))
        })
    }

    fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            false
        } else {
            self.persistent || self.has_token("connection", "keep-alive")
        }
    }
}

/// At most 80 characters of `bytes`, for messages.
fn excerpt(bytes: &[u8]) -> String {
    format!(
        "{:?}",
        String::from_utf8_lossy(bytes)
            .chars()
            .take(80)
            .collect::<String>()
    )
}

/// Read the status line and headers, skipping blank lines before the status
/// line and interim 1xx answers.
fn read_head<R: Read>(r: &mut Reader<R>) -> Result<Head, ReadError> {
    let mut budget = MAX_HEAD;
    let mut next_line = |r: &mut Reader<R>| -> Result<Vec<u8>, ReadError> {
        let line = r.read_line(MAX_LINE)?.ok_or(ReadError::Eof)?;
        budget = budget
            .checked_sub(line.len() + 1)
            .ok_or_else(|| ReadError::Protocol("response headers too long".into()))?;
        Ok(line)
    };
    for _ in 0..MAX_INTERIM {
        let line = loop {
            let line = next_line(r)?;
            if !line.iter().all(u8::is_ascii_whitespace) {
                break line;
            }
        };
        let (persistent, status) = parse_status_line(&line)?;
        let mut headers = Vec::new();
        loop {
            let line = next_line(r)?;
            if line.is_empty() {
                break;
            }
            let text = String::from_utf8_lossy(&line);
            if let Some((name, value)) = text.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok(Head {
            status,
            persistent,
            headers,
        });
    }
    Err(ReadError::Protocol("too many interim responses".into()))
}

/// `HTTP/x.y NNN reason` → (persistent by default, status).
fn parse_status_line(line: &[u8]) -> Result<(bool, u16), ReadError> {
    let bad = || ReadError::Protocol(format!("bad status line {}", excerpt(line)));
    let text = String::from_utf8_lossy(line);
    let mut words = text.split_ascii_whitespace();
    let version = words.next().ok_or_else(bad)?;
    let code = words.next().ok_or_else(bad)?;
    let numbers = match (version.get(..5), version.get(5..)) {
        (Some(prefix), Some(numbers)) if prefix.eq_ignore_ascii_case("HTTP/") => numbers,
        _ => return Err(bad()),
    };
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let status = code.parse::<u16>().map_err(|_| bad())?;
    let number = |s: Option<&str>| s.and_then(|s| s.parse::<u32>().ok());
    let mut parts = numbers.splitn(2, '.');
    let persistent = match (number(parts.next()), number(parts.next())) {
        (Some(major), Some(minor)) => (major, minor) >= (1, 1),
        (Some(major), None) => major >= 2,
        _ => false,
    };
    Ok((persistent, status))
}

/// The body of a 200 answer; the flag says whether it was delimited (so the
/// connection can be reused).
fn read_body<R: Read>(r: &mut Reader<R>, head: &Head) -> Result<(Vec<u8>, bool), ReadError> {
    let too_large = || ReadError::Protocol("response too large".into());
    let mut body = Vec::new();
    if head.chunked() {
        loop {
            let line = r.read_line(MAX_LINE)?.ok_or(ReadError::Eof)?;
            let Some(size) = parse_chunk_size(&line)? else {
                continue;
            };
            if size == 0 {
                // Trailers and the final blank line: take what has arrived,
                // never wait for it; if it is incomplete the connection is
                // not reused.
                while let Some(line) = r.buffered_line() {
                    if line.is_empty() {
                        return Ok((body, true));
                    }
                }
                return Ok((body, false));
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(too_large());
            }
            r.read_exact_into(size, &mut body)?;
            // The CRLF after the data (anything up to a newline is taken).
            r.read_line(MAX_LINE)?.ok_or(ReadError::Eof)?;
        }
    }
    if let Some(length) = head.content_length()? {
        if length > MAX_BODY {
            return Err(too_large());
        }
        r.read_exact_into(length, &mut body)?;
        return Ok((body, true));
    }
    if head.status == 204 || head.status == 304 {
        return Ok((body, true));
    }
    // Delimited by the end of the connection.
    while r.fill()? {
        let data = r.take_buffered(usize::MAX);
        if body.len() as u64 + data.len() as u64 > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(data);
    }
    Ok((body, false))
}

/// A chunk-size line: hex digits, then optional `;extensions`. None: a blank
/// line (tolerated).
fn parse_chunk_size(line: &[u8]) -> Result<Option<u64>, ReadError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or(&[])
        .trim_ascii();
    if digits.is_empty() {
        return Ok(None);
    }
    let bad = || ReadError::Protocol(format!("bad chunk size {}", excerpt(line)));
    let significant = &digits[digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len())..];
    if significant.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let mut size = 0u64;
    for &b in significant {
        let digit = char::from(b).to_digit(16).ok_or_else(bad)?;
        size = size * 16 + u64::from(digit);
    }
    Ok(Some(size))
}

/// Incremental decoder of a chunked body: data is handed over as soon as
/// it arrives, even part of a chunk.
#[derive(Debug)]
enum ChunkDecoder {
    /// Reading a chunk-size line (bytes so far).
    Size(Vec<u8>),
    /// Inside a chunk's data: bytes left.
    Data(u64),
    /// After a chunk's data, up to the newline (bytes skipped so far).
    DataEnd(usize),
    /// The last chunk was seen.
    Done,
}

impl Default for ChunkDecoder {
    fn default() -> ChunkDecoder {
        ChunkDecoder::Size(Vec::new())
    }
}

impl ChunkDecoder {
    /// Decode `input`, handing data to `on_data`. Ok(false): `on_data`
    /// asked to stop, or the body ended.
    fn feed(
        &mut self,
        mut input: &[u8],
        on_data: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<bool, TransportError> {
        let protocol = |e: ReadError| read_error(e, false);
        while !input.is_empty() {
            match self {
                ChunkDecoder::Size(line) => {
                    let newline = input.iter().position(|&b| b == b'\n');
                    line.extend_from_slice(&input[..newline.unwrap_or(input.len())]);
                    if line.len() > MAX_LINE {
                        return Err(TransportError::Protocol("chunk size line too long".into()));
                    }
                    let Some(i) = newline else {
                        return Ok(true);
                    };
                    input = &input[i + 1..];
                    *self = match parse_chunk_size(line).map_err(protocol)? {
                        None => ChunkDecoder::Size(Vec::new()),
                        Some(0) => ChunkDecoder::Done,
                        Some(size) => ChunkDecoder::Data(size),
                    };
                }
                ChunkDecoder::Data(left) => {
                    let take = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (data, rest) = input.split_at(take);
                    input = rest;
                    *left -= take as u64;
                    if *left == 0 {
                        *self = ChunkDecoder::DataEnd(0);
                    }
                    if !on_data(data) {
                        return Ok(false);
                    }
                }
                ChunkDecoder::DataEnd(skipped) => match input.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        input = &input[i + 1..];
                        *self = ChunkDecoder::Size(Vec::new());
                    }
                    None => {
                        *skipped += input.len();
                        if *skipped > MAX_LINE {
                            return Err(TransportError::Protocol(
                                "no line end after chunk data".into(),
                            ));
                        }
                        return Ok(true);
                    }
                },
                ChunkDecoder::Done => return Ok(false),
            }
        }
        Ok(!matches!(self, ChunkDecoder::Done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::unix::net::UnixListener;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc, Mutex};
    use std::thread::{self, JoinHandle};
    use std::time::Instant;

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
                    let mut a =
                        format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
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
            t.stream("/mainlogtail", &mut |_| true),
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
            t.stream("/mainlogtail", &mut |_| true),
            Err(TransportError::Refused)
        );

        let mut t = Transport::new("http://no-such-host.invalid:9001", None, None).unwrap();
        assert!(matches!(t.call("a", &[]), Err(TransportError::Io(_))));
    }

    #[test]
    fn urls() {
        assert_eq!(
            Transport::new("ftp://x", None, None).unwrap_err(),
            "Unknown protocol for serverurl ftp://x"
        );
        assert!(Transport::new("HTTP://x", None, None).is_err());
        for bad in [
            "http://",
            "http://:9001",
            "http://h:abc",
            "http://h:70000",
            "http://[::1",
            "http://a b",
        ] {
            assert!(Transport::new(bad, None, None).is_err(), "{bad}");
        }
        let cases = [
            ("http://127.0.0.1:9001", "127.0.0.1", 9001, "127.0.0.1:9001"),
            ("http://Example.COM", "example.com", 80, "example.com"),
            ("http://h:80/some/path?q#f", "h", 80, "h"),
            ("http://h:/RPC2", "h", 80, "h"),
            ("http://user:pw@h:5", "h", 5, "h:5"),
            ("http://[::1]:9001/", "::1", 9001, "[::1]:9001"),
        ];
        for (url, host, port, header) in cases {
            let t = Transport::new(url, None, None).unwrap();
            match &t.endpoint {
                Endpoint::Tcp { host: h, port: p } => {
                    assert_eq!((h.as_str(), *p), (host, port), "{url}")
                }
                Endpoint::Unix(_) => panic!("{url}"),
            }
            assert_eq!(t.host, header, "{url}");
            assert_eq!(t.url(), url);
        }
        let t = Transport::new("unix:///run/supervisor.sock", None, None).unwrap();
        assert!(matches!(&t.endpoint, Endpoint::Unix(p) if p == Path::new("/run/supervisor.sock")));
        assert_eq!(t.host, "localhost");
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

    /// Deterministic pseudo-random numbers (xorshift).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn damaged_answers_never_panic() {
        let body = xmlrpc::write_response(&Value::str("3.0"));
        let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        chunked.extend_from_slice(&body);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let seeds = [answer("Connection: close\r\n", &body), chunked];
        let pieces: [&[u8]; 8] = [
            b"\r\n",
            b"\n",
            b":",
            b"ffffffffffffffff",
            b"-",
            b";",
            b"\xff",
            b" ",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(4) {
                    0 if at < bytes.len() => bytes[at] = rng.below(256) as u8,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    2 => bytes.truncate(at),
                    _ => {
                        let piece = pieces[rng.below(pieces.len())];
                        bytes.splice(at..at, piece.iter().copied());
                    }
                }
            }
            let mut reader = Reader::new(bytes.as_slice());
            if let Ok(head) = read_head(&mut reader) {
                let _ = head.keep_alive();
                if let Ok((body, _)) = read_body(&mut reader, &head) {
                    let _ = xmlrpc::parse_response(&body);
                }
            }
            let mut decoder = ChunkDecoder::default();
            let mut rest = bytes.as_slice();
            while !rest.is_empty() {
                let (piece, tail) = rest.split_at(1 + rng.below(rest.len()).min(rest.len() - 1));
                rest = tail;
                if !matches!(decoder.feed(piece, &mut |_| true), Ok(true)) {
                    break;
                }
            }
        }
    }

    #[test]
    fn chunk_decoder_byte_by_byte() {
        let input = b"5;x=y\r\nhello\r\n\r\n1\nX\n00\r\nafter";
        let mut decoder = ChunkDecoder::default();
        let mut out = Vec::new();
        let mut ended_at = None;
        for (i, byte) in input.iter().enumerate() {
            let more = decoder
                .feed(std::slice::from_ref(byte), &mut |d| {
                    out.extend_from_slice(d);
                    true
                })
                .unwrap();
            if !more {
                ended_at = Some(i);
                break;
            }
        }
        assert_eq!(out, b"helloX");
        assert_eq!(ended_at, Some(input.len() - "after".len() - 1));
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
        let result = t.stream("/logtail/web/stdout", &mut |data| {
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
        let result = t.stream("/mainlogtail", &mut |data| {
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
                t.stream("/logtail/x", &mut |_| {
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
            let result = t.stream("/logtail/x", &mut |d| {
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
        let _ = t.stream("logtail/a b\r\nX: é/stdout", &mut |_| true);
        let request = requests.recv().unwrap();
        assert!(request.starts_with(b"GET /logtail/a%20b%0D%0AX:%20%C3%A9/stdout HTTP/1.1\r\n"));
        server.join().unwrap();
    }
}
