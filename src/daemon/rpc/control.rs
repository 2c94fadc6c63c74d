//! Starting, stopping and signalling processes, their stdin, and the
//! calls that wait for them (Supervisor's deferred answers).

use super::params::{bad_params, Params};
use super::{fault, result_struct, Answer, Outcome, Target, Waiter};
use crate::config::datatypes;
use crate::config::LogLevel;
use crate::daemon::events::Event;
use crate::daemon::lifecycle::deps::Verdict;
use crate::daemon::proc::spawn;
use crate::daemon::proc::status::{Now, State};
use crate::daemon::proc::table::{Key, Phase};
use crate::daemon::state::Daemon;
use crate::xmlrpc::{faults, Fault, Value};

impl Daemon {
    /// startProcess: one process, or a group as `group:*`.
    pub(super) fn start_named(&mut self, p: &Params, now: Now) -> Outcome {
        let name = match p.string(0) {
            Ok(name) => name,
            Err(f) => return Outcome::Done(Err(f)),
        };
        match self.resolve(name) {
            Ok(Target::Process(key)) => self.start_one(key, name, p.wait(1), now),
            Ok(Target::Group(g)) => self.start_many(self.group_keys(g), p.wait(1), now),
            Err(f) => Outcome::Done(Err(f)),
        }
    }

    pub(super) fn start_group(&mut self, p: &Params, now: Now) -> Outcome {
        match p.string(0).and_then(|n| self.group_named(n)) {
            Ok(g) => self.start_many(self.group_keys(g), p.wait(1), now),
            Err(f) => Outcome::Done(Err(f)),
        }
    }

    /// stopProcess: one process, or a group as `group:*`.
    pub(super) fn stop_named(&mut self, p: &Params, now: Now) -> Outcome {
        let name = match p.string(0) {
            Ok(name) => name,
            Err(f) => return Outcome::Done(Err(f)),
        };
        match self.resolve(name) {
            Ok(Target::Process(key)) => self.stop_one(key, name, p.wait(1), now),
            Ok(Target::Group(g)) => self.stop_many(self.group_keys(g), p.wait(1), now),
            Err(f) => Outcome::Done(Err(f)),
        }
    }

    pub(super) fn stop_group(&mut self, p: &Params, now: Now) -> Outcome {
        match p.string(0).and_then(|n| self.group_named(n)) {
            Ok(g) => self.stop_many(self.group_keys(g), p.wait(1), now),
            Err(f) => Outcome::Done(Err(f)),
        }
    }

    pub(super) fn signal_group(&mut self, p: &Params, now: Now) -> Answer {
        let g = self.group_named(p.string(0)?)?;
        self.signal_many(self.group_keys(g), p, 1, now)
    }

    pub(super) fn signal_all(&mut self, p: &Params, now: Now) -> Answer {
        let keys = self.keys_in_priority_order();
        let answer = self.signal_many(keys, p, 0, now);
        // Supervisor's quirk: signals go out, then the state is checked.
        if self.table.phase() != Phase::Running {
            return Err(fault(faults::SHUTDOWN_STATE, None));
        }
        answer
    }

    /// sendRemoteCommEvent: an event for the listeners, nothing else.
    pub(super) fn remote_comm(&mut self, p: &Params) -> Answer {
        let (kind, data) = (p.string(0)?, p.string(1)?);
        self.raise(Event::remote_communication(kind, data));
        Ok(Value::Bool(true))
    }

    pub(super) fn shutdown_request(&mut self) -> Value {
        self.log
            .log(LogLevel::Warn, "received shutdown request via RPC");
        self.begin_stop(false);
        Value::Bool(true)
    }

