//! supervisorctl's commands, with Supervisor's output lines and exit codes
//! (spec supervisorctl.md §3–§4).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use super::exit;
use super::transport::{Transport, TransportError};
use crate::namespec::{self, Namespec};
use crate::xmlrpc::{faults, Fault, Value};

/// A connection to one supervisord and the exit status so far ("last
/// assignment wins", as in Supervisor).
pub struct Session {
    transport: Transport,
    username: Option<String>,
    password: Option<String>,
    pub exit_status: i32,
    pub interactive: bool,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
    /// The last command met an HTTP 401.
    unauthorized: bool,
}

type Reply = Result<Result<Value, Fault>, TransportError>;

pub const COMMANDS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version",
];

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn field<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn int_field(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_int).unwrap_or(0)
}

impl Session {
    pub fn new(
        serverurl: &str,
        username: Option<&str>,
        password: Option<&str>,
        prompt: String,
        interactive: bool,
    ) -> Result<Session, String> {
        Ok(Session {
            transport: Transport::new(serverurl, username, password)?,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
            exit_status: exit::OK,
            interactive,
            prompt,
            history_file: None,
            unauthorized: false,
        })
    }

    /// A call whose every failure is reported the generic way: its value,
    /// or `None` once the fault or transport error has been reported (and
    /// has set the exit status).
    fn call_or_report(&mut self, method: &str, params: &[Value]) -> Option<Value> {
        match self.call_or_fault(method, params)? {
            Ok(value) => Some(value),
            Err(fault) => {
                self.report_fault(&fault);
                None
            }
        }
    }

    /// A call whose faults the command answers itself: its value or fault,
    /// or `None` once a transport error has been reported.
    fn call_or_fault(&mut self, method: &str, params: &[Value]) -> Option<Result<Value, Fault>> {
        match self.transport.call(method, params) {
            Ok(reply) => Some(reply),
            Err(e) => {
                self.report_transport_error(&e);
                None
            }
        }
    }

    /// The raw reply, for the few calls that word transport errors their own
    /// way (shutdown, reload) or whose failure only means "not known" (fg's
    /// state checks, update's list of active groups).
    fn call(&mut self, method: &str, params: &[Value]) -> Reply {
        self.transport.call(method, params)
    }

    /// Report a transport problem as Supervisor does (with our readable
    /// error line instead of a Python class name and source location).
    fn report_transport_error(&mut self, e: &TransportError) {
        let url = self.transport.url().to_string();
        match e {
            TransportError::Refused => say(&format!("{url} refused connection")),
            TransportError::NoSuchFile => say(&format!("{url} no such file")),
            TransportError::Unauthorized => {
                say("Server requires authentication");
                self.unauthorized = true;
            }
            TransportError::Http(code) => say(&format!("error: {url}/RPC2 answered HTTP {code}")),
            TransportError::Io(text) => say(&format!("error: {url}: {text}")),
            TransportError::Protocol(text) => say(&format!("error: {url}: {text}")),
        }
        self.exit_status = match e {
            TransportError::Refused => exit::REFUSED,
            TransportError::NoSuchFile => exit::NOT_RUNNING,
            _ => exit::ERROR,
        };
    }

    /// A fault the command has no words of its own for.
    fn report_fault(&mut self, fault: &Fault) {
        self.error(&format!("error: {}", fault.string));
    }

    /// Print a line that reports a failure and set the generic error status.
    fn error(&mut self, line: &str) {
        say(line);
        self.exit_status = exit::ERROR;
    }

    /// `getVersion` before a command: false (and a message) when the server
    /// cannot be used.
    fn upcheck(&mut self) -> bool {
        let version = match self.call_or_fault("supervisor.getVersion", &[]) {
            None => return false,
            Some(Ok(version)) => version,
            Some(Err(f)) if f.code == faults::UNKNOWN_METHOD => {
                say(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace \
                     commands that supervisorctl uses to control it.  Please check that the \
                     [rpcinterface:supervisor] section is enabled in the configuration file.",
                );
                self.exit_status = exit::NO_RPC_INTERFACE;
                return false;
            }
            Some(Err(f)) => {
                self.report_fault(&f);
                return false;
            }
        };
        if version.as_str() == Some("3.0") {
            return true;
        }
        say(&format!(
            "Sorry, this version of supervisorctl expects to talk to a server with API \
             version 3.0, but the remote version is {}.",
            version.as_str().unwrap_or("?")
        ));
        self.exit_status = exit::API_MISMATCH;
        false
    }

