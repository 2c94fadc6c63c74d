//! Status and log reads: the methods answered on the HTTP thread that
//! asked, from the published [`Snapshot`], so that neither the busiest
//! calls nor reading a big slice of a log file ever wait for or stall the
//! event loop. The checks and faults are those of every other method.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::params::Params;
use super::Answer;
use crate::common::SUPERVISOR_VERSION;
use crate::daemon::http::LogRequest;
use crate::daemon::log::{logread, Channel};
use crate::daemon::proc::process::Process;
use crate::daemon::proc::status::Now;
use crate::daemon::proc::table::Phase;
use crate::daemon::reactor::snapshot::{Snapshot, View};
use crate::namespec::Namespec;
use crate::xmlrpc::{faults, Call, Fault, Value};

/// A clamped unix time for process info (0 = never).
pub fn epoch(time: Option<SystemTime>) -> i64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs().min(i32::MAX as u64) as i64)
}

/// The `getProcessInfo` struct (xmlrpc.md §6.3).
pub fn process_info(process: &Process, stdout_log: &str, stderr_log: &str, now: Now) -> Value {
    let c = &process.config;
    let state = process.state();
    let mut info = Value::Struct(vec![
        ("name".into(), Value::str(&c.name)),
        ("group".into(), Value::str(&c.group)),
        ("start".into(), Value::Int(epoch(process.laststart_wall()))),
        ("stop".into(), Value::Int(epoch(process.laststop_wall()))),
        ("now".into(), Value::Int(epoch(Some(now.wall)))),
        ("state".into(), Value::Int(state.code().into())),
        ("statename".into(), Value::str(state.name())),
        ("spawnerr".into(), Value::str(process.spawnerr())),
        (
            "exitstatus".into(),
            Value::Int(process.exitstatus().map_or(0, |s| s.code().into())),
        ),
        ("logfile".into(), Value::str(stdout_log)),
        ("stdout_logfile".into(), Value::str(stdout_log)),
        ("stderr_logfile".into(), Value::str(stderr_log)),
        ("pid".into(), Value::Int(process.pid().unwrap_or(0).into())),
        (
            "description".into(),
            Value::String(process.description(now)),
        ),
    ]);
    // Our extension, only for processes with a health check (clients such
    // as Python's supervisorctl read the members they know and ignore it).
    if c.lifecycle.healthcheck.is_some() {
        if let Value::Struct(members) = &mut info {
            let health = process.health().map_or("", |h| h.name());
            members.push(("health".into(), Value::str(health)));
        }
    }
    info
}

/// The status reads answered from a snapshot, with their parameter counts.
/// Their answers follow from the snapshot and the wall clock's second alone.
const STATUS_READS: &[(&str, usize)] = &[
    ("supervisor.getAllProcessInfo", 0),
    ("supervisor.getProcessInfo", 1),
    ("supervisor.getState", 0),
    ("supervisor.getPID", 0),
    ("supervisor.getAPIVersion", 0),
    ("supervisor.getVersion", 0),
    ("supervisor.getSupervisorVersion", 0),
    ("supervisor.getIdentification", 0),
];

/// The log reads answered from a snapshot (it names the files), with
/// their parameter counts.
const LOG_READS: &[(&str, usize)] = &[
    ("supervisor.readLog", 2),
    ("supervisor.readMainLog", 2),
    ("supervisor.readProcessLog", 3),
    ("supervisor.readProcessStdoutLog", 3),
    ("supervisor.readProcessStderrLog", 3),
    ("supervisor.tailProcessLog", 3),
    ("supervisor.tailProcessStdoutLog", 3),
    ("supervisor.tailProcessStderrLog", 3),
];

/// Whether an answer to `method` encoded once may be sent again for as
/// long as the snapshot and the wall clock's second stay the same. Log
/// reads may not: a log grows while the snapshot stays the same.
pub fn answer_is_stable(method: &str) -> bool {
    STATUS_READS.iter().any(|(m, _)| *m == method)
}

