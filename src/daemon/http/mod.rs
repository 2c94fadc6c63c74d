//! The HTTP servers: `/RPC2`, `/logtail/…`, `/mainlogtail`, `/ok.html` on every
//! `[unix_http_server*]` and `[inet_http_server*]` (spec `http.md`).
//!
//! This layer owns no daemon state. It reaches the daemon through [`Backend`],
//! whose calls may block the calling HTTP thread but never the reactor. The
//! reactor never writes to a socket.
//!
//! # Why not tiny_http
//!
//! The design names tiny_http as the HTTP base, but its 0.12 API cannot
//! express several things this server must do, so the small HTTP/1.x subset
//! supervisord needs is written here instead:
//!
//! * it gives no access to the connection, so a connection cannot be closed
//!   after a 401 or 413 while the client keeps it open, and it never sends
//!   `Connection: close` (the header is filtered out of responses);
//! * a log stream cannot notice that its client went away while the log is
//!   idle (tiny_http's connection thread sees the EOF, the handler does not),
//!   so dead `tail -f` streams would pile up until the next log write;
//! * no `TCP_NODELAY` on accepted sockets (std's listener cannot set it);
//! * leading empty lines are a 400 that closes the connection;
//! * it can panic in its own threads when a client resets the connection
//!   before its first request is read (`peer_addr().unwrap()`);
//! * and it has a thread per connection, which is what this design avoids.
//!
//! # Threads: a thread only while a request is being worked on
//!
//! A thread per connection lets idle or slow clients exhaust the threads
//! (256 silent TCP connections once locked every client out, the unix socket
//! included). So connections cost a descriptor and a buffer, and threads go
//! only to requests that have fully arrived:
//!
//! * **I/O thread** (`io.rs`), one per listening socket: a `mio::Poll` that
//!   owns every connection of that server while it is idle or while its
//!   request arrives, in non-blocking mode. It reads the head and the body
//!   into the connection's buffer, enforces the deadlines ([`limits`]) with a
//!   sorted set (the poll timeout is the nearest one: no wakeups at all when
//!   no connection is open), answers what needs no worker (bad heads, 401,
//!   411, 413, 408, 503 for memory) and lingers before closing.
//! * **Workers** (`pool.rs`), a pool per server: a complete request is
//!   queued (FIFO, never refused) for at most [`limits::MAX_WORKERS`] threads that
//!   answer it (`exchange.rs`) in blocking mode under write timeouts, then
//!   hand the connection back to the I/O thread for keep-alive. Pipelined
//!   requests are answered in order: the I/O thread parses the next one only
//!   when the connection is back. Deferred answers ([`Reply::Later`]) keep
//!   their worker waiting (the client waits for this answer; HTTP/1.1
//!   answers in order), and the pool starts a replacement so the others keep
//!   being served ([`limits::MAX_DEFERRED`]).
//! * **Streams** (`logtail.rs`): `/logtail` and `/mainlogtail` follow a file
//!   for as long as the client stays, so each has a thread of its own, from
//!   a per-server budget ([`limits::MAX_STREAMS`], 503 beyond): streams never take
//!   workers from RPC.
//!
//! Every budget is per server, so a flood on TCP cannot starve the local
//! unix socket. At exit, answers being written (shutdown's own `true`) get a
//! moment to reach their clients: see [`wait_for_answers`].
//!
//! # SIGPIPE
//!
//! Writing to a client that has gone raises SIGPIPE. The process must ignore
//! it (Rust's runtime does so before `main`); then the write fails with EPIPE
//! and the connection ends. A handler that logs SIGPIPE would log every
//! vanished client (Python's supervisord leaves it ignored).

mod auth;
mod exchange;
mod head;
#[cfg(test)]
mod head_props;
mod incoming;
mod io;
pub mod limits;
mod listen;
mod logtail;
mod pages;
mod pool;
#[cfg(test)]
mod tests;
mod webui;

pub use limits::MAX_BODY;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::Waker;

use crate::config::model::{Config, Credentials, InetHttpServer, UnixHttpServer};
use crate::pyrepr;

