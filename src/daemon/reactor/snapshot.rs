//! A read-only copy of what the status calls need, built by the daemon and
//! published by the reactor whenever something changed. The HTTP threads
//! answer status and log reads from it (`rpc/info.rs`) without a round trip
//! through the reactor: the reactor still owns the state; readers only ever
//! see a finished copy.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::daemon::proc::process::Process;
use crate::daemon::proc::table::Phase;

/// Where the reactor publishes and the HTTP threads read.
pub type Shared = Arc<Mutex<Arc<Snapshot>>>;

pub struct Snapshot {
    /// Increases with every publication: equal generations, equal content.
    pub generation: u64,
    pub phase: Phase,
    pub identifier: String,
    /// Whether `[rpcinterface:supervisor]` provides the `supervisor.*` namespace.
    pub rpc_enabled: bool,
    /// supervisord's own log file (none with syslog).
    pub main_log: Option<PathBuf>,
    /// In `getAllProcessInfo` order: group name, then process name.
    pub processes: Vec<View>,
}

/// One process as the status calls show it.
pub struct View {
    pub process: Process,
    pub stdout_log: String,
    pub stderr_log: String,
}
