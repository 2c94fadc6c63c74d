//! Reading one request from a non-blocking connection, whoever holds it: the
//! I/O thread (driven by readiness and deadlines) or a worker that stays on
//! a keep-alive connection for the next request (see `pool.rs`). The state
//! ([`Incoming`]) travels with the connection between them, so a request
//! split across the hand-over loses nothing, not even its deadline.
//!
//! What needs no worker is answered here, without blocking, and the
//! connection then lingers: malformed heads (400/431/505), 401, 411, 413,
//! and 503 when the server's request memory ([`super::limits::MAX_BUFFERED`])
//! is used up. If such a short answer does not fit into the socket at once
//! (a client that does not read), the connection is simply closed.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Instant;

use super::exchange::Conn;
use super::head::{parse_head, Bad, Body, Head, Scanner};
use super::limits::{
    FREE_BUFFER, IDLE_TIMEOUT, LINGER_BYTES, LINGER_TIME, MAX_BODY, MAX_HEAD, REQUEST_TIMEOUT,
};
use super::pages::{self, Persist};
use super::{auth, Charge, Site};

/// A connection's input between answers.
pub(super) struct Incoming {
    /// Received bytes not yet handed to a worker.
    buf: Vec<u8>,
    scanner: Scanner,
    phase: Phase,
    pub(super) deadline: Instant,
    /// Between requests, waiting for the first byte of the next one (the
    /// deadline is the idle one).
    idle: bool,
    charge: Charge,
}

enum Phase {
    /// Reading a request head.
    Head,
    /// The head is `buf[..head_len]`; the request is complete at `need` bytes.
    Body {
        head: Head,
        head_len: usize,
        need: usize,
    },
    /// Draining what the client still sends before closing.
    Linger { drained: usize },
}

/// What to do after looking at the buffer.
pub(super) enum Flow {
    /// Read more.
    More,
    Close,
    /// A complete request.
    Ready(Request),
}

/// A complete request, taken out of the buffer.
pub(super) struct Request {
    pub(super) head: Head,
    pub(super) body: Vec<u8>,
    /// The request's bytes in the server's memory budget, until answered.
    pub(super) charge: Charge,
}

impl Incoming {
    /// A new connection: its first request must come within
    /// [`REQUEST_TIMEOUT`] of the accept.
    pub(super) fn first(site: &Arc<Site>) -> Incoming {
        Incoming {
            buf: Vec::new(),
            scanner: Scanner::default(),
            phase: Phase::Head,
            deadline: Instant::now() + REQUEST_TIMEOUT,
            idle: false,
            charge: Charge::new(site),
        }
    }

    /// After an answer: idle, unless `rest` (what arrived after the request
    /// just answered) already begins the next one.
    pub(super) fn next(site: &Arc<Site>, rest: Vec<u8>) -> Incoming {
        let now = Instant::now();
        let mut incoming = Incoming::first(site);
        if rest.is_empty() {
            incoming.idle = true;
            incoming.deadline = now + IDLE_TIMEOUT;
        } else {
            incoming.buf = rest;
            // Within what the request that brought it was charged for.
            incoming
                .charge
                .set(incoming.buf.capacity().saturating_sub(FREE_BUFFER));
        }
        incoming
    }

    /// After a final response, with the write side shut: drain, then close.
    pub(super) fn linger(site: &Arc<Site>) -> Incoming {
        let mut incoming = Incoming::first(site);
        incoming.phase = Phase::Linger { drained: 0 };
        incoming.deadline = Instant::now() + LINGER_TIME;
        incoming
    }

    /// Whether the deadline passing means a client stuck inside a request
    /// (answered with a 408) rather than an idle or lingering connection.
    pub(super) fn inside_request(&self) -> bool {
        match self.phase {
            Phase::Head => !self.idle && !self.buf.is_empty(),
            Phase::Body { .. } => true,
            Phase::Linger { .. } => false,
        }
    }

    pub(super) fn lingering(&self) -> bool {
        matches!(self.phase, Phase::Linger { .. })
    }

    /// Act on what the buffer holds.
    pub(super) fn look(&mut self, conn: &Conn, site: &Site) -> Flow {
        match &self.phase {
            Phase::Linger { drained } if *drained >= LINGER_BYTES => Flow::Close,
            Phase::Linger { .. } => Flow::More,
            Phase::Body { need, .. } if self.buf.len() < *need => Flow::More,
            Phase::Body { .. } => match std::mem::replace(&mut self.phase, Phase::Head) {
                Phase::Body {
                    head,
                    head_len,
                    need,
                } => Flow::Ready(self.take(head, head_len, need)),
                _ => unreachable!("the phase was just matched"),
            },
            Phase::Head if self.buf.is_empty() => Flow::More,
            Phase::Head => match self.scanner.scan(&self.buf) {
                Ok(None) => Flow::More,
                Ok(Some(end)) => match parse_head(&self.buf[..end]) {
                    Ok(head) => self.start(conn, site, head, end),
                    Err(Bad(status)) => self.fail(conn, 1, status, &[], true),
                },
                Err(Bad(status)) => self.fail(conn, 1, status, &[], true),
            },
        }
    }

