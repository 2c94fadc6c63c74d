//! The configuration and the active groups: avail, reread, update, add and
//! remove (spec supervisorctl.md §4).

use super::{field, int_field, say, Session};
use crate::namespec;
use crate::xmlrpc::{faults, Value};

/// What `reloadConfig` found: groups added, changed and removed.
struct Changes {
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
}

impl Session {
    pub(super) fn avail(&mut self, args: &[&str]) {
        if !args.is_empty() {
            return self.usage_error("Error: avail accepts no arguments", "avail");
        }
        match self.call_or_fault("supervisor.getAllConfigInfo", &[]) {
            None => {}
            Some(Ok(infos)) => {
                for info in infos.as_array().unwrap_or(&[]) {
                    let ns = namespec::format(field(info, "group"), field(info, "name"));
                    let inuse = matches!(info.get("inuse"), Some(Value::Bool(true)));
                    let auto = matches!(info.get("autostart"), Some(Value::Bool(true)));
                    say(&format!(
                        "{ns:<32} {:<9} {:<9} {}:{}",
                        if inuse { "in use" } else { "avail" },
                        if auto { "auto" } else { "manual" },
                        int_field(info, "group_prio"),
                        int_field(info, "process_prio")
                    ));
                }
            }
            Some(Err(f)) if f.code == faults::SHUTDOWN_STATE => {
                self.error("ERROR: supervisor shutting down")
            }
            Some(Err(f)) => self.report_fault(&f),
        }
    }

