//! From a config file on disk to the typed [`Config`]: includes, `%(name)s`
//! expansion with exactly the names Supervisor offers each option, datatypes,
//! defaults and cross-section checks.
//!
//! Every error names the file, the section and the key it is about.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::datatypes::{self as dt, LogTarget};
use super::environment;
use super::expand::{self, ExpandError, Names, Value};
use super::include::Includes;
use super::ini::{Document, Entry};
use super::limits::{self, Budget, ReadError, MAX_FILE_BYTES, MAX_PROCESSES};
use super::model::*;
use crate::pyrepr::repr;

/// A fatal configuration error: the text printed after `Error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

type Result<T> = std::result::Result<T, ConfigError>;

/// Values from supervisord's command line; they override the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<PathBuf>,
    pub logfile: Option<PathBuf>,
    pub logfile_maxbytes: Option<i64>,
    pub logfile_backups: Option<i64>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<PathBuf>,
    pub identifier: Option<String>,
    pub childlogdir: Option<PathBuf>,
    pub nocleanup: bool,
    pub minfds: Option<i64>,
    pub strip_ansi: bool,
    pub minprocs: Option<i64>,
}

/// The process environment and host facts the loader expands from. Passed in
/// rather than read globally so tests can pin them.
#[derive(Debug, Clone)]
pub struct Host {
    pub env: Vec<(String, String)>,
    pub node_name: String,
    /// The directory relative `logfile`/`pidfile`/socket paths are made absolute against.
    pub cwd: PathBuf,
}

impl Host {
    /// This process's real environment, host name and working directory.
    pub fn current() -> Host {
        Host {
            env: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            node_name: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every event type name valid in `events=`, abstract parents included.
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_STATE",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
];

/// The only `[rpcinterface:x]` factory there is: Supervisor's own `supervisor.*` API.
pub const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    "console_lines",
    "console_prefix",
    "console_timestamps",
];
const UNIX_SERVER_KEYS: &[&str] = &["file", "chmod", "chown", "username", "password"];
const INET_SERVER_KEYS: &[&str] = &["port", "username", "password"];
const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
const GROUP_KEYS: &[&str] = &["programs", "priority"];
const INCLUDE_KEYS: &[&str] = &["files"];
const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "directory",
    "umask",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "serverurl",
    "console_lines",
    "console_prefix",
    "console_timestamps",
];
const LISTENER_EXTRA_KEYS: &[&str] = &["events", "buffer_size", "result_handler"];
const FCGI_EXTRA_KEYS: &[&str] = &["socket", "socket_owner", "socket_mode", "socket_backlog"];

/// Read `file` (named as the user gave it) with its includes, and build the config.
pub fn load(file: &Path, overrides: &Overrides, host: &Host) -> Result<Config> {
    let text = read_main_file(file)?;
    load_text(file, &text, overrides, host)
}

/// Read the main config file with Supervisor's two error texts; a file that
/// is not a regular one or is too big gets the reason added to the second.
pub fn read_main_file(file: &Path) -> Result<Vec<u8>> {
    limits::read_config_file(file, MAX_FILE_BYTES).map_err(|e| {
        let shown = file.display();
        ConfigError(match e {
            ReadError::Missing => format!("could not find config file {shown}"),
            ReadError::Io(_) => format!("could not read config file {shown}"),
            e => format!(
                "could not read config file {shown}: {}",
                e.explain(MAX_FILE_BYTES, "give -c the path of a config file")
            ),
        })
    })
}

/// Build the config from the main file's contents (`file` names it in messages).
pub fn load_text(file: &Path, text: &[u8], overrides: &Overrides, host: &Host) -> Result<Config> {
    let display = file.to_string_lossy().into_owned();
    let here = absolute(&host.cwd, file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let here_str = here.to_string_lossy().into_owned();

    let mut doc = Document::new();
    doc.read(&display, text, None)
        .map_err(|e| ConfigError(e.to_string()))?;

    let mut messages = Messages::default();
    let mut env_names: Names = host
        .env
        .iter()
        .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v.clone())))
        .collect();

    let budget = Budget::default();
    let includes = Includes {
        here: &here,
        here_str: &here_str,
        host,
        budget: &budget,
        read: text.len() as u64,
    };
    includes.read(&mut doc, &env_names, &mut messages)?;

    if doc.section("supervisord").is_none() {
        return Err(ConfigError(
            ".ini file does not include supervisord section".into(),
        ));
    }
    let loader = Loader {
        doc: &doc,
        main_file: &display,
        here: &here_str,
        host,
        budget: &budget,
        processes: Cell::new(0),
    };
    loader.warn_about_unknowns(&mut messages);

    let supervisord = loader.supervisord(overrides, &mut env_names)?;
    let rpcinterfaces = loader.rpcinterfaces(&env_names, &mut messages)?;
    let groups = loader.process_groups(&env_names, &supervisord, &mut messages)?;
    let (inet_servers, unix_servers) = loader.servers(&env_names)?;

    Ok(Config {
        file: file.to_path_buf(),
        here,
        supervisord,
        unix_servers,
        inet_servers,
        rpcinterfaces,
        groups,
        messages,
    })
}

