//! The `supervisor.*` and `system.*` XML-RPC methods (spec xmlrpc.md §6),
//! run on the reactor thread over the daemon's own state.
//!
//! A method either answers at once or returns a [`Waiter`] that the reactor
//! polls after every state change until it can answer (startProcess with
//! `wait`, group and "all" forms, multicall) — Supervisor's deferred
//! responses, without any polling timer.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::{snapshot, Reactor};
use crate::config::{datatypes, LogTarget, MainLog as MainLogTarget};
use crate::daemon::cli::SUPERVISOR_VERSION;
use crate::daemon::process::{Now, State};
use crate::daemon::spawn;
use crate::daemon::supervisor::{Key, Phase};
use crate::xmlrpc::{faults, Call, Fault, Value};

type Answer = Result<Value, Fault>;

/// A method's result: now, or once the processes get there.
pub(super) enum Outcome {
    Done(Answer),
    Wait(Waiter),
}

/// A call waiting for process state.
pub(super) enum Waiter {
    /// startProcess(wait=true): until RUNNING, or a spawn error.
    Start(Key),
    /// stopProcess(wait=true): until a stopped state.
    Stop(Key),
    /// Group and "all" forms: one result struct per process, in completion order.
    Many {
        waiting: Vec<(Key, Waiter)>,
        results: Vec<Value>,
    },
    /// system.multicall: calls run strictly in order, a waiting one holds the rest.
    Multi {
        current: Option<Box<Waiter>>,
        rest: VecDeque<Value>,
        results: Vec<Value>,
    },
}

/// Every method, with its signature for `system.methodSignature`
/// (`[return, params…]`), sorted as `system.listMethods` returns them.
const METHODS: &[(&str, &[&str])] = &[
    ("supervisor.addProcessGroup", &["boolean", "string"]),
    ("supervisor.clearAllProcessLogs", &["array"]),
    ("supervisor.clearLog", &["boolean"]),
    ("supervisor.clearProcessLog", &["boolean", "string"]),
    ("supervisor.clearProcessLogs", &["boolean", "string"]),
    ("supervisor.getAPIVersion", &["string"]),
    ("supervisor.getAllConfigInfo", &["array"]),
    ("supervisor.getAllProcessInfo", &["array"]),
    ("supervisor.getIdentification", &["string"]),
    ("supervisor.getPID", &["int"]),
    ("supervisor.getProcessInfo", &["struct", "string"]),
    ("supervisor.getState", &["struct"]),
    ("supervisor.getSupervisorVersion", &["string"]),
    ("supervisor.getVersion", &["string"]),
    ("supervisor.readLog", &["string", "int", "int"]),
    ("supervisor.readMainLog", &["string", "int", "int"]),
    (
        "supervisor.readProcessLog",
        &["string", "string", "int", "int"],
    ),
    (
        "supervisor.readProcessStderrLog",
        &["string", "string", "int", "int"],
    ),
    (
        "supervisor.readProcessStdoutLog",
        &["string", "string", "int", "int"],
    ),
    ("supervisor.reloadConfig", &["array"]),
    ("supervisor.removeProcessGroup", &["boolean", "string"]),
    ("supervisor.restart", &["boolean"]),
    (
        "supervisor.sendProcessStdin",
        &["boolean", "string", "string"],
    ),
    (
        "supervisor.sendRemoteCommEvent",
        &["boolean", "string", "string"],
    ),
    ("supervisor.shutdown", &["boolean"]),
    ("supervisor.signalAllProcesses", &["array", "string"]),
    ("supervisor.signalProcess", &["boolean", "string", "string"]),
    (
        "supervisor.signalProcessGroup",
        &["array", "string", "string"],
    ),
    ("supervisor.startAllProcesses", &["array", "boolean"]),
    ("supervisor.startProcess", &["boolean", "string", "boolean"]),
    (
        "supervisor.startProcessGroup",
        &["array", "string", "boolean"],
    ),
    ("supervisor.stopAllProcesses", &["array", "boolean"]),
    ("supervisor.stopProcess", &["boolean", "string", "boolean"]),
    (
        "supervisor.stopProcessGroup",
        &["array", "string", "boolean"],
    ),
    (
        "supervisor.tailProcessLog",
        &["array", "string", "int", "int"],
    ),
    (
        "supervisor.tailProcessStderrLog",
        &["array", "string", "int", "int"],
    ),
    (
        "supervisor.tailProcessStdoutLog",
        &["array", "string", "int", "int"],
    ),
    ("system.listMethods", &["array"]),
    ("system.methodHelp", &["string", "string"]),
    ("system.methodSignature", &["array", "string"]),
    ("system.multicall", &["array", "array"]),
];

/// What a namespec names (xmlrpc.md §3).
enum Target {
    Process(Key),
    Group(usize),
}

fn fault(code: i32, extra: Option<&str>) -> Fault {
    Fault::named(code, extra)
}

fn bad_params() -> Fault {
    fault(faults::INCORRECT_PARAMETERS, None)
}

/// The parameters of one call, checked as they are taken.
struct Params<'a>(&'a [Value]);

