//! The process table: groups in start order, their processes' state
//! machines, which pid belongs to whom, and the ordered stop of everything.
//!
//! Like [`process`](super::process), this holds no file descriptors and makes
//! no system calls: it decides, the reactor acts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::process::{Action, Process};
use super::status::{Now, State};
use crate::config::{self, LogLevel};
use crate::daemon::lifecycle::deps;

/// A group's place in the table. A slot freed by a removed group is
/// reused, with the next generation: an id (or key) kept from before the
/// removal — by a waiting call, a pipe, a log file — then finds nothing
/// instead of another group's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId {
    pub slot: usize,
    pub generation: u32,
}

/// Where a process lives in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub group: GroupId,
    pub process: usize,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    group: Option<Group>,
}

/// A group and the state machines of its processes (in the group's order).
#[derive(Debug)]
pub struct Group {
    pub config: config::ProcessGroup,
    pub processes: Vec<Process>,
}

/// supervisord's own state (processes.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// Stopping everything; `restart` means starting again afterwards.
    Stopping {
        restart: bool,
    },
}

impl Phase {
    /// The code `getState` reports: RUNNING 1, RESTARTING 0, SHUTDOWN -1.
    pub fn code(self) -> i32 {
        match self {
            Phase::Running => 1,
            Phase::Stopping { restart: true } => 0,
            Phase::Stopping { restart: false } => -1,
        }
    }

    /// The `statename` `getState` reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Running => "RUNNING",
            Phase::Stopping { restart: true } => "RESTARTING",
            Phase::Stopping { restart: false } => "SHUTDOWN",
        }
    }
}

/// How often the "waiting for … to die" line repeats during a stop.
const WAITING_REPORT_EVERY: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub struct ProcessTable {
    /// The groups; a removed group leaves its slot empty for the next one
    /// (see [`GroupId`]), so the keys of the others stay valid and the
    /// table does not grow with every add and remove.
    slots: Vec<Slot>,
    /// The active groups in start order: ascending (priority, name).
    order: Vec<GroupId>,
    pids: HashMap<i32, Key>,
    /// Who depends on whom (`depends_on`), rebuilt when groups change.
    deps: deps::Index,
    phase: Phase,
    last_waiting_report: Option<Instant>,
}

impl ProcessTable {
    /// The table for `config`: every process STOPPED, nothing started yet.
    pub fn new(config: &config::Config) -> ProcessTable {
        let mut table = ProcessTable {
            slots: Vec::new(),
            order: Vec::new(),
            pids: HashMap::new(),
            deps: deps::Index::default(),
            phase: Phase::Running,
            last_waiting_report: None,
        };
        // Ordered once at the end, not after each group (thousands of them).
        for group in &config.groups {
            let processes = group.processes.iter().cloned().map(Process::new).collect();
            table.slots.push(Slot {
                generation: 0,
                group: Some(Group {
                    config: group.clone(),
                    processes,
                }),
            });
        }
        table.reorder();
        table
    }