/// Read the `[supervisorctl]` section of `file` as supervisorctl does (no includes).
pub fn load_ctl(file: &Path, host: &Host) -> Result<Ctl> {
    let text = read_main_file(file)?;
    let display = file.to_string_lossy().into_owned();
    let here = absolute(&host.cwd, file)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    let mut doc = Document::new();
    doc.read(&display, &text, None)
        .map_err(|e| ConfigError(e.to_string()))?;
    let env_names: Names = host
        .env
        .iter()
        .map(|(k, v)| (format!("ENV_{k}"), Value::Str(v.clone())))
        .collect();
    let budget = Budget::default();
    let loader = Loader {
        doc: &doc,
        main_file: &display,
        here: &here,
        host,
        budget: &budget,
        processes: Cell::new(0),
    };
    loader.ctl(&env_names)
}

pub(super) fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    // Lexical normalisation like Python's abspath: drop `.`, resolve `..`.
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Supervisor's default temporary directory: the first usable of `$TMPDIR`,
/// `$TEMP`, `$TMP`, then the usual system directories.
fn temp_dir(host: &Host) -> String {
    let candidates = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|v| host.var(v).map(str::to_string))
        .chain(["/tmp", "/var/tmp", "/usr/tmp"].map(String::from));
    for dir in candidates {
        if !dir.is_empty() && Path::new(&dir).is_dir() {
            return dir;
        }
    }
    host.cwd.to_string_lossy().into_owned()
}

/// One section being read: finds keys (with `[DEFAULT]` fallback) and words errors.
pub(super) struct SectionCtx<'a> {
    doc: &'a Document,
    name: &'a str,
    file: &'a str,
    /// What expanded values may still add up to.
    budget: &'a Budget,
}

impl<'a> SectionCtx<'a> {
    pub(super) fn new(doc: &'a Document, name: &'a str, file: &'a str, budget: &'a Budget) -> Self {
        SectionCtx {
            doc,
            name,
            file,
            budget,
        }
    }

    pub(super) fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.doc.get(self.name, key)
    }

    /// An error about this section; with the entry, also its file, line and key.
    pub(super) fn error(&self, entry: Option<&Entry>, message: &str) -> ConfigError {
        ConfigError(match entry {
            Some(e) => format!(
                "{message} in section {} (file: {}, line {}, key {})",
                repr(self.name),
                repr(&e.file),
                e.line,
                repr(&e.key)
            ),
            None => format!(
                "{message} in section {} (file: {})",
                repr(self.name),
                repr(self.file)
            ),
        })
    }

    pub(super) fn expand_entry(
        &self,
        entry: &Entry,
        names: &Names,
        option: &str,
    ) -> Result<String> {
        self.expand_text(&entry.value, Some(entry), names, option)
    }

    fn expand_text(
        &self,
        text: &str,
        entry: Option<&Entry>,
        names: &Names,
        option: &str,
    ) -> Result<String> {
        let limit = limits::MAX_VALUE_BYTES.min(self.budget.left());
        let expanded = expand::expand_within(text, names, limit).map_err(|e| {
            let message = match e {
                ExpandError::TooLong(_) if limit < limits::MAX_VALUE_BYTES => {
                    limits::budget_exhausted()
                }
                ExpandError::TooLong(limit) => format!(
                    "Format string {} for {} expands to more than {}, the most one value may \
                     hold; shorten it or the widths of its %(name) fields",
                    repr(&limits::preview(text)),
                    repr(option),
                    limits::size_text(limit as u64)
                ),
                ExpandError::UnknownName(name) => format!(
                    "Format string {} for {} contains names ({}) which cannot be expanded. \
                     Available names: {}",
                    repr(text),
                    repr(option),
                    repr(&name),
                    names.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                ExpandError::BadFormat(reason) => format!(
                    "Format string {} for {} is badly formatted: {reason}",
                    repr(text),
                    repr(option)
                ),
            };
            self.error(entry, &message)
        })?;
        // Within the limit, so there is enough left.
        self.budget.take(expanded.len());
        Ok(expanded)
    }

    /// Count `bytes` more of this section's values against the budget.
    fn charge(&self, bytes: usize) -> Result<()> {
        if self.budget.take(bytes) {
            Ok(())
        } else {
            Err(self.error(None, &limits::budget_exhausted()))
        }
    }

    /// The expanded value of `key`, or of `default` when the key is absent.
    fn string(&self, key: &str, default: &str, names: &Names) -> Result<String> {
        Ok(self
            .optional(key, names)?
            .unwrap_or_else(|| default.to_string()))
    }

    /// The expanded value of `key`, if present.
    fn optional(&self, key: &str, names: &Names) -> Result<Option<String>> {
        match self.entry(key) {
            Some(e) => self
                .expand_entry(e, names, &format!("{}.{key}", self.name))
                .map(Some),
            None => Ok(None),
        }
    }

    /// `key` expanded and converted with `parse`; `default` goes through `parse` too.
    fn typed<T>(
        &self,
        key: &str,
        default: &str,
        names: &Names,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let value = self.string(key, default, names)?;
        parse(&value).map_err(|msg| self.error(self.entry(key), &msg))
    }

    /// Like [`typed`](Self::typed) for keys without a default.
    fn typed_optional<T>(
        &self,
        key: &str,
        names: &Names,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        match self.optional(key, names)? {
            Some(value) => parse(&value)
                .map(Some)
                .map_err(|msg| self.error(self.entry(key), &msg)),
            None => Ok(None),
        }
    }

    /// `username`/`password`: both or neither.
    fn credentials(&self, names: &Names) -> Result<Option<Credentials>> {
        let username = self.optional("username", names)?;
        let password = self.optional("password", names)?;
        match (username, password) {
            (Some(username), Some(password)) => Ok(Some(Credentials { username, password })),
            (None, None) => Ok(None),
            _ => Err(self.error(
                self.entry("username").or_else(|| self.entry("password")),
                &format!(
                    "Section [{}] contains incomplete authentication: If a username or a \
                     password is specified, both the username and password must be specified",
                    self.name
                ),
            )),
        }
    }
}

