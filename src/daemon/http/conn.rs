//! One connection: read requests (Medusa's lenient rules, `http.md` §2.1),
//! dispatch them (§2.2) and write the responses, in order.

use std::io::{self, BufRead, BufReader, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::pages::{self, Persist};
use super::{auth, logtail, Reply, Site};

/// Largest request head (request line, headers, leading blank lines).
const MAX_HEAD: usize = 64 * 1024;
/// Most header lines in one request.
const MAX_HEADERS: usize = 128;
/// Largest request body accepted (413 beyond). Python has no limit; 4 MiB is
/// far above any supervisorctl request but leaves room for a
/// `sendProcessStdin` of a few megabytes. Bigger bodies are refused before
/// being read and the connection is closed.
pub const MAX_BODY: u64 = 4 * 1024 * 1024;
/// How long and how much a closing connection's unread input is drained, so
/// that closing does not reset the connection under the final response.
const LINGER_TIME: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 256 * 1024;

/// An accepted connection.
#[derive(Debug)]
pub(super) enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    pub(super) fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(how),
            Conn::Unix(s) => s.shutdown(how),
        };
    }

    pub(super) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_read_timeout(t),
            Conn::Unix(s) => s.set_read_timeout(t),
        }
    }

    pub(super) fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_write_timeout(t),
            Conn::Unix(s) => s.set_write_timeout(t),
        }
    }
}

/// A shared handle that reads and writes the connection (`&TcpStream` and
/// `&UnixStream` do both), so the reader, the writer and the registry share
/// one descriptor.
pub(super) struct ConnRef(pub(super) Arc<Conn>);

