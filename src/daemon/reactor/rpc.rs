//! The `supervisor.*` and `system.*` XML-RPC methods (spec xmlrpc.md §6),
//! run on the reactor thread over the daemon's own state.
//!
//! A method either answers at once or returns a [`Waiter`] that the reactor
//! polls after every state change until it can answer (startProcess with
//! `wait`, group and "all" forms) — Supervisor's deferred responses, without
//! any polling timer. Status and log reads never come here: the HTTP thread
//! answers them from the published snapshot (`snapshot.rs`), and runs
//! `system.multicall` itself, one call at a time (`bridge.rs`).

use super::params::{bad_params, Params};
use super::Reactor;
use crate::config::{datatypes, LogTarget, MainLog as MainLogTarget};
use crate::daemon::proc::process::{Now, State};
use crate::daemon::proc::spawn;
use crate::daemon::proc::table::{GroupId, Key, Phase};
use crate::namespec::Namespec;
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
    Group(GroupId),
}

fn fault(code: i32, extra: Option<&str>) -> Fault {
    Fault::named(code, extra)
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
    /// Run one call.
    pub(super) fn call(&mut self, call: Call) -> Outcome {
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
        // Status and log reads are answered from the snapshot on the HTTP
        // thread (`snapshot.rs`) and never arrive here.
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
            // The HTTP thread runs multicalls, sending each call here on its
            // own; one arriving here can only be nested in another.
            "system.multicall" => done(Err(fault(
                faults::INCORRECT_PARAMETERS,
                Some("Recursive system.multicall forbidden"),
            ))),
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
        // Calls waiting on its processes (all stopped now) get their
        // answers before the processes go.
        self.settle_waiting();
        self.bus.remove_pool(index, std::time::SystemTime::now());
        self.outputs.forget_group(index);
        self.table.remove_group(index);
        self.raise(super::Event::group_removed(name));
        self.dirty = true;
        Ok(Value::Bool(true))
    }

    fn rpc_interface_enabled(&self) -> bool {
        !self.config.rpcinterfaces.is_empty()
    }

    fn resolve(&self, name: &str) -> Result<Target, Fault> {
        let namespec = Namespec::parse(name);
        let bad = || fault(faults::BAD_NAME, Some(name));
        let g = self.table.group_index(namespec.group()).ok_or_else(bad)?;
        match namespec {
            Namespec::Group(_) => Ok(Target::Group(g)),
            Namespec::Process { name: p, .. } => self
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
    fn group_named(&self, name: &str) -> Result<GroupId, Fault> {
        self.table
            .group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, Some(name)))
    }

    /// The processes of a group, by process priority (config order for ties).
    fn group_keys(&self, group: GroupId) -> Vec<Key> {
        let mut keys: Vec<Key> = (0..self.table.group(group).processes.len())
            .map(|process| Key { group, process })
            .collect();
        keys.sort_by_key(|k| self.table.process(*k).config.priority);
        keys
    }

    /// Every process: groups by priority (the table's order), then process priority.
    fn keys_in_priority_order(&self) -> Vec<Key> {
        let groups: Vec<GroupId> = self.table.groups().map(|(g, _)| g).collect();
        groups
            .into_iter()
            .flat_map(|g| self.group_keys(g))
            .collect()
    }

    fn namespec(&self, key: Key) -> String {
        self.table.process(key).config.namespec()
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
        match self.table.get(key) {
            Some(p) => result_struct(&p.config.name, &p.config.group, answer),
            None => result_struct("", "", answer),
        }
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
                // Waiters are settled before a group goes (`remove_group`);
                // a key that still went stale must not take the loop down.
                let Some(process) = self.table.get(key) else {
                    return Outcome::Done(Err(fault(faults::ABNORMAL_TERMINATION, None)));
                };
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
                if self.table.get(key).is_none_or(|p| p.state().is_stopped()) {
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
        }
    }

    fn main_log_path(&self) -> Option<std::path::PathBuf> {
        match &self.config.supervisord.logfile {
            MainLogTarget::File(path) => Some(path.clone()),
            MainLogTarget::Syslog => None,
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
        match self.write_stdin(pid, chars.as_bytes()) {
            Ok(()) => Ok(Value::Bool(true)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(fault(
                faults::FAILED,
                Some(&format!(
                    "stdin of {name} is full (at most {} bytes may wait to be read); \
                     try again once the program has read them",
                    crate::daemon::proc::stdin::STDIN_BACKLOG_LIMIT
                )),
            )),
            Err(_) => Err(fault(faults::NO_FILE, Some(name))),
        }
    }
}

fn signal_param(p: &Params, index: usize) -> Result<String, Fault> {
    match p.0.get(index) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Int(n)) => Ok(n.to_string()),
        _ => Err(bad_params()),
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