impl Params<'_> {
    fn string(&self, i: usize) -> Result<&str, Fault> {
        self.0.get(i).and_then(Value::as_str).ok_or_else(bad_params)
    }

    /// Offsets and lengths: Supervisor applies `int()`, so numeric strings work.
    fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad_params()),
            _ => Err(bad_params()),
        }
    }

    /// An optional `wait` flag: Python truthiness, true when omitted.
    fn wait(&self, i: usize) -> bool {
        self.0.get(i).is_none_or(Value::truthy)
    }
}

fn result_struct(name: &str, group: &str, answer: &Answer) -> Value {
    let (status, description) = match answer {
        Ok(_) => (faults::SUCCESS, "OK".to_string()),
        Err(f) => (f.code, f.string.clone()),
    };
    Value::Struct(vec![
        ("name".into(), Value::str(name)),
        ("group".into(), Value::str(group)),
        ("status".into(), Value::Int(status.into())),
        ("description".into(), Value::String(description)),
    ])
}

impl Reactor {
    /// Run one call. `nested` is set inside system.multicall.
    pub(super) fn call(&mut self, call: Call, nested: bool) -> Outcome {
        let Call { method, params } = call;
        let Some(&(_, signature)) = METHODS.iter().find(|(name, _)| *name == method) else {
            return Outcome::Done(Err(fault(faults::UNKNOWN_METHOD, None)));
        };
        if method.starts_with("supervisor.") && !self.rpc_interface_enabled() {
            return Outcome::Done(Err(fault(faults::UNKNOWN_METHOD, None)));
        }
        // Supervisor checks the count against the signature; `wait` flags may be left out.
        let wanted = signature.len() - 1;
        let optional_wait = signature.last() == Some(&"boolean") && wanted > 0;
        let fewest = if optional_wait { wanted - 1 } else { wanted };
        if params.len() < fewest || params.len() > wanted {
            return Outcome::Done(Err(bad_params()));
        }
        if method.starts_with("supervisor.")
            && self.table.phase() != Phase::Running
            && method != "supervisor.sendRemoteCommEvent"
            && method != "supervisor.signalAllProcesses"
        {
            return Outcome::Done(Err(fault(faults::SHUTDOWN_STATE, None)));
        }
        let p = Params(&params);
        let now = Now::current();
        let done = |answer: Answer| Outcome::Done(answer);
        match method.as_str() {
            "system.listMethods" => done(Ok(Value::Array(
                METHODS.iter().map(|(name, _)| Value::str(*name)).collect(),
            ))),
            "system.methodHelp" => done(p.string(0).and_then(method_help)),
            "system.methodSignature" => done(p.string(0).and_then(|name| {
                METHODS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, sig)| Value::Array(sig.iter().map(|t| Value::str(*t)).collect()))
                    .ok_or_else(|| fault(faults::SIGNATURE_UNSUPPORTED, None))
            })),
            "system.multicall" => {
                if nested {
                    return done(Err(fault(
                        faults::INCORRECT_PARAMETERS,
                        Some("Recursive system.multicall forbidden"),
                    )));
                }
                match params.first() {
                    Some(Value::Array(calls)) => self.multicall(Waiter::Multi {
                        current: None,
                        rest: calls.iter().cloned().collect(),
                        results: Vec::new(),
                    }),
                    _ => done(Err(bad_params())),
                }
            }
            "supervisor.getAPIVersion" | "supervisor.getVersion" => done(Ok(Value::str("3.0"))),
            "supervisor.getSupervisorVersion" => done(Ok(Value::str(SUPERVISOR_VERSION))),
            "supervisor.getIdentification" => {
                done(Ok(Value::str(&self.config.supervisord.identifier)))
            }
            "supervisor.getState" => {
                let phase = self.table.phase();
                let name = match phase {
                    Phase::Running => "RUNNING",
                    Phase::Stopping { restart: true } => "RESTARTING",
                    Phase::Stopping { restart: false } => "SHUTDOWN",
                };
                done(Ok(Value::Struct(vec![
                    ("statecode".into(), Value::Int(phase.code().into())),
                    ("statename".into(), Value::str(name)),
                ])))
            }
            "supervisor.getPID" => done(Ok(Value::Int(std::process::id().into()))),
            "supervisor.getProcessInfo" => {
                done(p.string(0).and_then(|name| match self.resolve(name)? {
                    Target::Process(key) => Ok(self.process_info(key, now)),
                    Target::Group(_) => Err(fault(faults::BAD_NAME, Some(name))),
                }))
            }
            "supervisor.getAllProcessInfo" => {
                let mut keys = self.table.keys();
                keys.sort_by(|a, b| {
                    let (pa, pb) = (self.table.process(*a), self.table.process(*b));
                    (&pa.config.group, &pa.config.name).cmp(&(&pb.config.group, &pb.config.name))
                });
                done(Ok(Value::Array(
                    keys.into_iter()
                        .map(|k| self.process_info(k, now))
                        .collect(),
                )))
            }
            "supervisor.getAllConfigInfo" => done(Ok(self.all_config_info())),
            "supervisor.startProcess" => match p.string(0) {
                Ok(name) => {
                    let wait = p.wait(1);
                    match self.resolve(name) {
                        Ok(Target::Process(key)) => self.start_one(key, name, wait, now),
                        Ok(Target::Group(g)) => self.start_many(self.group_keys(g), wait, now),
                        Err(f) => done(Err(f)),
                    }
                }
                Err(f) => done(Err(f)),
            },
            "supervisor.startProcessGroup" => match p.string(0).and_then(|n| self.group_named(n)) {
                Ok(g) => self.start_many(self.group_keys(g), p.wait(1), now),
                Err(f) => done(Err(f)),
            },
            "supervisor.startAllProcesses" => {
                let keys = self.keys_in_priority_order();
                self.start_many(keys, p.wait(0), now)
            }
            "supervisor.stopProcess" => match p.string(0) {
                Ok(name) => {
                    let wait = p.wait(1);
                    match self.resolve(name) {
                        Ok(Target::Process(key)) => self.stop_one(key, name, wait, now),
                        Ok(Target::Group(g)) => self.stop_many(self.group_keys(g), wait, now),
                        Err(f) => done(Err(f)),
                    }
                }
                Err(f) => done(Err(f)),
            },
            "supervisor.stopProcessGroup" => match p.string(0).and_then(|n| self.group_named(n)) {
                Ok(g) => self.stop_many(self.group_keys(g), p.wait(1), now),
                Err(f) => done(Err(f)),
            },
            "supervisor.stopAllProcesses" => {
                let keys = self.keys_in_priority_order();
                self.stop_many(keys, p.wait(0), now)
            }
            "supervisor.signalProcess" => done(self.signal_named(&p, now)),
            "supervisor.signalProcessGroup" => done(
                p.string(0)
                    .and_then(|n| self.group_named(n))
                    .and_then(|g| self.signal_many(self.group_keys(g), &p, 1, now)),
            ),
            "supervisor.signalAllProcesses" => {
                let keys = self.keys_in_priority_order();
                let answer = self.signal_many(keys, &p, 0, now);
                // Supervisor's quirk: signals go out, then the state is checked.
                if self.table.phase() != Phase::Running {
                    return done(Err(fault(faults::SHUTDOWN_STATE, None)));
                }
                done(answer)
            }
            "supervisor.readLog" | "supervisor.readMainLog" => {
                done(p.int(0).and_then(|o| p.int(1).map(|l| (o, l))).and_then(
                    |(offset, length)| {
                        let path = self
                            .main_log_path()
                            .ok_or_else(|| fault(faults::NO_FILE, None))?;
                        read_log(&path, offset, length)
                    },
                ))
            }
            "supervisor.readProcessStdoutLog" | "supervisor.readProcessLog" => {
                done(self.read_process_log(&p, false))
            }
            "supervisor.readProcessStderrLog" => done(self.read_process_log(&p, true)),
            "supervisor.tailProcessStdoutLog" | "supervisor.tailProcessLog" => {
                done(self.tail_process_log(&p, false))
            }
            "supervisor.tailProcessStderrLog" => done(self.tail_process_log(&p, true)),
            "supervisor.clearProcessLogs" | "supervisor.clearProcessLog" => {
                done(p.string(0).and_then(|name| match self.resolve(name)? {
                    Target::Process(key) => self.clear_logs(key, name),
                    Target::Group(_) => Err(fault(faults::BAD_NAME, Some(name))),
                }))
            }
            "supervisor.clearAllProcessLogs" => {
                let results = self
                    .keys_in_priority_order()
                    .into_iter()
                    .map(|key| {
                        let c = &self.table.process(key).config;
                        let (name, group) = (c.name.clone(), c.group.clone());
                        let answer = self.clear_logs(key, &name);
                        result_struct(&name, &group, &answer)
                    })
                    .collect();
                done(Ok(Value::Array(results)))
            }
            "supervisor.clearLog" => done(self.clear_main_log()),
            "supervisor.sendProcessStdin" => done(self.send_stdin(&p)),
            "supervisor.sendRemoteCommEvent" => done(p.string(0).and_then(|kind| {
                let data = p.string(1)?;
                self.raise(super::Event::remote_communication(kind, data));
                Ok(Value::Bool(true))
            })),
            "supervisor.shutdown" => {
                self.log.log(
                    crate::config::LogLevel::Warn,
                    "received shutdown request via RPC",
                );
                self.begin_stop(false);
                done(Ok(Value::Bool(true)))
            }
            "supervisor.restart" => done(
                // A config that does not load changes nothing, and says why.
                self.restart_request()
                    .map(|()| Value::Bool(true))
                    .map_err(|e| fault(faults::CANT_REREAD, Some(&e))),
            ),
            "supervisor.reloadConfig" => done(self.reload_config()),
            "supervisor.addProcessGroup" => done(p.string(0).and_then(|n| self.add_group(n))),
            "supervisor.removeProcessGroup" => done(p.string(0).and_then(|n| self.remove_group(n))),
            _ => done(Err(fault(faults::UNKNOWN_METHOD, None))),
        }
    }

    /// Re-read the config file (not applying it): `[[added, changed, removed]]`.
    fn reload_config(&mut self) -> Answer {
        let new = crate::config::load(
            &self.source.file,
            &self.source.overrides,
            &crate::config::Host::current(),
        )
        .map_err(|e| fault(faults::CANT_REREAD, Some(&e.0)))?;
        let active: Vec<&crate::config::ProcessGroup> =
            self.table.groups().map(|(_, g)| &g.config).collect();
        let names = |groups: Vec<&str>| Value::Array(groups.into_iter().map(Value::str).collect());
        let added: Vec<&str> = new
            .groups
            .iter()
            .filter(|g| !active.iter().any(|a| a.name == g.name))
            .map(|g| g.name.as_str())
            .collect();
        let changed: Vec<&str> = new
            .groups
            .iter()
            .filter(|g| active.iter().any(|a| a.name == g.name && *a != *g))
            .map(|g| g.name.as_str())
            .collect();
        let removed: Vec<&str> = active
            .iter()
            .filter(|a| !new.groups.iter().any(|g| g.name == a.name))
            .map(|a| a.name.as_str())
            .collect();
        let answer = Value::Array(vec![Value::Array(vec![
            names(added),
            names(changed),
            names(removed),
        ])]);
        self.parsed = Some(new);
        Ok(answer)
    }

    /// Activate a group of the last re-read configuration.
    fn add_group(&mut self, name: &str) -> Answer {
        let config = self.parsed.as_ref().unwrap_or(&self.config);
        let group = config
            .groups
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .ok_or_else(|| fault(faults::BAD_NAME, Some(name)))?;
        if self.table.group_index(name).is_some() {
            return Err(fault(faults::ALREADY_ADDED, Some(name)));
        }
        let index = self.table.add_group(group);
        self.bus.add_pool(
            index,
            &self.table.group(index).config,
            std::time::SystemTime::now(),
        );
        let processes: Vec<(Key, &crate::config::Process)> =
            (0..self.table.group(index).processes.len())
                .map(|process| {
                    let key = Key {
                        group: index,
                        process,
                    };
                    (key, &self.table.process(key).config)
                })
                .collect();
        self.outputs
            .add_auto_files(&self.config, &processes, &mut self.log);
        self.raise(super::Event::group_added(name));
        self.dirty = true;
        Ok(Value::Bool(true))
    }

    /// Deactivate a group whose processes are all stopped.
    fn remove_group(&mut self, name: &str) -> Answer {
        let index = self
            .table
            .group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, Some(name)))?;
        if self
            .table
            .group(index)
            .processes
            .iter()
            .any(|p| !p.state().is_stopped())
        {
            return Err(fault(faults::STILL_RUNNING, Some(name)));
        }
        self.bus.remove_pool(index, std::time::SystemTime::now());
        self.table.remove_group(index);
        self.raise(super::Event::group_removed(name));
        self.dirty = true;
        Ok(Value::Bool(true))
    }

    fn rpc_interface_enabled(&self) -> bool {
        !self.config.rpcinterfaces.is_empty()
    }

    fn resolve(&self, name: &str) -> Result<Target, Fault> {
        let (group_name, process_name) = match name.split_once(':') {
            Some((g, "" | "*")) => (g, None),
            Some((g, p)) => (g, Some(p)),
            None => (name, Some(name)),
        };
        let bad = || fault(faults::BAD_NAME, Some(name));
        let g = self.table.group_index(group_name).ok_or_else(bad)?;
        match process_name {
            None => Ok(Target::Group(g)),
            Some(p) => self
                .table
                .group(g)
                .processes
                .iter()
                .position(|process| process.config.name == p)
                .map(|i| {
                    Target::Process(Key {
                        group: g,
                        process: i,
                    })
                })
                .ok_or_else(bad),
        }
    }

    /// A plain group name (group methods do not take `group:*`).
    fn group_named(&self, name: &str) -> Result<usize, Fault> {
        self.table
            .group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, Some(name)))
    }

    /// The processes of a group, by process priority (config order for ties).
    fn group_keys(&self, group: usize) -> Vec<Key> {
        let mut keys: Vec<Key> = (0..self.table.group(group).processes.len())
            .map(|process| Key { group, process })
            .collect();
        keys.sort_by_key(|k| self.table.process(*k).config.priority);
        keys
    }

    /// Every process: groups by priority (the table's order), then process priority.
    fn keys_in_priority_order(&self) -> Vec<Key> {
        let groups: Vec<usize> = self.table.groups().map(|(g, _)| g).collect();
        groups
            .into_iter()
            .flat_map(|g| self.group_keys(g))
            .collect()
    }

    fn namespec(&self, key: Key) -> String {
        self.table.process(key).config.namespec()
    }

    fn process_info(&self, key: Key, now: Now) -> Value {
        let process = self.table.process(key);
        let path = |stderr| {
            self.outputs
                .log_path(key, &process.config, stderr)
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        snapshot::process_info(process, &path(false), &path(true), now)
    }

    fn all_config_info(&self) -> Value {
        let mut infos: Vec<(String, Value)> = Vec::new();
        // Active groups, then those only in the last re-read config (`avail`).
        let mut entries: Vec<(
            Option<Key>,
            &crate::config::ProcessGroup,
            &crate::config::Process,
        )> = Vec::new();
        for (g, group) in self.table.groups() {
            for (i, process) in group.processes.iter().enumerate() {
                entries.push((
                    Some(Key {
                        group: g,
                        process: i,
                    }),
                    &group.config,
                    &process.config,
                ));
            }
        }
        if let Some(parsed) = &self.parsed {
            for group in &parsed.groups {
                if self.table.group_index(&group.name).is_none() {
                    entries.extend(group.processes.iter().map(|p| (None, group, p)));
                }
            }
        }
        for (key, group_config, c) in entries {
            {
                let inuse = key.is_some();
                let none_or = |v: Option<String>| Value::String(v.unwrap_or_else(|| "none".into()));
                let logfile = |target: &LogTarget, stderr: bool| match target {
                    LogTarget::Auto => Value::String(
                        key.and_then(|key| self.outputs.log_path(key, c, stderr))
                            .map_or_else(|| "auto".into(), |p| p.display().to_string()),
                    ),
                    LogTarget::Path(p) => Value::String(p.display().to_string()),
                    LogTarget::None | LogTarget::Syslog => Value::str("none"),
                };
                let mut fields: Vec<(String, Value)> = vec![
                    ("autostart".into(), Value::Bool(c.autostart)),
                    ("directory".into(), none_or(c.directory.clone())),
                    (
                        "uid".into(),
                        c.user
                            .as_ref()
                            .map_or(Value::str("none"), |u| Value::Int(u.uid.into())),
                    ),
                    ("command".into(), Value::str(&c.command)),
                    (
                        "exitcodes".into(),
                        Value::Array(c.exitcodes.iter().map(|&e| Value::Int(e.into())).collect()),
                    ),
                    ("group".into(), Value::str(&c.group)),
                    ("group_prio".into(), Value::Int(group_config.priority)),
                    ("inuse".into(), Value::Bool(inuse)),
                    ("killasgroup".into(), Value::Bool(c.killasgroup)),
                    ("name".into(), Value::str(&c.name)),
                    ("process_prio".into(), Value::Int(c.priority)),
                    ("redirect_stderr".into(), Value::Bool(c.redirect_stderr)),
                    ("startretries".into(), Value::Int(c.startretries)),
                    ("startsecs".into(), Value::Int(c.startsecs)),
                ];
                for (channel, stream, stderr) in
                    [("stdout", &c.stdout, false), ("stderr", &c.stderr, true)]
                {
                    fields.push((
                        format!("{channel}_capture_maxbytes"),
                        Value::Int(stream.capture_maxbytes),
                    ));
                    fields.push((
                        format!("{channel}_events_enabled"),
                        Value::Bool(stream.events_enabled),
                    ));
                    fields.push((
                        format!("{channel}_logfile"),
                        logfile(&stream.logfile, stderr),
                    ));
                    fields.push((
                        format!("{channel}_logfile_backups"),
                        Value::Int(stream.logfile_backups),
                    ));
                    fields.push((
                        format!("{channel}_logfile_maxbytes"),
                        Value::Int(stream.logfile_maxbytes),
                    ));
                    fields.push((format!("{channel}_syslog"), Value::Bool(stream.syslog)));
                }
                fields.push(("stopsignal".into(), Value::Int(c.stopsignal.into())));
                fields.push(("stopwaitsecs".into(), Value::Int(c.stopwaitsecs)));
                fields.push(("serverurl".into(), none_or(c.serverurl.clone())));
                infos.push((c.name.clone(), Value::Struct(fields)));
            }
        }
        // Sorted by process name only, as Supervisor does.
        infos.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Array(infos.into_iter().map(|(_, v)| v).collect())
    }

    fn start_one(&mut self, key: Key, name: &str, wait: bool, now: Now) -> Outcome {
        let config = self.table.process(key).config.clone();
        if let Err(e) = spawn::resolve_command(&config, &self.spawn_ctx) {
            let code = if e.not_found {
                faults::NO_FILE
            } else {
                faults::NOT_EXECUTABLE
            };
            return Outcome::Done(Err(fault(code, Some(&e.message))));
        }
        let state = self.table.process(key).state();
        if state.is_running() {
            return Outcome::Done(Err(fault(faults::ALREADY_STARTED, Some(name))));
        }
        if state == State::Unknown {
            return Outcome::Done(Err(fault(
                faults::FAILED,
                Some(&format!("{name} is in an unknown process state")),
            )));
        }
        let actions = self.table.process_mut(key).start(now);
        self.perform(actions.into_iter().map(|a| (key, a)).collect(), now);
        let process = self.table.process(key);
        if !process.spawnerr().is_empty() {
            return Outcome::Done(Err(fault(faults::SPAWN_ERROR, Some(name))));
        }
        if !wait || process.state() == State::Running {
            return Outcome::Done(Ok(Value::Bool(true)));
        }
        Outcome::Wait(Waiter::Start(key))
    }

    fn stop_one(&mut self, key: Key, name: &str, wait: bool, now: Now) -> Outcome {
        if !self.table.process(key).state().is_running() {
            return Outcome::Done(Err(fault(faults::NOT_RUNNING, Some(name))));
        }
        let actions = self.table.process_mut(key).stop(now);
        self.perform(actions.into_iter().map(|a| (key, a)).collect(), now);
        if wait && !self.table.process(key).state().is_stopped() {
            return Outcome::Wait(Waiter::Stop(key));
        }
        Outcome::Done(Ok(Value::Bool(true)))
    }

    /// Start every process of `keys` that is not running; always deferred in
    /// Supervisor, which only matters for the order of results.
    fn start_many(&mut self, keys: Vec<Key>, wait: bool, now: Now) -> Outcome {
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| !self.table.process(*k).state().is_running())
            .collect();
        let mut results = Vec::new();
        let mut waiting = Vec::new();
        for key in keys {
            let name = self.namespec(key);
            match self.start_one(key, &name, wait, now) {
                Outcome::Done(answer) => results.push(self.result_for(key, &answer)),
                Outcome::Wait(w) => waiting.push((key, w)),
            }
        }
        self.settle(Waiter::Many { waiting, results })
    }

    fn stop_many(&mut self, keys: Vec<Key>, wait: bool, now: Now) -> Outcome {
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| self.table.process(*k).state().is_running())
            .collect();
        let mut results = Vec::new();
        let mut waiting = Vec::new();
        for key in keys {
            let name = self.namespec(key);
            match self.stop_one(key, &name, wait, now) {
                Outcome::Done(answer) => results.push(self.result_for(key, &answer)),
                Outcome::Wait(w) => waiting.push((key, w)),
            }
        }
        self.settle(Waiter::Many { waiting, results })
    }

    fn result_for(&self, key: Key, answer: &Answer) -> Value {
        let c = &self.table.process(key).config;
        result_struct(&c.name, &c.group, answer)
    }

    fn signal_named(&mut self, p: &Params, now: Now) -> Answer {
        let name = p.string(0)?;
        match self.resolve(name)? {
            Target::Group(g) => self.signal_many(self.group_keys(g), p, 1, now),
            Target::Process(key) => {
                let signal_text = signal_param(p, 1)?;
                let signal = datatypes::signal(&signal_text)
                    .map_err(|_| fault(faults::BAD_SIGNAL, Some(&signal_text)))?;
                self.signal_one(key, name, signal, now)
            }
        }
    }

    fn signal_one(&mut self, key: Key, name: &str, signal: i32, now: Now) -> Answer {
        if !self.table.process(key).state().is_signallable() {
            return Err(fault(faults::NOT_RUNNING, Some(name)));
        }
        let actions = self
            .table
            .process(key)
            .signal(signal, now)
            .map_err(|msg| fault(faults::FAILED, Some(&msg)))?;
        self.perform(actions.into_iter().map(|a| (key, a)).collect(), now);
        Ok(Value::Bool(true))
    }

    fn signal_many(&mut self, keys: Vec<Key>, p: &Params, index: usize, now: Now) -> Answer {
        let signal_text = signal_param(p, index)?;
        let signal = datatypes::signal(&signal_text)
            .map_err(|_| fault(faults::BAD_SIGNAL, Some(&signal_text)))?;
        let mut results = Vec::new();
        for key in keys {
            if !self.table.process(key).state().is_signallable() {
                continue;
            }
            let name = self.namespec(key);
            let answer = self.signal_one(key, &name, signal, now);
            results.push(self.result_for(key, &answer));
        }
        Ok(Value::Array(results))
    }

    /// Advance a waiter as far as the current state allows.
    pub(super) fn settle(&mut self, waiter: Waiter) -> Outcome {
        match waiter {
            Waiter::Start(key) => {
                let process = self.table.process(key);
                if !process.spawnerr().is_empty() {
                    let name = self.namespec(key);
                    return Outcome::Done(Err(fault(faults::SPAWN_ERROR, Some(&name))));
                }
                match process.state() {
                    State::Running => Outcome::Done(Ok(Value::Bool(true))),
                    State::Starting => Outcome::Wait(Waiter::Start(key)),
                    _ => {
                        let name = self.namespec(key);
                        Outcome::Done(Err(fault(faults::ABNORMAL_TERMINATION, Some(&name))))
                    }
                }
            }
            Waiter::Stop(key) => {
                if self.table.process(key).state().is_stopped() {
                    Outcome::Done(Ok(Value::Bool(true)))
                } else {
                    Outcome::Wait(Waiter::Stop(key))
                }
            }
            Waiter::Many {
                waiting,
                mut results,
            } => {
                let mut still = Vec::new();
                for (key, w) in waiting {
                    match self.settle(w) {
                        Outcome::Done(answer) => results.push(self.result_for(key, &answer)),
                        Outcome::Wait(w) => still.push((key, w)),
                    }
                }
                if still.is_empty() {
                    Outcome::Done(Ok(Value::Array(results)))
                } else {
                    Outcome::Wait(Waiter::Many {
                        waiting: still,
                        results,
                    })
                }
            }
            multi @ Waiter::Multi { .. } => self.multicall(multi),
        }
    }

    fn multicall(&mut self, waiter: Waiter) -> Outcome {
        let Waiter::Multi {
            mut current,
            mut rest,
            mut results,
        } = waiter
        else {
            return self.settle(waiter);
        };
        loop {
            if let Some(w) = current.take() {
                match self.settle(*w) {
                    Outcome::Done(answer) => results.push(multicall_entry(answer)),
                    Outcome::Wait(w) => {
                        return Outcome::Wait(Waiter::Multi {
                            current: Some(Box::new(w)),
                            rest,
                            results,
                        })
                    }
                }
            }
            let Some(item) = rest.pop_front() else {
                return Outcome::Done(Ok(Value::Array(results)));
            };
            let Some(method) = item.get("methodName").and_then(Value::as_str) else {
                results.push(multicall_entry(Err(fault(
                    faults::INCORRECT_PARAMETERS,
                    Some("No methodName"),
                ))));
                continue;
            };
            let params = match item.get("params") {
                Some(Value::Array(params)) => params.clone(),
                None => Vec::new(),
                Some(_) => {
                    results.push(multicall_entry(Err(bad_params())));
                    continue;
                }
            };
            let call = Call {
                method: method.to_string(),
                params,
            };
            match self.call(call, true) {
                Outcome::Done(answer) => results.push(multicall_entry(answer)),
                Outcome::Wait(w) => current = Some(Box::new(w)),
            }
        }
    }

    fn main_log_path(&self) -> Option<std::path::PathBuf> {
        match &self.config.supervisord.logfile {
            MainLogTarget::File(path) => Some(path.clone()),
            MainLogTarget::Syslog => None,
        }
    }

    fn process_log(&self, name: &str, stderr: bool) -> Result<Option<std::path::PathBuf>, Fault> {
        match self.resolve(name)? {
            Target::Process(key) => {
                let process = self.table.process(key);
                Ok(self.outputs.log_path(key, &process.config, stderr))
            }
            Target::Group(_) => Err(fault(faults::BAD_NAME, Some(name))),
        }
    }

    fn read_process_log(&self, p: &Params, stderr: bool) -> Answer {
        let name = p.string(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let path = self
            .process_log(name, stderr)?
            .ok_or_else(|| fault(faults::NO_FILE, None))?;
        read_log(&path, offset, length)
    }

    fn tail_process_log(&self, p: &Params, stderr: bool) -> Answer {
        let name = p.string(0)?;
        let (offset, length) = (p.int(1)?, p.int(2)?);
        let empty = || Value::Array(vec![Value::str(""), Value::Int(0), Value::Bool(false)]);
        let Some(path) = self.process_log(name, stderr)? else {
            return Ok(empty());
        };
        match tail_log(&path, offset, length) {
            Some((data, size, overflow)) => Ok(Value::Array(vec![
                Value::String(data),
                Value::Int(size),
                Value::Bool(overflow),
            ])),
            None => Ok(empty()),
        }
    }

    /// Empties the process's logs, running or not (Supervisor silently did
    /// nothing for a stopped process and still answered true).
    fn clear_logs(&mut self, key: Key, name: &str) -> Answer {
        let config = self.table.process(key).config.clone();
        self.outputs
            .clear(key, &config)
            .map(|()| Value::Bool(true))
            .map_err(|_| fault(faults::FAILED, Some(name)))
    }

    fn clear_main_log(&mut self) -> Answer {
        let path = self
            .main_log_path()
            .ok_or_else(|| fault(faults::NO_FILE, None))?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(fault(faults::FAILED, Some(&path.display().to_string())))
            }
            _ => {}
        }
        self.log
            .reopen()
            .map(|()| Value::Bool(true))
            .map_err(|_| fault(faults::FAILED, Some(&path.display().to_string())))
    }

    fn send_stdin(&mut self, p: &Params) -> Answer {
        let name = p.string(0)?;
        let chars = match p.0.get(1) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(fault(
                    faults::INCORRECT_PARAMETERS,
                    Some(&format!("{other:?}")),
                ))
            }
            None => return Err(bad_params()),
        };
        let key = match self.resolve(name)? {
            Target::Process(key) => key,
            Target::Group(_) => return Err(fault(faults::BAD_NAME, Some(name))),
        };
        let process = self.table.process(key);
        let Some(pid) = process.pid().filter(|_| process.state() != State::Stopping) else {
            return Err(fault(faults::NOT_RUNNING, Some(name)));
        };
        self.write_stdin(pid, chars.as_bytes())
            .map(|()| Value::Bool(true))
            .map_err(|_| fault(faults::NO_FILE, Some(name)))
    }
}

