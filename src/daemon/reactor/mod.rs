//! The event loop: one thread, one `mio::Poll`, owning every process, pipe
//! and log. Signals arrive as readiness of signal-hook's pipe; timeouts are
//! the nearest deadline of the state machines, and with nothing due the loop
//! sleeps without a timeout — zero wakeups when idle.

mod bridge;
mod params;
mod rpc;
mod snapshot;

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;

use super::events::{self, Event};
use super::http;
use crate::config::{self, Config, Host, LogLevel, Overrides};
use crate::daemon::log::mainlog::MainLog;
use crate::daemon::log::outputs::{Emitted, Outputs, Produced};
use crate::daemon::proc::process::{Action, ExitStatus, Now, State};
use crate::daemon::proc::reap;
use crate::daemon::proc::spawn;
use crate::daemon::proc::stdin::Stdins;
use crate::daemon::proc::table::{Key, Phase, ProcessTable};

const SIGNALS: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_PIPE: usize = 2;
/// Stdin pipes get tokens from here up, far above the output pipes'.
const FIRST_STDIN: usize = usize::MAX / 2;

/// How long, as PID 1, the leftovers get between SIGTERM and SIGKILL.
const STRAGGLER_GRACE: Duration = Duration::from_secs(5);

/// Signals that shut down, restart, reopen or reap; everything else
/// catchable that would kill us by default is only logged.
const HANDLED: &[i32] = &[SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2];
const LOGGED_ONLY: &[i32] = &[
    SIGUSR1,
    SIGALRM,
    SIGVTALRM,
    SIGPROF,
    nix::libc::SIGPWR,
    SIGIO,
    SIGXCPU,
    SIGXFSZ,
    nix::libc::SIGSTKFLT,
    SIGTRAP,
];

/// Catch our signals from here on; they wait in the returned pipe until the
/// loop runs. Installed first thing at startup, so a SIGTERM that arrives
/// while we start up still means an orderly shutdown.
pub fn install_signals() -> io::Result<Signals> {
    let mut all: Vec<i32> = HANDLED.to_vec();
    all.extend_from_slice(LOGGED_ONLY);
    let signals = Signals::new(&all)?;
    // Real-time signals also kill by default. Some numbers belong to the
    // C library and cannot be caught; those are simply skipped.
    for realtime in 34..=64 {
        let _ = signals.add_signal(realtime);
    }
    Ok(signals)
}

/// Where to find the config again on SIGHUP.
pub struct Source {
    pub file: PathBuf,
    pub overrides: Overrides,
}

/// After the programs are down, as PID 1: wait for everyone else.
#[derive(Debug, Clone, Copy)]
struct Stragglers {
    kill_at: Instant,
    killed: bool,
}

pub struct Reactor {
    poll: Poll,
    signals: Signals,
    /// Lets other threads (the HTTP server) wake the loop.
    pub waker: Arc<Waker>,
    log: MainLog,
    config: Config,
    source: Source,
    table: ProcessTable,
    spawn_ctx: spawn::Context,
    outputs: Outputs,
    /// What output produced for the event system, handled after each drain.
    emitted: Vec<Emitted>,
    stdin: Stdins,
    /// Listener pools and their events.
    bus: events::Bus,
    /// Calls and questions from the HTTP threads.
    bridge: Receiver<bridge::Message>,
    bridge_tx: Sender<bridge::Message>,
    /// Calls waiting for process state, with where their answer goes.
    waiting: Vec<(rpc::Waiter, Sender<bridge::Answer>)>,
    servers: Option<http::Servers>,
    /// The status copy the HTTP threads answer read-only calls from.
    snapshot: snapshot::Shared,
    /// Something the snapshot shows may have changed since it was published.
    snapshot_stale: bool,
    /// Something happened that may make state machines move (an exit, a
    /// signal, a request): run `advance` even if no deadline passed.
    dirty: bool,
    pending_config: Option<Config>,
    /// The configuration read by the last `reloadConfig`, for `addProcessGroup`.
    parsed: Option<Config>,
    stragglers: Option<Stragglers>,
    pid1: bool,
}

