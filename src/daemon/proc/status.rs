//! The vocabulary of a process's life: its states with Supervisor's codes
//! and names, how a child ended, signal names, and the time as the state
//! machines take it.

use std::time::{Instant, SystemTime};

use crate::config::datatypes::signal_name;

/// Process states with Supervisor's codes (`State::code`) and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
    Unknown,
}

impl State {
    /// The number clients see as `state` in process info.
    pub fn code(self) -> i32 {
        match self {
            State::Stopped => 0,
            State::Starting => 10,
            State::Running => 20,
            State::Backoff => 30,
            State::Stopping => 40,
            State::Exited => 100,
            State::Fatal => 200,
            State::Unknown => 1000,
        }
    }

    /// The upper-case name (`statename`, event names, `from_state:`).
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Backoff => "BACKOFF",
            State::Stopping => "STOPPING",
            State::Exited => "EXITED",
            State::Fatal => "FATAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The "running" states: a start request is refused as already started.
    pub fn is_running(self) -> bool {
        matches!(self, State::Starting | State::Running | State::Backoff)
    }

    /// The "stopped" states: done, for shutdown and group removal.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            State::Stopped | State::Exited | State::Fatal | State::Unknown
        )
    }

    /// The states in which a signal may be sent.
    pub fn is_signallable(self) -> bool {
        matches!(self, State::Running | State::Starting | State::Stopping)
    }
}

/// How a child ended, from its wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited normally with this code.
    Code(i32),
    /// Killed by a signal.
    Signal { signal: i32, core_dumped: bool },
}

impl ExitStatus {
    /// Decode a raw `waitpid` status with the usual `W*` macros' arithmetic.
    /// `None` for a stopped or continued child, which has not ended.
    pub fn from_raw(wait_status: i32) -> Option<ExitStatus> {
        let low = wait_status & 0x7f;
        if low == 0 {
            // WIFEXITED
            Some(ExitStatus::Code((wait_status >> 8) & 0xff))
        } else if low != 0x7f {
            // WIFSIGNALED; 0x7f marks a stopped child (and, as 0xffff, a
            // continued one)
            Some(ExitStatus::Signal {
                signal: low,
                core_dumped: wait_status & 0x80 != 0,
            })
        } else {
            None
        }
    }

    /// The exit code Supervisor compares with `exitcodes`: a signal death is
    /// -1, which no exit code list can contain.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal { .. } => -1,
        }
    }

    /// `exit status <n>` or `terminated by SIG<NAME>[ (core dumped)]`.
    pub fn describe(self) -> String {
        match self {
            ExitStatus::Code(code) => format!("exit status {code}"),
            ExitStatus::Signal {
                signal,
                core_dumped,
            } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                format!("terminated by {}{core}", signame(signal))
            }
        }
    }
}

/// A signal's name as Supervisor prints it (`SIGTERM`), or `signal <n>` for
/// a number the OS table does not name. Where Linux has aliases, Python's
/// table ends up showing SIGABRT (6), SIGCHLD (17) and SIGPOLL (29).
pub fn signame(number: i32) -> String {
    if number == 29 {
        return "SIGPOLL".to_string();
    }
    // `signal_name` falls back to the bare number for unnamed signals.
    let name = signal_name(number);
    if name == number.to_string() {
        format!("signal {number}")
    } else {
        format!("SIG{name}")
    }
}

/// The time, twice: `mono` for every duration and deadline (immune to clock
/// changes), `wall` for what users see (start/stop times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl Now {
    pub fn current() -> Now {
        Now {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}