fn signal_param(p: &Params, index: usize) -> Result<String, Fault> {
    match p.0.get(index) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Int(n)) => Ok(n.to_string()),
        _ => Err(bad_params()),
    }
}

/// A multicall result entry: the bare value, or the fault as a struct.
fn multicall_entry(answer: Answer) -> Value {
    match answer {
        Ok(value) => value,
        Err(f) => f.to_value(),
    }
}

fn method_help(name: &str) -> Answer {
    let text = match name {
        "supervisor.startProcess" => "Start a process; with wait, answer once it is RUNNING.",
        "supervisor.stopProcess" => "Stop a process; with wait, answer once it has stopped.",
        "supervisor.getProcessInfo" => "Information about one process.",
        "supervisor.getAllProcessInfo" => "Information about every process.",
        "system.multicall" => "Run several calls in order; each result, or its fault, in an array.",
        other if METHODS.iter().any(|(n, _)| *n == other) => {
            "See the Supervisor XML-RPC API documentation for this method."
        }
        _ => return Err(fault(faults::SIGNATURE_UNSUPPORTED, None)),
    };
    Ok(Value::str(text))
}

/// readLog / read*Log (xmlrpc.md §6.5), decoded lossily (Supervisor failed
/// with HTTP 500 on a slice that splits a UTF-8 character).
pub(super) fn read_log(path: &Path, offset: i64, length: i64) -> Answer {
    if (offset < 0 && length != 0) || (offset >= 0 && length < 0) {
        return Err(fault(faults::BAD_ARGUMENTS, None));
    }
    let mut file = std::fs::File::open(path)
        .map_err(|_| fault(faults::NO_FILE, Some(&path.display().to_string())))?;
    let failed = || fault(faults::FAILED, Some(&path.display().to_string()));
    let size = file.metadata().map_err(|_| failed())?.len() as i64;
    let (start, end) = if offset < 0 {
        ((size + offset).max(0), size)
    } else if length == 0 {
        (offset.min(size), size)
    } else {
        (offset.min(size), (offset.saturating_add(length)).min(size))
    };
    let mut data = vec![0u8; (end - start).max(0) as usize];
    file.seek(SeekFrom::Start(start as u64))
        .map_err(|_| failed())?;
    file.read_exact(&mut data).map_err(|_| failed())?;
    Ok(Value::String(String::from_utf8_lossy(&data).into_owned()))
}