impl Read for ConnRef {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &*self.0 {
            Conn::Tcp(s) => (&*s).read(buf),
            Conn::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for ConnRef {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &*self.0 {
            Conn::Tcp(s) => (&*s).write(buf),
            Conn::Unix(s) => (&*s).write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &*self.0 {
            Conn::Tcp(s) => (&*s).write_vectored(bufs),
            Conn::Unix(s) => (&*s).write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A parsed request head.
#[derive(Debug)]
pub(super) struct Head {
    pub(super) method: String,
    pub(super) target: String,
    /// HTTP/1.`minor`: 0 or 1.
    pub(super) minor: u8,
    /// Names lower-cased, values trimmed, in arrival order.
    pub(super) headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn connection_has(&self, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n == "connection")
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Why no request head was read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeadError {
    /// The client closed (or only sent blank lines) between requests.
    Eof,
    /// I/O error or EOF inside a head: close without answering.
    Broken,
    /// Unparseable: answer with this status and close.
    Bad(u16),
}

/// Read one request head, skipping leading blank lines (supervisorctl sends
/// one after a streaming request).
pub(super) fn read_head<R: BufRead>(reader: &mut R) -> Result<Head, HeadError> {
    let mut budget = MAX_HEAD;
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        read_line(reader, &mut line, &mut budget)?;
        if !trim_eol(&line).is_empty() {
            break;
        }
    }
    let request_line = std::str::from_utf8(trim_eol(&line)).map_err(|_| HeadError::Bad(400))?;
    let mut parts = request_line.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Bad(400));
    };
    let minor = parse_version(version)?;
    let mut head = Head {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        headers: Vec::new(),
    };
    loop {
        line.clear();
        match read_line(reader, &mut line, &mut budget) {
            Ok(()) => {}
            Err(HeadError::Eof) => return Err(HeadError::Broken),
            Err(e) => return Err(e),
        }
        let text = trim_eol(&line);
        if text.is_empty() {
            return Ok(head);
        }
        let text = String::from_utf8_lossy(text);
        if text.starts_with([' ', '\t']) {
            // An obsolete folded continuation of the previous value.
            let Some(last) = head.headers.last_mut() else {
                return Err(HeadError::Bad(400));
            };
            last.1.push(' ');
            last.1.push_str(text.trim());
            continue;
        }
        // Lenient: the space after the colon is optional (Python needs it).
        let Some((name, value)) = text.split_once(':') else {
            return Err(HeadError::Bad(400));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(HeadError::Bad(400));
        }
        if head.headers.len() >= MAX_HEADERS {
            return Err(HeadError::Bad(431));
        }
        head.headers
            .push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
}

fn parse_version(version: &str) -> Result<u8, HeadError> {
    let Some(number) = version.strip_prefix("HTTP/") else {
        return Err(HeadError::Bad(400));
    };
    let Some((major, minor)) = number.split_once('.') else {
        return Err(HeadError::Bad(400));
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(HeadError::Bad(400));
    }
    match (major.trim_start_matches('0'), minor.trim_start_matches('0')) {
        ("1", "") => Ok(0),
        ("1", _) => Ok(1),
        _ => Err(HeadError::Bad(505)),
    }
}

/// Append one line (through its `\n`) to `line`, charging `budget`.
fn read_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    budget: &mut usize,
) -> Result<(), HeadError> {
    loop {
        let available = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(HeadError::Broken),
        };
        if available.is_empty() {
            return Err(if line.is_empty() {
                HeadError::Eof
            } else {
                HeadError::Broken
            });
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if take > *budget {
            return Err(HeadError::Bad(431));
        }
        *budget -= take;
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(());
        }
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Percent-decode a URL path (invalid escapes are kept as they are).
pub(super) fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// What the connection does after a response.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum After {
    /// Read the next request.
    Next,
    /// Close now: the client is gone (or the stream it asked for ended).
    Close,
    /// Half-close after our final response, then drain what the client may
    /// still send (a body we did not read, pipelined requests) for a moment,
    /// so that closing does not reset the connection under the response.
    Linger,
}

/// Serve one accepted connection until it closes.
pub(super) fn serve(conn: Conn, site: &Site) {
    let conn = Arc::new(conn);
    let Some(_registered) = site.shared.register(conn.clone()) else {
        return;
    };
    let mut reader = BufReader::with_capacity(16 * 1024, ConnRef(conn.clone()));
    let mut writer = ConnRef(conn.clone());
    loop {
        let after = match read_head(&mut reader) {
            Ok(head) => {
                // Streams never end by themselves; stopping must not wait for them.
                let streaming =
                    head.target.starts_with("/logtail") || head.target.starts_with("/mainlogtail");
                let _busy = (!streaming).then(|| site.shared.busy());
                handle(site, &head, &mut reader, &mut writer)
            }
            Err(HeadError::Eof | HeadError::Broken) => After::Close,
            Err(HeadError::Bad(status)) => {
                let response = pages::error(1, status, Persist::Close, &[], true);
                let _ = writer.write_all(&response);
                After::Linger
            }
        };
        match after {
            After::Next => {}
            After::Close => return,
            After::Linger => {
                linger(&conn, &mut reader);
                return;
            }
        }
    }
}

/// Half-close, then read and drop what the client still sends, for a short
/// while, so that our final response is not lost to a reset.
fn linger(conn: &Conn, reader: &mut BufReader<ConnRef>) {
    conn.shutdown(Shutdown::Write);
    if conn.set_read_timeout(Some(LINGER_TIME)).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TIME;
    let mut drained = 0;
    let mut buf = [0u8; 8192];
    while drained < LINGER_BYTES && Instant::now() < deadline {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The request's body framing.
enum Body {
    None,
    Length(u64),
    /// `Transfer-Encoding` (chunked bodies are not supported) or an invalid
    /// `Content-Length`: the next request cannot be found.
    Unframed,
}

fn body_of(head: &Head) -> Body {
    if head.header("transfer-encoding").is_some() {
        return Body::Unframed;
    }
    let mut length = None;
    for (_, value) in head.headers.iter().filter(|(n, _)| n == "content-length") {
        let parsed = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            value.parse::<u64>().ok()
        } else {
            None
        };
        match (parsed, length) {
            (None, _) => return Body::Unframed,
            (Some(n), Some(m)) if n != m => return Body::Unframed,
            (Some(n), _) => length = Some(n),
        }
    }
    match length {
        None | Some(0) => Body::None,
        Some(n) => Body::Length(n),
    }
}

/// Per-request context for the handlers.
pub(super) struct Exchange<'a> {
    pub(super) site: &'a Site,
    pub(super) head: &'a Head,
    pub(super) reader: &'a mut BufReader<ConnRef>,
    pub(super) writer: &'a mut ConnRef,
    /// Whether the client wants the connection kept after this response.
    pub(super) keep: bool,
    body: Body,
}

impl Exchange<'_> {
    pub(super) fn minor(&self) -> u8 {
        self.head.minor
    }

    /// The `Connection` header for a response after which we continue as
    /// the client asked.
    pub(super) fn persist(&self) -> Persist {
        match (self.keep, self.head.minor) {
            (false, _) => Persist::Close,
            (true, 0) => Persist::KeepAlive10,
            (true, _) => Persist::Default,
        }
    }

    fn after(&self) -> After {
        if self.keep {
            After::Next
        } else {
            After::Linger
        }
    }

    /// Send a complete response and continue as the client asked. Head
    /// and body go out in one vectored write: the body is never copied
    /// (with musl, a fresh buffer the size of a big answer is mapped and
    /// unmapped on every request).
    fn send(&mut self, status: u16, content_type: &str, body: &[u8]) -> After {
        let with_body = self.head.method != "HEAD";
        let head = pages::head_of_full(
            self.minor(),
            status,
            self.persist(),
            &[],
            content_type,
            body.len(),
        );
        let body = if with_body { body } else { &[] };
        match write_all_vectored(self.writer, &mut [IoSlice::new(&head), IoSlice::new(body)]) {
            Ok(()) => self.after(),
            Err(_) => After::Close,
        }
    }

    /// Send an error page and continue as the client asked.
    pub(super) fn error(&mut self, status: u16) -> After {
        let body = pages::error_body(status);
        self.send(status, "text/html", body.as_bytes())
    }

    /// Send an error page with `Connection: close` and close, draining input.
    pub(super) fn error_close(&mut self, status: u16, extra: &[(&str, &str)]) -> After {
        let with_body = self.head.method != "HEAD";
        let response = pages::error(self.minor(), status, Persist::Close, extra, with_body);
        let _ = self.writer.write_all(&response);
        After::Linger
    }

    /// Consume a body the handler does not want, so the next request can be
    /// read. `Err` is how the request ends instead: 411 for a body without
    /// a length, 413 for one too big to skip, or the client is gone.
    fn skip_body(&mut self) -> Result<(), After> {
        match self.body {
            Body::None => Ok(()),
            Body::Unframed => Err(self.error_close(411, &[])),
            Body::Length(n) if n > MAX_BODY => Err(self.error_close(413, &[])),
            Body::Length(n) => {
                if !self.continue_if_expected() {
                    return Err(After::Close);
                }
                let copied = io::copy(&mut (&mut *self.reader).take(n), &mut io::sink());
                self.body = Body::None;
                match copied {
                    Ok(m) if m == n => Ok(()),
                    _ => Err(After::Close),
                }
            }
        }
    }

    /// Send `100 Continue` if the client waits for it before its body.
    /// False if the client is gone.
    fn continue_if_expected(&mut self) -> bool {
        let expected = self.minor() == 1
            && self
                .head
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        !expected
            || self
                .writer
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .is_ok()
    }
}

/// Answer one request.
fn handle(
    site: &Site,
    head: &Head,
    reader: &mut BufReader<ConnRef>,
    writer: &mut ConnRef,
) -> After {
    let keep = if head.minor == 0 {
        head.connection_has("keep-alive")
    } else {
        !head.connection_has("close")
    };
    let mut ex = Exchange {
        site,
        head,
        reader,
        writer,
        keep,
        body: body_of(head),
    };
    if let Some(creds) = &site.auth {
        if !auth::authorized(head.header("authorization"), creds) {
            return ex.error_close(401, &[("WWW-Authenticate", auth::CHALLENGE)]);
        }
    }
    let path = request_path(&head.target);
    if path.starts_with("/RPC2") {
        return rpc(&mut ex);
    }
    if let Err(after) = ex.skip_body() {
        return after;
    }
    if path.starts_with("/logtail") || path.starts_with("/mainlogtail") {
        if head.method != "GET" {
            return ex.error(400);
        }
        return logtail::serve(&mut ex, &path);
    }
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    let ui_method = matches!(head.method.as_str(), "GET" | "POST");
    if ui_method && name == "ok.html" {
        return ex.send(200, "text/plain", b"OK");
    }
    // The status and tail pages (index.html, tail.html) and the static files
    // are the web UI, not served yet: 404 like a missing static file.
    if ui_method || head.method == "HEAD" {
        return ex.error(404);
    }
    ex.error(400)
}

/// The path of a request target, percent-decoded: the part before `?`; an
/// absolute-form target (`http://host/path`) is reduced to its path.
fn request_path(target: &str) -> String {
    let mut path = target;
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            path = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    percent_decode(path)
}

/// `/RPC2…`: POST with a `Content-Length` body, answered by the backend.
fn rpc(ex: &mut Exchange<'_>) -> After {
    if ex.head.method != "POST" {
        if let Err(after) = ex.skip_body() {
            return after;
        }
        return ex.error(400);
    }
    let length = match ex.body {
        Body::Length(n) => n,
        Body::None if ex.head.header("content-length").is_some() => 0,
        // No Content-Length, or chunked (not supported, as in Supervisor).
        Body::None | Body::Unframed => return ex.error_close(411, &[]),
    };
    if length > MAX_BODY {
        return ex.error_close(413, &[]);
    }
    if length > 0 && !ex.continue_if_expected() {
        return After::Close;
    }
    // Memory grows with what actually arrives, not with what was announced.
    let mut body = Vec::with_capacity(length.min(64 * 1024) as usize);
    match (&mut *ex.reader).take(length).read_to_end(&mut body) {
        Ok(n) if n as u64 == length => {}
        _ => return After::Close,
    }
    ex.body = Body::None;
    let reply = match ex.site.shared.backend.rpc(body) {
        Reply::Ready(xml) => Ok(xml),
        Reply::Later(receiver) => receiver.recv().map(Arc::from).map_err(|_| 500),
        Reply::Error(status) => Err(status),
    };
    match reply {
        Ok(xml) => ex.send(200, "text/xml", &xml),
        Err(500) => ex.error_close(500, &[]),
        Err(status) if (400..=599).contains(&status) => ex.error(status),
        Err(_) => ex.error_close(500, &[]),
    }
}

/// `write_all` for several buffers: one system call when the socket takes
/// everything, as it usually does.
fn write_all_vectored(writer: &mut impl Write, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match writer.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Head, HeadError> {
        read_head(&mut io::Cursor::new(text.as_bytes().to_vec()))
    }

    #[test]
    fn heads() {
        let head =
            parse("\r\n\r\nPOST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length:12\r\n\r\n").unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/RPC2");
        assert_eq!(head.minor, 1);
        assert_eq!(head.header("content-length"), Some("12"));
        assert_eq!(head.header("host"), Some("x"));
        let head = parse("GET / HTTP/1.0\nX: a\n  b\n\n").unwrap();
        assert_eq!(head.minor, 0);
        assert_eq!(head.header("x"), Some("a b"));
        assert_eq!(parse("").unwrap_err(), HeadError::Eof);
        assert_eq!(parse("\r\n").unwrap_err(), HeadError::Eof);
        assert_eq!(parse("GET / HTTP/1.1\r\n").unwrap_err(), HeadError::Broken);
        assert_eq!(parse("GET /\r\n\r\n").unwrap_err(), HeadError::Bad(400));
        assert_eq!(
            parse("GET / FTP/1.0\r\n\r\n").unwrap_err(),
            HeadError::Bad(400)
        );
        assert_eq!(
            parse("GET / HTTP/2.0\r\n\r\n").unwrap_err(),
            HeadError::Bad(505)
        );
        assert_eq!(
            parse("GET / HTTP/1.1\r\nnocolon\r\n\r\n").unwrap_err(),
            HeadError::Bad(400)
        );
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse(&huge).unwrap_err(), HeadError::Bad(431));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(&many).unwrap_err(), HeadError::Bad(431));
        assert_eq!(
            parse("G\u{e9}T / HTTP/1.1\r\n\r\n").unwrap().method,
            "G\u{e9}T"
        );
        assert_eq!(
            read_head(&mut io::Cursor::new(b"GET \xff HTTP/1.1\r\n\r\n".to_vec())).unwrap_err(),
            HeadError::Bad(400)
        );
    }

    #[test]
    fn paths() {
        assert_eq!(request_path("/logtail/grp%3Aga?x=1"), "/logtail/grp:ga");
        assert_eq!(request_path("/a%2"), "/a%2");
        assert_eq!(request_path("/a%zz%41"), "/a%zzA");
        assert_eq!(request_path("%"), "%");
        assert_eq!(request_path("http://h:1/RPC2"), "/RPC2");
        assert_eq!(request_path("http://h"), "/");
        assert_eq!(request_path("/%ff"), "/\u{fffd}");
    }
}