struct Loader<'a> {
    doc: &'a Document,
    main_file: &'a str,
    here: &'a str,
    host: &'a Host,
    budget: &'a Budget,
    /// Processes built so far, against [`MAX_PROCESSES`].
    processes: Cell<usize>,
}

impl<'a> Loader<'a> {
    fn section(&self, name: &'a str) -> SectionCtx<'a> {
        let file = self
            .doc
            .section(name)
            .map(|s| &*s.file)
            .unwrap_or(self.main_file);
        SectionCtx::new(self.doc, name, file, self.budget)
    }

    fn with_here(&self, names: &Names) -> Names {
        let mut names = names.clone();
        names.insert("here".into(), Value::Str(self.here.to_string()));
        names
    }

    /// Unknown sections and keys are ignored, as in Supervisor, but said out
    /// loud: `autorestrat=true` silently doing nothing is a classic outage.
    /// The first [`limits::MAX_UNKNOWN_WARNINGS`] are listed, the rest counted.
    fn warn_about_unknowns(&self, messages: &mut Messages) {
        let (mut listed, mut unlisted) = (0usize, 0usize);
        let mut warn = |messages: &mut Messages, text: &dyn Fn() -> String| {
            if listed < limits::MAX_UNKNOWN_WARNINGS {
                messages.warnings.push(text());
                listed += 1;
            } else {
                unlisted += 1;
            }
        };
        for section in self.doc.sections() {
            let name = section.name.as_str();
            let known: Vec<&str> = match section_kind(name) {
                Some(SectionKind::Supervisord) => SUPERVISORD_KEYS.to_vec(),
                Some(SectionKind::UnixServer) => UNIX_SERVER_KEYS.to_vec(),
                Some(SectionKind::InetServer) => INET_SERVER_KEYS.to_vec(),
                Some(SectionKind::Ctl) => CTL_KEYS.to_vec(),
                Some(SectionKind::Group) => GROUP_KEYS.to_vec(),
                Some(SectionKind::Include) => INCLUDE_KEYS.to_vec(),
                Some(SectionKind::Program) => PROGRAM_KEYS.to_vec(),
                Some(SectionKind::EventListener) => [PROGRAM_KEYS, LISTENER_EXTRA_KEYS].concat(),
                Some(SectionKind::FcgiProgram) => [PROGRAM_KEYS, FCGI_EXTRA_KEYS].concat(),
                // Every key of an rpcinterface section is handed to its factory.
                Some(SectionKind::RpcInterface) => continue,
                None => {
                    warn(messages, &|| {
                        format!(
                            "Section [{name}] (file: {}, line {}) is not a section supervisord \
                             knows{}; it is ignored",
                            repr(&section.file),
                            section.line,
                            suggest_section(name)
                        )
                    });
                    continue;
                }
            };
            for entry in section.entries() {
                if !known.contains(&entry.key.as_str()) {
                    warn(messages, &|| {
                        let hint = closest(&entry.key, &known)
                            .map(|k| format!("; did you mean '{k}'?"))
                            .unwrap_or_default();
                        format!(
                            "Unknown key '{}' in section [{name}] (file: {}, line {}) is \
                             ignored{hint}",
                            entry.key,
                            repr(&entry.file),
                            entry.line
                        )
                    });
                }
            }
        }
        if unlisted > 0 {
            messages.warnings.push(format!(
                "... and {unlisted} more unknown sections or keys, not listed"
            ));
        }
    }

    fn supervisord(&self, o: &Overrides, env_names: &mut Names) -> Result<Supervisord> {
        let s = self.section("supervisord");
        // Supervisor refuses %(host_node_name)s here; we allow it (per-host log names).
        let mut names = self.with_here(env_names);
        names.insert(
            "host_node_name".into(),
            Value::Str(self.host.node_name.clone()),
        );

        let minfds = s.typed("minfds", "1024", &names, dt::integer)?;
        let minprocs = s.typed("minprocs", "200", &names, dt::integer)?;
        let directory = s.typed_optional("directory", &names, dt::existing_directory)?;
        let user = s.optional("user", &names)?;
        let umask = s.typed("umask", "022", &names, dt::octal)?;
        let logfile = s.typed("logfile", "supervisord.log", &names, dt::existing_dirpath)?;
        let logfile_maxbytes = s.typed("logfile_maxbytes", "50MB", &names, dt::byte_size)?;
        let logfile_backups = s.typed("logfile_backups", "10", &names, |v| {
            dt::integer(v).and_then(limits::logfile_backups)
        })?;
        let loglevel = s.typed("loglevel", "info", &names, dt::log_level)?;
        let pidfile = s.typed("pidfile", "supervisord.pid", &names, dt::existing_dirpath)?;
        let identifier = s.string("identifier", "supervisor", &names)?;
        let nodaemon = s.typed("nodaemon", "false", &names, dt::boolean)?;
        let silent = s.typed("silent", "false", &names, dt::boolean)?;
        let childlogdir = s.typed(
            "childlogdir",
            &temp_dir(self.host),
            &names,
            dt::existing_directory,
        )?;
        let nocleanup = s.typed("nocleanup", "false", &names, dt::boolean)?;
        let strip_ansi = s.typed("strip_ansi", "false", &names, dt::boolean)?;
        let console = Console {
            lines: s.typed("console_lines", "false", &names, dt::boolean)?,
            prefix: s.typed("console_prefix", "false", &names, dt::boolean)?,
            timestamps: s.typed("console_timestamps", "false", &names, dt::boolean)?,
        };
        // Supervisor expands this value twice (so `%` needs `%%%%`); once is enough.
        let environment = match s.entry("environment") {
            Some(e) => {
                let text = s.expand_entry(e, &names, "environment")?;
                check_environment(&s, e, &text)?
            }
            None => Vec::new(),
        };
        // With its copy gone, `env_names` owns its shared layer again and the
        // pairs go there, not into the layer every later copy would clone.
        drop(names);
        for (k, v) in &environment {
            env_names.insert(format!("ENV_{k}"), Value::Str(v.clone()));
        }

        // The command line wins over the file; the file's values were still checked.
        let user_name = o.user.clone().or(user);
        let user = match user_name {
            Some(name) => Some(dt::user(&name).map_err(|msg| match &o.user {
                Some(_) => ConfigError(msg),
                None => s.error(s.entry("user"), &msg),
            })?),
            None => None,
        };
        let logfile = o.logfile.clone().unwrap_or(logfile);
        let logfile = if logfile.as_os_str() == "syslog" {
            MainLog::Syslog
        } else {
            MainLog::File(absolute(&self.host.cwd, &logfile))
        };
        Ok(Supervisord {
            logfile,
            logfile_maxbytes: o.logfile_maxbytes.unwrap_or(logfile_maxbytes),
            logfile_backups: match o.logfile_backups {
                Some(n) => limits::logfile_backups(n)
                    .map_err(|m| ConfigError(format!("invalid value for -z '{n}': {m}")))?,
                None => logfile_backups,
            },
            loglevel: o.loglevel.unwrap_or(loglevel),
            pidfile: absolute(&self.host.cwd, &o.pidfile.clone().unwrap_or(pidfile)),
            umask: o.umask.unwrap_or(umask),
            nodaemon: o.nodaemon || nodaemon,
            silent: o.silent || silent,
            minfds: o.minfds.unwrap_or(minfds),
            minprocs: o.minprocs.unwrap_or(minprocs),
            nocleanup: o.nocleanup || nocleanup,
            childlogdir: o.childlogdir.clone().unwrap_or(childlogdir),
            user,
            directory: o.directory.clone().or(directory),
            strip_ansi: o.strip_ansi || strip_ansi,
            environment,
            identifier: o.identifier.clone().unwrap_or(identifier),
            console,
        })
    }

    fn rpcinterfaces(
        &self,
        env_names: &Names,
        messages: &mut Messages,
    ) -> Result<Vec<RpcInterface>> {
        let mut out = Vec::new();
        for section in self.doc.sections() {
            let Some(name) = section.name.strip_prefix("rpcinterface:") else {
                continue;
            };
            let s = self.section(&section.name);
            let Some(factory) = s.optional(RPC_FACTORY_KEY, env_names)? else {
                return Err(s.error(
                    None,
                    &format!(
                        "section [{}] does not specify a {RPC_FACTORY_KEY}",
                        section.name
                    ),
                ));
            };
            if factory.trim() != MAIN_RPC_FACTORY {
                // A third-party Python plugin: Supervisor would import it; we
                // cannot, and refusing the whole config over it helps nobody.
                messages.warnings.push(format!(
                    "[{}] names the Python plugin {factory}, which this supervisord cannot \
                     load; the section is ignored (file: {})",
                    section.name,
                    repr(&section.file)
                ));
                continue;
            }
            let mut options = Vec::new();
            for e in section.entries() {
                if e.key != RPC_FACTORY_KEY {
                    let v = s.expand_entry(e, env_names, &format!("{}.{}", section.name, e.key))?;
                    options.push((e.key.clone(), v));
                }
            }
            out.push(RpcInterface {
                name: name.to_string(),
                options,
            });
        }
        Ok(out)
    }

    fn process_groups(
        &self,
        env_names: &Names,
        supervisord: &Supervisord,
        messages: &mut Messages,
    ) -> Result<Vec<ProcessGroup>> {
        let group_names = self.with_here(env_names);
        let sections = self.doc.sections();
        let has = |name: &str| self.doc.section(name).is_some();
        let mut groups = Vec::new();
        // Which [group:x] claimed each program section, to refuse a second claim.
        let mut claimed: HashMap<String, String> = HashMap::new();

        for section in sections {
            let Some(raw_name) = section.name.strip_prefix("group:") else {
                continue;
            };
            let s = self.section(&section.name);
            let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
            let programs = dt::list_of_strings(&s.string("programs", "", &group_names)?);
            let priority = s.typed("priority", "999", &group_names, dt::integer)?;
            let mut processes = Vec::new();
            for program in programs {
                let program_section = format!("program:{program}");
                let fcgi_section = format!("fcgi-program:{program}");
                let member = match (has(&program_section), has(&fcgi_section)) {
                    (true, true) => {
                        return Err(s.error(
                            s.entry("programs"),
                            &format!(
                                "[{}] name {program} is ambiguous (exists as program and \
                                 fcgi-program)",
                                section.name
                            ),
                        ))
                    }
                    (true, false) => program_section,
                    (false, true) => fcgi_section,
                    (false, false) => {
                        return Err(s.error(
                            s.entry("programs"),
                            &format!(
                                "[{}] names unknown program or fcgi-program {program}",
                                section.name
                            ),
                        ))
                    }
                };
                // Supervisor runs such a program twice, once per group; almost
                // always a copy-paste slip, so we refuse it.
                if let Some(first) = claimed.insert(member.clone(), section.name.clone()) {
                    return Err(s.error(
                        s.entry("programs"),
                        &format!(
                            "[{member}] is listed in both [{first}] and [{}]; a program can \
                             belong to one group only",
                            section.name
                        ),
                    ));
                }
                processes.extend(self.processes(
                    &member,
                    &name,
                    env_names,
                    supervisord,
                    messages,
                )?);
            }
            groups.push(ProcessGroup {
                name,
                section: section.name.clone(),
                priority,
                kind: GroupKind::Programs,
                processes,
            });
        }

        for section in sections {
            let Some(raw_name) = section.name.strip_prefix("program:") else {
                continue;
            };
            if claimed.contains_key(&section.name) {
                continue;
            }
            let s = self.section(&section.name);
            let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
            let priority = s.typed("priority", "999", &group_names, dt::integer)?;
            let processes =
                self.processes(&section.name, &name, env_names, supervisord, messages)?;
            groups.push(ProcessGroup {
                name,
                section: section.name.clone(),
                priority,
                kind: GroupKind::Programs,
                processes,
            });
        }

        for section in sections {
            let Some(raw_name) = section.name.strip_prefix("eventlistener:") else {
                continue;
            };
            let s = self.section(&section.name);
            let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
            let priority = s.typed("priority", "-1", &group_names, dt::integer)?;
            let buffer_size = s.typed("buffer_size", "10", &group_names, dt::integer)?;
            if buffer_size < 1 {
                return Err(s.error(
                    s.entry("buffer_size"),
                    &format!(
                        "[{}] section sets invalid buffer_size ({buffer_size})",
                        section.name
                    ),
                ));
            }
            let handler = s.string("result_handler", DEFAULT_RESULT_HANDLER, &group_names)?;
            if handler.trim() != DEFAULT_RESULT_HANDLER {
                return Err(s.error(
                    s.entry("result_handler"),
                    &format!(
                        "{handler} cannot be resolved within [{}] (only \
                         {DEFAULT_RESULT_HANDLER} is built in)",
                        section.name
                    ),
                ));
            }
            let listed = dt::list_of_strings(&s.string("events", "", &group_names)?);
            if listed.is_empty() {
                return Err(s.error(
                    s.entry("events"),
                    &format!("[{}] section requires an \"events\" line", section.name),
                ));
            }
            // Every name is checked before duplicates collapse, so the list
            // kept is at most the known types, however long the line.
            let mut events: Vec<String> = Vec::new();
            for event in listed {
                let event = event.to_uppercase();
                if !EVENT_TYPES.contains(&event.as_str()) {
                    return Err(s.error(
                        s.entry("events"),
                        &format!("Unknown event type {event} in [{}] events", section.name),
                    ));
                }
                if !events.contains(&event) {
                    events.push(event);
                }
            }
            if s.typed("redirect_stderr", "false", &group_names, dt::boolean)? {
                return Err(s.error(
                    s.entry("redirect_stderr"),
                    &format!(
                        "[{}] section sets redirect_stderr=true but this is not allowed \
                         because it will interfere with the eventlistener protocol",
                        section.name
                    ),
                ));
            }
            let processes =
                self.processes(&section.name, &name, env_names, supervisord, messages)?;
            groups.push(ProcessGroup {
                name,
                section: section.name.clone(),
                priority,
                kind: GroupKind::EventListenerPool(ListenerPool {
                    events,
                    buffer_size,
                }),
                processes,
            });
        }

        if let Some(section) = sections
            .iter()
            .find(|s| s.name.starts_with("fcgi-program:"))
        {
            let s = self.section(&section.name);
            return Err(s.error(
                None,
                &format!(
                    "[{}]: FastCGI programs are not supported by this supervisord; run the \
                     FastCGI server as a [program:x] that opens its own socket",
                    section.name
                ),
            ));
        }

        refuse_name_collisions(self.doc, &groups)?;
        for group in &groups {
            if group.processes.is_empty() && group.kind == GroupKind::Programs {
                if let Some(section) = self.doc.section(&format!("program:{}", group.name)) {
                    messages.warnings.push(format!(
                        "[{}] has numprocs below 1, so it runs no process (file: {})",
                        section.name,
                        repr(&section.file)
                    ));
                }
            }
            if group.name.is_empty() {
                messages
                    .warnings
                    .push("A section has an empty name ([program:] or similar)".into());
            }
        }
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(groups)
    }

    /// The processes of one program-like section, in group `group`.
    fn processes(
        &self,
        section: &'a str,
        group: &str,
        env_names: &Names,
        supervisord: &Supervisord,
        messages: &mut Messages,
    ) -> Result<Vec<Process>> {
        let s = self.section(section);
        let program_name = section.split_once(':').map(|(_, n)| n).unwrap_or_default();
        let program_name = dt::name(program_name).map_err(|m| s.error(None, &m))?;

        // Names for options read once per program (spec config.md §3).
        let mut names = self.with_here(env_names);
        names.insert("program_name".into(), Value::Str(program_name));
        names.insert("group_name".into(), Value::Str(group.to_string()));
        names.insert(
            "host_node_name".into(),
            Value::Str(self.host.node_name.clone()),
        );

        let priority = s.typed("priority", "999", &names, dt::integer)?;
        let autostart = s.typed("autostart", "true", &names, dt::boolean)?;
        let autorestart = s.typed("autorestart", "unexpected", &names, dt::autorestart)?;
        let startsecs = s.typed("startsecs", "1", &names, dt::integer)?;
        let startretries = s.typed("startretries", "3", &names, dt::integer)?;
        let stopsignal = s.typed("stopsignal", "TERM", &names, dt::signal)?;
        let stopwaitsecs = s.typed("stopwaitsecs", "10", &names, dt::integer)?;
        let stopasgroup = s.typed("stopasgroup", "false", &names, dt::boolean)?;
        let killasgroup = s.typed(
            "killasgroup",
            if stopasgroup { "true" } else { "false" },
            &names,
            dt::boolean,
        )?;
        let exitcodes = s.typed("exitcodes", "0", &names, dt::exit_codes)?;
        let redirect_stderr = s.typed("redirect_stderr", "false", &names, dt::boolean)?;
        let numprocs = s.typed("numprocs", "1", &names, dt::integer)?;
        let numprocs_start = s.typed("numprocs_start", "0", &names, dt::integer)?;
        let capture = [
            s.typed("stdout_capture_maxbytes", "0", &names, dt::byte_size)?,
            s.typed("stderr_capture_maxbytes", "0", &names, dt::byte_size)?,
        ];
        let events_enabled = [
            s.typed("stdout_events_enabled", "false", &names, dt::boolean)?,
            s.typed("stderr_events_enabled", "false", &names, dt::boolean)?,
        ];
        let serverurl = s
            .optional("serverurl", &names)?
            .filter(|u| !u.trim().eq_ignore_ascii_case("auto"));
        let user = s.typed_optional("user", &names, dt::user)?;
        let umask = s.typed_optional("umask", &names, dt::octal)?;
        let defaults = supervisord.console;
        let bool_or = |key: &str, default: bool| {
            s.typed(
                key,
                if default { "true" } else { "false" },
                &names,
                dt::boolean,
            )
        };
        let console = Console {
            lines: bool_or("console_lines", defaults.lines)?,
            prefix: bool_or("console_prefix", defaults.prefix)?,
            timestamps: bool_or("console_timestamps", defaults.timestamps)?,
        };

        // The template is checked as a name before it is expanded, as Supervisor does.
        let process_name_entry = s.entry("process_name");
        let process_name = process_name_entry
            .map(|e| e.value.as_str())
            .unwrap_or("%(program_name)s");
        let process_name = dt::name(process_name).map_err(|m| s.error(process_name_entry, &m))?;
        if numprocs > 1 && !process_name.contains("%(process_num)") {
            return Err(s.error(
                process_name_entry,
                "%(process_num) must be present within process_name when numprocs > 1",
            ));
        }
        if stopasgroup && !killasgroup {
            return Err(s.error(
                s.entry("killasgroup"),
                "Cannot set stopasgroup=true and killasgroup=false",
            ));
        }
        let Some(command_entry) = s.entry("command") else {
            return Err(s.error(
                None,
                &format!("program section {section} does not specify a command"),
            ));
        };

        // Checked before anything is built: numprocs is capped, and the
        // process numbers must not overflow.
        let numbers = limits::process_numbers(numprocs, numprocs_start)
            .map_err(|(key, m)| s.error(s.entry(key), &m))?;
        let count = numbers.map_or(0, |(first, last)| last.abs_diff(first) as usize + 1);
        let total = self.processes.get() + count;
        if total > MAX_PROCESSES {
            return Err(s.error(
                s.entry("numprocs"),
                &format!(
                    "the configuration defines more than {MAX_PROCESSES} processes in all, the \
                     most one supervisord may run; lower numprocs or split the programs \
                     between several supervisords"
                ),
            ));
        }
        self.processes.set(total);
        let mut processes = Vec::with_capacity(count);
        for process_num in numbers.into_iter().flat_map(|(first, last)| first..=last) {
            let mut names = names.clone();
            names.insert("process_num".into(), Value::Int(process_num));
            names.insert("numprocs".into(), Value::Int(numprocs));

            let own_env = match s.entry("environment") {
                Some(e) => {
                    let text = s.expand_entry(e, &names, "environment")?;
                    check_environment(&s, e, &text)?
                }
                None => Vec::new(),
            };
            let name = match process_name_entry {
                Some(e) => s.expand_entry(e, &names, "process_name")?,
                None => s.expand_text(process_name.as_str(), None, &names, "process_name")?,
            };
            // The program's own environment is visible to its command, directory and logs.
            for (k, v) in &own_env {
                names.insert(format!("ENV_{k}"), Value::Str(v.clone()));
            }
            let directory = s.optional("directory", &names)?;
            let mut streams = Vec::new();
            for (i, channel) in ["stdout", "stderr"].into_iter().enumerate() {
                let key = format!("{channel}_logfile");
                let logfile = match s.entry(&key) {
                    Some(e) => {
                        let text = s.expand_entry(e, &names, &key)?;
                        dt::child_logfile(&text).map_err(|m| s.error(Some(e), &m))?
                    }
                    None => LogTarget::Auto,
                };
                let backups =
                    s.typed(&format!("{channel}_logfile_backups"), "10", &names, |v| {
                        dt::integer(v).and_then(limits::logfile_backups)
                    })?;
                let maxbytes = s.typed(
                    &format!("{channel}_logfile_maxbytes"),
                    "50MB",
                    &names,
                    dt::byte_size,
                )?;
                let mut syslog =
                    s.typed(&format!("{channel}_syslog"), "false", &names, dt::boolean)?;
                let logfile = if logfile == LogTarget::Syslog {
                    messages.warnings.push(format!(
                        "For [{section}], {key}=syslog but this is deprecated and will be \
                         removed.  Use {channel}_syslog=true to enable syslog instead."
                    ));
                    syslog = true;
                    LogTarget::None
                } else {
                    logfile
                };
                if logfile == LogTarget::Auto && maxbytes == 0 {
                    messages.warnings.push(format!(
                        "For [{section}], AUTO logging used for {key} without rollover, set \
                         maxbytes > 0 to avoid filling up filesystem unintentionally"
                    ));
                }
                streams.push(Stream {
                    logfile,
                    logfile_maxbytes: maxbytes,
                    logfile_backups: backups,
                    capture_maxbytes: capture[i],
                    events_enabled: events_enabled[i],
                    syslog,
                });
            }
            let mut stderr = streams.pop().expect("two streams were built");
            let stdout = streams.pop().expect("two streams were built");
            if redirect_stderr {
                if !matches!(stderr.logfile, LogTarget::Auto | LogTarget::None) {
                    messages.warnings.push(format!(
                        "For [{section}], redirect_stderr=true but stderr_logfile has also \
                         been set to a filename, the filename has been ignored"
                    ));
                }
                stderr.logfile = LogTarget::None;
            }
            let command = s.expand_entry(command_entry, &names, &format!("{section}.command"))?;

            let environment = environment::merge(&supervisord.environment, own_env);
            // The inherited environment is copied into every process: count it.
            s.charge(environment.iter().map(|(k, v)| k.len() + v.len() + 2).sum())?;
            processes.push(Process {
                name,
                group: group.to_string(),
                section: section.to_string(),
                command,
                directory,
                umask,
                priority,
                autostart,
                autorestart,
                startsecs,
                startretries,
                exitcodes: exitcodes.clone(),
                stopsignal,
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                user: user.clone(),
                redirect_stderr,
                stdout,
                stderr,
                environment,
                serverurl: serverurl.clone(),
                console,
            });
        }
        // Supervisor's ProcessConfig orders by (priority, name).
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(processes)
    }

    fn servers(&self, env_names: &Names) -> Result<(Vec<InetHttpServer>, Vec<UnixHttpServer>)> {
        let mut inet = Vec::new();
        let mut unix = Vec::new();
        for section in self.doc.sections() {
            let name = section.name.as_str();
            if name.starts_with("inet_http_server") {
                let s = self.section(name);
                let auth = s.credentials(env_names)?;
                let Some(port) = s.optional("port", env_names)? else {
                    return Err(s.error(None, &format!("section [{name}] has no port value")));
                };
                let (host, port) =
                    dt::port_spec(&port).map_err(|m| s.error(s.entry("port"), &m))?;
                inet.push(InetHttpServer {
                    section: name.to_string(),
                    host,
                    port,
                    auth,
                });
            }
        }
        let file_names = self.with_here(env_names);
        for section in self.doc.sections() {
            let name = section.name.as_str();
            if name.starts_with("unix_http_server") {
                let s = self.section(name);
                let Some(file) = s.optional("file", &file_names)? else {
                    return Err(s.error(None, &format!("section [{name}] has no file value")));
                };
                let file = absolute(&self.host.cwd, &dt::expand_user(file.trim()));
                let auth = s.credentials(env_names)?;
                let chown = match s.optional("chown", env_names)? {
                    Some(v) => Some(dt::user_group(&v).ok_or_else(|| {
                        s.error(s.entry("chown"), &format!("Invalid sockchown value {v}"))
                    })?),
                    None => None,
                };
                let chmod = match s.optional("chmod", env_names)? {
                    Some(v) => dt::octal(&v).map_err(|_| {
                        s.error(s.entry("chmod"), &format!("Invalid chmod value {v}"))
                    })?,
                    None => 0o700,
                };
                unix.push(UnixHttpServer {
                    section: name.to_string(),
                    file,
                    chmod,
                    chown,
                    auth,
                });
            }
        }
        Ok((inet, unix))
    }

    fn ctl(&self, env_names: &Names) -> Result<Ctl> {
        if self.doc.section("supervisorctl").is_none() {
            return Err(ConfigError(
                ".ini file does not include supervisorctl section".into(),
            ));
        }
        let s = self.section("supervisorctl");
        let with_here = self.with_here(env_names);
        let defaults = Ctl::default();
        let mut serverurl = s.string("serverurl", &defaults.serverurl, &with_here)?;
        if let Some(path) = serverurl.strip_prefix("unix://") {
            let path = absolute(&self.host.cwd, &dt::expand_user(path));
            serverurl = format!("unix://{}", path.display());
        }
        let history_file = s
            .optional("history_file", &with_here)?
            .filter(|h| !h.is_empty())
            .map(|h| absolute(&self.host.cwd, &dt::expand_user(&h)));
        Ok(Ctl {
            serverurl,
            username: s.optional("username", env_names)?,
            password: s.optional("password", env_names)?,
            prompt: s.string("prompt", &defaults.prompt, env_names)?,
            history_file,
        })
    }
}

/// Parse an `environment=` value, wording errors for its section and key.
fn check_environment(s: &SectionCtx, entry: &Entry, text: &str) -> Result<Vec<(String, String)>> {
    environment::parse(text).map_err(|m| s.error(Some(entry), &m))
}

/// Supervisor keys groups by name and silently drops all but the first of a
/// name; we refuse, naming both sections.
fn refuse_name_collisions(doc: &Document, groups: &[ProcessGroup]) -> Result<()> {
    let mut seen: BTreeMap<&str, &ProcessGroup> = BTreeMap::new();
    for group in groups {
        if let Some(first) = seen.insert(group.name.as_str(), group) {
            let file = doc
                .section(&group.section)
                .map(|s| &*s.file)
                .unwrap_or_default();
            // Worded like every other error: the usual section/file suffix.
            return Err(
                SectionCtx::new(doc, &group.section, file, &Budget::default()).error(
                    None,
                    &format!(
                        "[{}] and [{}] both define a process group named {}, and Supervisor \
                     would silently drop one of them; rename one",
                        first.section,
                        group.section,
                        repr(&group.name)
                    ),
                ),
            );
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Supervisord,
    UnixServer,
    InetServer,
    Ctl,
    Group,
    Include,
    Program,
    EventListener,
    FcgiProgram,
    RpcInterface,
}

/// What Supervisor makes of a section name (`None`: it ignores the section).
fn section_kind(name: &str) -> Option<SectionKind> {
    Some(match name {
        "supervisord" => SectionKind::Supervisord,
        "supervisorctl" => SectionKind::Ctl,
        "include" => SectionKind::Include,
        n if n.starts_with("unix_http_server") => SectionKind::UnixServer,
        n if n.starts_with("inet_http_server") => SectionKind::InetServer,
        n if n.starts_with("group:") => SectionKind::Group,
        n if n.starts_with("program:") => SectionKind::Program,
        n if n.starts_with("eventlistener:") => SectionKind::EventListener,
        n if n.starts_with("fcgi-program:") => SectionKind::FcgiProgram,
        n if n.starts_with("rpcinterface:") => SectionKind::RpcInterface,
        _ => return None,
    })
}

/// A hint for a section name that is close to a real one (`[Program:x]`, `[ program:x ]`).
fn suggest_section(name: &str) -> String {
    let tidy = name.trim().to_lowercase();
    if tidy != name && section_kind(&tidy).is_some() {
        return format!(
            " (did you mean [{tidy}]? section names are case-sensitive and keep spaces)"
        );
    }
    let prefix = tidy.split(':').next().unwrap_or("");
    let kinds = [
        "supervisord",
        "supervisorctl",
        "include",
        "unix_http_server",
        "inet_http_server",
        "group",
        "program",
        "eventlistener",
        "rpcinterface",
    ];
    match closest(prefix, &kinds) {
        Some(k) if k != prefix => format!(" (did you mean {k}?)"),
        _ => String::new(),
    }
}

/// The known word within edit distance 2 of `word`, if any.
fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        // Two edits change the length by at most two characters (8 bytes):
        // a long word is skipped without the quadratic comparison.
        .filter(|k| word.len() <= k.len() + 8)
        .map(|k| (edit_distance(word, k), *k))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
