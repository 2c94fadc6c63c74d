//! supervisorctl's commands, with Supervisor's output lines and exit codes
//! (spec supervisorctl.md §3–§4), grouped by topic. Each is a method of
//! [`Session`], which holds the connection and reports failures.

mod config;
mod help;
mod logs;
mod process;
mod server;
mod status;

use super::exit;
use super::session::{say, say_lines, Session};
use crate::xmlrpc::Value;

/// The commands `help` lists and the shell completes (`help` itself aside).
pub const COMMANDS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version",
];

/// A string member of a struct, `""` when missing.
fn field<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An integer member of a struct, 0 when missing.
fn int_field(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_int).unwrap_or(0)
}

impl Session {
    /// Run one command line once. Returns false to leave the shell.
    pub(super) fn run_command(&mut self, line: &str) -> bool {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&command, args)) = words.split_first() else {
            return true;
        };
        match command {
            "status" => self.status(args),
            "pid" => self.pid(args),
            "start" => self.start(args),
            "stop" => self.stop(args),
            "restart" => self.restart(args),
            "signal" => self.signal(args),
            "tail" => self.tail(args),
            "maintail" => self.maintail(args),
            "clear" => self.clear(args),
            "fg" => self.fg(args),
            "avail" => self.avail(args),
            "reread" => self.reread(args),
            "update" => self.update(args),
            "add" => self.add(args),
            "remove" => self.remove(args),
            "reload" => self.reload_or_shutdown(args, true),
            "shutdown" => self.reload_or_shutdown(args, false),
            "version" => self.version(args),
            "open" => self.open(args),
            "help" => self.help(args),
            "quit" | "exit" | "EOF" => {
                say("");
                return false;
            }
            _ => self.error(&format!("*** Unknown syntax: {line}")),
        }
        true
    }

    /// A command's usage error: the message, then the command's help.
    fn usage_error(&mut self, message: &str, topic: &str) {
        say(message);
        say(help::help_text(topic));
        self.exit_status = exit::ERROR;
    }
}