    /// A head is complete: refuse the request here, or wait for its body.
    fn start(&mut self, conn: &Conn, site: &Site, mut head: Head, head_len: usize) -> Flow {
        let with_body = head.method() != "HEAD";
        if let Some(creds) = &site.auth {
            let access = auth::request_access(&head, creds);
            if access == auth::Access::Denied {
                let extra = [("WWW-Authenticate", auth::CHALLENGE)];
                return self.fail(conn, head.minor, 401, &extra, with_body);
            }
            head.readonly = access == auth::Access::ReadOnly;
        }
        let length = match head.body() {
            Body::None => 0,
            Body::Unframed => return self.fail(conn, head.minor, 411, &[], with_body),
            Body::Length(n) if n > MAX_BODY => {
                return self.fail(conn, head.minor, 413, &[], with_body)
            }
            // At most MAX_BODY: fits.
            Body::Length(n) => n as usize,
        };
        let need = head_len + length;
        if need > self.buf.capacity() {
            // Memory for the whole body, before the client sends it.
            if !self.charge.set(need.saturating_sub(FREE_BUFFER)) {
                return self.fail(conn, head.minor, 503, &[], with_body);
            }
            self.buf.reserve_exact(need - self.buf.len());
        }
        if length > 0
            && head.expects_continue()
            && !write_now(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        {
            return Flow::Close;
        }
        self.phase = Phase::Body {
            head,
            head_len,
            need,
        };
        self.look(conn, site)
    }

    /// Take the complete request `buf[..need]` out; what follows stays.
    fn take(&mut self, head: Head, head_len: usize, need: usize) -> Request {
        let rest = self.buf.split_off(need);
        let mut body = std::mem::replace(&mut self.buf, rest);
        body.drain(..head_len);
        let fresh = Charge::new(&self.charge.site);
        let charge = std::mem::replace(&mut self.charge, fresh);
        self.scanner = Scanner::default();
        Request { head, body, charge }
    }

    /// The bytes that arrived after the request taken last.
    pub(super) fn into_rest(self) -> Vec<u8> {
        self.buf
    }

    /// Answer `status` with `Connection: close` (best effort, never
    /// blocking), half-close and linger.
    fn fail(
        &mut self,
        conn: &Conn,
        minor: u8,
        status: u16,
        extra: &[(&str, &str)],
        body: bool,
    ) -> Flow {
        let response = pages::error(minor, status, Persist::Close, extra, body);
        if !write_now(conn, &response) {
            return Flow::Close;
        }
        conn.shutdown(Shutdown::Write);
        self.buf = Vec::new();
        self.charge.set(0);
        self.phase = Phase::Linger { drained: 0 };
        self.deadline = Instant::now() + LINGER_TIME;
        Flow::More
    }

    /// One read into the buffer (or the bin, when lingering), as much as the
    /// phase allows. `Ok(true)`: bytes came; `Ok(false)`: nothing more for
    /// now; `Err`: EOF or an error (close).
    pub(super) fn read_more(&mut self, conn: &Conn, scratch: &mut [u8]) -> Result<bool, ()> {
        let want = match &self.phase {
            // One more than allowed shows an oversized head.
            Phase::Head => (MAX_HEAD + 1).saturating_sub(self.buf.len()),
            Phase::Body { need, .. } => need - self.buf.len(),
            Phase::Linger { drained } => LINGER_BYTES - drained,
        }
        .clamp(1, scratch.len());
        let mut reader = conn;
        let n = loop {
            match reader.read(&mut scratch[..want]) {
                Ok(0) => return Err(()),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(_) => return Err(()),
            }
        };
        if let Phase::Linger { drained } = &mut self.phase {
            *drained += n;
            return Ok(true);
        }
        if self.idle {
            // The first byte of a request starts its clock.
            self.idle = false;
            self.deadline = Instant::now() + REQUEST_TIMEOUT;
        }
        self.buf.extend_from_slice(&scratch[..n]);
        if !self
            .charge
            .set(self.buf.capacity().saturating_sub(FREE_BUFFER))
        {
            let minor = match &self.phase {
                Phase::Body { head, .. } => head.minor,
                _ => 1,
            };
            // The budget is spent on other requests.
            return match self.fail(conn, minor, 503, &[], true) {
                Flow::More => Ok(true),
                _ => Err(()),
            };
        }
        Ok(true)
    }
}

/// Write `bytes` without blocking; false unless all of it went out.
pub(super) fn write_now(conn: &Conn, bytes: &[u8]) -> bool {
    let mut writer = conn;
    let mut rest = bytes;
    while !rest.is_empty() {
        match writer.write(rest) {
            Ok(0) => return false,
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}
