//! Logs and output: tail, maintail, clear and fg (spec supervisorctl.md §4).

use std::io::Write;
use std::time::Duration;

use super::{field, int_field, say, Session};
use crate::ctl::interrupt::{read_stdin, Event, Interrupts};
use crate::ctl::transport::{Cancel, TransportError};
use crate::namespec;
use crate::pyrepr::repr;
use crate::xmlrpc::{faults, Fault, Value};

/// How `fg` ended.
enum Foreground {
    /// The process is not running any more.
    Gone,
    /// End of input, or Ctrl-C.
    Ended,
    /// sendProcessStdin answered a fault other than NOT_RUNNING.
    SendFault(Fault),
    /// An unexpected error, reported.
    Failed,
}

/// Bytes `tail` and `maintail` show without `-N`.
const DEFAULT_BYTES: i64 = 1600;

/// `%`-encode a name for a streaming URL (`:` and the like stay readable to
/// the server, which decodes the path).
fn percent_encode(name: &str) -> String {
    crate::common::percent_encode(name, b"-_.:*")
}

// As in Supervisor, these commands make the upcheck before they look at
// their arguments: with the server down, a usage error is not reported.
impl Session {
    pub(super) fn tail(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
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
                    return self.error(&format!("Error: bad channel {}", repr(&channel)));
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
                    faults::FAILED => "unknown error reading log",
                    _ => return self.report_fault(&f),
                };
                self.error(&format!("{name}: ERROR ({why})"));
            }
        }
    }

    pub(super) fn maintail(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
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
        let Some(n) = bytes else {
            return self.follow("/mainlogtail");
        };
        match self.call_or_fault("supervisor.readLog", &[Value::Int(-n), Value::Int(0)]) {
            None => {}
            Some(Ok(text)) => say(text.as_str().unwrap_or("")),
            Some(Err(f)) => {
                let why = match f.code {
                    faults::NO_FILE => "no log file",
                    faults::FAILED => "unknown error reading log",
                    _ => return self.report_fault(&f),
                };
                self.error(&format!("supervisord: ERROR ({why})"));
            }
        }
    }

    /// `tail -f` / `maintail -f`: stream until Ctrl-C or the server ends it.
    /// Ctrl-C ends the command with an empty line, as in Supervisor.
    fn follow(&mut self, path: &str) {
        say("==> Press Ctrl-C to exit <==");
        let cancel = Cancel::default();
        let on_data = |data: &[u8]| {
            let mut out = std::io::stdout();
            out.write_all(data).and_then(|()| out.flush()).is_ok()
        };
        let Some(mut interrupts) = Interrupts::catch() else {
            let result = self.stream(path, &cancel, &mut { on_data });
            return self.stream_ended(path, result);
        };
        // The stream in a thread of its own; this one waits for Ctrl-C or
        // the end of the stream, whichever comes first.
        let waker = interrupts.waker();
        let session = &*self;
        let (interrupted, result) = std::thread::scope(|scope| {
            let streaming = scope.spawn(|| {
                let result = session.stream(path, &cancel, &mut { on_data });
                let _ = waker.wake();
                result
            });
            let interrupted = loop {
                match interrupts.wait(None) {
                    Some(Event::Interrupted) => break true,
                    Some(Event::Woken) => break false,
                    _ => {}
                }
            };
            if interrupted {
                cancel.cancel();
            }
            (interrupted, streaming.join().unwrap_or(Ok(())))
        });
        drop(interrupts);
        if interrupted {
            say("");
            return;
        }
        self.stream_ended(path, result);
    }

    /// A stream ended by the server: a failure is reported on stderr.
    fn stream_ended(&mut self, path: &str, result: Result<(), TransportError>) {
        let code = match &result {
            Ok(()) => return,
            Err(TransportError::Http(code)) => code.to_string(),
            Err(TransportError::Unauthorized) => "401".to_string(),
            Err(other) => format!("{other:?}"),
        };
        eprintln!("{}{path} Cannot read, status code {code}", self.url());
    }

    pub(super) fn clear(&mut self, args: &[&str]) {
        if !self.upcheck() {
            return;
        }
        if args.is_empty() {
            return self.usage_error("Error: clear requires a process name", "clear");
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
        if !self.upcheck() {
            return;
        }
        let name = match args {
            [] => return self.usage_error("ERROR: no process name supplied", "fg"),
            // Without the help, as in Supervisor.
            [_, _, ..] => return self.error("ERROR: too many process names supplied"),
            [name] => *name,
        };
        match self.call_or_fault("supervisor.getProcessInfo", &[Value::str(name)]) {
            None => {}
            Some(Ok(info)) if field(&info, "statename") == "RUNNING" => {
                say("==> Press Ctrl-C to exit <==");
                self.foreground(name);
            }
            Some(Ok(_)) => self.error("ERROR: process not running"),
            Some(Err(f)) if f.code == faults::BAD_NAME => {
                self.error("ERROR: bad process name supplied")
            }
            // Supervisor prints the fault as Python shows it, and leaves
            // the exit status alone.
            Some(Err(f)) => say(&format!("ERROR: <Fault {}: {}>", f.code, repr(&f.string))),
        }
    }

    /// `fg`: stream the output while stdin lines go to the process, until
    /// the process is gone, end of input or Ctrl-C.
    fn foreground(&mut self, name: &str) {
        // Both channels, each on a connection of its own, as Supervisor does.
        let mut streams = Vec::new();
        for channel in ["stdout", "stderr"] {
            let Some(streamer) = self.new_connection() else {
                return;
            };
            streams.push((
                format!("/logtail/{}/{channel}", percent_encode(name)),
                streamer,
            ));
        }
        let cancel = Cancel::default();
        let mut interrupts = Interrupts::catch();
        let end = std::thread::scope(|scope| {
            for (path, streamer) in streams {
                let cancel = &cancel;
                scope.spawn(move || {
                    let mut out = std::io::stdout();
                    let _ = streamer.stream(&path, cancel, &mut |data| {
                        out.write_all(data).and_then(|()| out.flush()).is_ok()
                    });
                });
            }
            let end = self.forward_stdin(name, interrupts.as_mut());
            // The streams end before the last lines, and before the shell
            // shows its prompt again.
            cancel.cancel();
            end
        });
        drop(interrupts);
        match end {
            Foreground::Gone => say("Process got killed"),
            // Shown as Python shows a fault, as Supervisor does.
            Foreground::SendFault(f) => {
                say(&format!("ERROR: <Fault {}: {}>", f.code, repr(&f.string)))
            }
            Foreground::Ended => {}
            // Reported; Supervisor's fg ends there, without a last line.
            Foreground::Failed => return,
        }
        say("Exiting foreground");
    }

    /// Send each line of stdin to the process, until it is found gone, the
    /// end of input or Ctrl-C, or a failure.
    fn forward_stdin(&mut self, name: &str, mut interrupts: Option<&mut Interrupts>) -> Foreground {
        let watching = interrupts
            .as_deref_mut()
            .is_some_and(Interrupts::watch_stdin);
        let mut pending = Vec::new();
        let mut eof = false;
        loop {
            let mut line = match pending.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let mut line: Vec<u8> = pending.drain(..=i).collect();
                    line.pop();
                    line
                }
                None if eof && pending.is_empty() => return Foreground::Ended,
                None if eof => std::mem::take(&mut pending),
                None => {
                    if let Some(interrupts) = interrupts.as_deref_mut() {
                        // Unwatched stdin (a file) never waits: only look.
                        let timeout = (!watching).then_some(Duration::ZERO);
                        if interrupts.wait(timeout) == Some(Event::Interrupted) {
                            return Foreground::Ended;
                        }
                    }
                    eof = !matches!(read_stdin(&mut pending), Ok(true));
                    if let Some(interrupts) = interrupts.as_deref_mut() {
                        interrupts.rearm_stdin();
                    }
                    continue;
                }
            };
            // Line ends as `BufRead::lines` reads them: `\n` or `\r\n`.
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let mut text = String::from_utf8_lossy(&line).into_owned();
            text.push('\n');
            let params = [Value::str(name), Value::String(text)];
            match self.call_or_fault("supervisor.sendProcessStdin", &params) {
                None => return Foreground::Failed,
                Some(Ok(_)) => {}
                Some(Err(f)) if f.code == faults::NOT_RUNNING => return Foreground::Gone,
                Some(Err(f)) => return Foreground::SendFault(f),
            }
            let info = self.call_or_report("supervisor.getProcessInfo", &[Value::str(name)]);
            match info {
                None => return Foreground::Failed,
                Some(info) if field(&info, "statename") != "RUNNING" => return Foreground::Gone,
                Some(_) => {}
            }
        }
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
