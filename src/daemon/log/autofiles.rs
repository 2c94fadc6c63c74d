//! The AUTO log files of the current groups: which file each process
//! channel logs to, and when the files are created.
//!
//! At startup and reload the files of the earlier run are removed and this
//! run's are named, but each is created only when its process first spawns
//! or when the status is first published, whichever comes first. Creating a
//! file costs about as much as the rest of a spawn, and the spawns of a
//! startup overlap with their preparation (`state/spawning.rs`): so the
//! files are created in that overlap rather than all before the first spawn.
//! Nothing can see a name before the first published status: calls are
//! answered after it (see the reactor).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use super::auto::{clean_auto_logs, create_auto_file};
use super::mainlog::MainLog;
use super::Channel;
use crate::config::{self, Config, LogLevel, LogTarget};
use crate::daemon::proc::table::{GroupId, Key};

#[derive(Default)]
pub struct AutoFiles {
    /// (process, channel) → the file created for it.
    created: HashMap<(Key, Channel), PathBuf>,
    /// Named at startup or reload, not created yet: the process name.
    pending: HashMap<(Key, Channel), String>,
    /// Where the pending ones go, and for which instance.
    dir: PathBuf,
    identifier: String,
}

impl AutoFiles {
    /// Startup or reload: remove the AUTO logs of earlier runs (unless
    /// `nocleanup`) and name those of `table`, to be created later. Called
    /// only once startup can no longer fail, so a second instance that is
    /// refused never deletes the first one's logs.
    pub fn reset(
        &mut self,
        config: &Config,
        table: &[(Key, &config::ProcessConfig)],
        log: &mut MainLog,
    ) {
        let s = &config.supervisord;
        if !s.nocleanup {
            for warning in clean_auto_logs(&s.childlogdir, &s.identifier) {
                log.log(LogLevel::Warn, &warning);
            }
        }
        self.created.clear();
        self.dir = s.childlogdir.clone();
        self.identifier = s.identifier.clone();
        self.pending = auto_channels(table)
            .map(|(key, channel, name)| ((key, channel), name.to_string()))
            .collect();
    }

    /// The files of a group added at run time (no cleanup), created now.
    pub fn add(
        &mut self,
        config: &Config,
        table: &[(Key, &config::ProcessConfig)],
        log: &mut MainLog,
    ) {
        let s = &config.supervisord;
        for (key, channel, name) in auto_channels(table) {
            let created = create_auto_file(&s.childlogdir, name, channel.name(), &s.identifier);
            self.record(key, channel, name, &s.childlogdir, created, log);
        }
    }

    /// Whether files wait to be created.
    pub fn any_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Create every pending file, in the order of `keys` (the table's).
    pub fn create_pending(&mut self, keys: &[Key], log: &mut MainLog) {
        for &key in keys {
            for channel in [Channel::Stdout, Channel::Stderr] {
                if let Some(name) = self.pending.remove(&(key, channel)) {
                    self.create_one(key, channel, &name, log);
                }
            }
        }
    }

    /// The file of a process channel about to spawn, created first if it
    /// is pending.
    pub fn for_spawn(&mut self, key: Key, channel: Channel, log: &mut MainLog) -> Option<&Path> {
        if let Some(name) = self.pending.remove(&(key, channel)) {
            self.create_one(key, channel, &name, log);
        }
        self.get(key, channel)
    }

    /// The file of a process channel, if it has one.
    pub fn get(&self, key: Key, channel: Channel) -> Option<&Path> {
        debug_assert!(
            !self.pending.contains_key(&(key, channel)),
            "an AUTO name was asked for before its file was created"
        );
        self.created.get(&(key, channel)).map(PathBuf::as_path)
    }

    /// A group is gone: forget its files.
    pub fn forget_group(&mut self, group: GroupId) {
        self.created.retain(|(key, _), _| key.group != group);
        self.pending.retain(|(key, _), _| key.group != group);
    }

    fn create_one(&mut self, key: Key, channel: Channel, name: &str, log: &mut MainLog) {
        let dir = std::mem::take(&mut self.dir);
        let created = create_auto_file(&dir, name, channel.name(), &self.identifier);
        self.record(key, channel, name, &dir, created, log);
        self.dir = dir;
    }

    fn record(
        &mut self,
        key: Key,
        channel: Channel,
        name: &str,
        dir: &Path,
        created: io::Result<PathBuf>,
        log: &mut MainLog,
    ) {
        match created {
            Ok(path) => {
                self.created.insert((key, channel), path);
            }
            Err(e) => log.log(
                LogLevel::Error,
                &format!(
                    "cannot create the AUTO {channel} log of {name} in {}: {e}; its {channel} is read and dropped",
                    dir.display()
                ),
            ),
        }
    }
}

/// The channels of `table` that log to AUTO files, with the process names.
fn auto_channels<'a>(
    table: &'a [(Key, &'a config::ProcessConfig)],
) -> impl Iterator<Item = (Key, Channel, &'a str)> + 'a {
    table.iter().flat_map(|&(key, process)| {
        let stdout = process.stdout.logfile == LogTarget::Auto;
        let stderr = process.stderr.logfile == LogTarget::Auto && !process.redirect_stderr;
        [(Channel::Stdout, stdout), (Channel::Stderr, stderr)]
            .into_iter()
            .filter(|&(_, auto)| auto)
            .map(move |(channel, _)| (key, channel, process.name.as_str()))
    })
}
