//! One process's state machine (processes.md §1–§4), kept pure: every
//! method takes the time as an argument and returns the [`Action`]s for the
//! daemon to carry out, so each transition is unit-tested without forking.
//!
//! The whole machine, state by event (`—`: ignored; `refused`: the RPC layer
//! answers with a fault before asking):
//!
//! ```text
//!            | start       | spawn_failed | exited                     | stop            | tick (time)
//! -----------+-------------+--------------+----------------------------+-----------------+-------------------------------
//! STOPPED    | STARTING    | —            | —                          | —               | autostart, once: start
//! STARTING   | refused     | BACKOFF      | before startsecs: BACKOFF; | kill: STOPPING  | startsecs passed: RUNNING
//!            |             |              | else RUNNING, then EXITED  |                 |
//! RUNNING    | refused     | —            | EXITED                     | kill: STOPPING  | —
//! BACKOFF    | refused     | —            | —                          | STOPPED         | retries used up: FATAL;
//!            |             |              |                            |                 | its delay passed: start
//! STOPPING   | —           | —            | STOPPED                    | —               | stopwaitsecs passed: SIGKILL
//! EXITED     | STARTING    | —            | —                          | —               | autorestart applies: start
//! FATAL      | STARTING    | —            | —                          | —               | —
//! UNKNOWN    | refused     | —            | —                          | —               | —
//! ```
//!
//! `start` also spawns (the daemon reports back with `spawned` or
//! `spawn_failed`); a signal that cannot be delivered for another reason
//! than ESRCH makes the state UNKNOWN (`signal_failed`). During shutdown
//! `tick` starts nothing and `give_up` turns BACKOFF into FATAL.
//!
//! Durations and deadlines use the monotonic clock (`Now::mono`); the wall
//! clock (`Now::wall`) is only recorded for what users see. Because of that,
//! and because the reactor reaps promptly and wakes exactly at [`Process::deadline`],
//! some of Supervisor's clock-jump and 1-second-tick artefacts cannot happen
//! here (processes.md "Where we differ").
//!
//! Time thresholds are inclusive (`now >= laststart + startsecs`,
//! `now >= delay`) where Supervisor compares strictly: a tick at exactly the
//! reported deadline must act, or the reactor would wake for nothing. The
//! "too quick" test stays `now - laststart < startsecs`, its exact complement.

mod info;
mod restart;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::status::{signame, ExitStatus, Now, State};
use crate::config::{self, LogLevel};

/// A state change, with what the PROCESS_STATE_* event needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub from: State,
    pub to: State,
    /// The pid involved, 0 when there is none (events.md §5).
    pub pid: i32,
    /// The `backoff` counter after the change.
    pub tries: u32,
    /// For EXITED: whether the exit code was in `exitcodes`.
    pub expected: Option<bool>,
}

/// What the reactor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fork/exec the process now; report back with `spawned` or `spawn_failed`.
    Spawn,
    /// `kill(pid, signal)`, or `kill(-pid, signal)` when `group`.
    Signal { pid: i32, signal: i32, group: bool },
    /// A main-log line.
    Log(LogLevel, String),
    /// The state changed (for events and waiting RPC calls).
    Changed(StateChange),
}

const SIGKILL: i32 = 9;

/// One process: its config and its runtime bookkeeping.
#[derive(Debug, Clone)]
pub struct Process {
    /// Shared, never changed in place: the status snapshot copies a
    /// process after every change, and with thousands of processes a deep
    /// copy of each one's command, environment and log settings dominated
    /// the cost of a pass.
    pub config: Arc<config::ProcessConfig>,
    state: State,
    pid: Option<i32>,
    /// Time of the last start request; `None` means never started, which is
    /// what lets autostart fire (only once per process object).
    laststart: Option<Instant>,
    laststart_wall: Option<SystemTime>,
    laststop_wall: Option<SystemTime>,
    /// BACKOFF: when to retry. STOPPING: when to (re)send SIGKILL.
    /// `None` when unset, or when the deadline lies beyond what `Instant`
    /// can represent (a huge stopwaitsecs), which means "never".
    delay: Option<Instant>,
    /// Consecutive failed starts.
    backoff: u32,
    /// A stop or kill signal has been sent: the next exit is a stop.
    killing: bool,
    /// The last start error; empty when none.
    spawnerr: String,
    exitstatus: Option<ExitStatus>,
    /// When the current state was entered (for a process never changed, when
    /// it was created). `deadline` reports it for transitions due "now".
    changed_at: Instant,
    /// A start was asked for and waits (for dependencies, or for the stop of
    /// a restart to finish): STOPPED starts once nothing blocks it.
    want_start: bool,
    /// What a start from STOPPED waits for (`waiting for db to be healthy`);
    /// the table sets it each pass for processes with dependencies.
    blocked: Option<String>,
    /// The health check's verdict, for processes that have one.
    health: Option<Health>,
    /// How the last run really ended (`exitstatus` forgets too-quick exits).
    last_exit: Option<ExitStatus>,
    /// EXITED: the earliest automatic restart (crash-loop throttle, backoff).
    restart_at: Option<Instant>,
    /// Consecutive unexpected exits of runs shorter than the backoff reset.
    crashes: u32,
    /// How many times it was spawned (for metrics).
    spawns: u64,
}

/// What a health check says of a running process (Docker's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

impl Process {
    /// A new process in STOPPED, never started.
    pub fn new(config: config::ProcessConfig) -> Self {
        Process {
            config: Arc::new(config),
            state: State::Stopped,
            pid: None,
            laststart: None,
            laststart_wall: None,
            laststop_wall: None,
            delay: None,
            backoff: 0,
            killing: false,
            spawnerr: String::new(),
            exitstatus: None,
            // The one clock read outside the callers' `Now`: a never-started
            // process has had no event to take the time from.
            changed_at: Instant::now(),
            want_start: false,
            blocked: None,
            health: None,
            last_exit: None,
            restart_at: None,
            crashes: 0,
            spawns: 0,
        }
    }

    pub fn set_health(&mut self, health: Option<Health>) {
        self.health = health;
    }

    /// Ask for a start that happens once nothing blocks it (dependencies,
    /// or a stop in progress for a restart).
    pub fn request_start(&mut self) {
        self.want_start = true;
        self.spawnerr.clear();
    }

    /// Set (or clear) what blocks a start from STOPPED.
    pub fn set_blocked(&mut self, why: Option<String>) {
        self.blocked = why;
    }