    /// `reloadConfig`'s `[[added, changed, removed]]`; `None` once a
    /// failure has been reported. `shutting_down` is the line for a server
    /// that is shutting down: Supervisor's reread and update word it
    /// differently.
    fn reload_config(&mut self, shutting_down: &str) -> Option<Changes> {
        let outer = match self.call_or_fault("supervisor.reloadConfig", &[])? {
            Ok(Value::Array(outer)) => outer,
            Ok(_) => return None,
            Err(f) if f.code == faults::SHUTDOWN_STATE => {
                self.error(shutting_down);
                return None;
            }
            Err(f) if f.code == faults::CANT_REREAD => {
                self.error(&format!("ERROR: {}", f.string));
                return None;
            }
            Err(f) => {
                self.report_fault(&f);
                return None;
            }
        };
        let lists = outer.first().and_then(Value::as_array).unwrap_or(&[]);
        let names = |i: usize| -> Vec<String> {
            lists
                .get(i)
                .and_then(Value::as_array)
                .unwrap_or(&[])
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        Some(Changes {
            added: names(0),
            changed: names(1),
            removed: names(2),
        })
    }

    pub(super) fn reread(&mut self, args: &[&str]) {
        if !args.is_empty() {
            return self.usage_error("Error: reread accepts no arguments", "reread");
        }
        let Some(changes) = self.reload_config("ERROR: supervisor shutting down") else {
            return;
        };
        let mut lines: Vec<(String, &str)> = Vec::new();
        lines.extend(changes.added.into_iter().map(|g| (g, "available")));
        lines.extend(changes.changed.into_iter().map(|g| (g, "changed")));
        lines.extend(changes.removed.into_iter().map(|g| (g, "disappeared")));
        if lines.is_empty() {
            say("No config updates to processes");
        }
        lines.sort();
        for (group, what) in lines {
            say(&format!("{group}: {what}"));
        }
    }

    /// `update [all | g…]`, step by step as Supervisor's: an unexpected
    /// error (a transport error or a fault it has no words for) ends it.
    pub(super) fn update(&mut self, args: &[&str]) {
        let Some(changes) = self.reload_config("ERROR: already shutting down") else {
            return;
        };
        // The names as a set, as Supervisor keeps them: each once.
        let mut wanted: Vec<&str> = Vec::new();
        for &arg in args {
            if !wanted.contains(&arg) {
                wanted.push(arg);
            }
        }
        if wanted.contains(&"all") {
            wanted.clear();
        }
        if !wanted.is_empty() && !self.check_update_groups(&wanted, &changes.added) {
            return;
        }
        let included = |g: &&String| wanted.is_empty() || wanted.contains(&g.as_str());
        for group in changes.removed.iter().filter(included) {
            let Some(results) = self.update_call("stopProcessGroup", group) else {
                return;
            };
            say(&format!("{group}: stopped"));
            let failed = results
                .as_array()
                .unwrap_or(&[])
                .iter()
                .any(|r| int_field(r, "status") as i32 == faults::FAILED);
            if failed {
                self.error(&format!("{group}: has problems; not removing"));
                continue;
            }
            if self.update_call("removeProcessGroup", group).is_none() {
                return;
            }
            say(&format!("{group}: removed process group"));
        }
        // A changed group is replaced whatever its stop results say, as in
        // Supervisor.
        for group in changes.changed.iter().filter(included) {
            if self.update_call("stopProcessGroup", group).is_none() {
                return;
            }
            say(&format!("{group}: stopped"));
            if self.update_call("removeProcessGroup", group).is_none()
                || self.update_call("addProcessGroup", group).is_none()
            {
                return;
            }
            say(&format!("{group}: updated process group"));
        }
        for group in changes.added.iter().filter(included) {
            if self.update_call("addProcessGroup", group).is_none() {
                return;
            }
            say(&format!("{group}: added process group"));
        }
    }

    /// `supervisor.<method>(group)` for update: its value, or `None` once
    /// the failure has been reported.
    fn update_call(&mut self, method: &str, group: &str) -> Option<Value> {
        self.call_or_report(&format!("supervisor.{method}"), &[Value::str(group)])
    }

    /// `update g…`: a line for each name that is neither an active group nor
    /// a newly added one. False once the list of active groups could not be
    /// had (reported).
    fn check_update_groups(&mut self, wanted: &[&str], added: &[String]) -> bool {
        let Some(infos) = self.call_or_report("supervisor.getAllProcessInfo", &[]) else {
            return false;
        };
        let active: Vec<&str> = infos
            .as_array()
            .unwrap_or(&[])
            .iter()
            .map(|i| field(i, "group"))
            .collect();
        for g in wanted {
            if !active.contains(g) && !added.iter().any(|a| a == g) {
                self.error(&format!("ERROR: no such group: {g}"));
            }
        }
        true
    }

    /// `add g…`; an error other than the ones it words ends the command,
    /// as in Supervisor.
    pub(super) fn add(&mut self, args: &[&str]) {
        for &group in args {
            match self.call_or_fault("supervisor.addProcessGroup", &[Value::str(group)]) {
                None => return,
                Some(Ok(_)) => say(&format!("{group}: added process group")),
                Some(Err(f)) => match f.code {
                    faults::BAD_NAME => {
                        self.error(&format!("ERROR: no such process/group: {group}"))
                    }
                    // Harmless: reported, the exit status stays.
                    faults::ALREADY_ADDED => say("ERROR: process group already active"),
                    faults::SHUTDOWN_STATE => self.error("ERROR: shutting down"),
                    _ => return self.report_fault(&f),
                },
            }
        }
    }

    /// `remove g…`; an error other than the ones it words ends the
    /// command, as in Supervisor.
    pub(super) fn remove(&mut self, args: &[&str]) {
        for &group in args {
            match self.call_or_fault("supervisor.removeProcessGroup", &[Value::str(group)]) {
                None => return,
                Some(Ok(_)) => say(&format!("{group}: removed process group")),
                Some(Err(f)) => match f.code {
                    faults::STILL_RUNNING => {
                        self.error(&format!("ERROR: process/group still running: {group}"))
                    }
                    faults::BAD_NAME => {
                        self.error(&format!("ERROR: no such process/group: {group}"))
                    }
                    _ => return self.report_fault(&f),
                },
            }
        }
    }
}
