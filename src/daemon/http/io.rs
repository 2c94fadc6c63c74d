//! A server's I/O thread: one `mio::Poll` that accepts connections and owns
//! each of them, in non-blocking mode, whenever no worker is answering it:
//! while it is idle between requests, while a request arrives, and while it
//! lingers before closing. Idle and slow clients thus cost a descriptor and
//! a buffer, never a thread.
//!
//! A request is read whole (head, then body) into the connection's buffer
//! under [`REQUEST_TIMEOUT`]; complete, it goes to the server's workers with
//! whatever else arrived (pipelined requests). The worker hands the
//! connection back after its answer (keep-alive, or linger after a final
//! response). Deadlines live in one sorted set; the poll sleeps until the
//! nearest, or without a timeout when no connection is open.
//!
//! Responses that need no worker are written here, without blocking, and the
//! connection then lingers: malformed heads (400/431/505), 401, 411, 413, and
//! 503 when the server's request memory
//! ([`super::limits::MAX_BUFFERED`]) is used up. If
//! such a short answer does not fit into the socket at once (a client that
//! does not read), the connection is simply closed.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::exchange::{self, Conn};
use super::head::{parse_head, Bad, Body, Head, Scanner};
use super::limits::{
    ACCEPT_RETRY, FREE_BUFFER, IDLE_TIMEOUT, LINGER_BYTES, LINGER_TIME, MAX_BODY, MAX_HEAD,
    REQUEST_TIMEOUT,
};
use super::listen::Listener;
use super::pages::{self, Persist};
use super::pool::{Job, Pool};
use super::{auth, Answering, Charge, Site};

const LISTENER: Token = Token(0);
const WAKE: Token = Token(1);
/// Connection `i` has token `FIRST + i`.
const FIRST: usize = 2;
/// Most bytes read by one read call.
const READ_CHUNK: usize = 64 * 1024;

/// A connection a worker hands back.
pub(super) struct Returned {
    pub(super) conn: Conn,
    pub(super) then: Then,
}

/// What the I/O thread does with a connection handed back.
pub(super) enum Then {
    /// Wait for the next request; these bytes of it (or of several) are here.
    Next(Vec<u8>),
    /// The final response is out and the write side shut: drain, then close.
    Linger,
}

/// The poll of a new I/O thread and the waker that interrupts it.
pub(super) fn new_poll() -> io::Result<(Poll, Waker)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKE)?;
    Ok((poll, waker))
}

/// Start serving `listener` for `site` on a thread of its own.
pub(super) fn spawn(poll: Poll, listener: Listener, site: Arc<Site>) -> io::Result<JoinHandle<()>> {
    let mut accepting = match listener {
        Listener::Tcp(l) => {
            l.set_nonblocking(true)?;
            Accepting::Tcp(mio::net::TcpListener::from_std(l))
        }
        Listener::Unix(l) => {
            l.set_nonblocking(true)?;
            Accepting::Unix(mio::net::UnixListener::from_std(l))
        }
    };
    match &mut accepting {
        Accepting::Tcp(l) => poll.registry().register(l, LISTENER, Interest::READABLE)?,
        Accepting::Unix(l) => poll.registry().register(l, LISTENER, Interest::READABLE)?,
    }
    let io = IoLoop {
        poll,
        listener: accepting,
        site,
        conns: Vec::new(),
        free: Vec::new(),
        deadlines: BTreeSet::new(),
        accept_retry: None,
        scratch: vec![0; READ_CHUNK],
    };
    thread::Builder::new()
        .name("http-io".to_string())
        .spawn(move || io.run())
}

