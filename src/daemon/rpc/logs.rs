//! Emptying log files.

use super::params::Params;
use super::{fault, result_struct, Answer, Target};
use crate::daemon::proc::table::Key;
use crate::daemon::state::Daemon;
use crate::xmlrpc::{faults, Value};

impl Daemon {
    /// clearProcessLogs: one process (a group name is BAD_NAME).
    pub(super) fn clear_named(&mut self, p: &Params) -> Answer {
        let name = p.string(0)?;
        match self.resolve(name)? {
            Target::Process(key) => self.clear_logs(key, name),
            Target::Group(_) => Err(fault(faults::BAD_NAME, Some(name))),
        }
    }

    /// clearAllProcessLogs: one result struct per process, in start order.
    pub(super) fn clear_all(&mut self) -> Value {
        let results = self
            .keys_in_priority_order()
            .into_iter()
            .map(|key| {
                let c = &self.table.process(key).config;
                let (name, group) = (c.name.clone(), c.group.clone());
                let answer = self.clear_logs(key, &name);
                result_struct(&name, &group, &answer)
            })
            .collect();
        Value::Array(results)
    }

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
