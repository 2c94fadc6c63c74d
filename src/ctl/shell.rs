//! supervisorctl's interactive shell: line editing, a history file, and
//! completion of commands, group and process names (supervisorctl.md §5).

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use super::commands::COMMANDS;
use super::exit;
use super::session::Session;
use super::transport::Transport;
use crate::xmlrpc::Value;

/// Commands whose arguments are process names, and those taking group names.
const TAKES_PROCESSES: &[&str] = &[
    "clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail",
];
const TAKES_GROUPS: &[&str] = &["add", "remove", "update"];

/// Completion: its own connection, and the process list fetched once per line.
struct Completion {
    transport: RefCell<Option<Transport>>,
    processes: RefCell<Option<Vec<(String, String)>>>,
}

impl Completion {
    /// `(group, name)` of every process, from the server, once per line.
    fn processes(&self) -> Vec<(String, String)> {
        if let Some(cached) = self.processes.borrow().as_ref() {
            return cached.clone();
        }
        let mut fetched = Vec::new();
        if let Some(transport) = self.transport.borrow_mut().as_mut() {
            if let Ok(Ok(Value::Array(infos))) = transport.call("supervisor.getAllProcessInfo", &[])
            {
                for info in &infos {
                    let field = |k| {
                        info.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    fetched.push((field("group"), field("name")));
                }
            }
        }
        *self.processes.borrow_mut() = Some(fetched.clone());
        fetched
    }

    fn candidates(&self, before: &[&str]) -> Vec<String> {
        let commands = || {
            let mut all: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
            all.push("help".into());
            all.sort();
            all
        };
        match before.first() {
            None => commands(),
            Some(&"help") if before.len() == 1 => commands(),
            Some(command) if TAKES_GROUPS.contains(command) => {
                let mut groups: Vec<String> =
                    self.processes().into_iter().map(|(g, _)| g).collect();
                groups.dedup();
                groups
            }
            Some(command) if TAKES_PROCESSES.contains(command) => {
                let processes = self.processes();
                let mut names = Vec::new();
                for (group, name) in &processes {
                    let alone = processes.iter().filter(|(g, _)| g == group).count() == 1;
                    if alone && group == name {
                        names.push(name.clone());
                    } else {
                        names.push(format!("{group}:{name}"));
                        let all = format!("{group}:*");
                        if !names.contains(&all) {
                            names.push(all);
                        }
                    }
                }
                names
            }
            _ => Vec::new(),
        }
    }
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        // `:`, `*` and `-` are part of words; only whitespace separates them.
        let start = line[..pos].rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let prefix = &line[start..pos];
        let before: Vec<&str> = line[..start].split_whitespace().collect();
        let pairs = self
            .candidates(&before)
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .map(|c| Pair {
                display: c.clone(),
                replacement: format!("{c} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// Run the shell on `session` until quit, EOF or Ctrl-C; always exits [`exit::OK`].
pub fn run(session: &mut Session) -> i32 {
    session.status_for_shell();
    let prompt = format!("{}> ", session.prompt);
    if !std::io::stdin().is_terminal() {
        // Piped input: no editing, but the prompts are still written, as
        // Supervisor's shell does. Stdin is locked for each line only: the
        // commands read it too (fg, the questions of reload and shutdown).
        loop {
            print!("{prompt}");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if !session.run_line(line.trim_end_matches(['\n', '\r'])) {
                return exit::OK;
            }
        }
        println!();
        return exit::OK;
    }
    let mut editor: Editor<Completion, DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(_) => return exit::OK,
    };
    editor.set_helper(Some(Completion {
        transport: RefCell::new(session.new_connection()),
        processes: RefCell::new(None),
    }));
    if let Some(file) = &session.history_file {
        let _ = editor.load_history(file);
    }
    loop {
        match editor.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let go_on = session.run_line(&line);
                // Completion asks afresh for the next line, and the server
                // and credentials of now: `open` may have switched servers,
                // a 401 may have brought credentials.
                if let Some(helper) = editor.helper() {
                    *helper.processes.borrow_mut() = None;
                    *helper.transport.borrow_mut() = session.new_connection();
                }
                if !go_on {
                    break;
                }
            }
            // Ctrl-C and Ctrl-D at the prompt both leave, with an empty line.
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => {
                println!();
                break;
            }
            Err(_) => break,
        }
    }
    if let Some(file) = &session.history_file {
        let _ = editor.save_history(file);
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A completer that already knows the server's processes.
    fn knowing(processes: &[(&str, &str)]) -> Completion {
        let known = processes
            .iter()
            .map(|(g, n)| (g.to_string(), n.to_string()))
            .collect();
        Completion {
            transport: RefCell::new(None),
            processes: RefCell::new(Some(known)),
        }
    }

    #[test]
    fn candidates_by_position_and_command() {
        let c = knowing(&[
            ("grp", "ga"),
            ("grp", "gb"),
            ("solo", "other"),
            ("web", "web"),
        ]);
        let commands = c.candidates(&[]);
        assert_eq!(commands.len(), COMMANDS.len() + 1);
        assert!(commands.contains(&"help".to_string()));
        assert_eq!(c.candidates(&["help"]), commands);
        assert!(c.candidates(&["help", "start"]).is_empty());
        // A process goes by its bare name only when it is alone in a group
        // of the same name; otherwise group:name, and group:* once.
        assert_eq!(
            c.candidates(&["start"]),
            ["grp:ga", "grp:*", "grp:gb", "solo:other", "solo:*", "web"]
        );
        assert_eq!(c.candidates(&["stop", "web"]), c.candidates(&["start"]));
        assert_eq!(c.candidates(&["update"]), ["grp", "solo", "web"]);
        assert!(c.candidates(&["version"]).is_empty());
    }
}
