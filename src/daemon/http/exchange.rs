//! Answering one complete request on a worker thread: dispatch (`http.md`
//! §2.2) and the response, written under the write timeouts. The request
//! arrived whole, head and body (`incoming.rs`), and what needs no worker
//! (bad heads, 401, 411, 413) was answered already.
//!
//! Connections stay in non-blocking mode all their life; a worker that
//! cannot write waits for the socket with `poll(2)`, so a timeout means
//! exactly "the client took nothing for that long".

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::head::{request_path, Body, Head};
use super::limits::{RESPONSE_TIMEOUT, WRITE_TIMEOUT};
use super::pages::{self, Persist};
use super::pool::Pool;
use super::{logtail, webui, Probe, Reply, Site};

/// An accepted connection. It counts as open on its server until dropped.
pub(super) struct Conn {
    stream: Stream,
    _open: OpenSlot,
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// One of a server's open connections; dropping it frees the place (and
/// wakes the I/O thread if it stopped accepting for want of one).
pub(super) struct OpenSlot(pub(super) Arc<Site>);

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

impl Conn {
    pub(super) fn tcp(stream: TcpStream, slot: OpenSlot) -> Conn {
        Conn {
            stream: Stream::Tcp(stream),
            _open: slot,
        }
    }

    pub(super) fn unix(stream: UnixStream, slot: OpenSlot) -> Conn {
        Conn {
            stream: Stream::Unix(stream),
            _open: slot,
        }
    }

    pub(super) fn shutdown(&self, how: Shutdown) {
        let _ = match &self.stream {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        };
    }

    /// A write failed with `e`: the connection is to be closed. When the
    /// client stopped reading (a write timeout), the close resets it, so
    /// that the kernel drops the unsent answer instead of keeping it (up to
    /// megabytes per connection) for a client that may never read it.
    pub(super) fn failed(&self, e: &io::Error) -> After {
        let timed_out = matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        );
        if timed_out {
            let reset = nix::libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            let _ = nix::sys::socket::setsockopt(self, nix::sys::socket::sockopt::Linger, &reset);
        }
        After::Close
    }
}