    /// A dependency failed for good: a process waiting to start never will.
    pub fn dependency_failed(&mut self, why: &str, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        if !matches!(self.state, State::Stopped | State::Exited | State::Fatal) {
            return actions;
        }
        self.want_start = false;
        self.blocked = None;
        self.spawnerr = why.to_string();
        let msg = format!("gave up: {} entered FATAL state, {why}", self.config.name);
        actions.push(Action::Log(LogLevel::Info, msg));
        self.change(State::Fatal, now.mono, None, &mut actions);
        actions
    }

    /// A start request, from RPC or from `tick`. The caller refuses requests
    /// for "running" states; this only guards against a live pid.
    pub fn start(&mut self, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.pid.is_some() {
            let msg = format!("process '{}' already running", self.config.name);
            actions.push(Action::Log(LogLevel::Warn, msg));
            return actions;
        }
        self.killing = false;
        self.want_start = false;
        self.blocked = None;
        self.restart_at = None;
        self.spawnerr.clear();
        self.exitstatus = None;
        self.laststart = Some(now.mono);
        self.laststart_wall = Some(now.wall);
        self.change(State::Starting, now.mono, None, &mut actions);
        actions.push(Action::Spawn);
        actions
    }

    /// The reactor forked the child for the last `Spawn`.
    pub fn spawned(&mut self, pid: i32, _now: Now) -> Vec<Action> {
        self.pid = Some(pid);
        self.spawns = self.spawns.saturating_add(1);
        let msg = format!("spawned: '{}' with pid {pid}", self.config.name);
        vec![Action::Log(LogLevel::Info, msg)]
    }

    /// The last `Spawn` failed before or at fork (processes.md §5.1 steps 3–7).
    pub fn spawn_failed(&mut self, message: &str, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        self.spawnerr = message.to_string();
        actions.push(Action::Log(LogLevel::Info, format!("spawnerr: {message}")));
        self.change(State::Backoff, now.mono, None, &mut actions);
        actions
    }

    /// The child was reaped (processes.md §2 "Exit handling").
    pub fn exited(&mut self, status: ExitStatus, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        // Only a live child can exit; anything else is a stale report.
        if self.pid.is_none() {
            return actions;
        }
        let name = self.config.name.clone();
        let expected = self.is_expected(status);
        let text = status.describe();
        self.last_exit = Some(status);
        // A laststart after `now` cannot happen with a monotonic clock; if it
        // did, Supervisor's rule is to assume the run was long enough.
        let too_quick = match self.laststart {
            Some(start) => now
                .mono
                .checked_duration_since(start)
                .is_some_and(|ran| ran < secs(self.config.startsecs)),
            None => false,
        };

        if self.killing {
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(status);
            let level = if expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            actions.push(Action::Log(level, format!("stopped: {name} ({text})")));
            self.change(State::Stopped, now.mono, None, &mut actions);
        } else if too_quick && self.state == State::Starting {
            self.exitstatus = None;
            self.spawnerr = "Exited too quickly (process log may have details)".to_string();
            let msg = format!("exited: {name} ({text}; not expected)");
            actions.push(Action::Log(LogLevel::Warn, msg));
            self.change(State::Backoff, now.mono, None, &mut actions);
        } else {
            self.delay = None;
            self.backoff = 0;
            self.exitstatus = Some(status);
            self.restart_at = self.restart_delay(expected, now.mono);
            // STARTING here means startsecs=0 and no tick has seen the
            // process running yet; Supervisor passes through RUNNING.
            if self.state == State::Starting {
                self.change(State::Running, now.mono, None, &mut actions);
            }
            if expected {
                let msg = format!("exited: {name} ({text}; expected)");
                actions.push(Action::Log(LogLevel::Info, msg));
            } else {
                self.spawnerr = format!("Bad exit code {}", status.code());
                let msg = format!("exited: {name} ({text}; not expected)");
                actions.push(Action::Log(LogLevel::Warn, msg));
            }
            self.change(State::Exited, now.mono, Some(expected), &mut actions);
        }
        self.pid = None;
        self.laststop_wall = Some(now.wall);
        actions
    }

    /// A stop request (RPC or shutdown). Returns nothing for states that
    /// cannot be stopped; the caller refuses those with a fault.
    pub fn stop(&mut self, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        match self.state {
            State::Running | State::Starting => {
                let signal = self.config.stopsignal;
                let group = self.config.stopasgroup;
                self.kill(signal, group, now, &mut actions);
            }
            State::Backoff => {
                // Immediate: waiting out the retries could take long. The
                // backoff counter is kept, as Supervisor does.
                let msg = format!(
                    "Attempted to kill {}, which is in BACKOFF state.",
                    self.config.name
                );
                actions.push(Action::Log(LogLevel::Debug, msg));
                self.change(State::Stopped, now.mono, None, &mut actions);
            }
            // STOPPING: the stop signal is out, escalation is `tick`'s job.
            _ => {}
        }
        actions
    }

    /// Shutdown reached a BACKOFF process: FATAL at once, without the
    /// "gave up" line (the FATAL event still fires).
    pub fn give_up(&mut self, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state == State::Backoff {
            self.delay = None;
            self.backoff = 0;
            self.change(State::Fatal, now.mono, None, &mut actions);
        }
        actions
    }

    /// RPC signalProcess: always to the pid itself, never the group, and no
    /// state change. `Err` is the message when there is no process.
    pub fn signal(&self, signal: i32, _now: Now) -> Result<Vec<Action>, String> {
        let name = &self.config.name;
        match self.pid {
            Some(pid) => {
                let msg = format!("sending {name} (pid {pid}) sig {}", signame(signal));
                Ok(vec![
                    Action::Log(LogLevel::Debug, msg),
                    Action::Signal {
                        pid,
                        signal,
                        group: false,
                    },
                ])
            }
            None => Err(format!(
                "attempted to kill {name} with sig {} but it wasn't running",
                signame(signal)
            )),
        }
    }

    /// A `Signal` action failed with ESRCH: the child is exiting on its own
    /// and reaping will finish the job, so only a debug line.
    pub fn signal_missed(&self, error: &str) -> Vec<Action> {
        let msg = format!(
            "unable to signal {} (pid {}), it probably just exited on its own: {error}",
            self.config.name,
            self.pid.unwrap_or(0)
        );
        vec![Action::Log(LogLevel::Debug, msg)]
    }

