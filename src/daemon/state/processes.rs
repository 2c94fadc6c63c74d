//! Carrying out what the state machines decide: spawning, signalling,
//! reaping, and moving the children's output and input.

use std::collections::VecDeque;
use std::io;

use mio::Token;

use super::Daemon;
use crate::config::LogLevel;
use crate::daemon::events::Event;
use crate::daemon::proc::process::{Action, StateChange};
use crate::daemon::proc::reap;
use crate::daemon::proc::status::{signame, ExitStatus, Now};
use crate::daemon::proc::table::{Key, Phase};

impl Daemon {
    /// Carry out everything due now, and the actions that follow from it.
    pub(crate) fn advance(&mut self, now: Now) {
        let actions = self.table.advance(now);
        self.perform(actions, now);
    }

    pub(crate) fn perform(&mut self, actions: Vec<(Key, Action)>, now: Now) {
        if !actions.is_empty() {
            self.snapshot_stale = true;
        }
        let mut queue: VecDeque<(Key, Action)> = actions.into();
        while let Some((key, action)) = queue.pop_front() {
            let follow_up = match action {
                Action::Spawn => {
                    // Spawns due together start together (`spawning.rs`).
                    // At startup each process has its change to STARTING
                    // and its spawn, one after the other: the changes go
                    // first, as spawning shows nothing of itself (what
                    // follows a spawn comes after all of them, as it would
                    // one by one).
                    let mut keys = vec![key];
                    while let Some((next, Action::Spawn | Action::Changed(_))) = queue.front() {
                        let next = *next;
                        match queue.pop_front() {
                            Some((_, Action::Changed(change))) => self.changed(next, change, now),
                            _ => keys.push(next),
                        }
                    }
                    let follow_ups = self.spawn_all(&keys, now);
                    queue.extend(follow_ups);
                    continue;
                }
                Action::Signal { pid, signal, group } => {
                    self.send_signal(key, pid, signal, group, now)
                }
                Action::Log(level, message) => {
                    self.log.log(level, &message);
                    Vec::new()
                }
                Action::Changed(change) => {
                    self.changed(key, change, now);
                    Vec::new()
                }
            };
            queue.extend(follow_up.into_iter().map(|a| (key, a)));
        }
    }

    /// A process changed state: tell the listeners, the health checks,
    /// the essential-program rules and the dependents.
    fn changed(&mut self, key: Key, change: StateChange, now: Now) {
        let config = &self.table.process(key).config;
        let event = Event::process_state(&change, &config.name, &config.group);
        self.raise(event);
        self.health_on_change(key, &change, now);
        self.finishing_on_change(key, &change);
        // A dependent may be waiting for this very change.
        if !self.table.deps().is_empty() {
            self.dirty = true;
        }
    }

    /// Carry out the actions of one process.
    pub(crate) fn perform_for(&mut self, key: Key, actions: Vec<Action>, now: Now) {
        self.perform(actions.into_iter().map(|a| (key, a)).collect(), now);
    }

    /// AUTO log files for the current groups (after cleaning old ones).
    pub(crate) fn create_auto_files(&mut self) {
        let processes: Vec<(Key, &crate::config::ProcessConfig)> = self
            .table
            .keys()
            .into_iter()
            .map(|k| (k, &*self.table.process(k).config))
            .collect();
        self.outputs
            .create_auto_files(&self.config, &processes, &mut self.log);
        // The files not made by the spawns are made with the snapshot.
        self.snapshot_stale = true;
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

    /// SIGCHLD: reap every child that ended.
    pub(crate) fn reap(&mut self) {
        self.log
            .log(LogLevel::Debug, "received SIGCHLD indicating a child quit");
        let now = Now::current();
        for reaped in reap::reap_all() {
            // waitpid without WUNTRACED only reports children that ended.
            let Some(status) = ExitStatus::from_raw(reaped.status) else {
                continue;
            };
            match self.table.owner_of(reaped.pid) {
                Some(key) => self.exited(key, reaped.pid, status, now),
                None if self.health_reaped(reaped.pid, status, now) => {}
                None => self.log.log(
                    LogLevel::Debug,
                    &format!("reaped unknown pid {} ({})", reaped.pid, status.describe()),
                ),
            }
        }
        self.dirty = true;
    }

    fn exited(&mut self, key: Key, pid: i32, status: ExitStatus, now: Now) {
        self.table.forget(pid);
        // Its stdin goes; its output pipes give what they hold, then close
        // too, even if a grandchild it left behind still holds them (as
        // Supervisor does).
        self.stdin.remove(&self.registry, pid);
        self.outputs
            .reaped(pid, &self.registry, &mut self.log, &mut self.emitted);
        self.handle_emitted();
        let actions = self.table.process_mut(key).exited(status, now);
        self.perform_for(key, actions, now);
        // A listener that dies while busy gives its event back.
        let mut logs = Vec::new();
        self.bus.exited(key, &mut logs);
        self.log_all(logs);
    }

    /// A pipe of ours is ready: output to read, or room in a stdin.
    pub fn on_ready(&mut self, token: Token) {
        if self.health.owns(token) {
            self.health_ready(token);
        } else if self.stdin.owns(token) {
            self.stdin.on_writable(&self.registry, token);
        } else {
            self.outputs
                .drain(token, &self.registry, &mut self.log, &mut self.emitted);
            self.handle_emitted();
        }
    }

    /// Write to a program's stdin without blocking; what does not fit waits.
    pub(crate) fn write_stdin(&mut self, pid: i32, data: &[u8]) -> io::Result<()> {
        self.stdin.write(&self.registry, pid, data)
    }

    /// A signal for supervisord itself.
    pub fn on_signal(&mut self, signal: i32) {
        use signal_hook::consts::signal::*;
        match signal {
            SIGCHLD => self.reap(),
            SIGTERM | SIGINT | SIGQUIT => {
                self.log.log(
                    LogLevel::Warn,
                    &format!("received {} indicating exit request", signame(signal)),
                );
                if self.table.phase() == (Phase::Stopping { restart: false }) {
                    self.escalate(std::time::Instant::now());
                }
                self.begin_stop(false);
                self.restart_config = None;
            }
            SIGHUP => {
                let _ = self.restart_request();
            }
            SIGUSR2 => self.reopen_logs(),
            other => self.log.log(
                LogLevel::Warn,
                &format!("received {} and ignored it", signame(other)),
            ),
        }
    }

    fn reopen_logs(&mut self) {
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
}
