//! Every limit and timeout of the HTTP servers, in one place, so that they
//! can be documented together (README / SECURITY table). "Per server" means
//! per `[unix_http_server*]` / `[inet_http_server*]` section: each has its
//! own budgets, so nothing that happens on one (a flood over TCP) can use
//! up what another (the local unix socket) needs to answer.

use std::time::Duration;

// ---------------------------------------------------------------- requests

/// Largest request head: request line, headers and any leading blank lines.
/// Beyond it: 431 and close.
pub const MAX_HEAD: usize = 64 * 1024;

/// Most header lines in one request head (folded continuation lines do not
/// count). Beyond it: 431 and close.
pub const MAX_HEADERS: usize = 128;

/// Largest request body accepted (413 and close beyond, without reading it).
/// Python has no limit; 4 MiB is far above any supervisorctl request but
/// leaves room for a `sendProcessStdin` of a few megabytes.
pub const MAX_BODY: u64 = 4 * 1024 * 1024;

/// The whole request (head and body) must arrive within this long, counted
/// from the connection's accept for its first request and from the first
/// byte of each later one. A slow or stalled sender (slowloris) then gets a
/// 408 and is closed; a fresh connection that sends nothing at all is closed
/// without an answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a keep-alive connection may sit idle between requests before the
/// server closes it (silently, as HTTP/1.1 allows). Supervisor never times
/// idle connections out; supervisorctl uses one connection per command and
/// reconnects for the next.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// A response write (or a log stream write) that makes no progress for this
/// long ends the connection: the client stopped reading. A log stream whose
/// client keeps reading, however slowly, is never cut by this.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// An ordinary response (not a log stream) must be written completely within
/// this long, however the client reads: a client trickling a large answer
/// out byte by byte cannot hold a worker thread for longer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// After a final response on a connection we close (an error, a 401,
/// `Connection: close`), what the client still sends is read and dropped for
/// at most this long and this much, so that closing does not reset the
/// connection under the response.
pub const LINGER_TIME: Duration = Duration::from_millis(500);
/// See [`LINGER_TIME`].
pub const LINGER_BYTES: usize = 256 * 1024;

// ---------------------------------------------------------------- budgets

/// Most open connections per server (streams included). The real cap is
/// lower when the descriptor limit demands it: a quarter of `RLIMIT_NOFILE`
/// (raised to `minfds` at startup) is left to the daemon (logs, child pipes),
/// the rest is shared equally by the servers, and no server gets fewer than
/// [`MIN_CONNECTIONS`]. At the cap a new connection evicts the open
/// connection nearest to its own timeout among those waiting for input (idle
/// keep-alive, or a request still arriving); when every connection is being
/// answered, accepting pauses and new clients wait in the listen backlog
/// until one closes: they are queued, never refused.
pub const MAX_CONNECTIONS: usize = 4096;

/// The least connections a server is allowed, whatever the descriptor limit.
pub const MIN_CONNECTIONS: usize = 16;

/// Worker threads per server answering complete requests (requests beyond
/// wait in a FIFO queue, never refused). Threads start on demand; beyond
/// [`WARM_WORKERS`], an idle one ends after [`WORKER_IDLE_EXIT`].
pub const MAX_WORKERS: usize = 64;

/// Deferred XML-RPC answers (`startProcess` with `wait=true` …) keep their
/// worker waiting; up to this many waiting workers per server are replaced
/// by extra threads so that the others keep answering. Beyond it a waiting
/// worker counts against [`MAX_WORKERS`] (requests then queue).
pub const MAX_DEFERRED: usize = 64;

/// After answering on a keep-alive connection, its worker waits this long
/// for the next request and answers it directly, as long as no other request
/// is queued; otherwise (or if nothing comes) the connection goes back to
/// the I/O thread. This keeps a client's sequence of calls on one thread,
/// as fast as a thread per connection, at a bounded cost: a worker never
/// waits longer than this for a client.
pub const NEXT_REQUEST_WAIT: Duration = Duration::from_millis(2);

/// Worker threads per server kept waiting (without any timeout) when idle.
pub const WARM_WORKERS: usize = 2;

/// How long an extra idle worker thread waits for work before it ends.
pub const WORKER_IDLE_EXIT: Duration = Duration::from_secs(10);

/// Most `/logtail` and `/mainlogtail` streams open at once per server (each
/// has a thread of its own, outside the worker pool); beyond: 503.
pub const MAX_STREAMS: usize = 32;

/// Request bytes a server may hold in memory for requests not yet answered
/// (heads and bodies being received, complete requests queued), counting only
/// what exceeds [`FREE_BUFFER`] per connection. A request that would go
/// beyond gets a 503 and is closed; ordinary requests, smaller than
/// [`FREE_BUFFER`], are never refused for memory.
pub const MAX_BUFFERED: usize = 64 * 1024 * 1024;

/// Bytes per connection not counted against [`MAX_BUFFERED`].
pub const FREE_BUFFER: usize = 16 * 1024;

/// After an accept error such as EMFILE, accepting is tried again after this
/// long (the pending connection stays in the backlog meanwhile).
pub const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// At exit, answers being written (shutdown's own `true`) are given at most
/// this long to reach their clients.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------- streams

/// How often a followed log file is checked for new bytes.
pub const STREAM_TICK: Duration = Duration::from_millis(100);

/// How much of the existing log a stream starts with (as Supervisor).
pub const STREAM_HEAD_BYTES: u64 = 1024;

/// Largest chunk of a log stream; more appended data goes out as several.
pub const STREAM_MAX_CHUNK: u64 = 1024 * 1024;