    /// A `Signal` action failed with anything but ESRCH: the process's fate
    /// is unknown.
    pub fn signal_failed(&mut self, error: &str, now: Now) -> Vec<Action> {
        let mut actions = Vec::new();
        let msg = format!(
            "unknown problem killing {} ({}):{error}",
            self.config.name,
            self.pid.unwrap_or(0)
        );
        actions.push(Action::Log(LogLevel::Critical, msg));
        self.change(State::Unknown, now.mono, None, &mut actions);
        self.killing = false;
        self.delay = None;
        actions
    }

    /// The time-driven transitions. `may_start` is false while supervisord
    /// shuts down or restarts: then nothing starts automatically.
    pub fn tick(&mut self, now: Now, may_start: bool) -> Vec<Action> {
        let mut actions = Vec::new();
        match self.state {
            State::Stopped => {
                if may_start && self.about_to_start() && self.blocked.is_none() {
                    actions = self.start(now);
                }
            }
            State::Exited => {
                let restart = self.should_restart() && !self.restart_waits(now.mono);
                let asked = self.want_start && self.blocked.is_none();
                if may_start && (restart || asked) {
                    actions = self.start(now);
                }
            }
            State::Fatal if self.want_start => {
                if may_start && self.blocked.is_none() {
                    actions = self.start(now);
                }
            }
            State::Fatal => {
                if may_start && self.blocked.is_none() && is_due(self.fatal_retry_at(), now.mono) {
                    self.backoff = 0;
                    let msg = format!(
                        "retrying {}, FATAL for fatal_retry_after seconds",
                        self.config.name
                    );
                    actions.push(Action::Log(LogLevel::Info, msg));
                    actions.extend(self.start(now));
                }
            }
            State::Backoff => {
                if self.retries_exceeded() {
                    self.delay = None;
                    self.backoff = 0;
                    let msg = format!(
                        "gave up: {} entered FATAL state, too many start retries too quickly",
                        self.config.name
                    );
                    actions.push(Action::Log(LogLevel::Info, msg));
                    self.change(State::Fatal, now.mono, None, &mut actions);
                } else if may_start && is_due(self.delay, now.mono) {
                    actions = self.start(now);
                }
            }
            State::Starting => {
                if self.pid.is_some() && is_due(self.running_at(), now.mono) {
                    self.delay = None;
                    self.backoff = 0;
                    let msg = format!(
                        "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                        self.config.name, self.config.startsecs
                    );
                    actions.push(Action::Log(LogLevel::Info, msg));
                    self.change(State::Running, now.mono, None, &mut actions);
                }
            }
            State::Stopping => {
                if let Some(pid) = self.pid {
                    if is_due(self.delay, now.mono) {
                        let msg = format!("killing '{}' ({pid}) with SIGKILL", self.config.name);
                        actions.push(Action::Log(LogLevel::Warn, msg));
                        let group = self.config.killasgroup;
                        self.kill(SIGKILL, group, now, &mut actions);
                    }
                }
            }
            State::Running | State::Unknown => {}
        }
        actions
    }

    /// The earliest instant at which `tick(_, may_start)` would do something,
    /// or `None` if only an outside event (exit, request) can move this
    /// process. A transition due already gives the (past) instant it became due.
    pub fn deadline(&self, may_start: bool) -> Option<Instant> {
        match self.state {
            State::Stopped => (may_start && self.about_to_start() && self.blocked.is_none())
                .then_some(self.changed_at),
            State::Exited if self.want_start => {
                (may_start && self.blocked.is_none()).then_some(self.changed_at)
            }
            State::Exited => (may_start && self.should_restart())
                .then(|| self.restart_at.unwrap_or(self.changed_at)),
            State::Fatal if self.want_start => {
                (may_start && self.blocked.is_none()).then_some(self.changed_at)
            }
            State::Fatal => self
                .fatal_retry_at()
                .filter(|_| may_start && self.blocked.is_none()),
            State::Backoff => {
                if self.retries_exceeded() {
                    Some(self.changed_at)
                } else if may_start {
                    self.delay
                } else {
                    None
                }
            }
            State::Starting => self.pid.and(self.running_at()),
            State::Stopping => self.pid.and(self.delay),
            State::Running | State::Unknown => None,
        }
    }

    /// Send `signal` as a stop or as its escalation: RUNNING/STARTING/STOPPING
    /// -> STOPPING, with the deadline for the next SIGKILL.
    fn kill(&mut self, signal: i32, group: bool, now: Now, actions: &mut Vec<Action>) {
        let name = &self.config.name;
        let Some(pid) = self.pid else {
            let msg = format!(
                "attempted to kill {name} with sig {} but it wasn't running",
                signame(signal)
            );
            actions.push(Action::Log(LogLevel::Debug, msg));
            return;
        };
        let target = if group { "process group " } else { "" };
        let msg = format!(
            "killing {name} (pid {pid}) {target}with signal {}",
            signame(signal)
        );
        actions.push(Action::Log(LogLevel::Debug, msg));
        self.killing = true;
        self.delay = later(now.mono, self.config.stopwaitsecs);
        self.change(State::Stopping, now.mono, None, actions);
        actions.push(Action::Signal { pid, signal, group });
    }

    /// Enter `to`, with the bookkeeping that belongs to the new state, and
    /// report it; a "change" to the current state reports nothing.
    fn change(
        &mut self,
        to: State,
        now: Instant,
        expected: Option<bool>,
        actions: &mut Vec<Action>,
    ) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.changed_at = now;
        if to == State::Backoff {
            // Supervisor's linear backoff waits 1 s, 2 s, 3 s ... before the
            // next attempt; `backoff=exponential` 1, 2, 4 ..., capped.
            self.backoff = self.backoff.saturating_add(1);
            let wait = self.config.lifecycle.restart.delay(self.backoff);
            self.delay = now.checked_add(wait);
        }
        actions.push(Action::Changed(StateChange {
            from,
            to,
            pid: self.pid.unwrap_or(0),
            tries: self.backoff,
            expected,
        }));
    }

    /// When STARTING becomes RUNNING: laststart + startsecs.
    fn running_at(&self) -> Option<Instant> {
        self.laststart
            .and_then(|start| later(start, self.config.startsecs))
    }
}

/// A non-negative number of seconds as a `Duration`; negatives count as 0.
fn secs(n: i64) -> Duration {
    Duration::from_secs(u64::try_from(n).unwrap_or(0))
}

/// `at + n` seconds, or `None` ("never") when `Instant` cannot represent it.
fn later(at: Instant, n: i64) -> Option<Instant> {
    at.checked_add(secs(n))
}

