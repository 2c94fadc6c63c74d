//! Spawning: one process, or several due at once, as at startup or after
//! `start all`.
//!
//! A spawn has two parts of about equal cost: preparing it on the event
//! loop's thread (its log files, the command looked up, the child's
//! environment, the pipes), and the clone, during which the calling thread
//! waits until the child has exec'd. Done one after the other, 100 programs
//! took about twice as long to start as a plain program spawning 100
//! children. So when several spawns are due, a thread of the batch's own
//! clones the children one by one while the event loop prepares the next
//! ones, and the results are taken in the order of the queue: each process
//! gets its pid, its pipes watched and its follow-up actions exactly as if
//! it had been spawned alone.
//!
//! Nothing else sees a process between its clone and its registration: the
//! batch ends within one turn of the loop, so a child that exits at once is
//! reaped in a later turn, when its pid is known.

use std::sync::{Arc, Condvar, Mutex};

use super::Daemon;
use crate::daemon::log::childlog::ChannelLog;
use crate::daemon::proc::process::Action;
use crate::daemon::proc::spawn::{self, Spawned};
use crate::daemon::proc::status::Now;
use crate::daemon::proc::table::Key;

/// Spawns prepared ahead of the clones. Each holds six pipe ends and two
/// log files until cloned, so the lead is kept short.
const PREPARED_AHEAD: usize = 8;

/// The thread that clones needs little: the children run on a stack of
/// their own (`proc/child.rs`).
const SPAWNER_STACK: usize = 256 * 1024;

/// The logs of a process being spawned: stdout's, and stderr's unless it
/// is redirected or not logged.
type Logs = (ChannelLog, Option<ChannelLog>);

impl Daemon {
    /// Spawn the processes of `keys`, in order; returns the actions that
    /// follow, in the same order.
    pub(super) fn spawn_all(&mut self, keys: &[Key], now: Now) -> Vec<(Key, Action)> {
        let outcomes = match keys {
            [key] => vec![self
                .prepare_spawn(*key)
                .and_then(|(prepared, logs)| prepared.start().map(|spawned| (spawned, logs)))],
            _ => self.start_in_parallel(keys),
        };
        let mut follow_ups = Vec::new();
        for (&key, outcome) in keys.iter().zip(outcomes) {
            let actions = match outcome {
                Ok((spawned, logs)) => self.register(key, spawned, logs, now),
                Err(message) => self.table.process_mut(key).spawn_failed(&message, now),
            };
            follow_ups.extend(actions.into_iter().map(|a| (key, a)));
        }
        follow_ups
    }

    /// Everything of one spawn but the clone.
    fn prepare_spawn(&mut self, key: Key) -> Result<(spawn::Prepared, Logs), String> {
        let config = &self.table.process(key).config;
        let listener = self.bus.is_listener(key);
        let logs = self.outputs.prepare(
            key,
            config,
            self.config.supervisord.strip_ansi,
            listener,
            &mut self.log,
        )?;
        let prepared = spawn::prepare(config, &self.spawn_ctx)?;
        Ok((prepared, logs))
    }

