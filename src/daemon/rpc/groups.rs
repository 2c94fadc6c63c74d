//! Groups: reading the configuration again, adding and removing groups,
//! finding processes by namespec, and the configuration they run with.

use std::collections::{HashMap, HashSet};

use super::{fault, Answer, Target};
use crate::config::{LogTarget, ProcessConfig, ProcessGroup};
use crate::daemon::log::Channel;
use crate::daemon::proc::table::{GroupId, Key};
use crate::daemon::state::Daemon;
use crate::namespec::Namespec;
use crate::xmlrpc::{faults, Fault, Value};

impl Daemon {
    /// Re-read the config file (not applying it): `[[added, changed, removed]]`.
    pub(super) fn reload_config(&mut self) -> Answer {
        let new = crate::config::load(
            &self.source.file,
            &self.source.overrides,
            &crate::config::Host::current(),
        )
        .map_err(|e| fault(faults::CANT_REREAD, Some(&e.0)))?;
        // By name, so the comparison costs one lookup per group (with
        // thousands of groups, scanning the other list for each was
        // most of `reread`).
        let active: Vec<&crate::config::ProcessGroup> =
            self.table.groups().map(|(_, g)| &g.config).collect();
        let active_by_name: HashMap<&str, &crate::config::ProcessGroup> =
            active.iter().map(|a| (a.name.as_str(), *a)).collect();
        let new_names: HashSet<&str> = new.groups.iter().map(|g| g.name.as_str()).collect();
        let names = |groups: Vec<&str>| Value::Array(groups.into_iter().map(Value::str).collect());
        let added: Vec<&str> = new
            .groups
            .iter()
            .filter(|g| !active_by_name.contains_key(g.name.as_str()))
            .map(|g| g.name.as_str())
            .collect();
        let changed: Vec<&str> = new
            .groups
            .iter()
            .filter(|g| {
                active_by_name
                    .get(g.name.as_str())
                    .is_some_and(|a| **a != **g)
            })
            .map(|g| g.name.as_str())
            .collect();
        let removed: Vec<&str> = active
            .iter()
            .filter(|a| !new_names.contains(a.name.as_str()))
            .map(|a| a.name.as_str())
            .collect();
        let answer = Value::Array(vec![Value::Array(vec![
            names(added),
            names(changed),
            names(removed),
        ])]);
        self.reread_config = Some(new);
        Ok(answer)
    }

    /// Activate a group of the last re-read configuration.
    pub(super) fn add_group(&mut self, name: &str) -> Answer {
        let config = self.reread_config.as_ref().unwrap_or(&self.config);
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
        let processes: Vec<(Key, &crate::config::ProcessConfig)> =
            (0..self.table.group(index).processes.len())
                .map(|process| {
                    let key = Key {
                        group: index,
                        process,
                    };
                    (key, &*self.table.process(key).config)
                })
                .collect();
        self.outputs
            .add_auto_files(&self.config, &processes, &mut self.log);
        self.raise(crate::daemon::events::Event::group_added(name));
        self.dirty = true;
        Ok(Value::Bool(true))
    }

    /// Deactivate a group whose processes are all stopped.
    pub(super) fn remove_group(&mut self, name: &str) -> Answer {
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
        self.raise(crate::daemon::events::Event::group_removed(name));
        self.dirty = true;
        Ok(Value::Bool(true))
    }

    pub(super) fn resolve(&self, name: &str) -> Result<Target, Fault> {
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
    pub(super) fn group_named(&self, name: &str) -> Result<GroupId, Fault> {
        self.table
            .group_index(name)
            .ok_or_else(|| fault(faults::BAD_NAME, Some(name)))
    }

    /// The processes of a group, by process priority (config order for ties).
    pub(super) fn group_keys(&self, group: GroupId) -> Vec<Key> {
        let mut keys: Vec<Key> = (0..self.table.group(group).processes.len())
            .map(|process| Key { group, process })
            .collect();
        keys.sort_by_key(|k| self.table.process(*k).config.priority);
        keys
    }

    /// Every process: groups by priority (the table's order), then process priority.
    pub(super) fn keys_in_priority_order(&self) -> Vec<Key> {
        let groups: Vec<GroupId> = self.table.groups().map(|(g, _)| g).collect();
        groups
            .into_iter()
            .flat_map(|g| self.group_keys(g))
            .collect()
    }

    pub(super) fn namespec(&self, key: Key) -> String {
        self.table.process(key).config.namespec()
    }

    /// getAllConfigInfo: the active configuration, or after a reread the
    /// newly read one (Supervisor's `avail` lists exactly those groups:
    /// active ones `in use`, new ones `avail`; a group removed from the file
    /// is no longer listed even while it still runs).
    pub(super) fn all_config_info(&self) -> Value {
        let mut infos: Vec<(&str, Value)> = Vec::new();
        match &self.reread_config {
            Some(read) => {
                for group in &read.groups {
                    let active = self.table.group_index(&group.name);
                    for process in &group.processes {
                        let key = active.and_then(|id| self.key_named(id, &process.name));
                        let info = self.config_info(key, active.is_some(), group, process);
                        infos.push((&process.name, info));
                    }
                }
            }
            None => {
                for key in self.table.keys() {
                    let group = &self.table.group(key.group).config;
                    let process = &self.table.process(key).config;
                    let info = self.config_info(Some(key), true, group, process);
                    infos.push((&process.name, info));
                }
            }
        }
        // Sorted by process name only, as Supervisor does.
        infos.sort_by(|a, b| a.0.cmp(b.0));
        Value::Array(infos.into_iter().map(|(_, v)| v).collect())
    }

    /// The process called `name` in the active group `id`.
    fn key_named(&self, id: GroupId, name: &str) -> Option<Key> {
        let group = self.table.get_group(id)?;
        let process = group.processes.iter().position(|p| p.config.name == name)?;
        Some(Key { group: id, process })
    }

    /// One getAllConfigInfo struct; `key` finds the AUTO log files of a
    /// process that runs.
    fn config_info(
        &self,
        key: Option<Key>,
        inuse: bool,
        group_config: &ProcessGroup,
        c: &ProcessConfig,
    ) -> Value {
        let none_or = |v: Option<String>| Value::String(v.unwrap_or_else(|| "none".into()));
        let logfile = |target: &LogTarget, channel: Channel| match target {
            LogTarget::Auto => Value::String(
                key.and_then(|key| self.outputs.log_path(key, c, channel))
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
        for channel in [Channel::Stdout, Channel::Stderr] {
            let stream = channel.stream(c);
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
                logfile(&stream.logfile, channel),
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
        Value::Struct(fields)
    }
}