fn is_due(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|at| now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AutoRestart, LogTarget, Stream};

    /// A program with the spec's defaults (config.md): autostart, restart on
    /// unexpected exits, startsecs=1, startretries=3, exitcodes=0, TERM,
    /// stopwaitsecs=10, no group signalling.
    fn program() -> config::ProcessConfig {
        let stream = Stream {
            logfile: LogTarget::Auto,
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        };
        config::ProcessConfig {
            name: "p".to_string(),
            group: "p".to_string(),
            section: "program:p".to_string(),
            command: "/bin/true".to_string(),
            directory: None,
            umask: None,
            priority: 999,
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            exitcodes: vec![0],
            stopsignal: 15,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            user: None,
            redirect_stderr: false,
            stdout: stream.clone(),
            stderr: stream,
            environment: Vec::new(),
            serverurl: None,
            console: Default::default(),
            lifecycle: Default::default(),
        }
    }

    /// Test time: `at(ms)` is `ms` milliseconds after a base taken after the
    /// process was created.
    struct Clock {
        base: Instant,
        wall: SystemTime,
    }

    impl Clock {
        fn at(&self, ms: u64) -> Now {
            let d = Duration::from_millis(ms);
            Now {
                mono: self.base + d,
                wall: self.wall + d,
            }
        }

        fn mono(&self, ms: u64) -> Instant {
            self.base + Duration::from_millis(ms)
        }
    }

    fn setup(config: config::ProcessConfig) -> (Process, Clock) {
        let process = Process::new(config);
        // Some fixed wall time: 2023-11-14 22:13:20 UTC.
        let clock = Clock {
            base: Instant::now(),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        };
        (process, clock)
    }

    fn log(level: LogLevel, text: &str) -> Action {
        Action::Log(level, text.to_string())
    }

    fn change(from: State, to: State, pid: i32, tries: u32) -> Action {
        Action::Changed(StateChange {
            from,
            to,
            pid,
            tries,
            expected: None,
        })
    }

    fn exited_change(from: State, pid: i32, expected: bool) -> Action {
        Action::Changed(StateChange {
            from,
            to: State::Exited,
            pid,
            tries: 0,
            expected: Some(expected),
        })
    }

    fn signal(pid: i32, signal: i32, group: bool) -> Action {
        Action::Signal { pid, signal, group }
    }

    /// Start at `at`, spawn as pid 42 and tick past startsecs: RUNNING.
    /// Returns the time it became RUNNING.
    fn run(p: &mut Process, c: &Clock, at: u64) -> u64 {
        p.start(c.at(at));
        p.spawned(42, c.at(at));
        let running = at + 1000 * u64::try_from(p.config.startsecs).unwrap();
        p.tick(c.at(running), true);
        assert_eq!(p.state(), State::Running);
        running
    }

    // ---- §1 states -------------------------------------------------------

    #[test]
    fn state_codes_names_and_groups() {
        let all = [
            (State::Stopped, 0, "STOPPED"),
            (State::Starting, 10, "STARTING"),
            (State::Running, 20, "RUNNING"),
            (State::Backoff, 30, "BACKOFF"),
            (State::Stopping, 40, "STOPPING"),
            (State::Exited, 100, "EXITED"),
            (State::Fatal, 200, "FATAL"),
            (State::Unknown, 1000, "UNKNOWN"),
        ];
        for (state, code, name) in all {
            assert_eq!(state.code(), code);
            assert_eq!(state.name(), name);
        }
        let running: Vec<_> = all.iter().map(|a| a.0).filter(|s| s.is_running()).collect();
        assert_eq!(running, [State::Starting, State::Running, State::Backoff]);
        let stopped: Vec<_> = all.iter().map(|a| a.0).filter(|s| s.is_stopped()).collect();
        assert_eq!(
            stopped,
            [State::Stopped, State::Exited, State::Fatal, State::Unknown]
        );
        let signallable: Vec<_> = all
            .iter()
            .map(|a| a.0)
            .filter(|s| s.is_signallable())
            .collect();
        assert_eq!(
            signallable,
            [State::Starting, State::Running, State::Stopping]
        );
    }

    // ---- exit status texts -----------------------------------------------

    #[test]
    fn exit_status_texts() {
        let sig = |signal| ExitStatus::Signal {
            signal,
            core_dumped: false,
        };
        assert_eq!(ExitStatus::Code(0).describe(), "exit status 0");
        assert_eq!(ExitStatus::Code(127).describe(), "exit status 127");
        assert_eq!(sig(15).describe(), "terminated by SIGTERM");
        assert_eq!(sig(9).describe(), "terminated by SIGKILL");
        assert_eq!(sig(6).describe(), "terminated by SIGABRT");
        assert_eq!(sig(17).describe(), "terminated by SIGCHLD");
        assert_eq!(sig(29).describe(), "terminated by SIGPOLL");
        assert_eq!(sig(34).describe(), "terminated by SIGRTMIN");
        assert_eq!(sig(64).describe(), "terminated by SIGRTMAX");
        assert_eq!(sig(40).describe(), "terminated by signal 40");
        let core = ExitStatus::Signal {
            signal: 11,
            core_dumped: true,
        };
        assert_eq!(core.describe(), "terminated by SIGSEGV (core dumped)");
        assert_eq!(ExitStatus::Code(3).code(), 3);
        assert_eq!(sig(15).code(), -1);
    }

    #[test]
    fn signal_names() {
        assert_eq!(signame(15), "SIGTERM");
        assert_eq!(signame(1), "SIGHUP");
        assert_eq!(signame(10), "SIGUSR1");
        assert_eq!(signame(29), "SIGPOLL");
        assert_eq!(signame(32), "signal 32");
        assert_eq!(signame(0), "signal 0");
    }

    #[test]
    fn raw_wait_status_decoding() {
        assert_eq!(ExitStatus::from_raw(0), Some(ExitStatus::Code(0)));
        assert_eq!(ExitStatus::from_raw(1 << 8), Some(ExitStatus::Code(1)));
        assert_eq!(ExitStatus::from_raw(255 << 8), Some(ExitStatus::Code(255)));
        assert_eq!(
            ExitStatus::from_raw(15),
            Some(ExitStatus::Signal {
                signal: 15,
                core_dumped: false
            })
        );
        assert_eq!(
            ExitStatus::from_raw(0x80 | 11),
            Some(ExitStatus::Signal {
                signal: 11,
                core_dumped: true
            })
        );
        // Stopped by SIGSTOP, and continued: not terminations.
        assert_eq!(ExitStatus::from_raw((19 << 8) | 0x7f), None);
        assert_eq!(ExitStatus::from_raw(0xffff), None);
    }

    // ---- §2 transitions, one by one ----------------------------------------

    #[test]
    fn stopped_to_starting_by_autostart_then_running() {
        let (mut p, c) = setup(program());
        assert_eq!(p.state(), State::Stopped);
        assert_eq!(
            p.tick(c.at(0), true),
            [change(State::Stopped, State::Starting, 0, 0), Action::Spawn]
        );
        assert_eq!(p.laststart_wall(), Some(c.at(0).wall));
        assert_eq!(
            p.spawned(42, c.at(5)),
            [log(LogLevel::Info, "spawned: 'p' with pid 42")]
        );
        assert_eq!(p.pid(), Some(42));
        // Not yet startsecs: nothing.
        assert_eq!(p.tick(c.at(999), true), []);
        assert_eq!(
            p.tick(c.at(1000), true),
            [
                log(
                    LogLevel::Info,
                    "success: p entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
                ),
                change(State::Starting, State::Running, 42, 0),
            ]
        );
        // RUNNING has nothing time-driven.
        assert_eq!(p.tick(c.at(100_000), true), []);
        assert_eq!(p.deadline(true), None);
    }

    #[test]
    fn start_request_from_stopped_fatal_and_exited() {
        // STOPPED -> STARTING by request even with autostart=false.
        let mut config = program();
        config.autostart = false;
        let (mut p, c) = setup(config);
        assert_eq!(
            p.start(c.at(0)),
            [change(State::Stopped, State::Starting, 0, 0), Action::Spawn]
        );

        // FATAL -> STARTING by request, clearing spawnerr.
        let mut config = program();
        config.startretries = 0;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawn_failed("can't find command 'x'", c.at(0));
        p.tick(c.at(0), true);
        assert_eq!(p.state(), State::Fatal);
        assert_eq!(
            p.start(c.at(10)),
            [change(State::Fatal, State::Starting, 0, 0), Action::Spawn]
        );
        assert_eq!(p.spawnerr(), "");

        // EXITED -> STARTING by request, clearing exitstatus.
        let mut config = program();
        config.autorestart = AutoRestart::Never;
        let (mut p, c) = setup(config);
        let t = run(&mut p, &c, 0);
        p.exited(ExitStatus::Code(1), c.at(t + 10));
        assert_eq!(p.exitstatus(), Some(ExitStatus::Code(1)));
        assert_eq!(
            p.start(c.at(t + 20)),
            [change(State::Exited, State::Starting, 0, 0), Action::Spawn]
        );
        assert_eq!(p.exitstatus(), None);
        assert_eq!(p.spawnerr(), "");
    }

    #[test]
    fn start_with_a_live_pid_only_warns() {
        let (mut p, c) = setup(program());
        run(&mut p, &c, 0);
        assert_eq!(
            p.start(c.at(5000)),
            [log(LogLevel::Warn, "process 'p' already running")]
        );
        assert_eq!(p.state(), State::Running);
    }

    #[test]
    fn spawn_error_goes_to_backoff() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        assert_eq!(
            p.spawn_failed("can't find command '/x/y'", c.at(0)),
            [
                log(LogLevel::Info, "spawnerr: can't find command '/x/y'"),
                change(State::Starting, State::Backoff, 0, 1),
            ]
        );
        assert_eq!(p.spawnerr(), "can't find command '/x/y'");
        assert_eq!(p.backoff(), 1);
        assert_eq!(p.deadline(true), Some(c.mono(1000)));
        assert_eq!(p.description(c.at(0)), "can't find command '/x/y'");
    }

    #[test]
    fn too_quick_exit_goes_to_backoff_even_with_code_0() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        assert_eq!(
            p.exited(ExitStatus::Code(0), c.at(999)),
            [
                log(LogLevel::Warn, "exited: p (exit status 0; not expected)"),
                change(State::Starting, State::Backoff, 42, 1),
            ]
        );
        assert_eq!(p.state(), State::Backoff);
        assert_eq!(
            p.spawnerr(),
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(p.exitstatus(), None);
        assert_eq!(p.pid(), None);
        assert_eq!(p.laststop_wall(), Some(c.at(999).wall));
        assert_eq!(p.deadline(true), Some(c.mono(1999)));
    }

    #[test]
    fn too_quick_exit_by_signal() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        let killed = ExitStatus::Signal {
            signal: 9,
            core_dumped: false,
        };
        assert_eq!(
            p.exited(killed, c.at(10))[0],
            log(
                LogLevel::Warn,
                "exited: p (terminated by SIGKILL; not expected)"
            )
        );
        assert_eq!(p.state(), State::Backoff);
    }

    #[test]
    fn exit_at_exactly_startsecs_is_not_too_quick() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        // The reactor did not tick at 1000 ms; the exit decides on its own.
        assert_eq!(
            p.exited(ExitStatus::Code(0), c.at(1000)),
            [
                change(State::Starting, State::Running, 42, 0),
                log(LogLevel::Info, "exited: p (exit status 0; expected)"),
                exited_change(State::Running, 42, true),
            ]
        );
    }

    #[test]
    fn startsecs_0_is_never_too_quick() {
        let mut config = program();
        config.startsecs = 0;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        // Due at once: RUNNING as soon as there is a pid.
        assert_eq!(p.deadline(true), Some(c.mono(0)));
        // An instant exit, before any tick, passes through RUNNING.
        assert_eq!(
            p.exited(ExitStatus::Code(1), c.at(0)),
            [
                change(State::Starting, State::Running, 42, 0),
                log(LogLevel::Warn, "exited: p (exit status 1; not expected)"),
                exited_change(State::Running, 42, false),
            ]
        );
        assert_eq!(p.spawnerr(), "Bad exit code 1");

        let mut config = program();
        config.startsecs = 0;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        assert_eq!(
            p.tick(c.at(0), true),
            [
                log(
                    LogLevel::Info,
                    "success: p entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"
                ),
                change(State::Starting, State::Running, 42, 0),
            ]
        );
    }

    #[test]
    fn running_to_exited_texts() {
        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        assert_eq!(
            p.exited(ExitStatus::Code(0), c.at(t + 500)),
            [
                log(LogLevel::Info, "exited: p (exit status 0; expected)"),
                exited_change(State::Running, 42, true),
            ]
        );
        assert_eq!(p.spawnerr(), "");
        assert_eq!(p.pid(), None);
        assert_eq!(p.exitstatus(), Some(ExitStatus::Code(0)));
        assert_eq!(p.laststop_wall(), Some(c.at(t + 500).wall));

        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        assert_eq!(
            p.exited(ExitStatus::Code(3), c.at(t)),
            [
                log(LogLevel::Warn, "exited: p (exit status 3; not expected)"),
                exited_change(State::Running, 42, false),
            ]
        );
        assert_eq!(p.spawnerr(), "Bad exit code 3");

        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        let killed = ExitStatus::Signal {
            signal: 6,
            core_dumped: true,
        };
        assert_eq!(
            p.exited(killed, c.at(t)),
            [
                log(
                    LogLevel::Warn,
                    "exited: p (terminated by SIGABRT (core dumped); not expected)"
                ),
                exited_change(State::Running, 42, false),
            ]
        );
        assert_eq!(p.spawnerr(), "Bad exit code -1");
    }

    #[test]
    fn exit_from_running_resets_backoff() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("boom", c.at(0));
        assert_eq!(p.backoff(), 1);
        p.tick(c.at(1000), true);
        p.spawned(42, c.at(1000));
        p.tick(c.at(2000), true);
        assert_eq!(p.state(), State::Running);
        assert_eq!(p.backoff(), 0);
        p.exited(ExitStatus::Code(1), c.at(5000));
        assert_eq!(p.backoff(), 0);
    }

    // ---- retries and backoff -------------------------------------------------

    /// Drive a process whose every spawn fails, ticking exactly at each
    /// deadline; returns the spawn times (ms) and the final actions.
    fn spawn_times_until_fatal(startretries: i64, fail_by_exit: bool) -> (Vec<u64>, Vec<Action>) {
        let mut config = program();
        config.startretries = startretries;
        let (mut p, c) = setup(config);
        let mut spawns = Vec::new();
        let mut now = 0;
        let mut last = Vec::new();
        for _ in 0..20 {
            let actions = p.tick(c.at(now), true);
            if actions.contains(&Action::Spawn) {
                spawns.push(now);
                if fail_by_exit {
                    p.spawned(42, c.at(now));
                    p.exited(ExitStatus::Code(0), c.at(now));
                } else {
                    p.spawn_failed("can't find command 'nope'", c.at(now));
                }
            }
            if p.state() == State::Fatal {
                last = actions;
                break;
            }
            let next = p.deadline(true).expect("BACKOFF always has a deadline");
            now = u64::try_from(next.duration_since(c.base).as_millis()).unwrap();
        }
        assert_eq!(p.state(), State::Fatal);
        assert_eq!(p.backoff(), 0);
        assert_eq!(p.deadline(true), None);
        (spawns, last)
    }

    #[test]
    fn backoff_is_linear_and_attempts_are_1_plus_startretries() {
        let gave_up = [
            log(
                LogLevel::Info,
                "gave up: p entered FATAL state, too many start retries too quickly",
            ),
            change(State::Backoff, State::Fatal, 0, 0),
        ];
        for by_exit in [false, true] {
            let (spawns, last) = spawn_times_until_fatal(3, by_exit);
            assert_eq!(spawns, [0, 1000, 3000, 6000]);
            assert_eq!(last, gave_up);
            let (spawns, last) = spawn_times_until_fatal(0, by_exit);
            assert_eq!(spawns, [0]);
            assert_eq!(last, gave_up);
        }
    }

    #[test]
    fn backoff_retry_waits_for_delay_and_counts_tries() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("x", c.at(0));
        assert_eq!(p.tick(c.at(999), true), []);
        assert_eq!(
            p.tick(c.at(1000), true),
            [change(State::Backoff, State::Starting, 0, 1), Action::Spawn]
        );
        assert_eq!(
            p.spawn_failed("x", c.at(1000)),
            [
                log(LogLevel::Info, "spawnerr: x"),
                change(State::Starting, State::Backoff, 0, 2),
            ]
        );
        assert_eq!(p.deadline(true), Some(c.mono(3000)));
    }

    #[test]
    fn exceeded_backoff_is_due_at_once_even_without_may_start() {
        let mut config = program();
        config.startretries = 0;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawn_failed("x", c.at(500));
        // Became due when BACKOFF was entered.
        assert_eq!(p.deadline(false), Some(c.mono(500)));
        assert_eq!(p.tick(c.at(500), false).len(), 2);
        assert_eq!(p.state(), State::Fatal);
    }

    // ---- autorestart × exitcodes -------------------------------------------

    #[test]
    fn autorestart_by_exitcodes_table() {
        let term = ExitStatus::Signal {
            signal: 15,
            core_dumped: false,
        };
        // (autorestart, exit, restarted?)
        let table = [
            (AutoRestart::Never, ExitStatus::Code(0), false),
            (AutoRestart::Never, ExitStatus::Code(1), false),
            (AutoRestart::Never, term, false),
            (AutoRestart::Unexpected, ExitStatus::Code(0), false),
            (AutoRestart::Unexpected, ExitStatus::Code(2), false),
            (AutoRestart::Unexpected, ExitStatus::Code(1), true),
            (AutoRestart::Unexpected, term, true),
            (AutoRestart::Always, ExitStatus::Code(0), true),
            (AutoRestart::Always, ExitStatus::Code(1), true),
            (AutoRestart::Always, term, true),
        ];
        for (autorestart, status, restarted) in table {
            let mut config = program();
            config.autorestart = autorestart;
            config.exitcodes = vec![0, 2];
            let (mut p, c) = setup(config);
            let t = run(&mut p, &c, 0);
            p.exited(status, c.at(t + 5000));
            assert_eq!(p.state(), State::Exited);
            let case = format!("{autorestart:?} {status:?}");
            if restarted {
                // Due at once: when it exited.
                assert_eq!(p.deadline(true), Some(c.mono(t + 5000)), "{case}");
                assert_eq!(
                    p.tick(c.at(t + 5000), true),
                    [change(State::Exited, State::Starting, 0, 0), Action::Spawn],
                    "{case}"
                );
            } else {
                assert_eq!(p.deadline(true), None, "{case}");
                assert_eq!(p.tick(c.at(t + 100_000), true), [], "{case}");
                assert_eq!(p.state(), State::Exited, "{case}");
            }
        }
    }

    #[test]
    fn early_exits_follow_backoff_whatever_autorestart() {
        for autorestart in [AutoRestart::Never, AutoRestart::Always] {
            let mut config = program();
            config.autorestart = autorestart;
            let (mut p, c) = setup(config);
            p.start(c.at(0));
            p.spawned(42, c.at(0));
            p.exited(ExitStatus::Code(1), c.at(100));
            assert_eq!(p.state(), State::Backoff);
        }
    }

    // ---- may_start and autostart -------------------------------------------

    #[test]
    fn autostart_false_never_starts_automatically() {
        let mut config = program();
        config.autostart = false;
        let (mut p, c) = setup(config);
        assert_eq!(p.deadline(true), None);
        assert_eq!(p.tick(c.at(0), true), []);
        assert_eq!(p.tick(c.at(60_000), true), []);
        assert_eq!(p.description(c.at(0)), "Not started");
    }

    #[test]
    fn autostart_does_not_fire_again_after_a_manual_stop() {
        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        p.stop(c.at(t));
        p.exited(
            ExitStatus::Signal {
                signal: 15,
                core_dumped: false,
            },
            c.at(t + 10),
        );
        assert_eq!(p.state(), State::Stopped);
        assert_eq!(p.deadline(true), None);
        assert_eq!(p.tick(c.at(t + 60_000), true), []);
    }

    #[test]
    fn may_start_false_blocks_every_automatic_start() {
        // Never-started autostart.
        let (mut p, c) = setup(program());
        assert_eq!(p.deadline(false), None);
        assert_eq!(p.tick(c.at(0), false), []);
        assert!(p.deadline(true).is_some_and(|d| d <= c.mono(0)));

        // EXITED with autorestart.
        let mut config = program();
        config.autorestart = AutoRestart::Always;
        let (mut p, c) = setup(config);
        let t = run(&mut p, &c, 0);
        p.exited(ExitStatus::Code(0), c.at(t));
        assert_eq!(p.deadline(false), None);
        assert_eq!(p.tick(c.at(t + 1000), false), []);
        assert_eq!(p.state(), State::Exited);

        // BACKOFF retry.
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("x", c.at(0));
        assert_eq!(p.deadline(false), None);
        assert_eq!(p.tick(c.at(5000), false), []);
        assert_eq!(p.state(), State::Backoff);
    }

    // ---- §4 stopping -----------------------------------------------------------

    #[test]
    fn stop_running_sends_stopsignal_to_pid() {
        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        assert_eq!(
            p.stop(c.at(t)),
            [
                log(LogLevel::Debug, "killing p (pid 42) with signal SIGTERM"),
                change(State::Running, State::Stopping, 42, 0),
                signal(42, 15, false),
            ]
        );
        assert_eq!(p.deadline(true), Some(c.mono(t + 10_000)));
        assert_eq!(p.deadline(false), Some(c.mono(t + 10_000)));
        assert_eq!(p.description(c.at(t)), "");
    }

    #[test]
    fn stop_starting_with_stopasgroup_signals_the_group() {
        let mut config = program();
        config.stopasgroup = true;
        config.stopsignal = 2;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        assert_eq!(
            p.stop(c.at(100)),
            [
                log(
                    LogLevel::Debug,
                    "killing p (pid 42) process group with signal SIGINT"
                ),
                change(State::Starting, State::Stopping, 42, 0),
                signal(42, 2, true),
            ]
        );
    }

    #[test]
    fn sigkill_after_stopwaitsecs_and_every_stopwaitsecs() {
        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        p.stop(c.at(t));
        assert_eq!(p.tick(c.at(t + 9_999), true), []);
        let kill = [
            log(LogLevel::Warn, "killing 'p' (42) with SIGKILL"),
            log(LogLevel::Debug, "killing p (pid 42) with signal SIGKILL"),
            signal(42, 9, false),
        ];
        assert_eq!(p.tick(c.at(t + 10_000), true), kill);
        assert_eq!(p.state(), State::Stopping);
        assert_eq!(p.deadline(true), Some(c.mono(t + 20_000)));
        assert_eq!(p.tick(c.at(t + 19_999), true), []);
        // Escalation happens during shutdown too.
        assert_eq!(p.tick(c.at(t + 20_000), false), kill);
        assert_eq!(p.deadline(true), Some(c.mono(t + 30_000)));
    }

    #[test]
    fn killasgroup_applies_to_the_escalation_only() {
        let mut config = program();
        config.killasgroup = true;
        let (mut p, c) = setup(config);
        let t = run(&mut p, &c, 0);
        assert_eq!(p.stop(c.at(t)).last(), Some(&signal(42, 15, false)));
        assert_eq!(
            p.tick(c.at(t + 10_000), true),
            [
                log(LogLevel::Warn, "killing 'p' (42) with SIGKILL"),
                log(
                    LogLevel::Debug,
                    "killing p (pid 42) process group with signal SIGKILL"
                ),
                signal(42, 9, true),
            ]
        );

        // stopasgroup without killasgroup: the group for the stop signal only.
        let mut config = program();
        config.stopasgroup = true;
        let (mut p, c) = setup(config);
        let t = run(&mut p, &c, 0);
        assert_eq!(p.stop(c.at(t)).last(), Some(&signal(42, 15, true)));
        assert_eq!(
            p.tick(c.at(t + 10_000), true).last(),
            Some(&signal(42, 9, false))
        );
    }

    #[test]
    fn exit_while_stopping_logs_by_exit_code() {
        let cases = [
            (
                ExitStatus::Code(0),
                LogLevel::Info,
                "stopped: p (exit status 0)",
            ),
            (
                ExitStatus::Code(1),
                LogLevel::Warn,
                "stopped: p (exit status 1)",
            ),
            (
                ExitStatus::Signal {
                    signal: 15,
                    core_dumped: false,
                },
                LogLevel::Warn,
                "stopped: p (terminated by SIGTERM)",
            ),
        ];
        for (status, level, text) in cases {
            let (mut p, c) = setup(program());
            let t = run(&mut p, &c, 0);
            p.stop(c.at(t));
            assert_eq!(
                p.exited(status, c.at(t + 50)),
                [
                    log(level, text),
                    change(State::Stopping, State::Stopped, 42, 0),
                ]
            );
            assert_eq!(p.exitstatus(), Some(status));
            assert_eq!(p.pid(), None);
            assert_eq!(p.deadline(true), None);
        }
    }

    #[test]
    fn stop_from_backoff_is_immediate_and_keeps_backoff() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("x", c.at(0));
        assert_eq!(
            p.stop(c.at(100)),
            [
                log(
                    LogLevel::Debug,
                    "Attempted to kill p, which is in BACKOFF state."
                ),
                change(State::Backoff, State::Stopped, 0, 1),
            ]
        );
        // Quirk kept: the counter survives, a later start gets fewer retries.
        assert_eq!(p.backoff(), 1);
        assert_eq!(p.deadline(true), None);
        assert_eq!(p.tick(c.at(10_000), true), []);
    }

    #[test]
    fn stop_does_nothing_in_other_states() {
        let (mut p, c) = setup(program());
        assert_eq!(p.stop(c.at(0)), []);
        let t = run(&mut p, &c, 0);
        p.stop(c.at(t));
        // Already STOPPING: no second signal.
        assert_eq!(p.stop(c.at(t + 1)), []);
        p.exited(ExitStatus::Code(0), c.at(t + 2));
        assert_eq!(p.stop(c.at(t + 3)), []);
    }

    #[test]
    fn give_up_turns_backoff_fatal_silently() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("x", c.at(0));
        assert_eq!(
            p.give_up(c.at(10)),
            [change(State::Backoff, State::Fatal, 0, 0)]
        );
        assert_eq!(p.backoff(), 0);
        assert_eq!(p.give_up(c.at(20)), []);
        assert_eq!(p.description(c.at(20)), "x");
    }

    #[test]
    fn signal_goes_to_the_pid_without_state_change() {
        let mut config = program();
        config.stopasgroup = true;
        config.killasgroup = true;
        let (mut p, c) = setup(config);
        assert_eq!(
            p.signal(1, c.at(0)),
            Err("attempted to kill p with sig SIGHUP but it wasn't running".to_string())
        );
        let t = run(&mut p, &c, 0);
        assert_eq!(
            p.signal(1, c.at(t)),
            Ok(vec![
                log(LogLevel::Debug, "sending p (pid 42) sig SIGHUP"),
                signal(42, 1, false),
            ])
        );
        assert_eq!(p.state(), State::Running);
    }

    #[test]
    fn signal_failures() {
        let (mut p, c) = setup(program());
        let t = run(&mut p, &c, 0);
        p.stop(c.at(t));
        assert_eq!(
            p.signal_missed("ESRCH"),
            [log(
                LogLevel::Debug,
                "unable to signal p (pid 42), it probably just exited on its own: ESRCH"
            )]
        );
        assert_eq!(
            p.signal_failed("EPERM", c.at(t)),
            [
                log(LogLevel::Critical, "unknown problem killing p (42):EPERM"),
                change(State::Stopping, State::Unknown, 42, 0),
            ]
        );
        assert_eq!(p.deadline(true), None);
        assert_eq!(p.tick(c.at(t + 60_000), true), []);
        assert_eq!(p.description(c.at(t)), "");
    }

    // ---- deadlines -------------------------------------------------------------

    #[test]
    fn deadlines_per_state() {
        let (mut p, c) = setup(program());
        // STOPPED, never started, autostart: already due.
        assert!(p.deadline(true).is_some_and(|d| d <= c.mono(0)));
        p.start(c.at(0));
        // STARTING before the pid is known: waiting on the spawn, not on time.
        assert_eq!(p.deadline(true), None);
        p.spawned(42, c.at(3));
        assert_eq!(p.deadline(true), Some(c.mono(1000)));
        assert_eq!(p.deadline(false), Some(c.mono(1000)));
        p.tick(c.at(1000), true);
        assert_eq!(p.deadline(true), None);
        p.exited(ExitStatus::Code(1), c.at(4000));
        assert_eq!(p.deadline(true), Some(c.mono(4000)));
        assert_eq!(p.deadline(false), None);

        // FATAL has none.
        let mut config = program();
        config.startretries = 0;
        let (mut p, c) = setup(config);
        p.start(c.at(0));
        p.spawn_failed("x", c.at(0));
        p.tick(c.at(0), true);
        assert_eq!(p.state(), State::Fatal);
        assert_eq!(p.deadline(true), None);
    }

    #[test]
    fn huge_stopwaitsecs_means_never() {
        let mut config = program();
        config.stopwaitsecs = i64::MAX;
        let (mut p, c) = setup(config);
        let t = run(&mut p, &c, 0);
        p.stop(c.at(t));
        assert_eq!(p.deadline(true), None);
        assert_eq!(p.tick(c.at(t + 1_000_000), true), []);
    }

    // ---- §3 descriptions --------------------------------------------------------

    #[test]
    fn running_description_and_uptime_formats() {
        let (mut p, c) = setup(program());
        run(&mut p, &c, 0);
        let cases = [
            (1_000, "pid 42, uptime 0:00:01"),
            (1_999, "pid 42, uptime 0:00:01"),
            ((3_661 * 1000) + 900, "pid 42, uptime 1:01:01"),
            (86_399_000, "pid 42, uptime 23:59:59"),
            ((86_400 + 5) * 1000, "pid 42, uptime 1 day, 0:00:05"),
            (
                (2 * 86_400 + 3 * 3600 + 4 * 60 + 5) * 1000,
                "pid 42, uptime 2 days, 3:04:05",
            ),
        ];
        for (ms, text) in cases {
            assert_eq!(p.description(c.at(ms)), text);
        }
    }

    #[test]
    fn backoff_and_fatal_descriptions() {
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawned(42, c.at(0));
        p.exited(ExitStatus::Code(0), c.at(10));
        assert_eq!(
            p.description(c.at(10)),
            "Exited too quickly (process log may have details)"
        );
        let (mut p, c) = setup(program());
        p.start(c.at(0));
        p.spawn_failed("", c.at(0));
        p.give_up(c.at(0));
        assert_eq!(p.state(), State::Fatal);
        assert_eq!(p.description(c.at(0)), "unknown error (try \"tail p\")");
    }

    #[test]
    fn stopped_and_exited_descriptions_show_the_local_stop_time() {
        let (mut p, c) = setup(program());
        assert_eq!(p.description(c.at(0)), "Not started");
        assert_eq!(p.start(c.at(0)).len(), 2);
        assert_eq!(p.description(c.at(0)), "");
        p.spawned(42, c.at(0));
        p.tick(c.at(1000), true);
        // Stop 40 days after the start, so the dates differ.
        let stop = 40 * 86_400 * 1000;
        p.exited(ExitStatus::Code(0), c.at(stop));
        let text = p.description(c.at(stop + 1));
        let local = chrono::DateTime::<chrono::Local>::from(c.at(stop).wall);
        assert_eq!(text, local.format("%b %d %I:%M %p").to_string());
        // Shape: `Nov 21 04:48 AM`.
        let b = text.as_bytes();
        assert_eq!(b.len(), 15, "{text}");
        assert!(
            b[0].is_ascii_uppercase() && b[1].is_ascii_lowercase(),
            "{text}"
        );
        assert!(text.ends_with(" AM") || text.ends_with(" PM"), "{text}");
        assert_eq!((b[3], b[6], b[9]), (b' ', b' ', b':'), "{text}");
    }
}
