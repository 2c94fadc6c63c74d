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
//! supervisord needs (`conn.rs`) is written here instead:
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
//!   before its first request is read (`peer_addr().unwrap()`).
//!
//! # Threads
//!
//! One accept thread per listening socket (a `mio::Poll` on the listener plus
//! a `Waker`, so it sleeps with no timeout and stops at once). Accepted
//! connections go to a shared pool of connection threads: an idle thread is
//! reused, otherwise a new one starts (up to [`MAX_CONNECTIONS`] connections
//! in service; beyond that the client gets a 503). A thread serves one
//! connection's requests in order (so pipelining and keep-alive are natural
//! and there is no hand-off per request), then goes back to the pool. Extra
//! idle threads exit after a while; a few stay warm.
//!
//! Deferred XML-RPC replies ([`Reply::Later`]) are awaited by the thread of
//! that connection only, which has nothing else to do: the client is waiting
//! for this answer and HTTP/1.1 answers in order. Other connections have their
//! own threads and are served meanwhile.
//!
//! # SIGPIPE
//!
//! Writing to a client that has gone raises SIGPIPE. The process must ignore
//! it (Rust's runtime does so before `main`); then the write fails with EPIPE
//! and the connection ends. A handler that logs SIGPIPE would log every
//! vanished client (Python's supervisord leaves it ignored).

mod auth;
mod conn;
pub use conn::MAX_BODY;
mod listen;
mod logtail;
mod pages;
mod pool;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::model::{Config, Credentials, InetHttpServer, UnixHttpServer};
use crate::pyrepr;

use conn::Conn;
use listen::{Listener, UnixSocketFile};
use pool::{Acceptor, Pool};

/// Most connections served at once over all servers (each has a thread while
/// open; idle keep-alive connections are never timed out, as in Supervisor).
pub const MAX_CONNECTIONS: usize = 256;

/// Most `/logtail` and `/mainlogtail` streams open at once; beyond → 503.
pub const MAX_STREAMS: usize = 32;

/// What the HTTP layer needs from the daemon. Implemented by the daemon on top
/// of a channel to the reactor; every call may block the calling HTTP thread,
/// never the reactor.
pub trait Backend: Send + Sync + 'static {
    /// An XML-RPC request body (the raw bytes of a `POST /RPC2`).
    fn rpc(&self, body: Vec<u8>) -> Reply;
    /// The file behind `/logtail/<namespec>[/stdout|stderr]` or `/mainlogtail`;
    /// `None` → 404.
    fn log_file(&self, which: LogRequest) -> Option<PathBuf>;
}

/// The answer to an XML-RPC request.
pub enum Reply {
    /// The full XML response body (success or fault), sent as 200 `text/xml`.
    /// Shared, so a cached answer goes out without being copied.
    Ready(std::sync::Arc<[u8]>),
    /// The body comes later (`startProcess` with `wait=true` …). Only the
    /// thread of the asking connection waits for it. A dropped sender is
    /// answered with a 500 and the connection is closed.
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
/// daemonizes, and start the serving threads only after the fork.
pub struct Listeners {
    bound: Vec<Bound>,
}

struct Bound {
    listener: Listener,
    section: String,
    auth: Option<Credentials>,
    tcp_addr: Option<SocketAddr>,
    socket_file: Option<UnixSocketFile>,
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
                tcp_addr,
                socket_file: None,
            });
        }
        for section in unix {
            let (listener, file) = listen::bind_unix(section, &mut std::io::stderr())?;
            listeners.bound.push(Bound {
                listener: Listener::Unix(listener),
                section: section.section.clone(),
                auth: section.auth.clone(),
                tcp_addr: None,
                socket_file: Some(file),
            });
        }
        Ok(listeners)
    }

    /// Start the threads that serve the bound sockets.
    pub fn serve(mut self, backend: Arc<dyn Backend>) -> Result<Servers, String> {
        let shared = Arc::new(Shared {
            backend,
            stopping: AtomicBool::new(false),
            busy: Mutex::new(0),
            idle: std::sync::Condvar::new(),
            registry: Mutex::new(Registry::default()),
            streams: AtomicUsize::new(0),
            pool: Pool::new(),
        });
        let mut servers = Servers {
            shared,
            running: Vec::new(),
            crit: Vec::new(),
            stopped: false,
        };
        // On error `servers` is dropped, which stops what was started.
        for bound in std::mem::take(&mut self.bound) {
            servers.serve(
                bound.listener,
                &bound.section,
                &bound.auth,
                bound.tcp_addr,
                bound.socket_file,
            )?;
        }
        Ok(servers)
    }
}