use exchange::OpenSlot;
use limits::{MAX_BUFFERED, MAX_CONNECTIONS, MAX_STREAMS, MIN_CONNECTIONS};
use listen::{Listener, UnixSocketFile};
use pool::Pool;

/// What the HTTP layer needs from the daemon. Implemented by the daemon on top
/// of a channel to the reactor; every call may block the calling HTTP thread,
/// never the reactor.
pub trait Backend: Send + Sync + 'static {
    /// An XML-RPC request body (the raw bytes of a `POST /RPC2`).
    fn rpc(&self, body: Vec<u8>) -> Reply;
    /// The file behind `/logtail/<namespec>[/stdout|stderr]` or `/mainlogtail`;
    /// `None` → 404.
    fn log_file(&self, which: LogRequest) -> Option<PathBuf>;
    /// `/healthz`, `/readyz` or `/metrics`: a plain-text page.
    fn probe(&self, which: Probe) -> ProbeAnswer;
}

/// The probe and metrics pages (our extension, for Kubernetes and Prometheus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// 200 while the event loop answers.
    Healthz,
    /// 200 when every program meant to run is up.
    Readyz,
    /// The Prometheus text exposition.
    Metrics,
}

impl Probe {
    /// The probe a request path names, if any (exact paths only).
    pub fn at(path: &str) -> Option<Probe> {
        match path {
            "/healthz" => Some(Probe::Healthz),
            "/readyz" => Some(Probe::Readyz),
            "/metrics" => Some(Probe::Metrics),
            _ => None,
        }
    }
}

/// A probe's status and plain-text body.
pub struct ProbeAnswer {
    pub status: u16,
    pub body: String,
}

/// The answer to an XML-RPC request.
pub enum Reply {
    /// The full XML response body (success or fault), sent as 200 `text/xml`.
    /// Shared, so a cached answer goes out without being copied.
    Ready(std::sync::Arc<[u8]>),
    /// The body comes later (`startProcess` with `wait=true` …). Only the
    /// worker answering the asking connection waits for it. A dropped sender
    /// is answered with a 500 and the connection is closed.
    Later(Receiver<Vec<u8>>),
    /// An HTTP-level error instead of an XML-RPC response: 400 for a body that
    /// is not XML-RPC at all, 500 for an internal failure (`xmlrpc.md` §1).
    /// Codes outside 400..=599 are sent as 500.
    Error(u16),
}

/// Which log a stream asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogRequest {
    /// `/mainlogtail`: supervisord's own log.
    Main,
    /// `/logtail/<namespec>[/stdout|stderr]`; the namespec is percent-decoded
    /// but otherwise as the client sent it (`foo`, `grp:foo`).
    Process { namespec: String, stderr: bool },
}

/// Sockets bound but not yet served. Binding comes first and alone, so that
/// supervisord can fail ("another program is already listening") before it
/// daemonizes, and start the serving threads only after the fork. Binding
/// never waits (no sleep, no timed probe), so the reactor may rebind after a
/// restart without stalling its loop.
pub struct Listeners {
    bound: Vec<Bound>,
}

struct Bound {
    listener: Listener,
    section: String,
    auth: Option<Credentials>,
    refuse_get_actions: bool,
    tcp_addr: Option<SocketAddr>,
    socket_file: Option<UnixSocketFile>,
    /// A unix socket only its owner may use (no group or other bits).
    private: bool,
}

impl Listeners {
    /// Bind every `[inet_http_server*]` and `[unix_http_server*]` of `config`
    /// (in that order, as Supervisor does). `Err` is the fatal startup
    /// message, printed by the caller as `Error: <msg>`; sockets already
    /// bound are released again (dropping removes our socket files).
    pub fn bind(config: &Config) -> Result<Listeners, String> {
        Self::bind_with(&config.unix_servers, &config.inet_servers)
    }

