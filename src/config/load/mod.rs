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

mod groups;
mod programs;
mod section;
mod servers;
mod supervisord;
mod unknown;

use programs::check_environment;
pub(super) use section::SectionCtx;

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

/// The only `[rpcinterface:x]` factory there is: Supervisor's own `supervisor.*` API.
pub const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

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
    loader.check_dependencies(&groups, &mut messages)?;
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
}

#[cfg(test)]
mod tests;
