//! Request heads (Medusa's lenient rules, `http.md` §2.1): the end of a head
//! is found incrementally in the bytes received so far ([`Scanner`], linear
//! in what arrives however it is split), then the complete head is parsed
//! once ([`parse_head`]). Neither reads from a socket: the I/O thread feeds
//! them.

use std::ops::Range;

use super::limits::{MAX_HEAD, MAX_HEADERS};

/// A parsed request head. Its parts live in one string (a request costs
/// two allocations here, not two per header): the method, the target, then
/// each header's lower-cased name and trimmed value.
#[derive(Clone)]
pub(super) struct Head {
    text: String,
    method: Range<usize>,
    target: Range<usize>,
    /// HTTP/1.`minor`: 0 or 1.
    pub(super) minor: u8,
    /// (name, value) in arrival order.
    headers: Vec<(Range<usize>, Range<usize>)>,
    /// Authenticated with the read-only login: set by the I/O thread once
    /// the credentials are checked, never from the request itself.
    pub(super) readonly: bool,
}

impl Head {
    /// A head of these parts; header names are lower-cased.
    #[cfg(test)]
    pub(super) fn new<'a>(
        method: &str,
        target: &str,
        minor: u8,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Head {
        let mut head = Head::with_capacity(method.len() + target.len(), 0);
        head.method = head.push(method);
        head.target = head.push(target);
        head.minor = minor;
        for (name, value) in headers {
            head.push_header(name, value);
        }
        head
    }

    fn with_capacity(text: usize, headers: usize) -> Head {
        Head {
            text: String::with_capacity(text),
            method: 0..0,
            target: 0..0,
            minor: 1,
            headers: Vec::with_capacity(headers),
            readonly: false,
        }
    }

    fn push(&mut self, part: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(part);
        start..self.text.len()
    }

    fn push_header(&mut self, name: &str, value: &str) {
        let name = self.push(name);
        self.text[name.clone()].make_ascii_lowercase();
        let value = self.push(value);
        self.headers.push((name, value));
    }

    pub(super) fn method(&self) -> &str {
        &self.text[self.method.clone()]
    }

    pub(super) fn target(&self) -> &str {
        &self.text[self.target.clone()]
    }

    /// Every (lower-cased name, value), in arrival order.
    pub(super) fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (&self.text[n.clone()], &self.text[v.clone()]))
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn connection_has(&self, token: &str) -> bool {
        self.headers()
            .filter(|(n, _)| *n == "connection")
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client wants the connection kept after the response.
    pub(super) fn keep(&self) -> bool {
        if self.minor == 0 {
            self.connection_has("keep-alive")
        } else {
            !self.connection_has("close")
        }
    }

    /// An HTTP/1.1 client waiting for `100 Continue` before its body.
    pub(super) fn expects_continue(&self) -> bool {
        self.minor == 1
            && self
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The body's framing.
    pub(super) fn body(&self) -> Body {
        if self.header("transfer-encoding").is_some() {
            return Body::Unframed;
        }
        let mut length = None;
        for (_, value) in self.headers().filter(|(n, _)| *n == "content-length") {
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
}

/// Heads are equal when their parts are, however their text is laid out.
impl PartialEq for Head {
    fn eq(&self, other: &Head) -> bool {
        self.method() == other.method()
            && self.target() == other.target()
            && self.minor == other.minor
            && self.readonly == other.readonly
            && self.headers().eq(other.headers())
    }
}

impl Eq for Head {}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("minor", &self.minor)
            .field("headers", &self.headers().collect::<Vec<_>>())
            .field("readonly", &self.readonly)
            .finish()
    }
}

/// The request's body framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    None,
    Length(u64),
    /// `Transfer-Encoding` (chunked bodies are not supported) or an invalid
    /// `Content-Length`: the next request cannot be found.
    Unframed,
}

/// An unusable head: answer with this status and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bad(pub(super) u16);

