//! The `supervisor.*` and `system.*` XML-RPC methods (xmlrpc.md §6), by
//! topic: `control.rs` (start, stop, signal, stdin, waiting calls),
//! `groups.rs` (reread, add, remove, config info), `logs.rs` (clearing
//! logs), `info.rs` (status and log reads), `methods.rs` (names,
//! signatures and help of every method).
//!
//! Status and log reads (`info.rs`) are answered on the HTTP thread that
//! asked, from the snapshot the reactor publishes; `system.multicall` runs
//! there too, one call at a time (`reactor/bridge.rs`). Everything else runs
//! here, on the reactor thread, over the [`Daemon`]'s state: a method
//! answers at once or returns a [`Waiter`] that is settled after every state
//! change until it can answer (startProcess with `wait`, group and "all"
//! forms) — Supervisor's deferred responses, without any polling timer.

mod control;
mod groups;
pub mod info;
mod logs;
pub mod methods;
mod params;

use crate::daemon::proc::status::Now;
use crate::daemon::proc::table::{GroupId, Key, Phase};
use crate::daemon::state::Daemon;
use crate::xmlrpc::{faults, Call, Fault, Value};
use params::{bad_params, Params};

pub type Answer = Result<Value, Fault>;

/// A method's result: now, or once the processes get there.
pub enum Outcome {
    Done(Answer),
    Wait(Waiter),
}

/// A call waiting for process state.
pub enum Waiter {
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

impl Daemon {
    /// Run one call.
    pub(crate) fn rpc(&mut self, call: Call) -> Outcome {
        let Call { method, params } = call;
        let Some(signature) = methods::find(&method).map(|m| m.signature) else {
            return Outcome::Done(Err(fault(faults::UNKNOWN_METHOD, None)));
        };
        if method.starts_with("supervisor.") && self.config.rpcinterfaces.is_empty() {
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
                methods::METHODS
                    .iter()
                    .map(|m| Value::str(m.name))
                    .collect(),
            ))),
            "system.methodHelp" => done(p.string(0).and_then(|name| {
                methods::find(name)
                    .map(|m| Value::str(m.help))
                    .ok_or_else(|| fault(faults::SIGNATURE_UNSUPPORTED, None))
            })),
            "system.methodSignature" => done(p.string(0).and_then(|name| {
                methods::find(name)
                    .map(|m| Value::Array(m.signature.iter().map(|t| Value::str(*t)).collect()))
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
                self.raise(crate::daemon::events::Event::remote_communication(
                    kind, data,
                ));
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
}
