//! `depends_on` at run time: which processes a process waits for, whether
//! they are there yet, and who depends on whom (for stopping dependents
//! first). Pure: it reads process states, the table acts on the verdicts.
//!
//! The index is built from the active groups and rebuilt when groups come
//! and go; with no `depends_on` anywhere it is empty and costs nothing.

use std::collections::HashMap;

use crate::config::Condition;
use crate::daemon::proc::process::{Health, Process};
use crate::daemon::proc::status::State;
use crate::daemon::proc::table::{Group, GroupId, Key};

/// One `depends_on` entry, resolved to the processes it names.
#[derive(Debug, Clone)]
pub struct Need {
    pub name: String,
    pub condition: Condition,
    /// Every process of the program or group named (empty while no such
    /// group is active).
    pub keys: Vec<Key>,
}

/// What a process's dependencies allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Met,
    /// Not yet: what it waits for, as its status shows it.
    Waiting(String),
    /// Never: why, as its FATAL status shows it.
    Failed(String),
}

#[derive(Debug, Default)]
pub struct Index {
    needs: HashMap<Key, Vec<Need>>,
    dependents: HashMap<Key, Vec<Key>>,
}

impl Index {
    pub fn build<'g>(groups: impl Iterator<Item = (GroupId, &'g Group)> + Clone) -> Index {
        let mut index = Index::default();
        let wants_any = groups.clone().any(|(_, g)| {
            g.processes
                .iter()
                .any(|p| !p.config.lifecycle.depends_on.is_empty())
        });
        if !wants_any {
            return index;
        }
        // Processes by program name and by group name.
        let mut named: HashMap<&str, Vec<Key>> = HashMap::new();
        for (id, group) in groups.clone() {
            for (i, p) in group.processes.iter().enumerate() {
                let key = Key {
                    group: id,
                    process: i,
                };
                let program = p.config.section.split_once(':').map_or("", |(_, n)| n);
                named.entry(program).or_default().push(key);
                if group.config.name != program {
                    named.entry(&group.config.name).or_default().push(key);
                }
            }
        }
        for (id, group) in groups {
            for (i, p) in group.processes.iter().enumerate() {
                let key = Key {
                    group: id,
                    process: i,
                };
                let needs: Vec<Need> = p
                    .config
                    .lifecycle
                    .depends_on
                    .iter()
                    .map(|d| Need {
                        name: d.name.clone(),
                        condition: d.condition,
                        keys: named.get(d.name.as_str()).cloned().unwrap_or_default(),
                    })
                    .collect();
                for need in &needs {
                    for &on in &need.keys {
                        index.dependents.entry(on).or_default().push(key);
                    }
                }
                if !needs.is_empty() {
                    index.needs.insert(key, needs);
                }
            }
        }
        index
    }

    /// Whether any process has dependencies.
    pub fn is_empty(&self) -> bool {
        self.needs.is_empty()
    }

    pub fn needs(&self, key: Key) -> &[Need] {
        self.needs.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The processes that depend on `key`.
    pub fn dependents(&self, key: Key) -> &[Key] {
        self.dependents.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The processes with dependencies.
    pub fn dependent_keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.needs.keys().copied()
    }

    /// What `key`'s dependencies allow now.
    pub fn verdict<'p>(&self, key: Key, get: impl Fn(Key) -> Option<&'p Process>) -> Verdict {
        let mut waiting = None;
        for need in self.needs(key) {
            if need.keys.is_empty() {
                waiting.get_or_insert_with(|| format!("waiting for {}", need.name));
                continue;
            }
            for &on in &need.keys {
                let Some(p) = get(on) else {
                    waiting.get_or_insert_with(|| format!("waiting for {}", need.name));
                    continue;
                };
                match judge(p, need.condition) {
                    Judgement::Met => {}
                    Judgement::Waiting => {
                        waiting.get_or_insert_with(|| waiting_text(&need.name, need.condition));
                    }
                    Judgement::Failed(why) => {
                        return Verdict::Failed(format!("dependency {} {why}", p.config.namespec()))
                    }
                }
            }
        }
        waiting.map_or(Verdict::Met, Verdict::Waiting)
    }
}

fn waiting_text(name: &str, condition: Condition) -> String {
    match condition {
        Condition::Running => format!("waiting for {name} to be running"),
        Condition::Healthy => format!("waiting for {name} to be healthy"),
        Condition::Completed => format!("waiting for {name} to complete"),
    }
}

enum Judgement {
    Met,
    Waiting,
    Failed(String),
}

/// One dependency against one condition.
fn judge(p: &Process, condition: Condition) -> Judgement {
    let state = p.state();
    let gone_for_good = match state {
        State::Fatal => p.config.lifecycle.restart.fatal_retry_after.is_none(),
        State::Unknown => true,
        State::Exited => p.is_done(),
        _ => false,
    };
    let exit = || {
        p.last_exit()
            .map_or_else(|| "without a status".to_string(), |s| s.describe())
    };
    match condition {
        Condition::Running | Condition::Healthy => {
            let up = state == State::Running;
            let healthy = condition == Condition::Running
                || p.config.lifecycle.healthcheck.is_none()
                || p.health() == Some(Health::Healthy);
            if up && healthy {
                Judgement::Met
            } else if gone_for_good && state == State::Exited {
                Judgement::Failed(format!("exited ({}) and will not run again", exit()))
            } else if gone_for_good {
                Judgement::Failed(format!("is {}", state.name()))
            } else {
                Judgement::Waiting
            }
        }
        Condition::Completed => {
            if p.completed() {
                Judgement::Met
            } else if gone_for_good && state == State::Exited {
                Judgement::Failed(format!("exited unexpectedly ({})", exit()))
            } else if gone_for_good {
                Judgement::Failed(format!("is {}", state.name()))
            } else {
                Judgement::Waiting
            }
        }
    }
}
