//! What a [`Process`] shows without changing: its state and counters, what
//! it waits for, and the `description` of process info. The transitions are
//! in the parent module.

use std::time::{Duration, SystemTime};

use super::{Health, Process};
use crate::daemon::proc::status::{ExitStatus, Now, State};

impl Process {
    /// How many times it was spawned since supervisord loaded its config.
    pub fn spawns(&self) -> u64 {
        self.spawns
    }

    /// What it waits for before it can start (dependencies), if anything.
    pub fn waiting_for(&self) -> Option<&str> {
        self.blocked.as_deref().filter(|_| self.about_to_start())
    }

    /// The health check's verdict, if it has a check and is up.
    pub fn health(&self) -> Option<Health> {
        self.health
    }

    /// How the last run really ended, if it ever ran.
    pub fn last_exit(&self) -> Option<ExitStatus> {
        self.last_exit
    }

    /// Whether a start was asked for and has not happened yet.
    pub fn wants_start(&self) -> bool {
        self.want_start && matches!(self.state, State::Stopped | State::Exited | State::Fatal)
    }

    /// Whether this process would start from STOPPED if nothing blocked it.
    pub fn about_to_start(&self) -> bool {
        self.wants_start()
            || (self.state == State::Stopped && self.config.autostart && self.laststart.is_none())
    }

    /// Whether it exited with an expected exit code (a finished one-shot).
    pub fn completed(&self) -> bool {
        self.state == State::Exited && self.exitstatus.is_some_and(|s| self.is_expected(s))
    }

    /// Whether, left alone, it will never run again: stopped for good,
    /// exited without a restart to come, FATAL without a retry.
    pub fn is_done(&self) -> bool {
        match self.state {
            State::Stopped => !self.about_to_start(),
            State::Exited => !self.should_restart(),
            State::Fatal => self.config.lifecycle.restart.fatal_retry_after.is_none(),
            State::Unknown => true,
            State::Starting | State::Running | State::Backoff | State::Stopping => false,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn pid(&self) -> Option<i32> {
        self.pid
    }

    /// The bare process name (`worker_01`, not `group:worker_01`).
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The last start error, empty when none.
    pub fn spawnerr(&self) -> &str {
        &self.spawnerr
    }

    /// How the last run ended; unset by a start and by a too-quick exit.
    pub fn exitstatus(&self) -> Option<ExitStatus> {
        self.exitstatus
    }

    pub fn laststart_wall(&self) -> Option<SystemTime> {
        self.laststart_wall
    }

    /// When the process last exited; `None` if it never did, even when it
    /// was stopped from BACKOFF (as in Supervisor).
    pub fn laststop_wall(&self) -> Option<SystemTime> {
        self.laststop_wall
    }

    /// The count of consecutive failed starts (`tries` in events).
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// The `description` of process info (processes.md §3).
    pub fn description(&self, now: Now) -> String {
        if let Some(why) = self.blocked.as_ref().filter(|_| self.about_to_start()) {
            return why.clone();
        }
        match self.state {
            State::Running => {
                let uptime = self.laststart.map_or(Duration::ZERO, |start| {
                    now.mono.saturating_duration_since(start)
                });
                let health = match self.health {
                    Some(Health::Starting) => ", health starting",
                    Some(Health::Healthy) => ", healthy",
                    Some(Health::Unhealthy) => ", unhealthy",
                    None => "",
                };
                format!(
                    "pid {}, uptime {}{health}",
                    self.pid.unwrap_or(0),
                    format_uptime(uptime.as_secs())
                )
            }
            State::Backoff | State::Fatal => {
                if self.spawnerr.is_empty() {
                    format!("unknown error (try \"tail {}\")", self.config.name)
                } else {
                    self.spawnerr.clone()
                }
            }
            State::Stopped | State::Exited => {
                if self.laststart.is_none() {
                    return "Not started".to_string();
                }
                // Stopped from BACKOFF without ever exiting: Supervisor
                // formats its stop time of 0, the epoch.
                let stop = self.laststop_wall.unwrap_or(SystemTime::UNIX_EPOCH);
                crate::daemon::timefmt::stop_time(&chrono::DateTime::<chrono::Local>::from(stop))
            }
            State::Starting | State::Stopping | State::Unknown => String::new(),
        }
    }
}

/// Python's `str(timedelta)` for whole seconds: `H:MM:SS`, with
/// `1 day, ` / `<n> days, ` in front from one day up.
fn format_uptime(total: u64) -> String {
    let days = total / 86_400;
    let rest = total % 86_400;
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}