/// tail*Log: `(bytes, new offset = size, overflow)`; None when the file is missing.
pub(super) fn tail_log(path: &Path, offset: i64, length: i64) -> Option<(String, i64, bool)> {
    let mut file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len() as i64;
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if size > offset.saturating_add(length) {
        overflow = true;
        offset = size - 1;
    }
    if offset.saturating_add(length) > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size - length;
    }
    let offset = offset.max(0);
    let length = length.max(0);
    let mut data = Vec::with_capacity(length as usize);
    file.seek(SeekFrom::Start(offset as u64)).ok()?;
    file.take(length as u64).read_to_end(&mut data).ok()?;
    Some((String::from_utf8_lossy(&data).into_owned(), size, overflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn text(answer: Answer) -> String {
        match answer.unwrap() {
            Value::String(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn read_log_offsets_and_lengths() {
        let (_d, path) = file_with(b"0123456789");
        assert_eq!(text(read_log(&path, 0, 0)), "0123456789");
        assert_eq!(text(read_log(&path, 3, 0)), "3456789");
        assert_eq!(text(read_log(&path, 3, 2)), "34");
        assert_eq!(text(read_log(&path, 20, 2)), "");
        assert_eq!(text(read_log(&path, -4, 0)), "6789");
        assert_eq!(text(read_log(&path, -40, 0)), "0123456789");
        assert_eq!(
            read_log(&path, -4, 2).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        assert_eq!(
            read_log(&path, 4, -2).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        let missing = path.with_file_name("missing");
        assert_eq!(read_log(&missing, 0, 0).unwrap_err().code, faults::NO_FILE);
    }

    #[test]
    fn read_log_splitting_a_character_is_lossy_not_an_error() {
        let (_d, path) = file_with("é".as_bytes());
        assert_eq!(text(read_log(&path, -1, 0)), "\u{fffd}");
    }

    #[test]
    fn tail_log_follows_supervisors_algorithm() {
        let content: Vec<u8> = (0..1180).map(|i| b'a' + (i % 26) as u8).collect();
        let (_d, path) = file_with(&content);
        let (data, size, overflow) = tail_log(&path, 0, 20).unwrap();
        assert_eq!(
            (data.as_bytes(), size, overflow),
            (&content[1160..], 1180, true)
        );
        let (data, size, overflow) = tail_log(&path, 1180, 20).unwrap();
        assert_eq!((data.as_str(), size, overflow), ("", 1180, false));
        let (data, _, overflow) = tail_log(&path, 1170, 20).unwrap();
        assert_eq!((data.as_bytes(), overflow), (&content[1160..], false));
        assert!(tail_log(&path.with_file_name("nope"), 0, 10).is_none());
    }
}
