//! Stopping everything: shutdown, restart with a new configuration, and as
//! PID 1, the leftovers in the namespace once the programs are down.

use std::time::{Duration, Instant};

use super::{spawn_context, Daemon};
use crate::common::exit;
use crate::config::{self, Config, Host, LogLevel};
use crate::daemon::events::Event;
use crate::daemon::proc::reap;
use crate::daemon::proc::status::Now;
use crate::daemon::proc::table::{Phase, ProcessTable};

/// How long, as PID 1, the leftovers get between SIGTERM and SIGKILL.
const STRAGGLER_GRACE: Duration = Duration::from_secs(5);

/// After the programs are down, as PID 1: waiting for everyone else.
#[derive(Debug, Default)]
pub(super) struct Stopping {
    /// Whether supervisord is the namespace's init.
    pid1: Option<bool>,
    stragglers: Option<Stragglers>,
}

#[derive(Debug, Clone, Copy)]
struct Stragglers {
    kill_at: Instant,
    killed: bool,
}

impl Stopping {
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.stragglers.filter(|s| !s.killed).map(|s| s.kill_at)
    }

    fn pid1(&mut self) -> bool {
        *self.pid1.get_or_insert_with(reap::is_pid1)
    }
}

impl Daemon {
    /// Begin an orderly stop of everything; the listeners hear of it first.
    pub(crate) fn begin_stop(&mut self, restart: bool) {
        if self.table.phase() == Phase::Running {
            self.raise(Event::supervisor_stopping());
        }
        self.table.begin_stop(restart);
        if !restart {
            self.start_budget(Instant::now());
        }
        self.dirty = true;
    }

    /// SIGHUP or `restart`: re-read the config first; only a config that
    /// loads replaces the running one (Supervisor stops everything and then
    /// exits 2 when the new file is broken).
    pub(crate) fn restart_request(&mut self) -> Result<(), String> {
        if let Phase::Stopping { restart: false } = self.table.phase() {
            self.log.log(
                LogLevel::Warn,
                "ignored SIGHUP indicating restart request (shutdown in progress)",
            );
            return Ok(());
        }
        self.log
            .log(LogLevel::Warn, "received SIGHUP indicating restart request");
        match config::load(&self.source.file, &self.source.overrides, &Host::current()) {
            Ok(config) => {
                self.restart_config = Some(config);
                self.begin_stop(true);
                Ok(())
            }
            Err(e) => {
                self.log.log(
                    LogLevel::Error,
                    &format!(
                        "not restarting: the configuration {} does not load, so the running \
                         configuration stays in effect: {e}",
                        self.source.file.display()
                    ),
                );
                Err(e.0)
            }
        }
    }

    /// When a stop has brought everything down: restart with the new
    /// config, or (as PID 1, after the stragglers) say that we are done and
    /// with which exit status.
    pub fn exit_status(&mut self, now: Now) -> Option<i32> {
        let Phase::Stopping { restart } = self.table.phase() else {
            return None;
        };
        let code = self.finishing.exit_code.unwrap_or(exit::OK);
        if !restart && self.finishing.out_of_time(now.mono) {
            self.log.log(
                LogLevel::Warn,
                "shutdown_timeout ran out: exiting with processes left",
            );
            return Some(code);
        }
        if !self.table.all_stopped() {
            return None;
        }
        if restart {
            if let Some(config) = self.restart_config.take() {
                self.apply(config);
            }
            self.table.resume();
            self.dirty = true;
            return None;
        }
        if !self.stopping.pid1() || self.finish_as_init(now) {
            return Some(code);
        }
        None
    }

    /// PID 1: TERM everything left in the namespace, KILL it after a grace
    /// period, and leave only when no child is left to reap.
    fn finish_as_init(&mut self, now: Now) -> bool {
        use nix::sys::signal::Signal;
        match self.stopping.stragglers {
            None => {
                let others = reap::others();
                if !reap::signal_everyone(Signal::SIGTERM) {
                    return true;
                }
                // The grace ends early when the shutdown budget would.
                let grace_end = now.mono + STRAGGLER_GRACE;
                let kill_at = self
                    .finishing
                    .kill_time()
                    .map_or(grace_end, |t| t.min(grace_end));
                self.log.log(
                    LogLevel::Info,
                    &format!(
                        "as PID 1, sending SIGTERM to the processes left in the namespace \
                         (SIGKILL in {:.1} s): {}",
                        kill_at.saturating_duration_since(now.mono).as_secs_f64(),
                        reap::describe(&others, 20)
                    ),
                );
                self.stopping.stragglers = Some(Stragglers {
                    kill_at,
                    killed: false,
                });
                false
            }
            Some(s) => {
                if !reap::has_children() {
                    return true;
                }
                if !s.killed && now.mono >= s.kill_at {
                    let others = reap::others();
                    self.log.log(
                        LogLevel::Warn,
                        &format!(
                            "as PID 1, sending SIGKILL to the processes still left: {}",
                            reap::describe(&others, 20)
                        ),
                    );
                    reap::signal_everyone(Signal::SIGKILL);
                    self.stopping.stragglers = Some(Stragglers {
                        kill_at: s.kill_at,
                        killed: true,
                    });
                }
                false
            }
        }
    }

    /// The loop cannot go on: tell the programs to stop (we can no longer
    /// wait for them), say why; the caller exits.
    pub fn abandon(&mut self, why: &str) -> i32 {
        self.log.log(
            LogLevel::Critical,
            &format!("the event loop failed ({why}); sending SIGTERM to every program and exiting"),
        );
        for key in self.table.keys() {
            if let Some(pid) = self.table.process(key).pid() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        self.abandon_waiting();
        exit::INTERNAL
    }

    /// Replace the running configuration (a restart, everything stopped).
    fn apply(&mut self, config: Config) {
        for message in config.messages.warnings.iter() {
            self.log.log(LogLevel::Warn, message);
        }
        // Unchanged servers stay up, so clients never see a refused
        // connection during a restart (Supervisor closes and reopens them).
        self.rebind_servers = (&config.unix_servers, &config.inet_servers)
            != (&self.config.unix_servers, &self.config.inet_servers);
        self.table = ProcessTable::new(&config);
        self.bus.reset();
        self.spawn_ctx = spawn_context(&config);
        self.config = config;
        self.reread_config = None;
        if let Err(e) = self.log.open(&self.config.supervisord) {
            eprintln!("supervisord: cannot reopen the main log: {e}");
        }
        self.create_auto_files();
        self.groups_created();
    }
}
