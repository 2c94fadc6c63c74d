//! A supervisorctl session: the connection to one supervisord, the exit
//! status so far, and the one way replies, faults and transport errors are
//! turned into Supervisor's lines and exit codes (spec supervisorctl.md
//! §2–§3). What each command does is in [`super::commands`].

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use super::exit;
use super::transport::{Cancel, Transport, TransportError};
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
    /// Said on stderr (once) when the server cannot be reached: set when no
    /// config file was found, so the user learns where we looked.
    pub hint: Option<String>,
}

type Reply = Result<Result<Value, Fault>, TransportError>;

/// Lines that each end in a newline, in one write: a table of a thousand
/// processes is one system call instead of a thousand.
pub(super) fn say_lines(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One line to stdout. A closed pipe (`| head`) is not worth a panic.
pub(super) fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
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
            hint: None,
        })
    }

    /// Run one command line; sets `exit_status`. Returns false to leave the
    /// shell. In the interactive shell a 401 asks for credentials and runs
    /// the line again, until they are accepted or the user gives up.
    pub fn run_line(&mut self, line: &str) -> bool {
        loop {
            self.unauthorized = false;
            let go_on = self.run_command(line);
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

    /// The interactive shell (see [`super::shell`]).
    pub fn shell(&mut self) -> i32 {
        super::shell::run(self)
    }

    /// A new connection to the same server with the same credentials, for
    /// tab completion and `fg`'s streams.
    pub fn new_connection(&self) -> Option<Transport> {
        Transport::new(
            self.transport.url(),
            self.username.as_deref(),
            self.password.as_deref(),
        )
        .ok()
    }

    /// The server URL as given, for messages.
    pub(super) fn url(&self) -> &str {
        self.transport.url()
    }

    /// `open`: talk to another server from now on, with the session's
    /// credentials, as Supervisor does (it keeps them for any server).
    pub(super) fn switch_server(&mut self, url: &str) -> Result<(), String> {
        self.transport = Transport::new(url, self.username.as_deref(), self.password.as_deref())?;
        Ok(())
    }

    /// Stream `path` to `on_data` (see [`Transport::stream`]).
    pub(super) fn stream(
        &self,
        path: &str,
        cancel: &Cancel,
        on_data: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), TransportError> {
        self.transport.stream(path, cancel, on_data)
    }

    /// A call whose every failure is reported the generic way: its value,
    /// or `None` once the fault or transport error has been reported (and
    /// has set the exit status).
    pub(super) fn call_or_report(&mut self, method: &str, params: &[Value]) -> Option<Value> {
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
    pub(super) fn call_or_fault(
        &mut self,
        method: &str,
        params: &[Value],
    ) -> Option<Result<Value, Fault>> {
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
    pub(super) fn call(&mut self, method: &str, params: &[Value]) -> Reply {
        self.transport.call(method, params)
    }

    /// Report a transport problem as Supervisor does outside the upcheck:
    /// as an unexpected error (with our readable error line instead of a
    /// Python class name and source location), exit status 1. Only the
    /// upcheck words a refused connection or a missing socket its own way
    /// (see [`Session::upcheck`]); commands without one (avail, reread,
    /// update, add, remove, reload) report them like any other error.
    pub(super) fn report_transport_error(&mut self, e: &TransportError) {
        if !matches!(e, TransportError::Unauthorized) {
            self.say_hint();
        }
        let url = self.transport.url().to_string();
        let os_error = |errno: nix::errno::Errno| std::io::Error::from_raw_os_error(errno as i32);
        match e {
            TransportError::Refused => say(&format!(
                "error: {url}: {}",
                os_error(nix::errno::Errno::ECONNREFUSED)
            )),
            TransportError::NoSuchFile => say(&format!(
                "error: {url}: {}",
                os_error(nix::errno::Errno::ENOENT)
            )),
            TransportError::Unauthorized => {
                say("Server requires authentication");
                self.unauthorized = true;
            }
            TransportError::Http(code) => say(&format!("error: {url}/RPC2 answered HTTP {code}")),
            TransportError::Io(text) => say(&format!("error: {url}: {text}")),
            TransportError::Protocol(text) => say(&format!("error: {url}: {text}")),
        }
        self.exit_status = exit::ERROR;
    }

    /// The hint goes to stderr, so scripts reading stdout see what Python's
    /// supervisorctl prints.
    fn say_hint(&mut self) {
        if let Some(hint) = self.hint.take() {
            eprintln!("{hint}");
        }
    }

    /// A fault the command has no words of its own for.
    pub(super) fn report_fault(&mut self, fault: &Fault) {
        self.error(&format!("error: {}", fault.string));
    }

    /// Print a line that reports a failure and set the generic error status.
    pub(super) fn error(&mut self, line: &str) {
        say(line);
        self.exit_status = exit::ERROR;
    }

    /// `getVersion` before a command: false (and a message) when the server
    /// cannot be used.
    pub(super) fn upcheck(&mut self) -> bool {
        let reply = self.transport.call("supervisor.getVersion", &[]);
        self.check_version(reply)
    }

    /// The upcheck and then `method` (without parameters) in one round
    /// trip, a `system.multicall`: half the exchanges for `status`, the
    /// command scripts and probes run most. The value of `method`, or
    /// `None` once a problem has been reported, with the upcheck's words
    /// for the server's. A server that refuses the multicall gets the two
    /// calls one after the other.
    pub(super) fn upcheck_and_call(&mut self, method: &str) -> Option<Value> {
        let call = |name: &str| {
            Value::structure([
                ("methodName", Value::str(name)),
                ("params", Value::Array(Vec::new())),
            ])
        };
        let calls = Value::Array(vec![call("supervisor.getVersion"), call(method)]);
        // Supervisor answers a multicall with bare values; a server that
        // wraps each in an array, as the multicall convention elsewhere
        // does, shows it in the version and gets the two calls instead.
        let bare = |results: &[Value]| {
            matches!(results.first(), Some(Value::String(_) | Value::Struct(_)))
        };
        let results = match self.transport.call("system.multicall", &[calls]) {
            Ok(Ok(Value::Array(results))) if results.len() == 2 && bare(&results) => results,
            Err(e) => {
                self.check_version(Err(e));
                return None;
            }
            Ok(_) => {
                return if self.upcheck() {
                    self.call_or_report(method, &[])
                } else {
                    None
                };
            }
        };
        // Each entry is a bare value, or a fault as its struct.
        let mut results = results
            .into_iter()
            .map(|value| match Fault::from_value(&value) {
                Ok(fault) => Err(fault),
                Err(_) => Ok(value),
            });
        let (version, answer) = (results.next()?, results.next()?);
        if !self.check_version(Ok(version)) {
            return None;
        }
        answer.map_err(|fault| self.report_fault(&fault)).ok()
    }

    /// The upcheck's verdict on a `getVersion` reply.
    fn check_version(&mut self, reply: Reply) -> bool {
        let version = match reply {
            Err(TransportError::Refused) => {
                self.say_hint();
                say(&format!("{} refused connection", self.url()));
                self.exit_status = exit::REFUSED;
                return false;
            }
            Err(TransportError::NoSuchFile) => {
                self.say_hint();
                say(&format!("{} no such file", self.url()));
                self.exit_status = exit::NOT_RUNNING;
                return false;
            }
            Err(e) => {
                self.report_transport_error(&e);
                return false;
            }
            Ok(Ok(version)) => version,
            Ok(Err(f)) if f.code == faults::UNKNOWN_METHOD => {
                say(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace \
                     commands that supervisorctl uses to control it.  Please check that the \
                     [rpcinterface:supervisor] section is enabled in the configuration file.",
                );
                self.exit_status = exit::NO_RPC_INTERFACE;
                return false;
            }
            Ok(Err(f)) => {
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
