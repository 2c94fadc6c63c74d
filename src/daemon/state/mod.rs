//! The daemon's state and everything that changes it: processes, their
//! output, listener pools, waiting calls, stopping and restarting. It owns
//! no poller and never waits; the reactor (`reactor/`) feeds it signals,
//! readiness, calls and the time, and carries its answers out. Tests can
//! drive a [`Daemon`] directly, with a registry nobody polls.
//!
//! The methods are grouped by topic: `processes.rs` (spawning, signalling,
//! reaping, output), `events.rs` (listener pools), `stopping.rs`
//! (shutdown, restart, PID 1's last duty); the XML-RPC methods are in
//! `rpc/`.

mod events;
mod finishing;
mod health;
mod processes;
mod spawning;
mod stopping;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Instant;

use mio::Registry;

use crate::config::{self, Config, LogLevel, Overrides};
use crate::daemon::events::Bus;
use crate::daemon::lifecycle::health::HealthChecks;
use crate::daemon::log::mainlog::MainLog;
use crate::daemon::log::outputs::{Emitted, Outputs};
use crate::daemon::log::Channel;
use crate::daemon::proc::spawn;
use crate::daemon::proc::status::Now;
use crate::daemon::proc::stdin::Stdins;
use crate::daemon::proc::table::{Key, ProcessTable};
use crate::daemon::reactor::snapshot::{Snapshot, View};
use crate::daemon::rpc::{Answer, Waiter};

/// Where to find the config again on SIGHUP and `reloadConfig`.
pub struct Source {
    pub file: PathBuf,
    pub overrides: Overrides,
}

/// Output pipes get tokens from here up (0 and 1 are the reactor's).
pub const FIRST_PIPE: usize = 2;
/// Health probe sockets get tokens from here up.
pub const FIRST_HEALTH: usize = usize::MAX / 4;
/// Stdin pipes get tokens from here up, far above the output pipes'.
pub const FIRST_STDIN: usize = usize::MAX / 2;

pub struct Daemon {
    pub(crate) log: MainLog,
    pub(crate) config: Config,
    pub(crate) source: Source,
    pub(crate) table: ProcessTable,
    pub(crate) spawn_ctx: spawn::Context,
    pub(crate) outputs: Outputs,
    /// What output produced for the event system, handled after each drain.
    pub(crate) emitted: Vec<Emitted>,
    pub(crate) stdin: Stdins,
    /// Listener pools and their events.
    pub(crate) bus: Bus,
    /// Health checks of the processes that have one and are up.
    pub(crate) health: HealthChecks,
    /// Where pipes are registered for readiness.
    pub(crate) registry: Registry,
    /// Stops asked for together with a dependent's, waiting for it to be
    /// down (`depends_on`).
    pub(crate) deferred_stops: Vec<Key>,
    /// Calls waiting for process state, with where their answer goes.
    pub(crate) waiting: Vec<(Waiter, Sender<Answer>)>,
    /// Answers ready to go out, once the status they may depend on is
    /// published (see [`Daemon::take_answers`]).
    answers: Vec<(Sender<Answer>, Answer)>,
    /// Something the snapshot shows may have changed since it was built.
    pub(crate) snapshot_stale: bool,
    /// Something happened that may make state machines move (an exit, a
    /// signal, a request): run `advance` even if no deadline passed.
    pub(crate) dirty: bool,
    /// The configuration a restart (SIGHUP, `restart`) applies once
    /// everything has stopped.
    pub(crate) restart_config: Option<Config>,
    /// The configuration read by the last `reloadConfig`, for
    /// `addProcessGroup` and `getAllConfigInfo`.
    pub(crate) reread_config: Option<Config>,
    /// The HTTP sections changed in a restart: the reactor rebinds.
    pub(crate) rebind_servers: bool,
    stopping: stopping::Stopping,
    finishing: finishing::Finishing,
}

impl Daemon {
    pub fn new(config: Config, source: Source, log: MainLog, registry: Registry) -> Daemon {
        let table = ProcessTable::new(&config);
        let spawn_ctx = spawn_context(&config);
        Daemon {
            log,
            config,
            source,
            table,
            spawn_ctx,
            outputs: Outputs::new(FIRST_PIPE),
            emitted: Vec::new(),
            stdin: Stdins::new(FIRST_STDIN),
            bus: Bus::default(),
            health: HealthChecks::new(FIRST_HEALTH),
            registry,
            deferred_stops: Vec::new(),
            waiting: Vec::new(),
            answers: Vec::new(),
            snapshot_stale: true,
            dirty: true,
            restart_config: None,
            reread_config: None,
            rebind_servers: false,
            stopping: stopping::Stopping::default(),
            finishing: finishing::Finishing::default(),
        }
    }