    pub fn bind_with(
        unix: &[UnixHttpServer],
        inet: &[InetHttpServer],
    ) -> Result<Listeners, String> {
        let mut listeners = Listeners { bound: Vec::new() };
        for section in inet {
            let listener = listen::bind_tcp(section)?;
            let tcp_addr = listener.local_addr().ok();
            listeners.bound.push(Bound {
                listener: Listener::Tcp(listener),
                section: section.section.clone(),
                auth: section.auth.clone(),
                refuse_get_actions: section.refuse_get_actions,
                tcp_addr,
                socket_file: None,
                private: false,
            });
        }
        for section in unix {
            let (listener, file) = listen::bind_unix(section, &mut std::io::stderr())?;
            listeners.bound.push(Bound {
                listener: Listener::Unix(listener),
                section: section.section.clone(),
                auth: section.auth.clone(),
                refuse_get_actions: section.refuse_get_actions,
                tcp_addr: None,
                socket_file: Some(file),
                private: section.chmod & 0o077 == 0,
            });
        }
        Ok(listeners)
    }

    /// Start the threads that serve the bound sockets.
    pub fn serve(mut self, backend: Arc<dyn Backend>) -> Result<Servers, String> {
        let mut servers = Servers {
            stopping: Arc::new(AtomicBool::new(false)),
            running: Vec::new(),
            crit: Vec::new(),
            stopped: false,
        };
        let cap = connection_cap(self.bound.len());
        // On error `servers` is dropped, which stops what was started.
        for bound in std::mem::take(&mut self.bound) {
            servers.serve(bound, &backend, cap)?;
        }
        Ok(servers)
    }

    /// In the parent of a daemonizing fork, which only exits: the sockets
    /// and their files belong to the daemon now, so leave the files alone.
    pub fn leave_to_child(mut self) {
        for bound in &mut self.bound {
            bound.socket_file = None;
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for bound in &self.bound {
            if let Some(file) = &bound.socket_file {
                file.remove();
            }
        }
    }
}

/// The connection cap of each of `servers` servers: see
/// [`limits::MAX_CONNECTIONS`].
fn connection_cap(servers: usize) -> usize {
    use nix::sys::resource::{getrlimit, Resource, RLIM_INFINITY};
    let soft = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) if soft != RLIM_INFINITY => usize::try_from(soft).unwrap_or(usize::MAX),
        _ => return MAX_CONNECTIONS,
    };
    let usable = soft - soft / 4;
    (usable / servers.max(1)).clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// The running HTTP servers. Dropping it stops them too.
pub struct Servers {
    stopping: Arc<AtomicBool>,
    running: Vec<Running>,
    crit: Vec<String>,
    stopped: bool,
}

/// One listening socket being served.
struct Running {
    site: Arc<Site>,
    io: Option<JoinHandle<()>>,
    tcp_addr: Option<SocketAddr>,
    socket_file: Option<UnixSocketFile>,
}

/// One configured server section: what its requests are checked against,
/// and its own budgets (connections, workers, streams, memory).
pub(super) struct Site {
    auth: Option<Credentials>,
    /// The status page's actions work by POST only (`refuse_get_actions`).
    refuse_get_actions: bool,
    backend: Arc<dyn Backend>,
    /// Shared by every server of one [`Servers`].
    stopping: Arc<AtomicBool>,
    pool: Pool,
    streams: AtomicUsize,
    /// Connections open (owned by the I/O thread, a worker or a stream).
    open: AtomicUsize,
    max_open: AtomicUsize,
    /// Request bytes held beyond the free allowance ([`MAX_BUFFERED`]).
    buffered: AtomicUsize,
    /// The I/O thread stopped accepting at the cap: wake it when a
    /// connection closes.
    accept_paused: AtomicBool,
    /// Connections handed back to the I/O thread; `None` once it has ended.
    inbox: Mutex<Option<Vec<io::Returned>>>,
    /// Wakes the I/O thread.
    waker: Waker,
}

impl Servers {
    /// Bind every server of `config` and start serving (see [`Listeners`]).
    pub fn start(config: &Config, backend: Arc<dyn Backend>) -> Result<Servers, String> {
        Listeners::bind(config)?.serve(backend)
    }