    /// Run one command line; sets `exit_status`. Returns false to leave the
    /// shell. In the interactive shell a 401 asks for credentials and runs
    /// the line again, until they are accepted or the user gives up.
    pub fn run_line(&mut self, line: &str) -> bool {
        loop {
            self.unauthorized = false;
            let go_on = self.run_line_once(line);
            if !(self.unauthorized && self.interactive && std::io::stdin().is_terminal()) {
                return go_on;
            }
            let Some((username, password)) = ask_credentials() else {
                return go_on;
            };
            self.transport
                .set_credentials(Some(&username), Some(&password));
            self.username = Some(username);
            self.password = Some(password);
        }
    }

    fn run_line_once(&mut self, line: &str) -> bool {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some((&command, args)) = words.split_first() else {
            return true;
        };
        match command {
            "status" => self.status(args),
            "start" => self.start(args),
            "stop" => self.stop(args),
            "restart" => {
                if args.is_empty() {
                    self.usage_error("Error: restart requires a process name", "restart");
                } else {
                    self.stop(args);
                    self.start(args);
                }
            }
            "signal" => self.signal(args),
            "pid" => self.pid(args),
            "tail" => self.tail(args),
            "maintail" => self.maintail(args),
            "clear" => self.clear(args),
            "avail" => self.avail(args),
            "reread" => self.reread(args),
            "update" => self.update(args),
            "add" => self.add(args),
            "remove" => self.remove(args),
            "reload" => self.reload_or_shutdown(args, true),
            "shutdown" => self.reload_or_shutdown(args, false),
            "version" => self.version(args),
            "open" => self.open(args),
            "fg" => self.fg(args),
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
        say(help_text(topic));
        self.exit_status = exit::ERROR;
    }

    fn status(&mut self, args: &[&str]) {
        if !self.upcheck() {
            // `status` reports an unusable server as 4 (generic errors stay 1).
            if self.exit_status != exit::ERROR {
                self.exit_status = exit::STATUS_UNKNOWN;
            }
            return;
        }
        let Some(infos) = self.call_or_report("supervisor.getAllProcessInfo", &[]) else {
            return;
        };
        let Value::Array(infos) = infos else {
            return self.report_fault(&Fault::new(faults::FAILED, "bad answer"));
        };
        let mut shown: Vec<&Value> = Vec::new();
        let mut status = exit::OK;
        if args.is_empty() || args.contains(&"all") {
            shown.extend(infos.iter());
        } else {
            for &arg in args {
                let matches: Vec<&Value> = match Namespec::parse(arg) {
                    Namespec::Group(group) => {
                        let m: Vec<&Value> = infos
                            .iter()
                            .filter(|i| field(i, "group") == group)
                            .collect();
                        if m.is_empty() {
                            say(&format!("{group}: ERROR (no such group)"));
                            status = exit::STATUS_UNKNOWN;
                        }
                        m
                    }
                    Namespec::Process { group, name } => {
                        let m: Vec<&Value> = infos
                            .iter()
                            .filter(|i| field(i, "group") == group && field(i, "name") == name)
                            .collect();
                        if m.is_empty() {
                            say(&format!("{arg}: ERROR (no such process)"));
                            status = exit::STATUS_UNKNOWN;
                        }
                        m
                    }
                };
                shown.extend(matches);
            }
        }
        let names: Vec<String> = shown
            .iter()
            .map(|i| namespec::format(field(i, "group"), field(i, "name")))
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0).max(30) + 3;
        for (info, name) in shown.iter().zip(&names) {
            let state = field(info, "statename");
            say(&format!(
                "{name:<width$}{state:<10}{}",
                field(info, "description")
            ));
            if matches!(state, "STOPPED" | "EXITED" | "FATAL" | "UNKNOWN") && status == exit::OK {
                status = exit::STATUS_NOT_RUNNING;
            }
        }
        self.exit_status = status;
    }

