//! The restart policy of a [`Process`]: which exits are expected, whether
//! and when an ended run starts again (autorestart, crash-loop spacing,
//! backoff), and when start retries or a FATAL retry apply. The transitions
//! that use it are in the parent module.

use std::time::{Duration, Instant};

use super::Process;
use crate::config::{self, AutoRestart};
use crate::daemon::proc::status::ExitStatus;

/// An unexpected exit this soon after the start is a crash loop: the next
/// start waits until this long after the previous one (Supervisor's tick
/// and s6 both keep such loops at one start a second or less).
const CRASH_LOOP_SPACING: Duration = Duration::from_secs(1);

impl Process {
    /// Whether an EXITED process's restart must still wait (crash-loop
    /// spacing or backoff).
    pub(super) fn restart_waits(&self, now: Instant) -> bool {
        self.restart_at.is_some_and(|at| now < at)
    }

    /// Whether a FATAL process is retried (`fatal_retry_after`).
    pub fn retries_from_fatal(&self) -> bool {
        self.config.lifecycle.restart.fatal_retry_after.is_some()
    }

    /// FATAL: when `fatal_retry_after` starts it again.
    pub(super) fn fatal_retry_at(&self) -> Option<Instant> {
        let after = self.config.lifecycle.restart.fatal_retry_after?;
        self.changed_at.checked_add(after)
    }

    pub(super) fn is_expected(&self, status: ExitStatus) -> bool {
        self.config.exitcodes.contains(&status.code())
    }

    /// Whether an EXITED process is restarted (autorestart × exitcodes).
    pub(super) fn should_restart(&self) -> bool {
        match self.config.autorestart {
            AutoRestart::Never => false,
            AutoRestart::Always => true,
            AutoRestart::Unexpected => !self.exitstatus.is_some_and(|s| self.is_expected(s)),
        }
    }

    /// Total attempts are 1 + startretries.
    pub(super) fn retries_exceeded(&self) -> bool {
        !self.config.lifecycle.restart.infinite_retries
            && i64::from(self.backoff) > self.config.startretries
    }

    /// After a run that ended on its own at `now`: when it may start again.
    /// An expected exit restarts at once (`autorestart=true`); an unexpected
    /// one waits out the crash-loop spacing, and with exponential backoff a
    /// delay that doubles with each quick crash.
    pub(super) fn restart_delay(&mut self, expected: bool, now: Instant) -> Option<Instant> {
        if expected {
            return None;
        }
        let start = self.laststart?;
        let ran = now.saturating_duration_since(start);
        let policy = self.config.lifecycle.restart;
        if ran >= policy.reset_after() {
            self.crashes = 0;
        }
        self.crashes = self.crashes.saturating_add(1);
        let spaced = start.checked_add(CRASH_LOOP_SPACING);
        let backed_off = match policy.backoff {
            config::Backoff::Exponential => now.checked_add(policy.delay(self.crashes)),
            config::Backoff::Linear => None,
        };
        spaced.max(backed_off).filter(|&at| at > now)
    }
}