impl Reactor {
    pub fn new(
        config: Config,
        source: Source,
        log: MainLog,
        mut signals: Signals,
    ) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let (bridge_tx, bridge) = mpsc::channel();
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let table = ProcessTable::new(&config);
        let spawn_ctx = spawn_context(&config);
        Ok(Reactor {
            poll,
            signals,
            waker,
            log,
            config,
            source,
            table,
            spawn_ctx,
            outputs: Outputs::new(FIRST_PIPE),
            emitted: Vec::new(),
            stdin: Stdins::new(FIRST_STDIN),
            bus: events::Bus::default(),
            bridge,
            bridge_tx,
            waiting: Vec::new(),
            servers: None,
            snapshot: Arc::new(std::sync::Mutex::new(Arc::new(snapshot::Snapshot {
                generation: 0,
                phase: Phase::Running,
                identifier: String::new(),
                rpc_enabled: false,
                main_log: None,
                processes: Vec::new(),
            }))),
            snapshot_stale: true,
            dirty: true,
            pending_config: None,
            parsed: None,
            stragglers: None,
            pid1: reap::is_pid1(),
        })
    }

    /// At exit: answer what is still waiting (the daemon is going away),
    /// then stop the servers, which lets answers being written finish.
    fn close_servers(&mut self) {
        for (_, reply) in std::mem::take(&mut self.waiting) {
            let _ = reply.send(Err(crate::xmlrpc::Fault::named(
                crate::xmlrpc::faults::SHUTDOWN_STATE,
                None,
            )));
        }
        while let Ok(message) = self.bridge.try_recv() {
            match message {
                bridge::Message::Call { reply, .. } => {
                    let _ = reply.send(bridge::Response::Now(Err(crate::xmlrpc::Fault::named(
                        crate::xmlrpc::faults::SHUTDOWN_STATE,
                        None,
                    ))));
                }
            }
        }
        if let Some(servers) = self.servers.take() {
            servers.stop();
        }
    }

    /// Offer an event to the listener pools that subscribe to it.
    fn raise(&mut self, event: Event) {
        let mut logs = Vec::new();
        self.bus.publish(event, &mut logs);
        self.log_all(logs);
    }

    fn log_all(&mut self, logs: Vec<(LogLevel, String)>) {
        for (level, message) in logs {
            self.log.log(level, &message);
        }
    }

    /// Every active group was just created (startup, restart): pools
    /// subscribe in start order, each before its own PROCESS_GROUP_ADDED,
    /// then supervisord is RUNNING.
    fn groups_created(&mut self) {
        let wall = std::time::SystemTime::now();
        let slots: Vec<_> = self.table.groups().map(|(slot, _)| slot).collect();
        for slot in slots {
            let group = &self.table.group(slot).config;
            self.bus.add_pool(slot, group, wall);
            let added = Event::group_added(&group.name);
            self.raise(added);
        }
        self.raise(Event::supervisor_running());
    }

    /// Begin an orderly stop of everything; the listeners hear of it first.
    fn begin_stop(&mut self, restart: bool) {
        if self.table.phase() == Phase::Running {
            self.raise(Event::supervisor_stopping());
        }
        self.table.begin_stop(restart);
        self.dirty = true;
    }

    /// What output produced: PROCESS_LOG and PROCESS_COMMUNICATION events,
    /// and the listeners' protocol bytes.
    fn handle_emitted(&mut self) {
        for emitted in std::mem::take(&mut self.emitted) {
            let (process, group) = (&emitted.process, &emitted.group);
            let event = match &emitted.what {
                Produced::Log(data) => {
                    let name = if emitted.stderr {
                        "PROCESS_LOG_STDERR"
                    } else {
                        "PROCESS_LOG_STDOUT"
                    };
                    // A chunk is only copied into a payload if someone listens.
                    self.bus.wants(name).then(|| {
                        Event::process_log(emitted.stderr, process, group, emitted.pid, data)
                    })
                }
                Produced::Communication(data) => Some(Event::process_communication(
                    emitted.stderr,
                    process,
                    group,
                    emitted.pid,
                    data,
                )),
                Produced::Protocol(data) => {
                    let mut logs = Vec::new();
                    self.bus
                        .listener_output(emitted.key, emitted.pid, data, &mut logs);
                    self.log_all(logs);
                    None
                }
            };
            if let Some(event) = event {
                self.raise(event);
            }
        }
    }

    /// Hand queued events to ready listeners.
    fn dispatch_events(&mut self) {
        let mut logs = Vec::new();
        let table = &self.table;
        let stdin = &mut self.stdin;
        let registry = self.poll.registry();
        self.bus.dispatch(
            &self.config.supervisord.identifier,
            |key| {
                let process = table.get(key)?;
                process.pid().filter(|_| process.state() == State::Running)
            },
            |pid, bytes| stdin.write(registry, pid, bytes),
            &mut logs,
        );
        self.log_all(logs);
    }

    /// Start serving HTTP on sockets bound at startup.
    pub fn serve(&mut self, listeners: http::Listeners) -> Result<(), String> {
        self.publish_snapshot();
        let backend = Arc::new(bridge::ReactorBackend {
            tx: self.bridge_tx.clone(),
            waker: self.waker.clone(),
            snapshot: self.snapshot.clone(),
            cache: Default::default(),
        });
        let servers = listeners.serve(backend)?;
        for line in servers.crit_messages() {
            self.log.log(LogLevel::Critical, line);
        }
        self.servers = Some(servers);
        Ok(())
    }

    /// Rebind after a restart changed the server sections.
    fn rebind(&mut self) -> Result<(), String> {
        let listeners = http::Listeners::bind(&self.config)?;
        self.serve(listeners)
    }

    /// Publish a fresh status copy for the HTTP threads.
    fn publish_snapshot(&mut self) {
        self.snapshot_stale = false;
        let mut processes: Vec<snapshot::View> = self
            .table
            .keys()
            .into_iter()
            .map(|key| {
                let process = self.table.process(key);
                let path = |stderr| {
                    self.outputs
                        .log_path(key, &process.config, stderr)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                };
                snapshot::View {
                    stdout_log: path(false),
                    stderr_log: path(true),
                    process: process.clone(),
                }
            })
            .collect();
        processes.sort_by(|a, b| {
            let (a, b) = (&a.process.config, &b.process.config);
            (&a.group, &a.name).cmp(&(&b.group, &b.name))
        });
        let generation = self
            .snapshot
            .lock()
            .map_or(0, |s| s.generation)
            .wrapping_add(1);
        let fresh = Arc::new(snapshot::Snapshot {
            generation,
            phase: self.table.phase(),
            identifier: self.config.supervisord.identifier.clone(),
            rpc_enabled: !self.config.rpcinterfaces.is_empty(),
            main_log: match &self.config.supervisord.logfile {
                config::MainLog::File(path) => Some(path.clone()),
                config::MainLog::Syslog => None,
            },
            processes,
        });
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    /// Take every message the HTTP threads have sent.
    fn handle_bridge(&mut self) {
        while let Ok(message) = self.bridge.try_recv() {
            match message {
                bridge::Message::Call { call, reply } => {
                    let outcome = self.call(call);
                    // Whoever gets this answer may ask for status next: they
                    // must see the effect of their own call.
                    self.publish_snapshot();
                    match outcome {
                        rpc::Outcome::Done(answer) => {
                            let _ = reply.send(bridge::Response::Now(answer));
                        }
                        rpc::Outcome::Wait(waiter) => {
                            let (tx, rx) = mpsc::channel();
                            let _ = reply.send(bridge::Response::Later(rx));
                            self.waiting.push((waiter, tx));
                        }
                    }
                }
            }
        }
        self.dirty = true;
    }

    /// Answer the waiting calls whose processes got where they wait for.
    pub(super) fn settle_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        if self.snapshot_stale {
            self.publish_snapshot();
        }
        for (waiter, reply) in std::mem::take(&mut self.waiting) {
            match self.settle(waiter) {
                rpc::Outcome::Done(answer) => {
                    let _ = reply.send(answer);
                }
                rpc::Outcome::Wait(waiter) => self.waiting.push((waiter, reply)),
            }
        }
    }

    /// Write to a program's stdin without blocking; what does not fit waits.
    fn write_stdin(&mut self, pid: i32, data: &[u8]) -> io::Result<()> {
        self.stdin.write(self.poll.registry(), pid, data)
    }

    /// The main log, for the startup messages written before [`run`](Self::run).
    pub fn log(&mut self) -> &mut MainLog {
        &mut self.log
    }

    pub fn pidfile_path(&self) -> PathBuf {
        self.config.supervisord.pidfile.clone()
    }

    /// Run until shut down; returns the exit status.
    pub fn run(&mut self) -> i32 {
        let mut events = Events::with_capacity(256);
        self.create_auto_files();
        self.groups_created();
        loop {
            let now = Now::current();
            if self.outputs.deadline().is_some_and(|d| d <= now.mono) {
                self.outputs
                    .on_deadline(self.poll.registry(), &mut self.log, &mut self.emitted);
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
            }
            self.settle_waiting();
            self.dispatch_events();
            if self.snapshot_stale {
                self.publish_snapshot();
            }
            if self.finish_stop_if_done(now) {
                self.close_servers();
                return 0;
            }
            let deadline = [
                self.table.deadline(),
                self.outputs.deadline(),
                self.stragglers.map(|s| s.kill_at),
                self.bus.tick_deadline(now),
            ]
            .into_iter()
            .flatten()
            .min();
            let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Only a broken poller fails otherwise (EBADF, EINVAL …);
                // looping on it would spin forever, supervising nothing.
                return self.abandon(&e);
            }
            for event in events.iter() {
                match event.token() {
                    SIGNALS => self.handle_signals(),
                    WAKER => self.handle_bridge(),
                    token if self.stdin.owns(token) => {
                        self.stdin.on_writable(self.poll.registry(), token)
                    }
                    token => {
                        self.outputs.drain(
                            token,
                            self.poll.registry(),
                            &mut self.log,
                            &mut self.emitted,
                        );
                        self.handle_emitted();
                    }
                }
            }
        }
    }

    /// The loop cannot go on: tell the programs to stop (we can no longer
    /// wait for them), say why, and exit 1.
    fn abandon(&mut self, e: &io::Error) -> i32 {
        self.log.log(
            LogLevel::Critical,
            &format!("the event loop failed ({e}); sending SIGTERM to every program and exiting"),
        );
        for key in self.table.keys() {
            if let Some(pid) = self.table.process(key).pid() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        self.close_servers();
        1
    }

    /// Carry out everything due now, and the actions that follow from it.
    fn advance(&mut self, now: Now) {
        let actions = self.table.advance(now);
        self.perform(actions, now);
    }

    fn perform(&mut self, actions: Vec<(Key, Action)>, now: Now) {
        if !actions.is_empty() {
            self.snapshot_stale = true;
        }
        let mut queue: std::collections::VecDeque<(Key, Action)> = actions.into();
        while let Some((key, action)) = queue.pop_front() {
            let follow_up = match action {
                Action::Spawn => self.spawn(key, now),
                Action::Signal { pid, signal, group } => {
                    self.send_signal(key, pid, signal, group, now)
                }
                Action::Log(level, message) => {
                    self.log.log(level, &message);
                    Vec::new()
                }
                Action::Changed(change) => {
                    let config = &self.table.process(key).config;
                    let event = Event::process_state(&change, &config.name, &config.group);
                    self.raise(event);
                    Vec::new()
                }
            };
            queue.extend(follow_up.into_iter().map(|a| (key, a)));
        }
    }

    fn spawn(&mut self, key: Key, now: Now) -> Vec<Action> {
        let config = &self.table.process(key).config;
        let listener = self.bus.is_listener(key);
        let logs = self.outputs.prepare(
            key,
            config,
            self.config.supervisord.strip_ansi,
            listener,
            &mut self.log,
        );
        let (stdout_log, stderr_log) = match logs {
            Ok(logs) => logs,
            Err(message) => return self.table.process_mut(key).spawn_failed(&message, now),
        };
        match spawn::spawn(config, &self.spawn_ctx) {
            Ok(spawned) => {
                let registry = self.poll.registry();
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
            Err(message) => self.table.process_mut(key).spawn_failed(&message, now),
        }
    }

    /// AUTO log files for the current groups (after cleaning old ones).
    fn create_auto_files(&mut self) {
        let processes: Vec<(Key, &crate::config::Process)> = self
            .table
            .keys()
            .into_iter()
            .map(|k| (k, &self.table.process(k).config))
            .collect();
        self.outputs
            .create_auto_files(&self.config, &processes, &mut self.log);
    }

    fn send_signal(
        &mut self,
        key: Key,
        pid: i32,
        signal: i32,
        group: bool,
        now: Now,
    ) -> Vec<Action> {
        use nix::sys::signal::{kill, Signal};
        let target = nix::unistd::Pid::from_raw(if group { -pid } else { pid });
        // Real-time and other numbered signals have no nix name; signal 0
        // only probes. Both go through the raw number.
        let result = match Signal::try_from(signal) {
            Ok(sig) => kill(target, sig),
            Err(_) => kill(target, None),
        };
        match result {
            Ok(()) => Vec::new(),
            Err(nix::Error::ESRCH) => self
                .table
                .process(key)
                .signal_missed(nix::Error::ESRCH.desc()),
            Err(e) => self
                .table
                .process_mut(key)
                .signal_failed(&e.to_string(), now),
        }
    }

    fn handle_signals(&mut self) {
        let pending: Vec<i32> = self.signals.pending().collect();
        for signal in pending {
            match signal {
                SIGCHLD => self.reap(),
                SIGTERM | SIGINT | SIGQUIT => {
                    self.log.log(
                        LogLevel::Warn,
                        &format!("received {} indicating exit request", signame(signal)),
                    );
                    self.begin_stop(false);
                    self.pending_config = None;
                }
                SIGHUP => {
                    let _ = self.restart_request();
                }
                SIGUSR2 => {
                    self.log.log(
                        LogLevel::Info,
                        "received SIGUSR2 indicating log reopen request",
                    );
                    if let Err(e) = self.log.reopen() {
                        self.log
                            .log(LogLevel::Error, &format!("cannot reopen the main log: {e}"));
                    }
                    self.outputs.reopen(&mut self.log);
                    self.log.log(LogLevel::Info, "supervisord logreopen");
                }
                other => self.log.log(
                    LogLevel::Warn,
                    &format!("received {} and ignored it", signame(other)),
                ),
            }
        }
    }

    fn reap(&mut self) {
        let now = Now::current();
        for reaped in reap::reap_all() {
            // waitpid without WUNTRACED only reports children that ended.
            let Some(status) = ExitStatus::from_raw(reaped.status) else {
                continue;
            };
            match self.table.owner_of(reaped.pid) {
                Some(key) => {
                    self.table.forget(reaped.pid);
                    // Its stdin goes; its output pipes give what they hold,
                    // then close too, even if a grandchild it left behind
                    // still holds them (as Supervisor does).
                    self.stdin.remove(self.poll.registry(), reaped.pid);
                    self.outputs.reaped(
                        reaped.pid,
                        self.poll.registry(),
                        &mut self.log,
                        &mut self.emitted,
                    );
                    self.handle_emitted();
                    let actions = self.table.process_mut(key).exited(status, now);
                    self.perform(actions.into_iter().map(|a| (key, a)).collect(), now);
                    // A listener that dies while busy gives its event back.
                    let mut logs = Vec::new();
                    self.bus.exited(key, &mut logs);
                    self.log_all(logs);
                }
                None => self.log.log(
                    LogLevel::Debug,
                    &format!("reaped unknown pid {} ({})", reaped.pid, status.describe()),
                ),
            }
        }
        self.dirty = true;
    }

    /// SIGHUP: re-read the config first; only a config that loads replaces
    /// the running one (Supervisor stops everything and then exits 2 when
    /// the new file is broken).
    fn restart_request(&mut self) -> Result<(), String> {
        if let Phase::Stopping { restart: false } = self.table.phase() {
            self.log.log(
                LogLevel::Warn,
                "ignored SIGHUP indicating restart request (shutdown in progress)",
            );
            return Ok(());
        }
        self.log
            .log(LogLevel::Warn, "received SIGHUP indicating restart request");
        match config::load(&self.source.file, &self.source.overrides, &Host::current()) {
            Ok(config) => {
                self.pending_config = Some(config);
                self.begin_stop(true);
                Ok(())
            }
            Err(e) => {
                self.log.log(
                    LogLevel::Error,
                    &format!(
                        "not restarting: the configuration {} does not load, so the running \
                         configuration stays in effect: {e}",
                        self.source.file.display()
                    ),
                );
                Err(e.0)
            }
        }
    }

    /// When a stop has brought everything down: restart with the new
    /// config, or (as PID 1, after the stragglers) report that we are done.
    fn finish_stop_if_done(&mut self, now: Now) -> bool {
        let Phase::Stopping { restart } = self.table.phase() else {
            return false;
        };
        if !self.table.all_stopped() {
            return false;
        }
        if restart {
            if let Some(config) = self.pending_config.take() {
                self.apply(config);
            }
            self.table.resume();
            self.dirty = true;
            return false;
        }
        if !self.pid1 {
            return true;
        }
        self.finish_as_init(now)
    }

    /// PID 1: TERM everything left in the namespace, KILL it after a grace
    /// period, and leave only when no child is left to reap.
    fn finish_as_init(&mut self, now: Now) -> bool {
        use nix::sys::signal::Signal;
        match self.stragglers {
            None => {
                if !reap::signal_everyone(Signal::SIGTERM) {
                    return true;
                }
                self.stragglers = Some(Stragglers {
                    kill_at: now.mono + STRAGGLER_GRACE,
                    killed: false,
                });
                false
            }
            Some(s) => {
                if !reap::has_children() {
                    return true;
                }
                if !s.killed && now.mono >= s.kill_at {
                    reap::signal_everyone(Signal::SIGKILL);
                    self.stragglers = Some(Stragglers {
                        kill_at: s.kill_at,
                        killed: true,
                    });
                }
                false
            }
        }
    }

    fn apply(&mut self, config: Config) {
        for message in config.messages.warnings.iter() {
            self.log.log(LogLevel::Warn, message);
        }
        let servers_changed = (&config.unix_servers, &config.inet_servers)
            != (&self.config.unix_servers, &self.config.inet_servers);
        self.table = ProcessTable::new(&config);
        self.bus.reset();
        self.spawn_ctx = spawn_context(&config);
        self.config = config;
        if let Err(e) = self.log.open(&self.config.supervisord) {
            eprintln!("supervisord: cannot reopen the main log: {e}");
        }
        // Unchanged servers stay up, so clients never see a refused connection
        // during a restart (Supervisor closes and reopens them).
        if servers_changed && self.servers.is_some() {
            if let Some(servers) = self.servers.take() {
                servers.stop();
            }
            if let Err(e) = self.rebind() {
                self.log.log(
                    LogLevel::Critical,
                    &format!("cannot reopen the HTTP servers after the restart: {e}"),
                );
            }
        }
        self.create_auto_files();
        self.groups_created();
    }
}

/// `SUPERVISOR_SERVER_URL`: the first unix socket, else the last TCP server.
fn spawn_context(config: &Config) -> spawn::Context {
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

fn signame(signal: i32) -> String {
    crate::daemon::proc::process::signame(signal)
}