    pub(super) fn start_one(&mut self, key: Key, name: &str, wait: bool, now: Now) -> Outcome {
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
        if let Some(outcome) = self.start_after_dependencies(key, name, wait, now) {
            return outcome;
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

    /// A start of a process whose dependencies are not met yet: start the
    /// dependencies that are down (as `docker compose up x` does), and let
    /// the process start once they are there. `None` when nothing is in
    /// the way.
    fn start_after_dependencies(
        &mut self,
        key: Key,
        name: &str,
        wait: bool,
        now: Now,
    ) -> Option<Outcome> {
        if self.table.deps().needs(key).is_empty() {
            return None;
        }
        let mut visited = vec![key];
        self.start_dependencies_of(key, now, &mut visited);
        match self.table.deps().verdict(key, |k| self.table.get(k)) {
            Verdict::Met => None,
            Verdict::Failed(why) => {
                let actions = self.table.process_mut(key).dependency_failed(&why, now);
                self.perform_for(key, actions, now);
                Some(Outcome::Done(Err(fault(faults::SPAWN_ERROR, Some(name)))))
            }
            Verdict::Waiting(why) => {
                let process = self.table.process_mut(key);
                process.request_start();
                process.set_blocked(Some(why));
                Some(if wait {
                    Outcome::Wait(Waiter::Start(key))
                } else {
                    Outcome::Done(Ok(Value::Bool(true)))
                })
            }
        }
    }

    /// Start the stopped dependencies of `key`, theirs first.
    fn start_dependencies_of(&mut self, key: Key, now: Now, visited: &mut Vec<Key>) {
        let deps: Vec<Key> = self
            .table
            .deps()
            .needs(key)
            .iter()
            .flat_map(|n| n.keys.iter().copied())
            .collect();
        for dep in deps {
            if visited.contains(&dep) {
                continue;
            }
            visited.push(dep);
            let Some(process) = self.table.get(dep) else {
                continue;
            };
            let down = matches!(
                process.state(),
                State::Stopped | State::Exited | State::Fatal
            );
            if !down || process.wants_start() || process.completed() {
                continue;
            }
            self.start_dependencies_of(dep, now, visited);
            if self.table.deps().verdict(dep, |k| self.table.get(k)) == Verdict::Met {
                let actions = self.table.process_mut(dep).start(now);
                self.perform_for(dep, actions, now);
            } else {
                self.table.process_mut(dep).request_start();
            }
        }
    }

    pub(super) fn stop_one(&mut self, key: Key, name: &str, wait: bool, now: Now) -> Outcome {
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
    pub(super) fn start_many(&mut self, keys: Vec<Key>, wait: bool, now: Now) -> Outcome {
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

    pub(super) fn stop_many(&mut self, keys: Vec<Key>, wait: bool, now: Now) -> Outcome {
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| self.table.process(*k).state().is_running())
            .collect();
        let mut results = Vec::new();
        let mut waiting = Vec::new();
        for &key in &keys {
            // With depends_on, a dependency stopped together with its
            // dependents waits until they are down (see `stop_deferred`).
            let deferred = self.table.deps().dependents(key).iter().any(|d| {
                keys.contains(d) && self.table.get(*d).is_some_and(|p| !p.state().is_stopped())
            });
            if deferred {
                self.deferred_stops.push(key);
                if wait {
                    waiting.push((key, Waiter::Stop(key)));
                } else {
                    results.push(self.result_for(key, &Ok(Value::Bool(true))));
                }
                continue;
            }
            let name = self.namespec(key);
            match self.stop_one(key, &name, wait, now) {
                Outcome::Done(answer) => results.push(self.result_for(key, &answer)),
                Outcome::Wait(w) => waiting.push((key, w)),
            }
        }
        self.settle(Waiter::Many { waiting, results })
    }

    /// Stops deferred by `stop_many` whose dependents are down now (or are
    /// no longer being stopped).
    pub(crate) fn stop_deferred(&mut self, now: Now) {
        if self.deferred_stops.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.deferred_stops);
        let blocked = |k: Key| {
            self.table.deps().dependents(k).iter().any(|d| {
                self.table.get(*d).is_some_and(|p| {
                    !p.state().is_stopped() && (p.state() == State::Stopping || pending.contains(d))
                })
            })
        };
        let (later, now_due): (Vec<Key>, Vec<Key>) = pending.iter().partition(|&&k| blocked(k));
        self.deferred_stops = later;
        for key in now_due {
            let running = self.table.get(key).is_some_and(|p| p.state().is_running());
            if running {
                let actions = self.table.process_mut(key).stop(now);
                self.perform_for(key, actions, now);
            }
        }
    }

    pub(super) fn result_for(&self, key: Key, answer: &Answer) -> Value {
        match self.table.get(key) {
            Some(p) => result_struct(&p.config.name, &p.config.group, answer),
            None => result_struct("", "", answer),
        }
    }

    pub(super) fn signal_named(&mut self, p: &Params, now: Now) -> Answer {
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

    pub(super) fn signal_one(&mut self, key: Key, name: &str, signal: i32, now: Now) -> Answer {
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

    pub(super) fn signal_many(
        &mut self,
        keys: Vec<Key>,
        p: &Params,
        index: usize,
        now: Now,
    ) -> Answer {
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
    pub(crate) fn settle(&mut self, waiter: Waiter) -> Outcome {
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
                    // Waiting for its dependencies.
                    State::Stopped if process.wants_start() => Outcome::Wait(Waiter::Start(key)),
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

    pub(super) fn send_stdin(&mut self, p: &Params) -> Answer {
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
