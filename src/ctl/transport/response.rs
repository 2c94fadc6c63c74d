//! Reading the server's answers: a counting buffered reader, the status
//! line and headers, and whole bodies (Content-Length, chunked, or until
//! the connection ends), leniently (see the transport module).

use std::io::{self, Read};

use super::chunked::parse_chunk_size;
use super::socket::Sock;
use super::TransportError;

/// Longest status, header or chunk-size line accepted.
pub(super) const MAX_LINE: usize = 64 * 1024;
/// Most bytes of status line and headers of one answer (interim ones included).
const MAX_HEAD: usize = 256 * 1024;
/// Most interim (1xx) answers skipped before the real one.
const MAX_INTERIM: usize = 8;
/// Largest XML-RPC answer body accepted (a huge `tail` is far smaller).
const MAX_BODY: u64 = 1 << 30;
/// Read buffer size.
const BUF_SIZE: usize = 16 * 1024;

/// Failures while reading an answer.
#[derive(Debug)]
pub(super) enum ReadError {
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
pub(super) fn read_error(e: ReadError, nothing: bool) -> TransportError {
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
pub(super) struct Reader<R> {
    pub(super) inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    pub(super) received: u64,
}

impl<R: Read> Reader<R> {
    pub(super) fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            len: 0,
            received: 0,
        }
    }

    pub(super) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// Up to `max` buffered bytes, consumed.
    pub(super) fn take_buffered(&mut self, max: usize) -> &[u8] {
        let start = self.pos;
        self.pos += (self.len - start).min(max);
        &self.buf[start..self.pos]
    }

    /// Make sure bytes are buffered, reading once if none are. Ok(false): end of stream.
    pub(super) fn fill(&mut self) -> io::Result<bool> {
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
    pub(super) fn read_line(&mut self, limit: usize) -> Result<Option<Vec<u8>>, ReadError> {
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
    pub(super) fn read_exact_into(
        &mut self,
        mut n: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), ReadError> {
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
    pub(super) fn idle_and_open(&mut self) -> bool {
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
pub(super) struct Head {
    pub(super) status: u16,
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

    pub(super) fn chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    pub(super) fn content_length(&self) -> Result<Option<u64>, ReadError> {
        let Some(value) = self.get("content-length") else {
            return Ok(None);
        };
        let first = value.split(',').next().unwrap_or("").trim();
        first.parse::<u64>().map(Some).map_err(|_| {
            ReadError::Protocol(format!("bad Content-Length {}", excerpt(value.as_bytes())))
        })
    }

    pub(super) fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            false
        } else {
            self.persistent || self.has_token("connection", "keep-alive")
        }
    }
}

/// At most 80 characters of `bytes`, for messages.
pub(super) fn excerpt(bytes: &[u8]) -> String {
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
pub(super) fn read_head<R: Read>(r: &mut Reader<R>) -> Result<Head, ReadError> {
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
pub(super) fn read_body<R: Read>(
    r: &mut Reader<R>,
    head: &Head,
) -> Result<(Vec<u8>, bool), ReadError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl::transport::chunked::ChunkDecoder;
    use crate::xmlrpc::{self, Value};

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
}
