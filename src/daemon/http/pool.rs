//! A server's worker threads: they answer complete requests, one at a time
//! each, in the order they became complete (a FIFO queue: requests beyond the
//! threads wait, they are never refused).
//!
//! Threads start on demand up to [`MAX_WORKERS`]; [`WARM_WORKERS`] stay when
//! idle (waiting with no timeout: no wakeups), extra ones end after
//! [`WORKER_IDLE_EXIT`]. A worker waiting for a deferred answer
//! ([`Pool::deferred`]) is replaced by a new thread if requests are queued,
//! up to [`MAX_DEFERRED`] such waits, so a few `start --wait` calls cannot
//! hold up the status queries of everyone else.

use std::collections::VecDeque;
use std::net::Shutdown;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

use nix::poll::PollFlags;

use super::exchange::{self, wait_ready, After, Conn};
use super::incoming::{Flow, Incoming, Request};
use super::io::Returned;
use super::limits::{MAX_DEFERRED, MAX_WORKERS, NEXT_REQUEST_WAIT, WARM_WORKERS, WORKER_IDLE_EXIT};
use super::{Answering, Site};

/// Stack of a worker thread (it builds responses; the backend's work happens
/// where the backend puts it).
const STACK_SIZE: usize = 512 * 1024;
/// A worker's read buffer, for the requests it reads itself.
const SCRATCH: usize = 16 * 1024;

/// A complete request to answer.
pub(super) struct Job {
    pub(super) conn: Conn,
    pub(super) request: Request,
    /// Bytes that arrived after the request (pipelined requests).
    pub(super) rest: Vec<u8>,
    /// Counted for [`super::wait_for_answers`] until answered.
    pub(super) answering: Answering,
}

pub(super) struct Pool {
    state: Mutex<State>,
    wakeup: Condvar,
    /// Queued jobs beyond the idle threads that will take them, kept
    /// beside the lock: a worker on a keep-alive connection asks after
    /// every request whether others wait for it, and taking the lock for
    /// that made the workers meet on it. Counting the jobs an idle thread
    /// is about to take made busy workers hand their connections back to
    /// the I/O thread in a cascade (each handed-back request queued again).
    unserved: AtomicUsize,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Threads waiting for a deferred answer that were replaced.
    deferred: usize,
    stopping: bool,
}

impl State {
    /// Threads available for requests (not replaced while waiting).
    fn working(&self) -> usize {
        self.threads - self.deferred
    }

    /// More queued jobs than idle threads to take them.
    fn starved(&self) -> bool {
        self.jobs.len() > self.idle
    }
}

