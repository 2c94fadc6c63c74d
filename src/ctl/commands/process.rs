//! start, stop, restart and signal: one process, a group (`g:*`) or `all`,
//! one result line per process acted on (spec supervisorctl.md §4).

use super::{field, int_field, say, Session};
use crate::ctl::exit;
use crate::namespec::{self, Namespec};
use crate::xmlrpc::{faults, Value};

/// The commands that share the shape of [`Session::act`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Start,
    Stop,
    Signal,
}

impl Act {
    /// The methods for `all`, for a group and for one process.
    fn methods(self) -> [&'static str; 3] {
        match self {
            Act::Start => [
                "supervisor.startAllProcesses",
                "supervisor.startProcessGroup",
                "supervisor.startProcess",
            ],
            Act::Stop => [
                "supervisor.stopAllProcesses",
                "supervisor.stopProcessGroup",
                "supervisor.stopProcess",
            ],
            Act::Signal => [
                "supervisor.signalAllProcesses",
                "supervisor.signalProcessGroup",
                "supervisor.signalProcess",
            ],
        }
    }

    /// What a success line says.
    fn verb(self) -> &'static str {
        match self {
            Act::Start => "started",
            Act::Stop => "stopped",
            Act::Signal => "signalled",
        }
    }

    /// The result code that is reported but leaves the exit status alone
    /// (signal has none: -1 is no code a server sends).
    fn ignored(self) -> i32 {
        match self {
            Act::Start => faults::ALREADY_STARTED,
            Act::Stop => faults::NOT_RUNNING,
            Act::Signal => -1,
        }
    }

    /// The exit status for a group that does not exist.
    fn no_such_group(self) -> i32 {
        match self {
            Act::Start => exit::INVALID_ARGS,
            Act::Stop | Act::Signal => exit::ERROR,
        }
    }
}

// As in Supervisor, these commands make the upcheck before they look at
// their arguments: with the server down, a usage error is not reported.
impl Session {
    pub(super) fn start(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.is_empty() {
            // A usage error with a status of its own, as in Supervisor.
            say("Error: start requires a process name");
            say(super::help::help_text("start"));
            self.exit_status = exit::INVALID_ARGS;
            return;
        }
        self.act(Act::Start, None, args);
    }

    pub(super) fn stop(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.is_empty() {
            return self.usage_error("Error: stop requires a process name", "stop");
        }
        self.act(Act::Stop, None, args);
    }

    /// `stop ARGS` then `start ARGS`; an unexpected error in stop ends it.
    pub(super) fn restart(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.is_empty() {
            return self.usage_error("Error: restart requires a process name", "restart");
        }
        // As Supervisor's restart calls its stop then its start: stop's own
        // upcheck failing does not keep start from running.
        if !self.upcheck() || self.act(Act::Stop, None, args) {
            self.start(args);
        }
    }

    pub(super) fn signal(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.len() < 2 {
            return self.usage_error(
                "Error: signal requires a signal name and a process name",
                "signal",
            );
        }
        self.act(Act::Signal, Some(args[0]), &args[1..]);
    }

    /// start, stop or signal `names`: `all` anywhere means every process.
    /// An unexpected error (a transport error, a fault or result code the
    /// command has no words for) ends the command, as in Supervisor: false.
    fn act(&mut self, kind: Act, signal: Option<&str>, names: &[&str]) -> bool {
        let [all_method, group_method, one_method] = kind.methods();
        let with_signal = |mut params: Vec<Value>| {
            params.extend(signal.map(Value::str));
            params
        };
        if names.contains(&"all") {
            return match self.call_or_report(all_method, &with_signal(vec![])) {
                Some(results) => self.results(kind, results.as_array().unwrap_or(&[])),
                None => false,
            };
        }
        for &name in names {
            let go_on = match Namespec::parse(name) {
                Namespec::Group(group) => {
                    let params = with_signal(vec![Value::str(group)]);
                    self.act_on_group(kind, group_method, group, &params)
                }
                Namespec::Process {
                    group,
                    name: process,
                } => {
                    // Sent as typed, named in the output as Supervisor names it.
                    let params = with_signal(vec![Value::str(name)]);
                    let ns = namespec::format(group, process);
                    self.act_on_process(kind, one_method, &ns, &params)
                }
            };
            if !go_on {
                return false;
            }
        }
        true
    }

    /// A group; false after an unexpected error.
    fn act_on_group(&mut self, kind: Act, method: &str, group: &str, params: &[Value]) -> bool {
        match self.call_or_fault(method, params) {
            None => false,
            Some(Ok(results)) => self.results(kind, results.as_array().unwrap_or(&[])),
            Some(Err(f)) if f.code == faults::BAD_NAME => {
                say(&format!("{group}: ERROR (no such group)"));
                self.exit_status = kind.no_such_group();
                true
            }
            Some(Err(f)) => {
                self.report_fault(&f);
                false
            }
        }
    }

    /// One process, `ns` being how its result lines name it; false after
    /// an unexpected error.
    fn act_on_process(&mut self, kind: Act, method: &str, ns: &str, params: &[Value]) -> bool {
        match self.call_or_fault(method, params) {
            None => false,
            Some(Ok(Value::Array(results))) => self.results(kind, &results),
            Some(Ok(_)) => self.result_line(kind, ns, faults::SUCCESS, ""),
            Some(Err(f)) => self.result_line(kind, ns, f.code, &f.string),
        }
    }

    /// The result structs of a group or `all` call, one line each; false
    /// (and no more lines) at a code the command has no words for.
    fn results(&mut self, kind: Act, results: &[Value]) -> bool {
        for r in results {
            let ns = namespec::format(field(r, "group"), field(r, "name"));
            let code = int_field(r, "status") as i32;
            if !self.result_line(kind, &ns, code, field(r, "description")) {
                return false;
            }
        }
        true
    }

    /// The line for one result (a result struct's status or a fault's code)
    /// and the exit status it sets. Each command knows the codes
    /// Supervisor's does: start those of starting, stop and signal those of
    /// signalling. Any other is an unexpected error (generic error line,
    /// exit status 1): false.
    fn result_line(&mut self, kind: Act, ns: &str, code: i32, description: &str) -> bool {
        let text = match (kind, code) {
            (_, faults::SUCCESS) => format!("{ns}: {}", kind.verb()),
            (_, faults::BAD_NAME) => format!("{ns}: ERROR (no such process)"),
            (Act::Start, faults::NO_FILE) => format!("{ns}: ERROR (no such file)"),
            (Act::Start, faults::NOT_EXECUTABLE) => format!("{ns}: ERROR (file is not executable)"),
            (Act::Start, faults::ALREADY_STARTED) => format!("{ns}: ERROR (already started)"),
            (Act::Start, faults::SPAWN_ERROR) => format!("{ns}: ERROR (spawn error)"),
            (Act::Start, faults::ABNORMAL_TERMINATION) => {
                format!("{ns}: ERROR (abnormal termination)")
            }
            (Act::Stop | Act::Signal, faults::NOT_RUNNING) => format!("{ns}: ERROR (not running)"),
            (Act::Stop | Act::Signal, faults::BAD_SIGNAL) => {
                format!("{ns}: ERROR (bad signal name)")
            }
            (Act::Stop | Act::Signal, faults::FAILED) => description.to_string(),
            (_, other) => {
                self.error(&format!("error: Unknown result code {other} for {ns}"));
                return false;
            }
        };
        say(&text);
        if code == faults::SUCCESS || code == kind.ignored() {
            return true;
        }
        self.exit_status = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::ERROR,
        };
        true
    }
}