impl AsRawFd for Conn {
    fn as_raw_fd(&self) -> RawFd {
        match &self.stream {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl AsFd for Conn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.stream {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

impl Read for &Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.stream {
            Stream::Tcp(s) => (&*s).read(buf),
            Stream::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.stream {
            Stream::Tcp(s) => (&*s).write(buf),
            Stream::Unix(s) => (&*s).write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match &self.stream {
            Stream::Tcp(s) => (&*s).write_vectored(bufs),
            Stream::Unix(s) => (&*s).write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the connection does after a response.
pub(super) enum After {
    /// Back to the I/O thread for the next request.
    Next,
    /// Close now: the client is gone, or a write failed.
    Close,
    /// Our final response is out: half-close, then let the I/O thread drain
    /// what the client may still send for a moment, so that closing does not
    /// reset the connection under the response.
    Linger,
    /// Start this log stream on the connection (the head is not sent yet).
    Stream(logtail::Stream),
}

/// A complete request being answered on a worker.
pub(super) struct Exchange<'a> {
    pub(super) site: &'a Arc<Site>,
    pub(super) head: &'a Head,
    pub(super) conn: &'a Conn,
    /// Whether the client wants the connection kept after this response.
    pub(super) keep: bool,
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
        let with_body = self.head.method() != "HEAD";
        let head = pages::head_of_full(
            self.minor(),
            status,
            self.persist(),
            &[],
            content_type,
            body.len(),
        );
        let body = if with_body { body } else { &[] };
        let mut bufs = [IoSlice::new(&head), IoSlice::new(body)];
        match write_all_vectored(self.conn, &mut bufs) {
            Ok(()) => self.after(),
            Err(e) => self.conn.failed(&e),
        }
    }

    /// Send an error page and continue as the client asked.
    pub(super) fn error(&mut self, status: u16) -> After {
        let body = pages::error_body(status);
        self.send(status, "text/html", body.as_bytes())
    }

    /// Send an error page with `Connection: close` and close, draining input.
    pub(super) fn error_close(&mut self, status: u16) -> After {
        let with_body = self.head.method() != "HEAD";
        let response = pages::error(self.minor(), status, Persist::Close, &[], with_body);
        match write_all_vectored(self.conn, &mut [IoSlice::new(&response)]) {
            Ok(()) => After::Linger,
            Err(e) => self.conn.failed(&e),
        }
    }
}

/// Answer one complete request; `body` is all of it (the I/O thread read it).
pub(super) fn answer(site: &Arc<Site>, conn: &Conn, head: &Head, body: Vec<u8>) -> After {
    let mut ex = Exchange {
        site,
        head,
        conn,
        keep: head.keep(),
    };
    let path = request_path(head.target());
    if path.starts_with("/RPC2") {
        // A browser's credentials go with any request, whichever page made
        // it: XML-RPC from another web site is refused (clients that are
        // not browsers say nothing of sites and are never refused).
        if webui::guard::cross_site(head) || (head.readonly && !webui::readonly::rpc_allowed(&body))
        {
            return ex.error(403);
        }
        return rpc(&mut ex, body);
    }
    if let Some(probe) = Probe::at(&path) {
        if !matches!(head.method(), "GET" | "HEAD") {
            return ex.error(405);
        }
        let answer = site.backend.probe(probe);
        let content_type = match probe {
            Probe::Metrics => "text/plain; version=0.0.4; charset=utf-8",
            Probe::Healthz | Probe::Readyz => "text/plain; charset=utf-8",
        };
        return ex.send(answer.status, content_type, answer.body.as_bytes());
    }
    if path.starts_with("/logtail") || path.starts_with("/mainlogtail") {
        if head.method() != "GET" {
            return ex.error(400);
        }
        return logtail::serve(&mut ex, &path);
    }
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    let ui_method = matches!(head.method(), "GET" | "POST");
    if ui_method && name == "ok.html" {
        return ex.send(200, "text/plain", b"OK");
    }
    if let Some(after) = webui::serve(&mut ex, name, body) {
        return after;
    }
    // No static files beyond the web UI's: 404 like a missing one.
    if ui_method || head.method() == "HEAD" {
        return ex.error(404);
    }
    ex.error(400)
}

/// `/RPC2…`: POST with a `Content-Length` body, answered by the backend.
fn rpc(ex: &mut Exchange<'_>, body: Vec<u8>) -> After {
    if ex.head.method() != "POST" {
        return ex.error(400);
    }
    match ex.head.body() {
        Body::Length(_) => {}
        Body::None if ex.head.header("content-length").is_some() => {}
        // No Content-Length (chunked never gets here, as in Supervisor).
        Body::None | Body::Unframed => return ex.error_close(411),
    }
    let reply = match ex.site.backend.rpc(body) {
        Reply::Ready(xml) => Ok(xml),
        // The worker waits: this client waits for this answer and HTTP/1.1
        // answers in order. The pool replaces a waiting worker (up to
        // MAX_DEFERRED of them), so other clients are served meanwhile.
        Reply::Later(receiver) => Pool::deferred(ex.site, || receiver.recv())
            .map(Arc::from)
            .map_err(|_| 500),
        Reply::Error(status) => Err(status),
    };
    match reply {
        Ok(xml) => ex.send(200, "text/xml", &xml),
        Err(500) => ex.error_close(500),
        Err(status) if (400..=599).contains(&status) => ex.error(status),
        Err(_) => ex.error_close(500),
    }
}

/// An ordinary response: [`write_all`] within [`RESPONSE_TIMEOUT`].
fn write_all_vectored(conn: &Conn, bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    write_all(conn, bufs, Some(Instant::now() + RESPONSE_TIMEOUT))
}

/// `write_all` for several buffers: one system call when the socket takes
/// everything, as it usually does. When it takes nothing, wait for it, but
/// give up when it has taken nothing for [`WRITE_TIMEOUT`] or at
/// `deadline`, if any.
pub(super) fn write_all(
    conn: &Conn,
    mut bufs: &mut [IoSlice<'_>],
    deadline: Option<Instant>,
) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    let mut writer = conn;
    while !bufs.is_empty() {
        match writer.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.map_or(WRITE_TIMEOUT, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                if !wait_ready(conn, PollFlags::POLLOUT, WRITE_TIMEOUT.min(left))? {
                    return Err(io::ErrorKind::TimedOut.into());
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Wait until `conn` is ready for `events` (or has an error or hangup,
/// which the next read or write reports); false after `timeout`.
pub(super) fn wait_ready(conn: &Conn, events: PollFlags, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Rounded up: never wake just before the deadline.
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(conn.as_fd(), events)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) => {}
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Responses are written in one piece, so Nagle would only hold back a 100
/// Continue or a log chunk.
pub(super) fn prepare(conn: &Conn) -> io::Result<()> {
    match &conn.stream {
        Stream::Tcp(s) => s.set_nodelay(true),
        Stream::Unix(_) => Ok(()),
    }
}