/// Finds where a head ends in a growing buffer, looking at each byte once.
/// Leading blank lines are part of the head (they are skipped by the parser;
/// supervisorctl sends one after a streaming request).
#[derive(Debug, Default, Clone)]
pub(super) struct Scanner {
    /// Bytes looked at so far.
    pos: usize,
    /// Start of the line being scanned.
    line_start: usize,
    /// A non-blank line has been seen.
    content: bool,
}

impl Scanner {
    /// Look at what `buf` gained since the last call (`buf` only grows
    /// between calls). `Ok(Some(end))`: the head is `buf[..end]`;
    /// `Ok(None)`: more is needed; `Err` when the head is over [`MAX_HEAD`].
    pub(super) fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, Bad> {
        while let Some(i) = buf[self.pos..].iter().position(|&b| b == b'\n') {
            let newline = self.pos + i;
            let end = newline + 1;
            if end > MAX_HEAD {
                return Err(Bad(431));
            }
            self.pos = end;
            let line = &buf[self.line_start..newline];
            self.line_start = end;
            if line.is_empty() || line == b"\r" {
                if self.content {
                    return Ok(Some(end));
                }
            } else {
                self.content = true;
            }
        }
        self.pos = buf.len();
        if buf.len() > MAX_HEAD {
            return Err(Bad(431));
        }
        Ok(None)
    }
}

/// Parse a complete head as found by [`Scanner`] (through its blank line).
pub(super) fn parse_head(bytes: &[u8]) -> Result<Head, Bad> {
    if bytes.len() > MAX_HEAD {
        return Err(Bad(431));
    }
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(trim_cr)
        .skip_while(|line| line.is_empty());
    let request_line = lines.next().unwrap_or_default();
    let request_line = std::str::from_utf8(request_line).map_err(|_| Bad(400))?;
    let mut parts = request_line.split_ascii_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Bad(400));
    };
    let minor = parse_version(version)?;
    let mut head = Head::with_capacity(bytes.len(), 8);
    head.method = head.push(method);
    head.target = head.push(target);
    head.minor = minor;
    for line in lines {
        if line.is_empty() {
            return Ok(head);
        }
        let text = String::from_utf8_lossy(line);
        if text.starts_with([' ', '\t']) {
            // An obsolete folded continuation of the previous value, which
            // ends the text so far: it grows by this line.
            let Some(last) = head.headers.last_mut() else {
                return Err(Bad(400));
            };
            head.text.push(' ');
            head.text.push_str(text.trim());
            last.1.end = head.text.len();
            continue;
        }
        // Lenient: the space after the colon is optional (Python needs it).
        let Some((name, value)) = text.split_once(':') else {
            return Err(Bad(400));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(Bad(400));
        }
        if head.headers.len() >= MAX_HEADERS {
            return Err(Bad(431));
        }
        head.push_header(name, value.trim());
    }
    // No blank line: not a complete head (the scanner never passes one).
    Err(Bad(400))
}

