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
//! Here: the call on a kept connection (when to reuse, when to send once
//! more) and the stream. The parts: `url` (the server URL), `socket`
//! (connecting), `request` (what is sent, with credentials), `response`
//! (reading answers), `chunked` (chunked bodies, also incrementally).
//!
//! The process must ignore SIGPIPE (Rust's runtime does so before `main`),
//! or writing to a socket the server closed would kill it instead of failing
//! with EPIPE.

mod chunked;
mod request;
mod response;
mod socket;
mod url;

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use crate::xmlrpc::{self, Fault, Value};
use chunked::ChunkDecoder;
use response::{read_body, read_error, read_head, Head, ReadError, Reader};
use socket::{connect, Sock};
use url::Endpoint;

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

/// Ends streams ([`Transport::stream`]) from another thread: `cancel`
/// shuts their connections, so a stream waiting for data returns at once,
/// and a stream that starts after it returns without asking.
#[derive(Default)]
pub struct Cancel {
    /// Cancelled yet, and the connections of the streams under way.
    state: Mutex<(bool, Vec<Sock>)>,
}

impl Cancel {
    pub fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 = true;
        for sock in state.1.drain(..) {
            let _ = sock.shutdown();
        }
    }

    /// Watch `sock`; false when already cancelled.
    fn watch(&self, sock: &Sock) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.0 {
            return false;
        }
        if let Ok(handle) = sock.try_clone() {
            state.1.push(handle);
        }
        true
    }
}

/// The connection to one supervisord and the credentials to send.
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
    /// Err: the text of an unusable URL (unknown scheme, bad host or port).
    pub fn new(
        serverurl: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Transport, String> {
        let (endpoint, host) = url::parse(serverurl)?;
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
    /// each piece of the (chunked) body to `on_data` until it returns false, the stream ends
    /// or `cancel` is cancelled (what the stream returns then is of no interest).
    /// A non-200 status → Err(TransportError::Http(status)) (401 → Unauthorized).
    ///
    /// Bytes of `path` that may not appear raw in a request line (controls,
    /// space, non-ASCII) are percent-encoded; `%` is left alone, so the
    /// caller percent-encodes names that contain it.
    pub fn stream(
        &self,
        path: &str,
        cancel: &Cancel,
        on_data: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), TransportError> {
        let mut conn = Reader::new(connect(&self.endpoint)?);
        if !cancel.watch(&conn.inner) {
            return Ok(());
        }
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

#[cfg(test)]
mod tests;