impl Listeners {
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

/// A request being answered (see `Shared::busy`).
struct Busy<'a>(&'a Shared);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        if *busy == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// The running HTTP servers. Dropping it stops them too.
pub struct Servers {
    shared: Arc<Shared>,
    running: Vec<Running>,
    crit: Vec<String>,
    stopped: bool,
}

/// One listening socket being served.
struct Running {
    acceptor: Acceptor,
    tcp_addr: Option<SocketAddr>,
    socket_file: Option<UnixSocketFile>,
}

/// One configured server section: what its requests are checked against.
struct Site {
    auth: Option<Credentials>,
    shared: Arc<Shared>,
}

/// State shared by every thread of every server.
struct Shared {
    backend: Arc<dyn Backend>,
    stopping: AtomicBool,
    /// Requests being answered (streams excluded): stopping waits for them,
    /// so that an answer like shutdown's `true` still reaches its client.
    busy: Mutex<usize>,
    idle: std::sync::Condvar,
    registry: Mutex<Registry>,
    streams: AtomicUsize,
    pool: Pool,
}

/// Open connections, so that stopping can shut them down (waking threads
/// blocked reading an idle keep-alive connection or writing to a slow client).
#[derive(Default)]
struct Registry {
    next: u64,
    open: HashMap<u64, Arc<Conn>>,
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
        listener: Listener,
        section: &str,
        auth: &Option<Credentials>,
        tcp_addr: Option<SocketAddr>,
        socket_file: Option<UnixSocketFile>,
    ) -> Result<(), String> {
        let site = Arc::new(Site {
            auth: auth.clone(),
            shared: self.shared.clone(),
        });
        let acceptor = match pool::spawn_acceptor(listener, site) {
            Ok(acceptor) => acceptor,
            Err(e) => {
                if let Some(file) = &socket_file {
                    file.remove();
                }
                return Err(listen::socket_error_message(&e));
            }
        };
        self.running.push(Running {
            acceptor,
            tcp_addr,
            socket_file,
        });
        if auth.is_none() {
            self.crit.push(format!(
                "Server {} running without any HTTP authentication checking",
                pyrepr::repr(section)
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

    /// Stop accepting, shut down open connections (their threads then end on
    /// their own; a thread waiting for the backend ends when it answers), and
    /// remove the unix socket files we created.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.shared.stopping.store(true, Ordering::SeqCst);
        for running in &self.running {
            if let Some(file) = &running.socket_file {
                file.remove();
            }
            running.acceptor.wake();
        }
        for running in &mut self.running {
            running.acceptor.join();
        }
        self.shared.pool.stop();
        // Let answers being written finish, for a moment at most.
        let busy = self.shared.busy.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .shared
            .idle
            .wait_timeout_while(busy, std::time::Duration::from_secs(2), |n| *n > 0);
        let registry = self.shared.lock_registry();
        for conn in registry.open.values() {
            conn.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    /// Count a request as being answered until the guard drops.
    fn busy(&self) -> Busy<'_> {
        *self.busy.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Busy(self)
    }

    fn lock_registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Record an open connection; `None` (and the connection shut down) when
    /// the servers are stopping. The flag is read under the registry lock,
    /// which `shutdown` takes after setting it, so no connection is missed.
    fn register(self: &Arc<Self>, conn: Arc<Conn>) -> Option<Registered> {
        let mut registry = self.lock_registry();
        if self.stopping() {
            conn.shutdown(Shutdown::Both);
            return None;
        }
        let id = registry.next;
        registry.next += 1;
        registry.open.insert(id, conn);
        Some(Registered {
            shared: self.clone(),
            id,
        })
    }

    /// Take a stream slot, or `None` when [`MAX_STREAMS`] are open.
    fn stream_slot(self: &Arc<Self>) -> Option<StreamSlot> {
        let before = self.streams.fetch_add(1, Ordering::SeqCst);
        if before >= MAX_STREAMS {
            self.streams.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(StreamSlot {
            shared: self.clone(),
        })
    }
}

/// Removes its connection from the registry when dropped.
struct Registered {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.shared.lock_registry().open.remove(&self.id);
    }
}

/// A held stream slot; released when dropped.
struct StreamSlot {
    shared: Arc<Shared>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.shared.streams.fetch_sub(1, Ordering::SeqCst);
    }
}
