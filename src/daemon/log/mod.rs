//! Logs: supervisord's own log, the children's output and where it goes
//! (files, the console, syslog, capture mode), rotation, and reading log
//! slices back for clients.

use crate::config;

/// Which output of a process: its stdout or its stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    /// As Supervisor names it (log file names, events, messages).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }

    /// The configuration of this channel of `process`.
    pub fn stream(self, process: &config::ProcessConfig) -> &config::Stream {
        match self {
            Channel::Stdout => &process.stdout,
            Channel::Stderr => &process.stderr,
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub mod ansi;
pub mod auto;
pub mod autofiles;
pub mod capture;
pub mod childlog;
pub mod console;
pub mod logread;
pub mod mainlog;
pub mod outputs;
pub mod rotate;
pub mod sink;
pub mod syslog;