    /// [`Servers::start`] on explicit sections. An inet `port` of 0 binds an
    /// ephemeral port (see [`Servers::tcp_addrs`]); the config loader never
    /// produces 0, tests do.
    pub fn start_with(
        unix: &[UnixHttpServer],
        inet: &[InetHttpServer],
        backend: Arc<dyn Backend>,
    ) -> Result<Servers, String> {
        Listeners::bind_with(unix, inet)?.serve(backend)
    }

    fn serve(
        &mut self,
        bound: Bound,
        backend: &Arc<dyn Backend>,
        cap: usize,
    ) -> Result<(), String> {
        let fail = |e: std::io::Error| {
            if let Some(file) = &bound.socket_file {
                file.remove();
            }
            listen::socket_error_message(&e)
        };
        let (poll, waker) = io::new_poll().map_err(fail)?;
        let site = Arc::new(Site {
            auth: bound.auth.clone(),
            refuse_get_actions: bound.refuse_get_actions,
            backend: backend.clone(),
            stopping: self.stopping.clone(),
            pool: Pool::new(),
            streams: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            max_open: AtomicUsize::new(cap),
            buffered: AtomicUsize::new(0),
            accept_paused: AtomicBool::new(false),
            inbox: Mutex::new(Some(Vec::new())),
            waker,
        });
        let thread = io::spawn(poll, bound.listener, site.clone()).map_err(fail)?;
        self.running.push(Running {
            site,
            io: Some(thread),
            tcp_addr: bound.tcp_addr,
            socket_file: bound.socket_file,
        });
        // In a container (PID 1) a socket only its owner can reach needs no
        // password: saying so at CRIT on every start is noise there.
        if bound.auth.is_none() && !(bound.private && std::process::id() == 1) {
            self.crit.push(format!(
                "Server {} running without any HTTP authentication checking",
                pyrepr::repr(&bound.section)
            ));
        }
        Ok(())
    }

    /// Lines to log at CRIT once the main log is open, in server order:
    /// `Server 'unix_http_server' running without any HTTP authentication checking`.
    pub fn crit_messages(&self) -> &[String] {
        &self.crit
    }

    /// The bound address of each inet server, in config order.
    pub fn tcp_addrs(&self) -> Vec<SocketAddr> {
        self.running.iter().filter_map(|r| r.tcp_addr).collect()
    }

    /// The socket path of each unix server, in config order.
    pub fn unix_paths(&self) -> Vec<PathBuf> {
        self.running
            .iter()
            .filter_map(|r| r.socket_file.as_ref().map(|f| f.path().to_path_buf()))
            .collect()
    }

