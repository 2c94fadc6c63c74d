//! Accept threads and the pool of connection threads.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::conn::{self, Conn};
use super::listen::Listener;
use super::pages::{self, Persist};
use super::Site;

const LISTENER: Token = Token(0);
const WAKE: Token = Token(1);

/// Connection threads kept waiting (with no timeout) when idle.
const WARM_THREADS: usize = 4;
/// How long an extra idle connection thread waits for work before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// Stack of a connection thread (it parses heads and copies bytes; the
/// backend's work happens where the backend puts it).
const STACK_SIZE: usize = 512 * 1024;
/// After an accept error like EMFILE, try again after this long.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// A running accept thread.
pub(super) struct Acceptor {
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Ask the thread to look at the stop flag.
    pub(super) fn wake(&self) {
        let _ = self.waker.wake();
    }

    pub(super) fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Start accepting on `listener` for `site`.
pub(super) fn spawn_acceptor(listener: Listener, site: Arc<Site>) -> io::Result<Acceptor> {
    let fd = match &listener {
        Listener::Tcp(l) => {
            l.set_nonblocking(true)?;
            l.as_raw_fd()
        }
        Listener::Unix(l) => {
            l.set_nonblocking(true)?;
            l.as_raw_fd()
        }
    };
    let poll = Poll::new()?;
    poll.registry()
        .register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)?;
    let waker = Waker::new(poll.registry(), WAKE)?;
    let thread = thread::Builder::new()
        .name("http-accept".to_string())
        .spawn(move || accept_loop(poll, listener, site))?;
    Ok(Acceptor {
        waker,
        thread: Some(thread),
    })
}

fn accept_loop(mut poll: Poll, listener: Listener, site: Arc<Site>) {
    let mut events = Events::with_capacity(8);
    let mut timeout = None;
    loop {
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return;
            }
        }
        if site.shared.stopping() {
            return;
        }
        timeout = None;
        // Edge-triggered: accept until there is nothing left.
        loop {
            let accepted = match &listener {
                Listener::Tcp(l) => l.accept().and_then(|(s, _)| {
                    s.set_nonblocking(false)?;
                    // Responses are written in one piece; don't let Nagle
                    // hold back a 100 Continue or a log chunk.
                    s.set_nodelay(true)?;
                    Ok(Conn::Tcp(s))
                }),
                Listener::Unix(l) => l.accept().and_then(|(s, _)| {
                    s.set_nonblocking(false)?;
                    Ok(Conn::Unix(s))
                }),
            };
            match accepted {
                Ok(conn) => submit(&site, conn),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // ECONNABORTED and friends concern one connection only.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(_) => {
                    // Out of descriptors or memory: the pending connection
                    // stays queued; look again shortly.
                    timeout = Some(ACCEPT_RETRY);
                    break;
                }
            }
        }
    }
}

/// Give a new connection to the pool, or turn it away when too many are open.
fn submit(site: &Arc<Site>, conn: Conn) {
    if let Err(conn) = site.shared.pool.submit(Job {
        conn,
        site: site.clone(),
    }) {
        // Best effort, never blocking this thread for long.
        let conn = conn.conn;
        let _ = conn.set_write_timeout(Some(Duration::from_millis(200)));
        let response = pages::error(1, 503, Persist::Close, &[], true);
        let _ = match &conn {
            Conn::Tcp(s) => (&*s).write_all(&response),
            Conn::Unix(s) => (&*s).write_all(&response),
        };
    }
}

/// A connection to serve.
pub(super) struct Job {
    conn: Conn,
    site: Arc<Site>,
}

/// Connection threads: idle ones are reused, new ones start when none is
/// idle, extra idle ones end after [`IDLE_EXIT`].
pub(super) struct Pool {
    state: Mutex<PoolState>,
    wakeup: Condvar,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    /// Connections submitted and not finished (queued or being served).
    active: usize,
    threads: usize,
    idle: usize,
    stopping: bool,
}

impl Pool {
    pub(super) fn new() -> Pool {
        Pool {
            state: Mutex::new(PoolState::default()),
            wakeup: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `job` for an idle thread or start one; `Err(job)` when stopping
    /// or when [`super::MAX_CONNECTIONS`] are being served.
    fn submit(&self, job: Job) -> Result<(), Job> {
        let mut state = self.lock();
        if state.stopping || state.active >= super::MAX_CONNECTIONS {
            return Err(job);
        }
        state.active += 1;
        if state.idle > state.jobs.len() {
            state.jobs.push_back(job);
            self.wakeup.notify_one();
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let shared = job.site.shared.clone();
        let spawned = thread::Builder::new()
            .name("http".to_string())
            .stack_size(STACK_SIZE)
            .spawn(move || worker(job));
        if spawned.is_err() {
            // The job went down with the closure: the connection is closed.
            let mut state = shared.pool.lock();
            state.threads -= 1;
            state.active -= 1;
        }
        Ok(())
    }

    /// Let idle threads end; queued connections are dropped.
    pub(super) fn stop(&self) {
        let mut state = self.lock();
        state.stopping = true;
        state.jobs.clear();
        self.wakeup.notify_all();
    }
}

fn worker(first: Job) {
    let mut job = first;
    loop {
        let shared = job.site.shared.clone();
        // A bug in a handler must not cost the pool a thread for good.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| conn::serve(job.conn, &job.site)));
        drop(job.site);
        let pool = &shared.pool;
        let mut state = pool.lock();
        state.active -= 1;
        job = loop {
            if let Some(next) = state.jobs.pop_front() {
                break next;
            }
            if state.stopping {
                state.threads -= 1;
                return;
            }
            let warm = state.threads <= WARM_THREADS;
            state.idle += 1;
            if warm {
                state = pool.wakeup.wait(state).unwrap_or_else(|e| e.into_inner());
                state.idle -= 1;
            } else {
                let (next, waited) = pool
                    .wakeup
                    .wait_timeout(state, IDLE_EXIT)
                    .unwrap_or_else(|e| e.into_inner());
                state = next;
                state.idle -= 1;
                if waited.timed_out() && state.jobs.is_empty() {
                    state.threads -= 1;
                    return;
                }
            }
        };
    }
}
