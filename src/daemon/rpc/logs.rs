//! Emptying log files.

use super::{fault, Answer};
use crate::daemon::proc::table::Key;
use crate::daemon::state::Daemon;
use crate::xmlrpc::{faults, Value};

impl Daemon {
    /// Empties the process's logs, running or not (Supervisor silently did
    /// nothing for a stopped process and still answered true).
    pub(super) fn clear_logs(&mut self, key: Key, name: &str) -> Answer {
        let config = self.table.process(key).config.clone();
        self.outputs
            .clear(key, &config)
            .map(|()| Value::Bool(true))
            .map_err(|_| fault(faults::FAILED, Some(name)))
    }

    pub(super) fn clear_main_log(&mut self) -> Answer {
        let path = self
            .main_log_path()
            .ok_or_else(|| fault(faults::NO_FILE, None))?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(fault(faults::FAILED, Some(&path.display().to_string())))
            }
            _ => {}
        }
        self.log
            .reopen()
            .map(|()| Value::Bool(true))
            .map_err(|_| fault(faults::FAILED, Some(&path.display().to_string())))
    }
}