    /// Stop at once, without waiting for clients (the reactor calls this):
    /// remove the unix socket files we created, close the listening sockets
    /// (so a restart can bind them again) and every connection waiting for
    /// input, end idle workers and the log streams. Requests already complete
    /// are still answered by their workers, each within the write timeouts;
    /// at exit, [`wait_for_answers`] gives them a moment.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.stopping.store(true, Ordering::SeqCst);
        for running in &self.running {
            if let Some(file) = &running.socket_file {
                file.remove();
            }
            let _ = running.site.waker.wake();
        }
        // The I/O threads never block, so each sees its wakeup at once and
        // ends, closing its listener: joining them takes no time to speak of.
        for running in &mut self.running {
            if let Some(thread) = running.io.take() {
                let _ = thread.join();
            }
            running.site.pool.stop();
        }
    }

    /// Log streams open over all servers.
    #[cfg(test)]
    fn streams_open(&self) -> usize {
        self.running
            .iter()
            .map(|r| r.site.streams.load(Ordering::SeqCst))
            .sum()
    }

    #[cfg(test)]
    fn sites(&self) -> Vec<Arc<Site>> {
        self.running.iter().map(|r| r.site.clone()).collect()
    }

    /// Lower every server's connection cap.
    #[cfg(test)]
    fn set_max_open(&self, cap: usize) {
        for running in &self.running {
            running.site.max_open.store(cap, Ordering::SeqCst);
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Requests handed to a worker and not answered yet, over every server of
/// the process. Counted without a lock: this is touched twice per request,
/// and only the exit waits for it (a lock and a wake-up per request made
/// the workers meet here under load).
static ANSWERING: AtomicUsize = AtomicUsize::new(0);
/// Threads in [`wait_for_answers`]: only then is a wake-up sent.
static WAITERS: AtomicUsize = AtomicUsize::new(0);
static ANSWERED_LOCK: Mutex<()> = Mutex::new(());
static ANSWERED: Condvar = Condvar::new();

/// At exit, after the servers were stopped: wait until every request handed
/// to a worker has been answered (shutdown's own `true` must reach its
/// client), for `limit` at most. Called after the event loop has ended.
pub fn wait_for_answers(limit: Duration) {
    let deadline = Instant::now() + limit;
    WAITERS.fetch_add(1, Ordering::SeqCst);
    let mut guard = ANSWERED_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // An answer that ends after this check sees WAITERS and wakes us (it
    // takes the lock first, so it cannot slip in before we wait).
    while ANSWERING.load(Ordering::SeqCst) > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        guard = ANSWERED
            .wait_timeout(guard, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    drop(guard);
    WAITERS.fetch_sub(1, Ordering::SeqCst);
}

/// Counts one request as being answered until dropped.
pub(super) struct Answering(());

impl Answering {
    pub(super) fn start() -> Answering {
        ANSWERING.fetch_add(1, Ordering::SeqCst);
        Answering(())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        if ANSWERING.fetch_sub(1, Ordering::SeqCst) == 1 && WAITERS.load(Ordering::SeqCst) > 0 {
            let _guard = ANSWERED_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            ANSWERED.notify_all();
        }
    }
}

impl Site {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Count a new connection as open; it stays counted until the returned
    /// slot is dropped.
    fn open_slot(self: &Arc<Self>) -> OpenSlot {
        self.open.fetch_add(1, Ordering::SeqCst);
        OpenSlot(self.clone())
    }

    fn at_cap(&self) -> bool {
        self.open.load(Ordering::SeqCst) >= self.max_open.load(Ordering::SeqCst)
    }

    /// An [`OpenSlot`] was dropped.
    fn connection_closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
        if self.accept_paused.load(Ordering::SeqCst) {
            let _ = self.waker.wake();
        }
    }

    /// Take a stream slot, or `None` when [`MAX_STREAMS`] are open.
    fn stream_slot(self: &Arc<Self>) -> Option<StreamSlot> {
        let before = self.streams.fetch_add(1, Ordering::SeqCst);
        if before >= MAX_STREAMS {
            self.streams.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(StreamSlot { site: self.clone() })
    }

    /// Hand a connection back to the I/O thread (keep-alive or linger); it
    /// is closed instead when the servers are stopping.
    fn give_back(&self, returned: io::Returned) {
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inbox) = inbox.as_mut().filter(|_| !self.stopping()) {
            inbox.push(returned);
            let _ = self.waker.wake();
        }
    }
}

/// A held stream slot; released when dropped.
pub(super) struct StreamSlot {
    site: Arc<Site>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.site.streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Request bytes counted against a server's [`MAX_BUFFERED`]; released when
/// dropped (the request was answered or its connection closed).
pub(super) struct Charge {
    site: Arc<Site>,
    bytes: usize,
}

impl Charge {
    fn new(site: &Arc<Site>) -> Charge {
        Charge {
            site: site.clone(),
            bytes: 0,
        }
    }

    /// Charge `bytes` in all instead of what was charged so far; false (and
    /// nothing changed) when the server's budget does not allow it.
    fn set(&mut self, bytes: usize) -> bool {
        let buffered = &self.site.buffered;
        if bytes > self.bytes {
            let more = bytes - self.bytes;
            if buffered.fetch_add(more, Ordering::SeqCst) + more > MAX_BUFFERED {
                buffered.fetch_sub(more, Ordering::SeqCst);
                return false;
            }
        } else {
            buffered.fetch_sub(self.bytes - bytes, Ordering::SeqCst);
        }
        self.bytes = bytes;
        true
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.site.buffered.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}
