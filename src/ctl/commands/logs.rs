//! Logs and output: tail, maintail, clear and fg (spec supervisorctl.md §4).

use std::io::{BufRead, Write};

use super::{field, int_field, say, Session};
use crate::ctl::transport::TransportError;
use crate::namespec;
use crate::xmlrpc::{faults, Value};

/// Bytes `tail` and `maintail` show without `-N`.
const DEFAULT_BYTES: i64 = 1600;

/// `%`-encode a name for a streaming URL (`:` and the like stay readable to
/// the server, which decodes the path).
fn percent_encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.:*".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Session {
    pub(super) fn tail(&mut self, args: &[&str]) {
        if args.is_empty() {
            return self.usage_error("Error: too few arguments", "tail");
        }
        if args.len() > 3 {
            return self.usage_error("Error: too many arguments", "tail");
        }
        let (modifier, rest) = match args[0].strip_prefix('-') {
            Some(m) => (Some(m), &args[1..]),
            None => (None, args),
        };
        let Some(&name) = rest.first() else {
            return self.usage_error("Error: tail requires process name", "tail");
        };
        // With two words or more the last one is the channel.
        let channel = match rest {
            [_, .., last] => {
                let channel = last.to_lowercase();
                if channel != "stdout" && channel != "stderr" {
                    return self.error(&format!("Error: bad channel '{last}'"));
                }
                channel
            }
            _ => "stdout".to_string(),
        };
        let bytes = match modifier {
            None => Some(DEFAULT_BYTES),
            Some("f") => None,
            Some(n) => match n.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => return self.error(&format!("Error: bad argument -{n}")),
            },
        };
        if !self.upcheck() {
            return;
        }
        let Some(n) = bytes else {
            return self.follow(&format!("/logtail/{}/{channel}", percent_encode(name)));
        };
        let method = if channel == "stderr" {
            "supervisor.readProcessStderrLog"
        } else {
            "supervisor.readProcessStdoutLog"
        };
        let params = [Value::str(name), Value::Int(-n), Value::Int(0)];
        match self.call_or_fault(method, &params) {
            None => {}
            Some(Ok(text)) => say(text.as_str().unwrap_or("")),
            Some(Err(f)) => {
                let why = match f.code {
                    faults::NO_FILE => "no log file",
                    faults::BAD_NAME => "no such process name",
                    _ => "unknown error reading log",
                };
                self.error(&format!("{name}: ERROR ({why})"));
            }
        }
    }

    pub(super) fn maintail(&mut self, args: &[&str]) {
        if args.len() > 1 {
            return self.usage_error("Error: too many arguments", "maintail");
        }
        let bytes = match args.first() {
            None => Some(DEFAULT_BYTES),
            Some(&"-f") => None,
            Some(arg) => match arg.strip_prefix('-').and_then(|n| n.parse::<i64>().ok()) {
                Some(n) => Some(n),
                None => return self.error(&format!("Error: bad argument {arg}")),
            },
        };
        if !self.upcheck() {
            return;
        }
        let Some(n) = bytes else {
            return self.follow("/mainlogtail");
        };
        match self.call_or_fault("supervisor.readLog", &[Value::Int(-n), Value::Int(0)]) {
            None => {}
            Some(Ok(text)) => say(text.as_str().unwrap_or("")),
            Some(Err(f)) => {
                let why = if f.code == faults::NO_FILE {
                    "no log file"
                } else {
                    "unknown error reading log"
                };
                self.error(&format!("supervisord: ERROR ({why})"));
            }
        }
    }

    /// `tail -f` / `maintail -f`: stream until Ctrl-C or the server ends it.
    fn follow(&mut self, path: &str) {
        say("==> Press Ctrl-C to exit <==");
        let mut out = std::io::stdout();
        let result = self.stream(path, &mut |data| {
            out.write_all(data).and_then(|()| out.flush()).is_ok()
        });
        let code = match &result {
            Ok(()) => return,
            Err(TransportError::Http(code)) => code.to_string(),
            Err(TransportError::Unauthorized) => "401".to_string(),
            Err(other) => format!("{other:?}"),
        };
        eprintln!("{}{path} Cannot read, status code {code}", self.url());
    }

    pub(super) fn clear(&mut self, args: &[&str]) {
        if args.is_empty() {
            return self.usage_error("Error: clear requires a process name", "clear");
        }
        if !self.upcheck() {
            return;
        }
        if args.contains(&"all") {
            if let Some(results) = self.call_or_report("supervisor.clearAllProcessLogs", &[]) {
                for r in results.as_array().unwrap_or(&[]) {
                    let ns = namespec::format(field(r, "group"), field(r, "name"));
                    if !self.clear_line(&ns, int_field(r, "status") as i32) {
                        return;
                    }
                }
            }
            return;
        }
        for &name in args {
            let known = match self.call_or_fault("supervisor.clearProcessLogs", &[Value::str(name)])
            {
                None => false,
                Some(Ok(_)) => self.clear_line(name, faults::SUCCESS),
                Some(Err(f)) => self.clear_line(name, f.code),
            };
            if !known {
                return;
            }
        }
    }

    /// The line for one result. Supervisor's clear knows SUCCESS, BAD_NAME
    /// and FAILED; any other code is an unexpected error that ends the
    /// command (false), with exit status 1, so clear never exits 7.
    fn clear_line(&mut self, ns: &str, code: i32) -> bool {
        match code {
            faults::SUCCESS => say(&format!("{ns}: cleared")),
            faults::BAD_NAME => self.error(&format!("{ns}: ERROR (no such process)")),
            faults::FAILED => self.error(&format!("{ns}: ERROR (failed)")),
            other => {
                self.error(&format!("error: Unknown result code {other} for {ns}"));
                return false;
            }
        }
        true
    }

    pub(super) fn fg(&mut self, args: &[&str]) {
        let name = match args {
            [] => return self.usage_error("ERROR: no process name supplied", "fg"),
            [_, _, ..] => return self.usage_error("ERROR: too many process names supplied", "fg"),
            [name] => *name,
        };
        if !self.upcheck() {
            return;
        }
        match self.call_or_fault("supervisor.getProcessInfo", &[Value::str(name)]) {
            None => {}
            Some(Ok(info)) if field(&info, "statename") == "RUNNING" => {
                say("==> Press Ctrl-C to exit <==");
                self.foreground(name);
            }
            Some(Ok(_)) => self.error("ERROR: process not running"),
            Some(Err(_)) => self.error("ERROR: bad process name supplied"),
        }
    }

    /// `fg`: stream the output while stdin lines go to the process.
    fn foreground(&mut self, name: &str) {
        // Both channels, each on a connection of its own, as Supervisor does.
        for channel in ["stdout", "stderr"] {
            let path = format!("/logtail/{}/{channel}", percent_encode(name));
            let Some(streamer) = self.new_connection() else {
                return;
            };
            std::thread::spawn(move || {
                let mut out = std::io::stdout();
                let _ = streamer.stream(&path, &mut |data| {
                    out.write_all(data).and_then(|()| out.flush()).is_ok()
                });
            });
        }
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            // Failures here are not reported: they only mean the process is
            // gone, which the state check says.
            let sent = self.call(
                "supervisor.sendProcessStdin",
                &[Value::str(name), Value::String(format!("{line}\n"))],
            );
            let running = matches!(
                self.call("supervisor.getProcessInfo", &[Value::str(name)]),
                Ok(Ok(ref info)) if field(info, "statename") == "RUNNING"
            );
            if !running || matches!(sent, Ok(Err(ref f)) if f.code == faults::NOT_RUNNING) {
                say("Process got killed");
                break;
            }
        }
        say("Exiting foreground");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_names_are_percent_encoded() {
        assert_eq!(percent_encode("grp:ga"), "grp:ga");
        assert_eq!(percent_encode("a b"), "a%20b");
    }
}