    /// The main log, for the startup messages written before the loop runs.
    pub fn log(&mut self) -> &mut MainLog {
        &mut self.log
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn log_all(&mut self, logs: Vec<(LogLevel, String)>) {
        for (level, message) in logs {
            self.log.log(level, &message);
        }
    }

    /// The loop is about to start: AUTO log files, pools, autostart.
    pub fn start(&mut self) {
        self.create_auto_files();
        self.groups_created();
    }

    /// Everything due at `now`: output retries and flushes, TICK events,
    /// state machine deadlines (or any change), waiting calls, events for
    /// ready listeners.
    pub fn on_time(&mut self, now: Now) {
        self.enforce_budget(now);
        if self.health.deadline().is_some_and(|d| d <= now.mono) {
            self.check_health(now);
        }
        if self.outputs.deadline().is_some_and(|d| d <= now.mono) {
            self.outputs
                .on_deadline(&self.registry, &mut self.log, &mut self.emitted);
            self.handle_emitted();
        }
        if self.bus.tick_deadline(now).is_some_and(|d| d <= now.mono) {
            for tick in self.bus.due_ticks(now) {
                self.raise(tick);
            }
        }
        if self.dirty || self.table.deadline().is_some_and(|d| d <= now.mono) {
            // Phase changes and restarts show up in status without any
            // process action, so any such pass refreshes the snapshot.
            self.snapshot_stale |= self.dirty;
            self.dirty = false;
            self.advance(now);
            self.stop_deferred(now);
            self.finish_when_done();
        }
        self.settle_waiting();
        self.dispatch_events();
    }

    /// The nearest instant at which [`on_time`](Self::on_time) has work;
    /// `None` when nothing is due (the loop then sleeps without a timeout).
    pub fn deadline(&self, now: Now) -> Option<Instant> {
        // Something changed during this pass that a state machine may act
        // on (a dependency became ready): look again at once.
        if self.dirty {
            return Some(now.mono);
        }
        [
            self.table.deadline(),
            self.outputs.deadline(),
            self.stopping.deadline(),
            self.finishing.deadline(),
            self.health.deadline(),
            self.bus.tick_deadline(now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A call from a client: answered at once or once processes get there.
    /// Either way the answer waits in [`take_answers`](Self::take_answers).
    pub fn call(&mut self, call: crate::xmlrpc::Call, reply: Sender<Answer>) {
        match self.rpc(call) {
            crate::daemon::rpc::Outcome::Done(answer) => self.answers.push((reply, answer)),
            crate::daemon::rpc::Outcome::Wait(waiter) => self.waiting.push((waiter, reply)),
        }
        // A call may change anything the status shows.
        self.snapshot_stale = true;
        self.dirty = true;
    }

    /// Move the waiting calls whose processes got where they wait for to
    /// the answers.
    pub(crate) fn settle_waiting(&mut self) {
        for (waiter, reply) in std::mem::take(&mut self.waiting) {
            match self.settle(waiter) {
                crate::daemon::rpc::Outcome::Done(answer) => self.answers.push((reply, answer)),
                crate::daemon::rpc::Outcome::Wait(waiter) => self.waiting.push((waiter, reply)),
            }
        }
    }

    /// Answers to send. The reactor publishes the snapshot first when it is
    /// stale: whoever gets an answer may ask for status next and must see
    /// the effect of their own call.
    pub fn take_answers(&mut self) -> Vec<(Sender<Answer>, Answer)> {
        std::mem::take(&mut self.answers)
    }

    /// Whether the status changed since the last [`snapshot`](Self::snapshot).
    pub fn snapshot_stale(&self) -> bool {
        self.snapshot_stale
    }

    /// A fresh status copy for the HTTP threads.
    pub fn snapshot(&mut self, generation: u64) -> Snapshot {
        self.snapshot_stale = false;
        // The snapshot is the first to show the AUTO file names, before any
        // answer goes out: the files not created by a spawn yet are now.
        if self.outputs.auto_files_pending() {
            let keys = self.table.keys();
            self.outputs.create_pending_auto_files(&keys, &mut self.log);
        }
        let mut processes: Vec<View> = self
            .table
            .keys()
            .into_iter()
            .map(|key| {
                let process = self.table.process(key);
                let path = |channel| {
                    self.outputs
                        .log_path(key, &process.config, channel)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                };
                View {
                    stdout_log: path(Channel::Stdout),
                    stderr_log: path(Channel::Stderr),
                    process: process.clone(),
                }
            })
            .collect();
        processes.sort_by(|a, b| {
            let (a, b) = (&a.process.config, &b.process.config);
            (&a.group, &a.name).cmp(&(&b.group, &b.name))
        });
        Snapshot {
            generation,
            phase: self.table.phase(),
            identifier: self.config.supervisord.identifier.clone(),
            rpc_enabled: !self.config.rpcinterfaces.is_empty(),
            main_log: self.main_log_path(),
            processes,
        }
    }

    pub(crate) fn main_log_path(&self) -> Option<PathBuf> {
        match &self.config.supervisord.logfile {
            config::MainLogTarget::File(path) => Some(path.clone()),
            config::MainLogTarget::Syslog => None,
        }
    }

    /// The daemon is going away: every waiting call gets SHUTDOWN_STATE.
    pub fn abandon_waiting(&mut self) {
        for (_, reply) in std::mem::take(&mut self.waiting) {
            let _ = reply.send(Err(crate::xmlrpc::Fault::named(
                crate::xmlrpc::faults::SHUTDOWN_STATE,
                None,
            )));
        }
    }
}

/// `SUPERVISOR_SERVER_URL`: the first unix socket, else the last TCP server.
pub(crate) fn spawn_context(config: &Config) -> spawn::Context {
    let server_url = config
        .unix_servers
        .first()
        .map(|s| format!("unix://{}", s.file.display()))
        .or_else(|| {
            config.inet_servers.last().map(|s| {
                let host = if s.host.is_empty() {
                    "localhost"
                } else {
                    s.host.as_str()
                };
                format!("http://{host}:{}", s.port)
            })
        });
    spawn::Context {
        server_url,
        environ: std::env::vars_os().collect(),
    }
}
