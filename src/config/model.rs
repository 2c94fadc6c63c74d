//! The typed configuration: what the rest of the program reads after loading.
//!
//! Every value here is validated and `%`-expanded; defaults are filled in.

use std::path::PathBuf;

pub use super::datatypes::{AutoRestart, LogLevel, LogTarget, User};
pub use super::lifecycle::{
    Backoff, CheckTarget, Condition, Dependency, HealthCheck, RestartPolicy,
};

/// Everything `supervisord` needs from its config file and command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The config file as the user named it (or as the search found it).
    pub file: PathBuf,
    /// Absolute directory of the config file: `%(here)s`.
    pub here: PathBuf,
    pub supervisord: Supervisord,
    pub unix_servers: Vec<UnixHttpServer>,
    pub inet_servers: Vec<InetHttpServer>,
    /// Whether an `[rpcinterface:x]` names the standard `supervisor.*` namespace.
    pub rpcinterfaces: Vec<RpcInterface>,
    /// Process groups in start order: ascending (priority, name).
    pub groups: Vec<ProcessGroup>,
    /// What loading noticed, to be logged once the main log is open.
    pub messages: Messages,
}

/// Non-fatal findings of the loader, in the order Supervisor logs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Messages {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// Where supervisord's own log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLogTarget {
    /// An absolute path.
    File(PathBuf),
    /// `logfile=syslog`.
    Syslog,
}

/// `[supervisord]` merged with the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervisord {
    pub logfile: MainLogTarget,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    /// Absolute path.
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<User>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    /// Added to every child's environment; a program's own pairs override these.
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    /// Defaults for every program's console options (our extension).
    pub console: Console,
    /// `exit_when_done`: exit once no process runs or will start again
    /// (our extension).
    pub exit_when_done: bool,
    /// `shutdown_timeout`: from the first stop request, gone within this
    /// long, SIGKILLing whatever is left before it runs out (our extension).
    pub shutdown_timeout: Option<std::time::Duration>,
}

/// How output sent to supervisord's own stdout/stderr is written (our
/// extension; Supervisor passes such output through chunk by chunk, so lines
/// of different programs can interleave mid-line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Console {
    /// `console_lines`: write whole lines only; a partial line waits for its
    /// newline (up to a size and time bound).
    pub lines: bool,
    /// `console_prefix`: start each line with `<process name> | `.
    pub prefix: bool,
    /// `console_timestamps`: start each line with the local time, as in the main log.
    pub timestamps: bool,
}

impl Console {
    /// Whether output is assembled into whole lines (any option implies it).
    pub fn whole_lines(self) -> bool {
        self.lines || self.prefix || self.timestamps
    }
}

/// Basic-auth credentials of an HTTP server; the password may be `{SHA}<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// `probes_without_auth=true` (our extension): `/healthz` and `/readyz`
    /// answer without credentials, for probes that cannot send any.
    pub open_probes: bool,
    /// `readonly_username` and `readonly_password` (our extension): a
    /// second login that may view status and logs but change nothing.
    pub readonly: Option<(String, String)>,
}

/// `[unix_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixHttpServer {
    pub section: String,
    /// Absolute path of the socket.
    pub file: PathBuf,
    pub chmod: u32,
    /// uid and optional gid to give the socket.
    pub chown: Option<(u32, Option<u32>)>,
    pub auth: Option<Credentials>,
    /// Our extension: the web UI's actions only by POST from its own page.
    pub refuse_get_actions: bool,
}

/// `[inet_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetHttpServer {
    pub section: String,
    /// Lowercased host; empty means every interface.
    pub host: String,
    pub port: u16,
    pub auth: Option<Credentials>,
    /// Our extension: the web UI's actions only by POST from its own page.
    pub refuse_get_actions: bool,
}

/// An `[rpcinterface:x]` section that names the standard factory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterface {
    pub name: String,
    /// The section's other keys, handed to the interface.
    pub options: Vec<(String, String)>,
}

/// A group of processes started and stopped together.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessGroup {
    pub name: String,
    /// The section that defined it: `program:x`, `group:x` or `eventlistener:x`.
    pub section: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// In the group's order: per program, copies sorted by priority.
    pub processes: Vec<ProcessConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// From `[program:x]` (alone) or `[group:x]` (heterogeneous).
    Programs,
    /// From `[eventlistener:x]`.
    EventListenerPool(ListenerPool),
}

/// Options of an `[eventlistener:x]` pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerPool {
    /// The event types subscribed to, duplicates removed, in the order written.
    pub events: Vec<super::EventType>,
    pub buffer_size: i64,
}

/// One of a child's two output channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub logfile: LogTarget,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// One process (one copy of a program when `numprocs` > 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    pub group: String,
    /// The section it came from, e.g. `program:web`.
    pub section: String,
    /// The expanded `command=` text, split at spawn time.
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    pub exitcodes: Vec<i32>,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<User>,
    pub redirect_stderr: bool,
    pub stdout: Stream,
    pub stderr: Stream,
    /// `[supervisord] environment=` with this program's `environment=` on top.
    pub environment: Vec<(String, String)>,
    /// `serverurl=` unless `AUTO`.
    pub serverurl: Option<String>,
    /// Console options, from the program or else from `[supervisord]`.
    pub console: Console,
    /// The container lifecycle keys (our extension).
    pub lifecycle: Lifecycle,
}

/// A process's container lifecycle options (`config/lifecycle.rs`); the
/// defaults are Supervisor's behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// `essential`: when it ends for good, everything stops and supervisord
    /// exits with its status.
    pub essential: bool,
    pub depends_on: Vec<Dependency>,
    pub healthcheck: Option<HealthCheck>,
    pub restart_when_unhealthy: bool,
    pub restart: RestartPolicy,
}

impl ProcessConfig {
    /// The name clients use: `name` alone when it is its group's name, else `group:name`.
    pub fn namespec(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}:{}", self.group, self.name)
        }
    }
}

/// `[supervisorctl]`, read only by supervisorctl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctl {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
}

impl Default for Ctl {
    fn default() -> Self {
        Ctl {
            serverurl: "http://localhost:9001".to_string(),
            username: None,
            password: None,
            prompt: "supervisor".to_string(),
            history_file: None,
        }
    }
}
