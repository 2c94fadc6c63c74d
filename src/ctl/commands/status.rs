//! status and pid: what is running (spec supervisorctl.md §4).

use std::fmt::Write as _;

use super::{field, int_field, say, say_lines, Session};
use crate::ctl::exit;
use crate::namespec::{self, Namespec};
use crate::xmlrpc::{faults, Fault, Value};

/// The processes `spec` names among `infos`, in the server's order.
fn matching<'a>(infos: &'a [Value], spec: Namespec) -> Vec<&'a Value> {
    let group_of = |info: &Value| field(info, "group") == spec.group();
    infos
        .iter()
        .filter(|info| match spec {
            Namespec::Group(_) => group_of(info),
            Namespec::Process { name, .. } => group_of(info) && field(info, "name") == name,
        })
        .collect()
}

impl Session {
    pub(super) fn status(&mut self, args: &[&str]) {
        // `--json` (our extension, anywhere among the names): the same
        // processes and exit status, as a JSON array for scripts.
        let json = args.contains(&"--json");
        let args: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
        let args = args.as_slice();
        let Some(infos) = self.upcheck_and_call("supervisor.getAllProcessInfo") else {
            // `status` reports an unusable server as "unknown" (generic
            // errors, which a failed getAllProcessInfo is, stay generic).
            if self.exit_status != exit::ERROR {
                self.exit_status = exit::STATUS_UNKNOWN;
            }
            return;
        };
        let Value::Array(infos) = infos else {
            return self.report_fault(&Fault::new(faults::FAILED, "bad answer"));
        };
        // Supervisor assigns the status as it goes, the last assignment
        // winning: each unknown name sets 4, then each shown process that
        // is not running sets 3. So one stopped process shown makes it 3
        // even after an unknown name; nothing to report leaves it alone.
        let shown: Vec<&Value> = if args.is_empty() || args.contains(&"all") {
            infos.iter().collect()
        } else {
            // Unknown names are reported first, as they come; duplicates stay.
            let mut shown = Vec::new();
            for &arg in args {
                let spec = Namespec::parse(arg);
                let found = matching(&infos, spec);
                if found.is_empty() {
                    let line = match spec {
                        Namespec::Group(group) => format!("{group}: ERROR (no such group)"),
                        Namespec::Process { .. } => format!("{arg}: ERROR (no such process)"),
                    };
                    // stdout stays valid JSON: errors go to stderr there.
                    if json {
                        eprintln!("{line}");
                    } else {
                        say(&line);
                    }
                    self.exit_status = exit::STATUS_UNKNOWN;
                }
                shown.extend(found);
            }
            shown
        };
        let stopped = |info: &Value| {
            matches!(
                field(info, "statename"),
                "STOPPED" | "EXITED" | "FATAL" | "UNKNOWN"
            )
        };
        if json {
            let list = Value::Array(shown.iter().map(|&v| v.clone()).collect());
            say(&crate::xmlrpc::json::to_json(&list));
            if shown.iter().any(|i| stopped(i)) {
                self.exit_status = exit::STATUS_NOT_RUNNING;
            }
            return;
        }
        let names: Vec<String> = shown
            .iter()
            .map(|i| namespec::format(field(i, "group"), field(i, "name")))
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0).max(30) + 3;
        let mut table = String::new();
        for (info, name) in shown.iter().zip(&names) {
            let state = field(info, "statename");
            let description = field(info, "description");
            let _ = writeln!(table, "{name:<width$}{state:<10}{description}");
            if stopped(info) {
                self.exit_status = exit::STATUS_NOT_RUNNING;
            }
        }
        say_lines(&table);
    }

    /// The shell starts by showing the status.
    pub fn status_for_shell(&mut self) {
        self.status(&[]);
    }

    pub(super) fn pid(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.is_empty() {
            if let Some(pid) = self.call_or_report("supervisor.getPID", &[]) {
                say(&pid.as_int().unwrap_or(0).to_string());
            }
            return;
        }
        if args.contains(&"all") {
            if let Some(infos) = self.call_or_report("supervisor.getAllProcessInfo", &[]) {
                for info in infos.as_array().unwrap_or(&[]) {
                    say(&int_field(info, "pid").to_string());
                }
            }
            return;
        }
        // An unexpected error ends the command, as in Supervisor.
        for &name in args {
            match self.call_or_fault("supervisor.getProcessInfo", &[Value::str(name)]) {
                None => return,
                Some(Ok(info)) => {
                    let pid = int_field(&info, "pid");
                    say(&pid.to_string());
                    if pid == 0 {
                        self.exit_status = exit::NOT_RUNNING;
                    }
                }
                Some(Err(f)) if f.code == faults::BAD_NAME => {
                    self.error(&format!("No such process {name}"))
                }
                Some(Err(f)) => return self.report_fault(&f),
            }
        }
    }
}