impl Pool {
    pub(super) fn new() -> Pool {
        Pool {
            state: Mutex::new(State::default()),
            wakeup: Condvar::new(),
            unserved: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `job` for `site`'s workers, starting one if none is idle and
    /// the cap allows.
    pub(super) fn submit(site: &Arc<Site>, job: Job) {
        let pool = &site.pool;
        let mut state = pool.lock();
        state.jobs.push_back(job);
        pool.note(&state);
        if !state.starved() {
            pool.wakeup.notify_one();
        } else if state.working() < MAX_WORKERS {
            start_worker(site, state);
        }
    }

    /// Run `wait` (a deferred answer) on a worker; if requests are queued
    /// meanwhile, another thread takes this one's place (within
    /// [`MAX_DEFERRED`]).
    pub(super) fn deferred<T>(site: &Arc<Site>, wait: impl FnOnce() -> T) -> T {
        let pool = &site.pool;
        let mut state = pool.lock();
        let replaced = state.deferred < MAX_DEFERRED;
        if replaced {
            state.deferred += 1;
        }
        if replaced && state.starved() && state.working() < MAX_WORKERS {
            start_worker(site, state);
        } else {
            drop(state);
        }
        let result = wait();
        if replaced {
            pool.lock().deferred -= 1;
        }
        result
    }

    /// Requests wait for a worker.
    fn queued(&self) -> bool {
        // Only a hint for giving a connection back: a job queued a moment
        // later is taken by the next worker that looks.
        self.unserved.load(Ordering::Relaxed) > 0
    }

    /// Update [`Pool::unserved`]; called with the lock held after every
    /// change of the queue or of the idle count.
    fn note(&self, state: &State) {
        let unserved = state.jobs.len().saturating_sub(state.idle);
        self.unserved.store(unserved, Ordering::Relaxed);
    }

    /// Every worker is idle: each has handed its last connection on.
    #[cfg(test)]
    pub(super) fn all_idle(&self) -> bool {
        let state = self.lock();
        state.jobs.is_empty() && state.idle == state.threads
    }

    /// Let idle workers end once the queue is empty (requests already
    /// queued are still answered).
    pub(super) fn stop(&self) {
        let mut state = self.lock();
        state.stopping = true;
        self.wakeup.notify_all();
    }
}

/// Start a worker thread; the lock is released first.
fn start_worker(site: &Arc<Site>, mut state: MutexGuard<'_, State>) {
    state.threads += 1;
    drop(state);
    let worker_site = site.clone();
    let spawned = thread::Builder::new()
        .name("http-worker".to_string())
        .stack_size(STACK_SIZE)
        .spawn(move || worker(worker_site));
    if spawned.is_err() {
        // The queue keeps the job: the next submit or a running worker
        // takes it.
        site.pool.lock().threads -= 1;
    }
}

fn worker(site: Arc<Site>) {
    let mut scratch = vec![0u8; SCRATCH];
    let pool = &site.pool;
    let mut state = pool.lock();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            pool.note(&state);
            drop(state);
            // A bug in a handler must not cost the pool a thread for good.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| run(&site, job, &mut scratch)));
            state = pool.lock();
            // A replaced thread whose wait ended makes one too many.
            if state.working() > MAX_WORKERS {
                break;
            }
            continue;
        }
        if state.stopping {
            break;
        }
        let warm = state.threads <= WARM_WORKERS;
        state.idle += 1;
        pool.note(&state);
        if warm {
            state = pool.wakeup.wait(state).unwrap_or_else(|e| e.into_inner());
            state.idle -= 1;
            pool.note(&state);
        } else {
            let (next, waited) = pool
                .wakeup
                .wait_timeout(state, WORKER_IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            pool.note(&state);
            if waited.timed_out() && state.jobs.is_empty() {
                break;
            }
        }
    }
    state.threads -= 1;
}

/// Answer a request, then pass the connection on as the answer says. On
/// keep-alive, stay for the next request while it is here (or comes within
/// [`NEXT_REQUEST_WAIT`]) and nobody else waits for a worker.
fn run(site: &Arc<Site>, job: Job, scratch: &mut [u8]) {
    let Job {
        conn,
        mut request,
        mut rest,
        mut answering,
    } = job;
    loop {
        let Request { head, body, charge } = request;
        let after = exchange::answer(site, &conn, &head, body);
        drop(charge);
        drop(answering);
        match after {
            After::Next => {}
            After::Linger => {
                conn.shutdown(Shutdown::Write);
                let incoming = Incoming::linger(site);
                return site.give_back(Returned { conn, incoming });
            }
            After::Close => return,
            After::Stream(stream) => return stream.start(conn),
        }
        let mut incoming = Incoming::next(site, rest);
        match next_request(site, &conn, &mut incoming, scratch) {
            Some(Some(next)) => {
                request = next;
                rest = incoming.into_rest();
                answering = Answering::start();
            }
            Some(None) => return site.give_back(Returned { conn, incoming }),
            None => return,
        }
    }
}

/// The next request on a keep-alive connection, if it is here or comes at
/// once: `Some(Some(request))`; `Some(None)`: hand the connection back to
/// the I/O thread; `None`: close it.
fn next_request(
    site: &Arc<Site>,
    conn: &Conn,
    incoming: &mut Incoming,
    scratch: &mut [u8],
) -> Option<Option<Request>> {
    let mut waited = false;
    loop {
        match incoming.look(conn, site) {
            Flow::More => {}
            Flow::Close => return None,
            Flow::Ready(request) => return Some(Some(request)),
        }
        // Lingering is the I/O thread's job; queued requests go first;
        // stopping servers take no more requests.
        if incoming.lingering() || site.pool.queued() {
            return Some(None);
        }
        if site.stopping() {
            return None;
        }
        match incoming.read_more(conn, scratch) {
            Ok(true) => {}
            Ok(false) if waited => return Some(None),
            Ok(false) => {
                waited = true;
                match wait_ready(conn, PollFlags::POLLIN, NEXT_REQUEST_WAIT) {
                    Ok(true) => {}
                    Ok(false) => return Some(None),
                    Err(_) => return None,
                }
            }
            Err(()) => return None,
        }
    }
}