    /// start/stop/signal result lines (§4): a result struct or a fault.
    fn result_line(&mut self, ns: &str, code: i32, description: &str, verb: &str, ignored: i32) {
        let text = match code {
            faults::SUCCESS => format!("{ns}: {verb}"),
            faults::BAD_NAME => format!("{ns}: ERROR (no such process)"),
            faults::NO_FILE => format!("{ns}: ERROR (no such file)"),
            faults::NOT_EXECUTABLE => format!("{ns}: ERROR (file is not executable)"),
            faults::ALREADY_STARTED => format!("{ns}: ERROR (already started)"),
            faults::SPAWN_ERROR => format!("{ns}: ERROR (spawn error)"),
            faults::ABNORMAL_TERMINATION => format!("{ns}: ERROR (abnormal termination)"),
            faults::NOT_RUNNING => format!("{ns}: ERROR (not running)"),
            faults::BAD_SIGNAL => format!("{ns}: ERROR (bad signal name)"),
            faults::FAILED => description.to_string(),
            other => format!("Unknown result code {other} for {ns}"),
        };
        say(&text);
        if code == faults::SUCCESS || code == ignored {
            return;
        }
        self.exit_status = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::ERROR,
        };
    }

    fn results(&mut self, results: &[Value], verb: &str, ignored: i32) {
        for r in results {
            let ns = namespec::format(field(r, "group"), field(r, "name"));
            let code = int_field(r, "status") as i32;
            self.result_line(&ns, code, field(r, "description"), verb, ignored);
        }
    }

    /// Shared shape of start, stop and signal over names, groups and `all`.
    fn act(&mut self, args: &[&str], kind: Act) {
        let (all_method, group_method, one_method, verb, ignored) = match kind {
            Act::Start => (
                "startAllProcesses",
                "startProcessGroup",
                "startProcess",
                "started",
                faults::ALREADY_STARTED,
            ),
            Act::Stop => (
                "stopAllProcesses",
                "stopProcessGroup",
                "stopProcess",
                "stopped",
                faults::NOT_RUNNING,
            ),
            Act::Signal => (
                "signalAllProcesses",
                "signalProcessGroup",
                "signalProcess",
                "signalled",
                -1,
            ),
        };
        let (signal, names) = match kind {
            Act::Signal => (Some(args[0]), &args[1..]),
            _ => (None, args),
        };
        let with_signal = |mut params: Vec<Value>| {
            if let Some(sig) = signal {
                params.push(Value::str(sig));
            }
            params
        };
        if names.contains(&"all") {
            let method = format!("supervisor.{all_method}");
            if let Some(results) = self.call_or_report(&method, &with_signal(vec![])) {
                self.results(results.as_array().unwrap_or(&[]), verb, ignored);
            }
            return;
        }
        for &name in names {
            match Namespec::parse(name) {
                Namespec::Group(group) => {
                    let method = format!("supervisor.{group_method}");
                    let params = with_signal(vec![Value::str(group)]);
                    let Some(reply) = self.call_or_fault(&method, &params) else {
                        continue;
                    };
                    match reply {
                        Ok(results) => {
                            self.results(results.as_array().unwrap_or(&[]), verb, ignored)
                        }
                        Err(f) if f.code == faults::BAD_NAME => {
                            say(&format!("{group}: ERROR (no such group)"));
                            self.exit_status = if kind == Act::Start {
                                exit::INVALID_ARGS
                            } else {
                                exit::ERROR
                            };
                        }
                        Err(f) => self.report_fault(&f),
                    }
                }
                Namespec::Process {
                    group,
                    name: process,
                } => {
                    let ns = namespec::format(group, process);
                    let mut params = vec![Value::str(name)];
                    if let Some(sig) = signal {
                        params.push(Value::str(sig));
                    }
                    let method = format!("supervisor.{one_method}");
                    let Some(reply) = self.call_or_fault(&method, &params) else {
                        continue;
                    };
                    match reply {
                        Ok(Value::Array(results)) => self.results(&results, verb, ignored),
                        Ok(_) => self.result_line(&ns, faults::SUCCESS, "", verb, ignored),
                        Err(f) => self.result_line(&ns, f.code, &f.string, verb, ignored),
                    }
                }
            }
        }
    }

    fn start(&mut self, args: &[&str]) {
        if args.is_empty() {
            say("Error: start requires a process name");
            say(help_text("start"));
            self.exit_status = exit::INVALID_ARGS;
            return;
        }
        if self.upcheck() {
            self.act(args, Act::Start);
        }
    }

    fn stop(&mut self, args: &[&str]) {
        if args.is_empty() {
            return self.usage_error("Error: stop requires a process name", "stop");
        }
        if self.upcheck() {
            self.act(args, Act::Stop);
        }
    }

    fn signal(&mut self, args: &[&str]) {
        if args.len() < 2 {
            return self.usage_error(
                "Error: signal requires a signal name and a process name",
                "signal",
            );
        }
        if self.upcheck() {
            self.act(args, Act::Signal);
        }
    }

    fn pid(&mut self, args: &[&str]) {
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
        for &name in args {
            let Some(reply) = self.call_or_fault("supervisor.getProcessInfo", &[Value::str(name)])
            else {
                continue;
            };
            match reply {
                Ok(info) => {
                    let pid = int_field(&info, "pid");
                    say(&pid.to_string());
                    if pid == 0 {
                        self.exit_status = exit::NOT_RUNNING;
                    }
                }
                Err(f) if f.code == faults::BAD_NAME => {
                    self.error(&format!("No such process {name}"));
                }
                Err(f) => self.report_fault(&f),
            }
        }
    }

    fn tail(&mut self, args: &[&str]) {
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
        let channel = if rest.len() >= 2 {
            let c = rest[rest.len() - 1].to_lowercase();
            if c != "stdout" && c != "stderr" {
                return self.error(&format!("Error: bad channel '{}'", rest[rest.len() - 1]));
            }
            c
        } else {
            "stdout".to_string()
        };
        let bytes = match modifier {
            None => Some(1600),
            Some("f") => None,
            Some(n) => match n.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => return self.error(&format!("Error: bad argument -{n}")),
            },
        };
        if !self.upcheck() {
            return;
        }
        match bytes {
            None => self.follow(&format!("/logtail/{}/{channel}", percent_encode(name))),
            Some(n) => {
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
                            faults::FAILED => "unknown error reading log",
                            faults::BAD_NAME => "no such process name",
                            _ => "unknown error reading log",
                        };
                        self.error(&format!("{name}: ERROR ({why})"));
                    }
                }
            }
        }
    }

    /// `tail -f` / `maintail -f`: stream until Ctrl-C or the server ends it.
    fn follow(&mut self, path: &str) {
        say("==> Press Ctrl-C to exit <==");
        let mut out = std::io::stdout();
        let result = self.transport.stream(path, &mut |data| {
            out.write_all(data).and_then(|()| out.flush()).is_ok()
        });
        let code = match &result {
            Ok(()) => return,
            Err(TransportError::Http(code)) => code.to_string(),
            Err(TransportError::Unauthorized) => "401".to_string(),
            Err(other) => format!("{other:?}"),
        };
        eprintln!(
            "{}{path} Cannot read, status code {code}",
            self.transport.url()
        );
    }

    fn maintail(&mut self, args: &[&str]) {
        if args.len() > 1 {
            return self.usage_error("Error: too many arguments", "maintail");
        }
        let bytes = match args.first() {
            None => Some(1600),
            Some(&"-f") => None,
            Some(arg) => match arg.strip_prefix('-').and_then(|n| n.parse::<i64>().ok()) {
                Some(n) => Some(n),
                None => return self.error(&format!("Error: bad argument {arg}")),
            },
        };
        if !self.upcheck() {
            return;
        }
        match bytes {
            None => self.follow("/mainlogtail"),
            Some(n) => {
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
        }
    }

    fn clear(&mut self, args: &[&str]) {
        if args.is_empty() {
            return self.usage_error("Error: clear requires a process name", "clear");
        }
        if !self.upcheck() {
            return;
        }
        let clear_line = |s: &mut Session, ns: &str, code: i32| match code {
            faults::SUCCESS => say(&format!("{ns}: cleared")),
            faults::BAD_NAME => s.error(&format!("{ns}: ERROR (no such process)")),
            _ => s.error(&format!("{ns}: ERROR (failed)")),
        };
        if args.contains(&"all") {
            if let Some(results) = self.call_or_report("supervisor.clearAllProcessLogs", &[]) {
                for r in results.as_array().unwrap_or(&[]) {
                    let ns = namespec::format(field(r, "group"), field(r, "name"));
                    clear_line(self, &ns, int_field(r, "status") as i32);
                }
            }
            return;
        }
        for &name in args {
            match self.call_or_fault("supervisor.clearProcessLogs", &[Value::str(name)]) {
                None => {}
                Some(Ok(_)) => clear_line(self, name, faults::SUCCESS),
                Some(Err(f)) => clear_line(self, name, f.code),
            }
        }
    }

    fn avail(&mut self, args: &[&str]) {
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

    /// reloadConfig's `[[added, changed, removed]]`.
    fn reload_config(&mut self) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
        let outer = match self.call_or_fault("supervisor.reloadConfig", &[])? {
            Ok(Value::Array(outer)) => outer,
            Ok(_) => return None,
            Err(f) if f.code == faults::SHUTDOWN_STATE => {
                self.error("ERROR: supervisor shutting down");
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
        Some((names(0), names(1), names(2)))
    }

    fn reread(&mut self, args: &[&str]) {
        if !args.is_empty() {
            return self.usage_error("Error: reread accepts no arguments", "reread");
        }
        let Some((added, changed, removed)) = self.reload_config() else {
            return;
        };
        let mut lines: Vec<(String, &str)> = Vec::new();
        lines.extend(added.into_iter().map(|g| (g, "available")));
        lines.extend(changed.into_iter().map(|g| (g, "changed")));
        lines.extend(removed.into_iter().map(|g| (g, "disappeared")));
        if lines.is_empty() {
            say("No config updates to processes");
        }
        lines.sort();
        for (group, what) in lines {
            say(&format!("{group}: {what}"));
        }
    }

    fn update(&mut self, args: &[&str]) {
        let Some((added, changed, removed)) = self.reload_config() else {
            return;
        };
        let wanted: Option<Vec<&str>> =
            (!args.is_empty() && !args.contains(&"all")).then(|| args.to_vec());
        if let Some(wanted) = &wanted {
            let active: Vec<String> = match self.call("supervisor.getAllProcessInfo", &[]) {
                Ok(Ok(Value::Array(infos))) => infos
                    .iter()
                    .map(|i| field(i, "group").to_string())
                    .collect(),
                _ => Vec::new(),
            };
            for g in wanted {
                if !active.iter().any(|a| a == g) && !added.iter().any(|a| a == g) {
                    self.error(&format!("ERROR: no such group: {g}"));
                }
            }
        }
        let included = |g: &String| wanted.as_ref().is_none_or(|w| w.contains(&g.as_str()));
        for group in removed.iter().filter(|g| included(g)) {
            if self.stop_group_for_update(group)
                && self
                    .call_or_report("supervisor.removeProcessGroup", &[Value::str(group)])
                    .is_some()
            {
                say(&format!("{group}: removed process group"));
            }
        }
        for group in changed.iter().filter(|g| included(g)) {
            if self.stop_group_for_update(group) {
                let _ = self.call("supervisor.removeProcessGroup", &[Value::str(group)]);
                let params = [Value::str(group)];
                if self
                    .call_or_report("supervisor.addProcessGroup", &params)
                    .is_some()
                {
                    say(&format!("{group}: updated process group"));
                }
            }
        }
        for group in added.iter().filter(|g| included(g)) {
            let params = [Value::str(group)];
            if self
                .call_or_report("supervisor.addProcessGroup", &params)
                .is_some()
            {
                say(&format!("{group}: added process group"));
            }
        }
    }

    /// Stop a group before removing it; false when something failed.
    fn stop_group_for_update(&mut self, group: &str) -> bool {
        let Some(value) = self.call_or_report("supervisor.stopProcessGroup", &[Value::str(group)])
        else {
            return false;
        };
        let results = value.as_array().unwrap_or(&[]);
        if results
            .iter()
            .any(|r| int_field(r, "status") as i32 == faults::FAILED)
        {
            self.error(&format!("{group}: has problems; not removing"));
            return false;
        }
        say(&format!("{group}: stopped"));
        true
    }

    fn add(&mut self, args: &[&str]) {
        for &group in args {
            match self.call_or_fault("supervisor.addProcessGroup", &[Value::str(group)]) {
                None => {}
                Some(Ok(_)) => say(&format!("{group}: added process group")),
                Some(Err(f)) => match f.code {
                    faults::BAD_NAME => {
                        self.error(&format!("ERROR: no such process/group: {group}"))
                    }
                    faults::ALREADY_ADDED => say("ERROR: process group already active"),
                    faults::SHUTDOWN_STATE => self.error("ERROR: shutting down"),
                    _ => self.report_fault(&f),
                },
            }
        }
    }

    fn remove(&mut self, args: &[&str]) {
        for &group in args {
            match self.call_or_fault("supervisor.removeProcessGroup", &[Value::str(group)]) {
                None => {}
                Some(Ok(_)) => say(&format!("{group}: removed process group")),
                Some(Err(f)) => match f.code {
                    faults::STILL_RUNNING => {
                        self.error(&format!("ERROR: process/group still running: {group}"))
                    }
                    faults::BAD_NAME => {
                        self.error(&format!("ERROR: no such process/group: {group}"))
                    }
                    _ => self.report_fault(&f),
                },
            }
        }
    }

    fn reload_or_shutdown(&mut self, args: &[&str], reload: bool) {
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
            Err(TransportError::Refused) => self.error(&format!(
                "ERROR: {} refused connection (already shut down?)",
                self.transport.url()
            )),
            Err(TransportError::NoSuchFile) => self.error(&format!(
                "ERROR: {} no such file (already shut down?)",
                self.transport.url()
            )),
            Err(e) => self.report_transport_error(&e),
        }
    }

    fn version(&mut self, args: &[&str]) {
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

    fn open(&mut self, args: &[&str]) {
        let Some(&url) = args.first() else {
            return self.usage_error("Error: open requires a url", "open");
        };
        if !(url.starts_with("unix://") || url.starts_with("http://")) {
            return self.error("ERROR: url must be http:// or unix://");
        }
        match Transport::new(url, None, None) {
            Ok(t) => {
                self.transport = t;
                let kept = self.exit_status;
                self.status(&[]);
                self.exit_status = kept;
            }
            Err(msg) => self.error(&format!("error: {msg}")),
        }
    }

    fn fg(&mut self, args: &[&str]) {
        match args {
            [] => self.usage_error("ERROR: no process name supplied", "fg"),
            [_, _, ..] => self.usage_error("ERROR: too many process names supplied", "fg"),
            [name] => {
                if !self.upcheck() {
                    return;
                }
                match self.call_or_fault("supervisor.getProcessInfo", &[Value::str(*name)]) {
                    None => {}
                    Some(Ok(info)) if field(&info, "statename") == "RUNNING" => {
                        say("==> Press Ctrl-C to exit <==");
                        self.follow_foreground(name);
                    }
                    Some(Ok(_)) => self.error("ERROR: process not running"),
                    Some(Err(_)) => self.error("ERROR: bad process name supplied"),
                }
            }
        }
    }

    /// `fg`: stream stdout while stdin lines go to the process.
    fn follow_foreground(&mut self, name: &str) {
        // Both channels, each on a connection of its own, as Supervisor does.
        for channel in ["stdout", "stderr"] {
            let path = format!("/logtail/{}/{channel}", percent_encode(name));
            let Some(streamer) = self.completion_transport() else {
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

    fn help(&mut self, args: &[&str]) {
        match args.first() {
            None => {
                say("");
                say("default commands (type help <topic>):");
                say("=====================================");
                for row in help_table() {
                    say(&row);
                }
                say("");
            }
            Some(&"help") => {
                say("help\t\tPrint a list of available actions");
                say("help <action>\tPrint help for <action>");
            }
            Some(topic) if COMMANDS.contains(topic) => say(help_text(topic)),
            Some(topic) => say(&format!("*** No help on {topic}")),
        }
    }

    /// The interactive shell (see [`super::shell`]).
    pub fn shell(&mut self) -> i32 {
        super::shell::run(self)
    }

    /// The shell starts by showing the status.
    pub fn status_for_shell(&mut self) {
        self.status(&[]);
    }

    /// A second connection for tab completion, with the same credentials.
    pub fn completion_transport(&self) -> Option<Transport> {
        Transport::new(
            self.transport.url(),
            self.username.as_deref(),
            self.password.as_deref(),
        )
        .ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Start,
    Stop,
    Signal,
}

/// `Username:` (echoed) and `Password:` (not echoed) from the terminal; an
/// empty line after, as Supervisor prints. `None` on EOF or Ctrl-C.
fn ask_credentials() -> Option<(String, String)> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    print!("Username:");
    let _ = std::io::stdout().flush();
    let mut username = String::new();
    if stdin.lock().read_line(&mut username).ok()? == 0 {
        return None;
    }
    print!("Password:");
    let _ = std::io::stdout().flush();
    let saved = tcgetattr(&stdin).ok();
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &quiet);
    }
    let mut password = String::new();
    let read = stdin.lock().read_line(&mut password);
    if let Some(saved) = &saved {
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, saved);
    }
    say("");
    if read.ok()? == 0 {
        return None;
    }
    Some((
        username.trim_end_matches(['\n', '\r']).to_string(),
        password.trim_end_matches(['\n', '\r']).to_string(),
    ))
}

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

/// The command names in columns, as Python's cmd module lays them out:
/// column-major, the fewest rows that fit 79 characters.
fn help_table() -> Vec<String> {
    let names = COMMANDS;
    for rows in 1..=names.len() {
        let columns = names.len().div_ceil(rows);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                (0..rows)
                    .filter_map(|r| names.get(c * rows + r))
                    .map(|n| n.len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total: usize = widths.iter().sum::<usize>() + 2 * (columns.saturating_sub(1));
        if total <= 79 {
            return (0..rows)
                .map(|r| {
                    // Every present column is padded to its width, the last one too.
                    let cells: Vec<String> = widths
                        .iter()
                        .enumerate()
                        .filter_map(|(c, width)| {
                            names.get(c * rows + r).map(|n| format!("{n:<width$}"))
                        })
                        .collect();
                    cells.join("  ")
                })
                .collect();
        }
    }
    vec![names.join("  ")]
}

fn help_text(topic: &str) -> &'static str {
    match topic {
        "start" => "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes",
        "stop" => "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes",
        "restart" => "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update.",
        "signal" => "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes or groups\nsignal <signal name> all\t\tSignal all processes",
        "status" => "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\nstatus <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info",
        "pid" => "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\npid all\t\t\tGet the PID of every child process, one per line.",
        "tail" => "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr",
        "maintail" => "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main log file\nmaintail\tlast 1600 *bytes* of supervisor main log file",
        "clear" => "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "update" => "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate all\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate <gname> [...]\tUpdate specific groups",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        "open" => "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)",
        "quit" => "quit\tExit the supervisor shell.",
        "exit" => "exit\tExit the supervisor shell.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_table_matches_supervisors_layout() {
        // Captured from Python supervisorctl 4.3.0 `help` (trailing spaces included).
        assert_eq!(
            help_table(),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }

    #[test]
    fn streaming_names_are_percent_encoded() {
        assert_eq!(percent_encode("grp:ga"), "grp:ga");
        assert_eq!(percent_encode("a b"), "a%20b");
    }
}
