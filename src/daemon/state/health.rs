//! Carrying out health checks: starting them with their process, probing
//! on time, and acting on a change of verdict (status, events,
//! `restart_when_unhealthy`).

use super::Daemon;
use crate::config::LogLevel;
use crate::daemon::events::Event;
use crate::daemon::lifecycle::health::Change;
use crate::daemon::proc::process::{Health, StateChange};
use crate::daemon::proc::status::{ExitStatus, Now, State};
use crate::daemon::proc::table::Key;

impl Daemon {
    /// A process changed state: its health check starts with it and ends
    /// when it goes down.
    pub(crate) fn health_on_change(&mut self, key: Key, change: &StateChange, now: Now) {
        let Some(process) = self.table.get(key) else {
            return;
        };
        let Some(check) = process.config.lifecycle.healthcheck.clone() else {
            return;
        };
        match change.to {
            State::Starting => {
                self.health.started(key, &check, now.mono, &self.registry);
                self.table
                    .process_mut(key)
                    .set_health(Some(Health::Starting));
            }
            State::Running => {}
            _ => {
                self.health.stopped(key, &self.registry);
                self.table.process_mut(key).set_health(None);
            }
        }
    }

    /// Probes that are due, and those past their timeout.
    pub(crate) fn check_health(&mut self, now: Now) {
        let table = &self.table;
        let (changes, errors) = self.health.on_time(
            now.mono,
            |k| table.get(k).map(|p| (*p.config).clone()),
            &self.spawn_ctx,
            &self.registry,
        );
        for error in errors {
            self.log.log(LogLevel::Debug, &error);
        }
        self.health_changed(changes, now);
    }

    /// A probe socket of ours is ready.
    pub(crate) fn health_ready(&mut self, token: mio::Token) {
        let now = Now::current();
        let changes = self.health.on_ready(token, now.mono, &self.registry);
        self.health_changed(changes, now);
    }

    /// A reaped child that no program owns may be a probe. `false` if not.
    pub(crate) fn health_reaped(&mut self, pid: i32, status: ExitStatus, now: Now) -> bool {
        match self.health.reaped(pid, status, now.mono) {
            Some(changes) => {
                self.health_changed(changes, now);
                true
            }
            None => false,
        }
    }

    fn health_changed(&mut self, changes: Vec<Change>, now: Now) {
        for change in changes {
            let Some(process) = self.table.get(change.key) else {
                continue;
            };
            let (name, group) = (process.config.name.clone(), process.config.group.clone());
            let pid = process.pid().unwrap_or(0);
            let restart =
                change.to == Health::Unhealthy && process.config.lifecycle.restart_when_unhealthy;
            self.log.log(
                if change.to == Health::Unhealthy {
                    LogLevel::Warn
                } else {
                    LogLevel::Info
                },
                &format!(
                    "health: {} is {} (was {})",
                    process.config.namespec(),
                    change.to.name(),
                    change.from.name()
                ),
            );
            self.table
                .process_mut(change.key)
                .set_health(Some(change.to));
            self.raise(Event::process_health(
                change.from,
                change.to,
                &name,
                &group,
                pid,
            ));
            if restart {
                self.log.log(
                    LogLevel::Warn,
                    &format!("restarting {name}: it is unhealthy (restart_when_unhealthy)"),
                );
                let process = self.table.process_mut(change.key);
                process.request_start();
                let actions = process.stop(now);
                self.perform_for(change.key, actions, now);
            }
            // Dependents may be waiting for this; the status shows it.
            self.snapshot_stale = true;
            self.dirty = true;
        }
    }
}