    /// Activate a group (its processes STOPPED, autostart then applies).
    pub fn add_group(&mut self, config: config::ProcessGroup) -> GroupId {
        let processes = config.processes.iter().cloned().map(Process::new).collect();
        let group = Some(Group { config, processes });
        let id = match self.slots.iter().position(|s| s.group.is_none()) {
            Some(slot) => {
                let free = &mut self.slots[slot];
                free.generation = free.generation.wrapping_add(1);
                free.group = group;
                GroupId {
                    slot,
                    generation: free.generation,
                }
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    group,
                });
                GroupId {
                    slot: self.slots.len() - 1,
                    generation: 0,
                }
            }
        };
        self.reorder();
        id
    }

    /// Deactivate a group; the caller checked that its processes are stopped.
    pub fn remove_group(&mut self, id: GroupId) {
        if let Some(slot) = self.slots.get_mut(id.slot) {
            if slot.generation == id.generation {
                slot.group = None;
            }
        }
        self.reorder();
    }

    fn reorder(&mut self) {
        let mut order: Vec<GroupId> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.group.is_some())
            .map(|(slot, s)| GroupId {
                slot,
                generation: s.generation,
            })
            .collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&self.group(a).config, &self.group(b).config);
            (a.priority, &a.name).cmp(&(b.priority, &b.name))
        });
        self.order = order;
        self.deps = deps::Index::build(self.order.iter().map(|&id| (id, self.group(id))));
    }

    /// The active groups in start order, with their ids.
    pub fn groups(&self) -> impl Iterator<Item = (GroupId, &Group)> {
        self.order.iter().map(|&id| (id, self.group(id)))
    }

    /// An active group, or `None` for an id from before its removal.
    pub fn get_group(&self, id: GroupId) -> Option<&Group> {
        self.slots
            .get(id.slot)
            .filter(|s| s.generation == id.generation)
            .and_then(|s| s.group.as_ref())
    }

    /// An active group, for ids just taken from the table.
    pub fn group(&self, id: GroupId) -> &Group {
        self.get_group(id).expect("an active group")
    }

    /// How many group slots exist, active or free.
    #[cfg(test)]
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The id of the active group called `name`.
    pub fn group_index(&self, name: &str) -> Option<GroupId> {
        self.groups()
            .find(|(_, g)| g.config.name == name)
            .map(|(i, _)| i)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// A process, or `None` for a key from before its group's removal
    /// (a waiting call, a pipe that outlived its process).
    pub fn get(&self, key: Key) -> Option<&Process> {
        self.get_group(key.group)?.processes.get(key.process)
    }

    /// A process, for keys just taken from the table.
    pub fn process(&self, key: Key) -> &Process {
        self.get(key).expect("a live key")
    }

    pub fn process_mut(&mut self, key: Key) -> &mut Process {
        self.slots
            .get_mut(key.group.slot)
            .filter(|s| s.generation == key.group.generation)
            .and_then(|s| s.group.as_mut())
            .and_then(|g| g.processes.get_mut(key.process))
            .expect("a live key")
    }

    /// Every process, in start order.
    pub fn keys(&self) -> Vec<Key> {
        self.groups()
            .flat_map(|(g, group)| {
                (0..group.processes.len()).map(move |p| Key {
                    group: g,
                    process: p,
                })
            })
            .collect()
    }

    pub fn owner_of(&self, pid: i32) -> Option<Key> {
        self.pids.get(&pid).copied()
    }

    pub fn track(&mut self, pid: i32, key: Key) {
        self.pids.insert(pid, key);
    }

    pub fn forget(&mut self, pid: i32) {
        self.pids.remove(&pid);
    }

    /// Automatic starts (autostart, autorestart, retries) happen only while running.
    pub fn may_start(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Begin stopping everything (shutdown, or restart when `restart`).
    /// A shutdown requested during a restart turns it into a shutdown.
    pub fn begin_stop(&mut self, restart: bool) {
        let restart = restart && self.phase != Phase::Stopping { restart: false };
        self.phase = Phase::Stopping { restart };
    }

    /// Back to normal after a restart has stopped everything.
    pub fn resume(&mut self) {
        self.phase = Phase::Running;
        self.last_waiting_report = None;
    }

    /// Whether every process is in a stopped state.
    pub fn all_stopped(&self) -> bool {
        self.groups()
            .flat_map(|(_, g)| &g.processes)
            .all(|p| p.state().is_stopped())
    }

    /// Whether a process that depends on `key` is not down yet.
    pub fn has_live_dependents(&self, key: Key) -> bool {
        self.deps
            .dependents(key)
            .iter()
            .any(|&d| self.get(d).is_some_and(|p| !p.state().is_stopped()))
    }

    /// The dependency index (empty without `depends_on`).
    pub fn deps(&self) -> &deps::Index {
        &self.deps
    }

    /// Do everything that is due at `now`: the stop pass of the current wave
    /// when stopping, then each process's time-driven transitions.
    pub fn advance(&mut self, now: Now) -> Vec<(Key, Action)> {
        let mut actions = Vec::new();
        if let Phase::Stopping { .. } = self.phase {
            self.stop_wave(now, &mut actions);
            self.report_waiting(now, &mut actions);
        }
        self.gate_dependencies(now, &mut actions);
        let may_start = self.may_start();
        for key in self.keys() {
            for action in self.process_mut(key).tick(now, may_start) {
                actions.push((key, action));
            }
        }
        actions
    }

    /// Shutdown order, in waves: the groups with the highest priority that
    /// still have live processes are all stopped at once; the next wave
    /// starts as soon as that one is down (Supervisor stops one group at a
    /// time and waits a tick between them).
    ///
    /// With `depends_on`, a process waits until its dependents are down, so
    /// dependents stop first within a wave; where priorities say otherwise
    /// (a load-time warning) the dependencies win.
    fn stop_wave(&mut self, now: Now, actions: &mut Vec<(Key, Action)>) {
        let keys = self.keys();
        let candidates: Vec<Key> = keys
            .into_iter()
            .filter(|&k| !self.process(k).state().is_stopped() && !self.has_live_dependents(k))
            .collect();
        let Some(wave) = candidates
            .iter()
            .map(|k| self.group(k.group).config.priority)
            .max()
        else {
            return;
        };
        for key in candidates {
            if self.group(key.group).config.priority != wave {
                continue;
            }
            let process = self.process_mut(key);
            let produced = match process.state() {
                s if s == State::Running || s == State::Starting => process.stop(now),
                State::Backoff => process.give_up(now),
                _ => Vec::new(),
            };
            actions.extend(produced.into_iter().map(|a| (key, a)));
        }
    }

    /// Processes about to start from STOPPED (or to retry from FATAL) wait
    /// until their dependencies are met, and go FATAL when one fails for good.
    fn gate_dependencies(&mut self, now: Now, actions: &mut Vec<(Key, Action)>) {
        if self.deps.is_empty() {
            return;
        }
        let verdicts: Vec<(Key, deps::Verdict)> = self
            .deps
            .dependent_keys()
            .filter(|&k| {
                self.get(k).is_some_and(|p| {
                    p.about_to_start() || (p.state() == State::Fatal && p.retries_from_fatal())
                })
            })
            .map(|k| (k, self.deps.verdict(k, |d| self.get(d))))
            .collect();
        for (key, verdict) in verdicts {
            let process = self.process_mut(key);
            match verdict {
                deps::Verdict::Met => process.set_blocked(None),
                deps::Verdict::Waiting(why) => process.set_blocked(Some(why)),
                deps::Verdict::Failed(why) if process.state() == State::Stopped => {
                    let produced = process.dependency_failed(&why, now);
                    actions.extend(produced.into_iter().map(|a| (key, a)));
                }
                deps::Verdict::Failed(why) => process.set_blocked(Some(why)),
            }
        }
    }

    fn report_waiting(&mut self, now: Now, actions: &mut Vec<(Key, Action)>) {
        if self
            .last_waiting_report
            .is_some_and(|at| now.mono < at + WAITING_REPORT_EVERY)
        {
            return;
        }
        let waiting: Vec<(Key, String)> = self
            .keys()
            .into_iter()
            .filter(|&k| !self.process(k).state().is_stopped())
            .map(|k| (k, self.process(k).config.name.clone()))
            .collect();
        if let Some(&(first, _)) = waiting.first() {
            self.last_waiting_report = Some(now.mono);
            let names: Vec<String> = waiting.into_iter().map(|(_, n)| n).collect();
            actions.push((
                first,
                Action::Log(
                    LogLevel::Info,
                    format!("waiting for {} to die", names.join(", ")),
                ),
            ));
        }
    }

    /// The earliest instant at which [`advance`](Self::advance) has work.
    pub fn deadline(&self) -> Option<Instant> {
        let may_start = self.may_start();
        let processes = self
            .groups()
            .flat_map(|(_, g)| &g.processes)
            .filter_map(|p| p.deadline(may_start))
            .min();
        let report = match self.phase {
            Phase::Stopping { .. } if !self.all_stopped() => Some(
                self.last_waiting_report
                    .map_or_else(Instant::now, |at| at + WAITING_REPORT_EVERY),
            ),
            _ => None,
        };
        processes.into_iter().chain(report).min()
    }
}
