//! A server's I/O thread: one `mio::Poll` that accepts connections and owns
//! each of them, in non-blocking mode, whenever no worker is answering it:
//! while it is idle between requests, while a request arrives, and while it
//! lingers before closing. Idle and slow clients thus cost a descriptor and
//! a buffer, never a thread.
//!
//! A request is read whole (head, then body) into the connection's buffer
//! under [`super::limits::REQUEST_TIMEOUT`]; complete, it goes to the
//! server's workers with whatever else arrived (pipelined requests). The
//! worker hands the connection back after its answer (keep-alive, or linger
//! after a final response). Deadlines live in one sorted set; the poll sleeps
//! until the nearest, or without a timeout when no connection is open.
//!
//! Reading a request (and refusing one that needs no worker) is `incoming.rs`,
//! shared with the workers.

use std::collections::BTreeSet;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use super::exchange::{self, Conn};
use super::incoming::{write_now, Flow, Incoming, Request};
use super::limits::ACCEPT_RETRY;
use super::listen::Listener;
use super::pages::{self, Persist};
use super::pool::{Job, Pool};
use super::{Answering, Site};

const LISTENER: Token = Token(0);
const WAKE: Token = Token(1);
/// Connection `i` has token `FIRST + i`.
const FIRST: usize = 2;
/// Most bytes read by one read call.
const READ_CHUNK: usize = 64 * 1024;

/// A connection a worker hands back, with what it has read of the next
/// request (or a lingering state after a final response).
pub(super) struct Returned {
    pub(super) conn: Conn,
    pub(super) incoming: Incoming,
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
    incoming: Incoming,
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
                        let incoming = Incoming::first(&self.site);
                        self.insert(Entry { conn, incoming });
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
        self.deadlines.insert((entry.incoming.deadline, slot));
        self.conns[slot] = Some(entry);
        Some(slot)
    }

    /// Connections handed back by workers.
    fn take_returns(&mut self) {
        let returned = {
            let mut inbox = self.site.inbox.lock().unwrap_or_else(|e| e.into_inner());
            inbox.as_mut().map(std::mem::take).unwrap_or_default()
        };
        for Returned { conn, incoming } in returned {
            // What is buffered and what arrived meanwhile: the readiness
            // edge may have passed while a worker had the connection.
            if let Some(slot) = self.insert(Entry { conn, incoming }) {
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
            if entry.incoming.inside_request() {
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
        let before = entry.incoming.deadline;
        let kept = loop {
            match entry.incoming.look(&entry.conn, &self.site) {
                Flow::More => {}
                Flow::Close => break None,
                Flow::Ready(request) => {
                    self.dispatch(entry, request);
                    break None;
                }
            }
            match entry.incoming.read_more(&entry.conn, &mut self.scratch) {
                Ok(true) => {}
                Ok(false) => break Some(entry),
                Err(()) => break None,
            }
        };
        match kept {
            Some(entry) => {
                let deadline = entry.incoming.deadline;
                if deadline != before {
                    self.deadlines.remove(&(before, slot));
                    self.deadlines.insert((deadline, slot));
                }
                self.conns[slot] = Some(entry);
            }
            None => {
                self.deadlines.remove(&(before, slot));
                self.free.push(slot);
            }
        }
    }

    /// Hand a complete request to a worker.
    fn dispatch(&self, entry: Entry, request: Request) {
        let fd = entry.conn.as_raw_fd();
        if deregister(self.poll.registry(), fd).is_err() {
            return;
        }
        let job = Job {
            conn: entry.conn,
            request,
            rest: entry.incoming.into_rest(),
            answering: Answering::start(),
        };
        Pool::submit(&self.site, job);
    }
}

fn deregister(registry: &Registry, fd: i32) -> io::Result<()> {
    registry.deregister(&mut SourceFd(&fd))
}
