//! One process's state machine (spec processes.md §1–§4), kept pure: every
//! method takes the time as an argument and returns the [`Action`]s for the
//! reactor to carry out, so each transition is unit-tested without forking.
//!
//! STUB: interface only; being written.

use std::time::{Instant, SystemTime};

use crate::config::{self, LogLevel};

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

/// How a child ended, from its wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Exited normally with this code.
    Code(i32),
    /// Killed by a signal.
    Signal { signal: i32, core_dumped: bool },
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

/// One process: its config and its runtime bookkeeping.
#[derive(Debug, Clone)]
pub struct Process {
    pub config: config::Process,
}

impl Process {
    pub fn new(config: config::Process) -> Self {
        let _ = config;
        todo!()
    }
}