impl Snapshot {
    /// Answer `call` if it only reads status; `None` means the reactor must
    /// run it. The checks and faults are the same as on the reactor.
    pub fn answer(&self, call: &Call) -> Option<Answer> {
        let &(method, arity) = STATUS_READS
            .iter()
            .chain(LOG_READS)
            .find(|(m, _)| *m == call.method)?;
        let fault = |code| Some(Err(Fault::named(code, None)));
        if !self.rpc_enabled {
            return fault(faults::UNKNOWN_METHOD);
        }
        if call.params.len() != arity {
            return fault(faults::INCORRECT_PARAMETERS);
        }
        if self.phase != Phase::Running {
            return fault(faults::SHUTDOWN_STATE);
        }
        let now = Now::current();
        let p = Params(&call.params);
        Some(Ok(match method {
            "supervisor.getAllProcessInfo" => Value::Array(
                self.processes
                    .iter()
                    .map(|v| process_info(&v.process, &v.stdout_log, &v.stderr_log, now))
                    .collect(),
            ),
            "supervisor.getProcessInfo" => {
                let Some(name) = call.params[0].as_str() else {
                    return fault(faults::INCORRECT_PARAMETERS);
                };
                match self.find(name) {
                    Some(v) => process_info(&v.process, &v.stdout_log, &v.stderr_log, now),
                    None => return Some(Err(Fault::named(faults::BAD_NAME, Some(name)))),
                }
            }
            "supervisor.getState" => Value::Struct(vec![
                ("statecode".into(), Value::Int(1)),
                ("statename".into(), Value::str("RUNNING")),
            ]),
            "supervisor.getPID" => Value::Int(std::process::id().into()),
            "supervisor.getSupervisorVersion" => Value::str(SUPERVISOR_VERSION),
            "supervisor.getIdentification" => Value::str(&self.identifier),
            "supervisor.readLog" | "supervisor.readMainLog" => {
                return Some(self.read_main_log(&p));
            }
            "supervisor.readProcessLog" | "supervisor.readProcessStdoutLog" => {
                return Some(self.read_process_log(&p, Channel::Stdout));
            }
            "supervisor.readProcessStderrLog" => {
                return Some(self.read_process_log(&p, Channel::Stderr))
            }
            "supervisor.tailProcessLog" | "supervisor.tailProcessStdoutLog" => {
                return Some(self.tail_process_log(&p, Channel::Stdout));
            }
            "supervisor.tailProcessStderrLog" => {
                return Some(self.tail_process_log(&p, Channel::Stderr))
            }
            _ => Value::str("3.0"),
        }))
    }

    fn read_main_log(&self, p: &Params) -> Answer {
        let (offset, length) = (p.int(0)?, p.int(1)?);
        let path = self
            .main_log
            .as_deref()
            .ok_or_else(|| Fault::named(faults::NO_FILE, None))?;
        logread::read_log(path, offset, length)
    }

    /// The log file of one process's channel: `Ok(None)` when it has none
    /// (NONE, syslog, supervisord's own stdout).
    fn process_log(&self, name: &str, channel: Channel) -> Result<Option<&Path>, Fault> {
        let view = self
            .find(name)
            .ok_or_else(|| Fault::named(faults::BAD_NAME, Some(name)))?;
        let path = match channel {
            Channel::Stdout => &view.stdout_log,
            Channel::Stderr => &view.stderr_log,
        };
        Ok((!path.is_empty()).then(|| Path::new(path.as_str())))
    }

    fn read_process_log(&self, p: &Params, channel: Channel) -> Answer {
        let name = p.string(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let path = self
            .process_log(name, channel)?
            .ok_or_else(|| Fault::named(faults::NO_FILE, None))?;
        logread::read_log(path, offset, length)
    }

    fn tail_process_log(&self, p: &Params, channel: Channel) -> Answer {
        let name = p.string(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let tail = match self.process_log(name, channel)? {
            Some(path) => logread::tail_log(path, offset, length),
            None => None,
        };
        let (data, size, overflow) = tail.unwrap_or_default();
        Ok(Value::Array(vec![
            Value::String(data),
            Value::Int(size),
            Value::Bool(overflow),
        ]))
    }

    /// A namespec naming one process (`name`, `group:name`); whole-group
    /// forms and unknown names find nothing (BAD_NAME, xmlrpc.md §3).
    fn find(&self, name: &str) -> Option<&View> {
        let Namespec::Process { group, name } = Namespec::parse(name) else {
            return None;
        };
        self.processes
            .iter()
            .find(|v| v.process.config.group == group && v.process.config.name == name)
    }

    /// The file behind `/logtail/…` or `/mainlogtail`.
    pub fn log_file(&self, which: &LogRequest) -> Option<PathBuf> {
        match which {
            LogRequest::Main => self.main_log.clone(),
            LogRequest::Process { namespec, stderr } => self
                .process_log(
                    namespec,
                    if *stderr {
                        Channel::Stderr
                    } else {
                        Channel::Stdout
                    },
                )
                .ok()
                .flatten()
                .map(Path::to_path_buf),
        }
    }
}
