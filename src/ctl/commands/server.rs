//! The server itself: reload, shutdown, version and open (spec
//! supervisorctl.md §4).

use std::io::{BufRead, Write};

use super::{say, Session};
use crate::ctl::exit;
use crate::ctl::transport::TransportError;
use crate::xmlrpc::faults;

impl Session {
    pub(super) fn reload_or_shutdown(&mut self, args: &[&str], reload: bool) {
        let name = if reload { "reload" } else { "shutdown" };
        if !args.is_empty() {
            return self.usage_error(&format!("Error: {name} accepts no arguments"), name);
        }
        if self.interactive {
            let question = if reload {
                "Really restart the remote supervisord process y/N? "
            } else {
                "Really shut the remote supervisord process down y/N? "
            };
            print!("{question}");
            let _ = std::io::stdout().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            if !answer.starts_with(['y', 'Y']) {
                return;
            }
        }
        let method = if reload {
            "supervisor.restart"
        } else {
            "supervisor.shutdown"
        };
        // A server that is not there may have gone already: shutdown says
        // so in words of its own; reload reports it as any other error, as
        // Supervisor does.
        match self.call(method, &[]) {
            Ok(Ok(_)) => say(if reload {
                "Restarted supervisord"
            } else {
                "Shut down"
            }),
            Ok(Err(f)) if f.code == faults::SHUTDOWN_STATE => {
                say("ERROR: already shutting down");
                if reload {
                    self.exit_status = exit::ERROR;
                }
            }
            Ok(Err(f)) => self.report_fault(&f),
            Err(TransportError::Refused) if !reload => self.error(&format!(
                "ERROR: {} refused connection (already shut down?)",
                self.url()
            )),
            Err(TransportError::NoSuchFile) if !reload => self.error(&format!(
                "ERROR: {} no such file (already shut down?)",
                self.url()
            )),
            Err(e) => self.report_transport_error(&e),
        }
    }

    pub(super) fn version(&mut self, args: &[&str]) {
        if !args.is_empty() {
            return self.usage_error("Error: version accepts no arguments", "version");
        }
        if !self.upcheck() {
            return;
        }
        if let Some(version) = self.call_or_report("supervisor.getSupervisorVersion", &[]) {
            say(version.as_str().unwrap_or(""));
        }
    }

    /// Switch to another server and show its status; the exit status from
    /// before is kept.
    pub(super) fn open(&mut self, args: &[&str]) {
        let Some(&url) = args.first() else {
            return self.usage_error("Error: open requires a url", "open");
        };
        if !(url.starts_with("unix://") || url.starts_with("http://")) {
            return self.error("ERROR: url must be http:// or unix://");
        }
        match self.switch_server(url) {
            Ok(()) => {
                let kept = self.exit_status;
                self.status(&[]);
                self.exit_status = kept;
            }
            Err(msg) => self.error(&format!("error: {msg}")),
        }
    }
}