    /// Prepare each spawn of `keys` here while a thread of the batch clones
    /// the ones already prepared. Without that thread (the system refused
    /// it), each is started here instead.
    fn start_in_parallel(&mut self, keys: &[Key]) -> Vec<Result<(Spawned, Logs), String>> {
        let shared: Shared = Arc::new((Mutex::new(Handoff::new(keys.len())), Condvar::new()));
        let spawner = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("spawner".to_string())
                .stack_size(SPAWNER_STACK)
                .spawn(move || start_all(&shared))
                .ok()
        };
        let (handoff, changed) = &*shared;
        let mut logs: Vec<Option<Logs>> = keys.iter().map(|_| None).collect();
        for (i, &key) in keys.iter().enumerate() {
            let prepared = match self.prepare_spawn(key) {
                Ok((prepared, its_logs)) => {
                    logs[i] = Some(its_logs);
                    prepared
                }
                Err(message) => {
                    // The spawner skips a place with nothing prepared.
                    lock(handoff).started[i] = Some(Err(message));
                    continue;
                }
            };
            if spawner.is_none() {
                lock(handoff).started[i] = Some(prepared.start());
                continue;
            }
            let mut h = lock(handoff);
            while h.ahead() >= PREPARED_AHEAD {
                h = changed.wait(h).unwrap_or_else(|e| e.into_inner());
            }
            h.prepared[i] = Some(prepared);
            h.ready = i + 1;
            changed.notify_all();
        }
        lock(handoff).finished = true;
        changed.notify_all();
        if let Some(spawner) = spawner {
            // It returns once it has started all that was prepared.
            let _ = spawner.join();
        }
        let started = std::mem::take(&mut lock(handoff).started);
        started
            .into_iter()
            .zip(logs)
            .map(|(started, logs)| match (started, logs) {
                (Some(Ok(spawned)), Some(logs)) => Ok((spawned, logs)),
                (Some(Err(message)), _) => Err(message),
                // Only if the spawner died before starting it.
                _ => Err("unknown error during fork".to_string()),
            })
            .collect()
    }

    /// A child is running: watch its pipes, know its pid.
    fn register(&mut self, key: Key, spawned: Spawned, logs: Logs, now: Now) -> Vec<Action> {
        let (stdout_log, stderr_log) = logs;
        let config = &self.table.process(key).config;
        let listener = self.bus.is_listener(key);
        let registry = &self.registry;
        let whose = (key, spawned.pid, listener, config.group.as_str());
        self.outputs
            .watch(registry, whose, spawned.stdout, stdout_log, &mut self.log);
        if let (Some(fd), Some(log)) = (spawned.stderr, stderr_log) {
            self.outputs.watch(registry, whose, fd, log, &mut self.log);
        }
        self.stdin.insert(registry, spawned.pid, spawned.stdin);
        self.bus.spawned(key, spawned.pid);
        self.table.track(spawned.pid, key);
        self.table.process_mut(key).spawned(spawned.pid, now)
    }
}

/// What the event loop and the spawner thread of a batch share.
struct Handoff {
    /// Spawns prepared and not taken yet, by their place in the batch.
    prepared: Vec<Option<spawn::Prepared>>,
    /// How many places have been prepared (or failed) so far.
    ready: usize,
    /// The next place the spawner starts.
    next: usize,
    /// What each start gave.
    started: Vec<Option<Result<Spawned, String>>>,
    /// The event loop prepares nothing more.
    finished: bool,
}

type Shared = Arc<(Mutex<Handoff>, Condvar)>;

impl Handoff {
    fn new(len: usize) -> Handoff {
        Handoff {
            prepared: (0..len).map(|_| None).collect(),
            ready: 0,
            next: 0,
            started: (0..len).map(|_| None).collect(),
            finished: false,
        }
    }

    /// Prepared spawns waiting to be started.
    fn ahead(&self) -> usize {
        self.prepared[self.next..self.ready]
            .iter()
            .filter(|p| p.is_some())
            .count()
    }
}

fn lock(handoff: &Mutex<Handoff>) -> std::sync::MutexGuard<'_, Handoff> {
    handoff.lock().unwrap_or_else(|e| e.into_inner())
}

/// The spawner thread: start each prepared spawn in order, until the event
/// loop has finished preparing and nothing is left.
fn start_all(shared: &Shared) {
    let (handoff, changed) = &**shared;
    loop {
        let (i, prepared) = {
            let mut h = lock(handoff);
            loop {
                if h.next < h.ready {
                    let i = h.next;
                    h.next += 1;
                    match h.prepared[i].take() {
                        Some(prepared) => break (i, prepared),
                        // A spawn that failed before its clone.
                        None => continue,
                    }
                }
                if h.finished {
                    return;
                }
                h = changed.wait(h).unwrap_or_else(|e| e.into_inner());
            }
        };
        // Room for the event loop to prepare one more.
        changed.notify_all();
        let result = prepared.start();
        lock(handoff).started[i] = Some(result);
    }
}