enum Accepting {
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

/// A connection owned by the I/O thread.
struct Entry {
    conn: Conn,
    /// Received bytes not yet handed to a worker.
    buf: Vec<u8>,
    scanner: Scanner,
    phase: Phase,
    deadline: Instant,
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

/// What to do after looking at a connection's buffer.
enum Flow {
    /// Read more.
    More,
    Close,
    /// `buf[..need]` is a complete request with this head.
    Dispatch {
        head: Head,
        head_len: usize,
        need: usize,
    },
}

struct IoLoop {
    poll: Poll,
    listener: Accepting,
    site: Arc<Site>,
    conns: Vec<Option<Entry>>,
    free: Vec<usize>,
    /// (deadline, slot) of every connection in `conns`.
    deadlines: BTreeSet<(Instant, usize)>,
    /// Accepting failed (out of descriptors): try again then.
    accept_retry: Option<Instant>,
    scratch: Vec<u8>,
}

impl IoLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let next = self.deadlines.first().map(|(d, _)| *d);
            let next = match (next, self.accept_retry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = next.map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            if self.site.stopping() {
                break;
            }
            let mut accept = false;
            for event in events.iter() {
                match event.token() {
                    LISTENER => accept = true,
                    WAKE => {
                        self.take_returns();
                        accept |= self.site.accept_paused.swap(false, Ordering::SeqCst);
                    }
                    Token(token) => self.on_input(token - FIRST),
                }
            }
            if self.accept_retry.is_some_and(|t| t <= Instant::now()) {
                self.accept_retry = None;
                accept = true;
            }
            if accept {
                self.accept();
            }
            self.expire(Instant::now());
        }
        // Workers finishing from now on close their connections themselves.
        *self.site.inbox.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Accept until the backlog is empty. At the connection cap, each new
    /// connection evicts the one nearest to its deadline among those owned
    /// here; with none to evict, accepting pauses until a connection closes.
    fn accept(&mut self) {
        loop {
            let full = self.site.at_cap();
            if full && self.deadlines.is_empty() {
                self.site.accept_paused.store(true, Ordering::SeqCst);
                // One may have closed before the flag was up.
                if self.site.at_cap() {
                    return;
                }
                self.site.accept_paused.store(false, Ordering::SeqCst);
                continue;
            }
            let accepted = match &self.listener {
                Accepting::Tcp(l) => l
                    .accept()
                    .map(|(s, _)| Conn::tcp(s.into(), self.site.open_slot())),
                Accepting::Unix(l) => l
                    .accept()
                    .map(|(s, _)| Conn::unix(s.into(), self.site.open_slot())),
            };
            match accepted {
                Ok(conn) => {
                    if full {
                        self.evict();
                    }
                    if exchange::prepare(&conn).is_ok() {
                        let deadline = Instant::now() + REQUEST_TIMEOUT;
                        self.insert(Entry {
                            conn,
                            buf: Vec::new(),
                            scanner: Scanner::default(),
                            phase: Phase::Head,
                            deadline,
                            idle: false,
                            charge: Charge::new(&self.site),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // ECONNABORTED and friends concern one connection only.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(_) => {
                    // Out of descriptors or memory: the pending connection
                    // stays queued; look again shortly.
                    self.accept_retry = Some(Instant::now() + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    /// Close the connection nearest to its deadline.
    fn evict(&mut self) {
        if let Some((_, slot)) = self.deadlines.pop_first() {
            self.conns[slot] = None;
            self.free.push(slot);
        }
    }

    /// Own `entry`: register it and its deadline; its slot, unless it could
    /// not be registered (then it is closed).
    fn insert(&mut self, entry: Entry) -> Option<usize> {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let fd = entry.conn.as_raw_fd();
        let registered = self.poll.registry().register(
            &mut SourceFd(&fd),
            Token(FIRST + slot),
            Interest::READABLE,
        );
        if registered.is_err() {
            self.free.push(slot);
            return None;
        }
        self.deadlines.insert((entry.deadline, slot));
        self.conns[slot] = Some(entry);
        Some(slot)
    }

    /// Connections handed back by workers.
    fn take_returns(&mut self) {
        let returned = {
            let mut inbox = self.site.inbox.lock().unwrap_or_else(|e| e.into_inner());
            inbox.as_mut().map(std::mem::take).unwrap_or_default()
        };
        for Returned { conn, then } in returned {
            let now = Instant::now();
            let mut entry = Entry {
                conn,
                buf: Vec::new(),
                scanner: Scanner::default(),
                phase: Phase::Head,
                deadline: now + IDLE_TIMEOUT,
                idle: true,
                charge: Charge::new(&self.site),
            };
            match then {
                Then::Next(rest) if rest.is_empty() => {}
                Then::Next(rest) => {
                    entry.idle = false;
                    entry.deadline = now + REQUEST_TIMEOUT;
                    entry.buf = rest;
                    // Within what the request that brought it was charged.
                    entry
                        .charge
                        .set(entry.buf.capacity().saturating_sub(FREE_BUFFER));
                }
                Then::Linger => {
                    entry.phase = Phase::Linger { drained: 0 };
                    entry.deadline = now + LINGER_TIME;
                }
            }
            // What is buffered and what arrived meanwhile: the readiness
            // edge may have passed while a worker had the connection.
            if let Some(slot) = self.insert(entry) {
                self.on_input(slot);
            }
        }
    }

    /// Close connections whose deadline has passed: silently when idle or
    /// when nothing of a request came, with a 408 inside a request.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, slot)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            self.free.push(slot);
            let Some(entry) = self.conns[slot].take() else {
                continue;
            };
            let partial = match entry.phase {
                Phase::Head => !entry.idle && !entry.buf.is_empty(),
                Phase::Body { .. } => true,
                Phase::Linger { .. } => false,
            };
            if partial {
                let response = pages::error(1, 408, Persist::Close, &[], true);
                write_now(&entry.conn, &response);
                entry.conn.shutdown(Shutdown::Both);
            }
        }
    }

    /// Readiness (or a returned connection): read and act until the socket
    /// has nothing more, the request goes to a worker, or it closes.
    fn on_input(&mut self, slot: usize) {
        let Some(mut entry) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let before = entry.deadline;
        let kept = loop {
            match self.look(&mut entry) {
                Flow::More => {}
                Flow::Close => break None,
                Flow::Dispatch {
                    head,
                    head_len,
                    need,
                } => {
                    self.dispatch(entry, head, head_len, need);
                    break None;
                }
            }
            match read_more(&mut entry, &mut self.scratch) {
                Ok(true) => {}
                Ok(false) => break Some(entry),
                Err(()) => break None,
            }
        };
        match kept {
            Some(entry) => {
                if entry.deadline != before {
                    self.deadlines.remove(&(before, slot));
                    self.deadlines.insert((entry.deadline, slot));
                }
                self.conns[slot] = Some(entry);
            }
            None => {
                self.deadlines.remove(&(before, slot));
                self.free.push(slot);
            }
        }
    }

    /// Act on what the buffer holds.
    fn look(&self, entry: &mut Entry) -> Flow {
        match &entry.phase {
            Phase::Linger { drained } if *drained >= LINGER_BYTES => Flow::Close,
            Phase::Linger { .. } => Flow::More,
            Phase::Body { need, .. } if entry.buf.len() < *need => Flow::More,
            Phase::Body { .. } => match std::mem::replace(&mut entry.phase, Phase::Head) {
                Phase::Body {
                    head,
                    head_len,
                    need,
                } => Flow::Dispatch {
                    head,
                    head_len,
                    need,
                },
                _ => unreachable!("the phase was just matched"),
            },
            Phase::Head if entry.buf.is_empty() => Flow::More,
            Phase::Head => match entry.scanner.scan(&entry.buf) {
                Ok(None) => Flow::More,
                Ok(Some(end)) => match parse_head(&entry.buf[..end]) {
                    Ok(head) => self.start(entry, head, end),
                    Err(Bad(status)) => fail(entry, 1, status, &[], true),
                },
                Err(Bad(status)) => fail(entry, 1, status, &[], true),
            },
        }
    }

    /// A head is complete: refuse the request here, or wait for its body.
    fn start(&self, entry: &mut Entry, head: Head, head_len: usize) -> Flow {
        let with_body = head.method != "HEAD";
        if let Some(creds) = &self.site.auth {
            if !auth::authorized(head.header("authorization"), creds) {
                let extra = [("WWW-Authenticate", auth::CHALLENGE)];
                return fail(entry, head.minor, 401, &extra, with_body);
            }
        }
        let length = match head.body() {
            Body::None => 0,
            Body::Unframed => return fail(entry, head.minor, 411, &[], with_body),
            Body::Length(n) if n > MAX_BODY => return fail(entry, head.minor, 413, &[], with_body),
            // At most MAX_BODY: fits.
            Body::Length(n) => n as usize,
        };
        let need = head_len + length;
        if need > entry.buf.capacity() {
            // Memory for the whole body, before the client sends it.
            if !entry.charge.set(need.saturating_sub(FREE_BUFFER)) {
                return fail(entry, head.minor, 503, &[], with_body);
            }
            entry.buf.reserve_exact(need - entry.buf.len());
        }
        if length > 0
            && head.expects_continue()
            && !write_now(&entry.conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        {
            return Flow::Close;
        }
        entry.phase = Phase::Body {
            head,
            head_len,
            need,
        };
        self.look(entry)
    }

    /// Hand a complete request to a worker.
    fn dispatch(&self, mut entry: Entry, head: Head, head_len: usize, need: usize) {
        let fd = entry.conn.as_raw_fd();
        if deregister(self.poll.registry(), fd).is_err() {
            return;
        }
        let rest = entry.buf.split_off(need);
        entry.buf.drain(..head_len);
        let job = Job {
            conn: entry.conn,
            head,
            body: entry.buf,
            rest,
            charge: entry.charge,
            answering: Answering::start(),
        };
        Pool::submit(&self.site, job);
    }
}

fn deregister(registry: &Registry, fd: i32) -> io::Result<()> {
    registry.deregister(&mut SourceFd(&fd))
}

/// Answer `status` with `Connection: close` (best effort, never blocking),
/// half-close and linger.
fn fail(entry: &mut Entry, minor: u8, status: u16, extra: &[(&str, &str)], body: bool) -> Flow {
    let response = pages::error(minor, status, Persist::Close, extra, body);
    if !write_now(&entry.conn, &response) {
        return Flow::Close;
    }
    entry.conn.shutdown(Shutdown::Write);
    entry.buf = Vec::new();
    entry.charge.set(0);
    entry.phase = Phase::Linger { drained: 0 };
    entry.deadline = Instant::now() + LINGER_TIME;
    Flow::More
}

/// One read into the connection's buffer (or the bin, when lingering), as
/// much as its phase allows. `Ok(true)`: bytes came; `Ok(false)`: nothing
/// more for now; `Err`: EOF or an error (close).
fn read_more(entry: &mut Entry, scratch: &mut [u8]) -> Result<bool, ()> {
    let want = match &entry.phase {
        // One more than allowed shows an oversized head.
        Phase::Head => (MAX_HEAD + 1).saturating_sub(entry.buf.len()),
        Phase::Body { need, .. } => need - entry.buf.len(),
        Phase::Linger { drained } => LINGER_BYTES - drained,
    }
    .clamp(1, scratch.len());
    let mut reader = &entry.conn;
    let n = loop {
        match reader.read(&mut scratch[..want]) {
            Ok(0) => return Err(()),
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(_) => return Err(()),
        }
    };
    if let Phase::Linger { drained } = &mut entry.phase {
        *drained += n;
        return Ok(true);
    }
    if entry.idle {
        // The first byte of a request starts its clock.
        entry.idle = false;
        entry.deadline = Instant::now() + REQUEST_TIMEOUT;
    }
    entry.buf.extend_from_slice(&scratch[..n]);
    if !entry
        .charge
        .set(entry.buf.capacity().saturating_sub(FREE_BUFFER))
    {
        let minor = match &entry.phase {
            Phase::Body { head, .. } => head.minor,
            _ => 1,
        };
        // The budget is spent on other requests.
        return match fail(entry, minor, 503, &[], true) {
            Flow::More => Ok(true),
            _ => Err(()),
        };
    }
    Ok(true)
}

/// Write `bytes` without blocking; false unless all of it went out.
fn write_now(conn: &Conn, bytes: &[u8]) -> bool {
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
