//! When programs decide that supervisord is done (our container extension):
//! an `essential` program that ends for good, or, with `exit_when_done`,
//! nothing left to run; and the shutdown budget (`shutdown_timeout`) that
//! bounds how long stopping may take.

use std::time::{Duration, Instant};

use super::Daemon;
use crate::config::LogLevel;
use crate::daemon::lifecycle::exit::status_of;
use crate::daemon::proc::process::StateChange;
use crate::daemon::proc::reap;
use crate::daemon::proc::status::{Now, State};
use crate::daemon::proc::table::{Key, Phase};

/// What the finishing rules have noted so far.
#[derive(Debug, Default)]
pub(super) struct Finishing {
    /// The status supervisord will exit with, once a program decided it.
    pub(super) exit_code: Option<i32>,
    /// `exit_when_done`: the status of the first program that ended for
    /// good with an unexpected exit.
    first_failure: Option<i32>,
    /// `shutdown_timeout`: when whatever is left gets SIGKILL, and when we
    /// leave regardless.
    kill_at: Option<Instant>,
    leave_at: Option<Instant>,
    killed: bool,
}

impl Finishing {
    pub(super) fn deadline(&self) -> Option<Instant> {
        let kill = self.kill_at.filter(|_| !self.killed);
        kill.into_iter().chain(self.leave_at).min()
    }

    /// When the budget's SIGKILL is due, if there is a budget.
    pub(super) fn kill_time(&self) -> Option<Instant> {
        self.kill_at
    }

    /// Whether the budget has run out: leave now.
    pub(super) fn out_of_time(&self, now: Instant) -> bool {
        self.leave_at.is_some_and(|at| now >= at)
    }
}

impl Daemon {
    /// A process changed state: does that end supervisord?
    pub(crate) fn finishing_on_change(&mut self, key: Key, change: &StateChange) {
        if self.table.phase() != Phase::Running {
            return;
        }
        let Some(process) = self.table.get(key) else {
            return;
        };
        let ended_for_good = match change.to {
            State::Exited | State::Fatal => process.is_done(),
            _ => false,
        };
        if !ended_for_good {
            return;
        }
        let status = status_of(process.last_exit());
        let unexpected = change.to == State::Fatal || change.expected == Some(false);
        if unexpected && self.finishing.first_failure.is_none() {
            self.finishing.first_failure = Some(status);
        }
        if process.config.lifecycle.essential {
            let how = match (change.to, process.last_exit()) {
                (State::Fatal, None) => "could not be started".to_string(),
                (State::Fatal, Some(ended)) => format!("is FATAL after {}", ended.describe()),
                (_, Some(ended)) => format!("ended ({})", ended.describe()),
                (_, None) => "ended".to_string(),
            };
            let message = format!(
                "essential program {} {how}; stopping everything, supervisord exits {status}",
                process.config.namespec()
            );
            self.log.log(LogLevel::Warn, &message);
            self.finishing.exit_code = Some(status);
            self.begin_stop(false);
        }
    }

    /// `exit_when_done`: when no process runs or will start again, stop,
    /// and exit 0, or with the status of the first that failed. Event
    /// listeners serve the others and do not count.
    pub(crate) fn finish_when_done(&mut self) {
        if !self.config.supervisord.exit_when_done || self.table.phase() != Phase::Running {
            return;
        }
        let listeners = &self.bus;
        let done = self
            .table
            .keys()
            .into_iter()
            .filter(|&k| !listeners.is_listener(k))
            .all(|k| self.table.process(k).is_done());
        if !done {
            return;
        }
        let status = self.finishing.first_failure.unwrap_or(0);
        self.log.log(
            LogLevel::Info,
            &format!(
                "no program is running or will start again (exit_when_done); stopping, \
                 supervisord exits {status}"
            ),
        );
        self.finishing.exit_code = Some(status);
        self.begin_stop(false);
    }

    /// A shutdown begins: the budget (`shutdown_timeout`) starts now. What
    /// is left just before it runs out gets SIGKILL, so we are gone before
    /// a container runtime's own SIGKILL and every log line is written.
    pub(crate) fn start_budget(&mut self, now: Instant) {
        let Some(budget) = self.config.supervisord.shutdown_timeout else {
            return;
        };
        if self.finishing.leave_at.is_some() {
            return;
        }
        let margin = (budget / 10).min(Duration::from_secs(1));
        self.finishing.kill_at = now.checked_add(budget - margin);
        self.finishing.leave_at = now.checked_add(budget);
    }

    /// A second SIGTERM/SIGINT during a shutdown: no more waiting.
    pub(crate) fn escalate(&mut self, now: Instant) {
        self.log.log(
            LogLevel::Warn,
            "second request to exit during the shutdown: killing what is left now",
        );
        self.finishing.kill_at = Some(now);
        self.finishing
            .leave_at
            .get_or_insert(now + Duration::from_secs(1));
    }

    /// The budget's SIGKILL, when it is due.
    pub(crate) fn enforce_budget(&mut self, now: Now) {
        let due = self.finishing.kill_at.is_some_and(|at| now.mono >= at);
        if !due || self.finishing.killed {
            return;
        }
        self.finishing.killed = true;
        let mut killed = Vec::new();
        for key in self.table.keys() {
            let process = self.table.process(key);
            if let Some(pid) = process.pid() {
                // Every program leads its own process group: take the group.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(-pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                killed.push(format!("{} (pid {pid})", process.config.namespec()));
            }
        }
        if !killed.is_empty() {
            self.log.log(
                LogLevel::Warn,
                &format!(
                    "shutdown_timeout is running out: sending SIGKILL to {}",
                    killed.join(", ")
                ),
            );
        }
        if reap::is_pid1() {
            let others = reap::others();
            if !others.is_empty() {
                self.log.log(
                    LogLevel::Warn,
                    &format!(
                        "shutdown_timeout is running out: sending SIGKILL to every other \
                         process: {}",
                        reap::describe(&others, 20)
                    ),
                );
                reap::signal_everyone(nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}