fn parse_version(version: &str) -> Result<u8, Bad> {
    let Some(number) = version.strip_prefix("HTTP/") else {
        return Err(Bad(400));
    };
    let Some((major, minor)) = number.split_once('.') else {
        return Err(Bad(400));
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(Bad(400));
    }
    match (major.trim_start_matches('0'), minor.trim_start_matches('0')) {
        ("1", "") => Ok(0),
        ("1", _) => Ok(1),
        _ => Err(Bad(505)),
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
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

/// The path of a request target, percent-decoded: the part before `?`; an
/// absolute-form target (`http://host/path`) is reduced to its path.
pub(super) fn request_path(target: &str) -> std::borrow::Cow<'_, str> {
    let mut path = target;
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            path = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    if path.contains('%') {
        percent_decode(path).into()
    } else {
        path.into()
    }
}

/// Scan and parse `bytes` as the I/O thread does: `Ok(None)` while the head
/// is incomplete, else the head and its length.
#[cfg(test)]
pub(super) fn read_head(bytes: &[u8]) -> Result<Option<(Head, usize)>, Bad> {
    match Scanner::default().scan(bytes)? {
        Some(end) => parse_head(&bytes[..end]).map(|head| Some((head, end))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Head>, Bad> {
        read_head(text.as_bytes()).map(|r| r.map(|(head, _)| head))
    }

    #[test]
    fn heads() {
        let head = parse("\r\n\r\nPOST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length:12\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.method(), "POST");
        assert_eq!(head.target(), "/RPC2");
        assert_eq!(head.minor, 1);
        assert_eq!(head.header("content-length"), Some("12"));
        assert_eq!(head.header("host"), Some("x"));
        assert_eq!(head.body(), Body::Length(12));
        let head = parse("GET / HTTP/1.0\nX: a\n  b\n\n").unwrap().unwrap();
        assert_eq!(head.minor, 0);
        assert_eq!(head.header("x"), Some("a b"));
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("\r\n").unwrap(), None);
        assert_eq!(parse("GET / HTTP/1.1\r\n").unwrap(), None);
        assert_eq!(parse("GET /\r\n\r\n").unwrap_err(), Bad(400));
        assert_eq!(parse("GET / FTP/1.0\r\n\r\n").unwrap_err(), Bad(400));
        assert_eq!(parse("GET / HTTP/2.0\r\n\r\n").unwrap_err(), Bad(505));
        assert_eq!(
            parse("GET / HTTP/1.1\r\nnocolon\r\n\r\n").unwrap_err(),
            Bad(400)
        );
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse(&huge).unwrap_err(), Bad(431));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(&many).unwrap_err(), Bad(431));
        assert_eq!(
            parse("G\u{e9}T / HTTP/1.1\r\n\r\n")
                .unwrap()
                .unwrap()
                .method(),
            "G\u{e9}T"
        );
        assert_eq!(
            read_head(b"GET \xff HTTP/1.1\r\n\r\n").unwrap_err(),
            Bad(400)
        );
    }

    #[test]
    fn scanning_in_pieces_finds_the_same_end() {
        let text = b"\r\nGET /x HTTP/1.1\r\nA: b\r\n\r\nNEXT";
        let mut scanner = Scanner::default();
        let mut found = None;
        for n in 0..=text.len() {
            if let Some(end) = scanner.scan(&text[..n]).unwrap() {
                found = Some((n, end));
                break;
            }
        }
        assert_eq!(found, Some((text.len() - 4, text.len() - 4)));
        // A head of exactly MAX_HEAD bytes is fine, one more is not.
        let filler = MAX_HEAD - "GET / HTTP/1.1\r\nX: \r\n\r\n".len();
        let exact = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(filler));
        assert_eq!(exact.len(), MAX_HEAD);
        assert!(parse(&exact).unwrap().is_some());
        let over = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(filler + 1));
        assert_eq!(parse(&over).unwrap_err(), Bad(431));
        // No newline at all: refused as soon as it is too long.
        let endless = vec![b'a'; MAX_HEAD + 1];
        assert_eq!(Scanner::default().scan(&endless).unwrap_err(), Bad(431));
    }

    #[test]
    fn framing() {
        let body = |headers: &str| {
            parse(&format!("POST / HTTP/1.1\r\n{headers}\r\n"))
                .unwrap()
                .unwrap()
                .body()
        };
        assert_eq!(body(""), Body::None);
        assert_eq!(body("Content-Length: 0\r\n"), Body::None);
        assert_eq!(body("Content-Length: 5\r\n"), Body::Length(5));
        assert_eq!(
            body("Content-Length: 5\r\nContent-Length: 5\r\n"),
            Body::Length(5)
        );
        assert_eq!(
            body("Content-Length: 5\r\nContent-Length: 6\r\n"),
            Body::Unframed
        );
        assert_eq!(body("Content-Length: -1\r\n"), Body::Unframed);
        assert_eq!(body("Transfer-Encoding: chunked\r\n"), Body::Unframed);
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
