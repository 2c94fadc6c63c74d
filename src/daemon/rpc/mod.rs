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
        // thread (`info.rs`) and never arrive here.
        let p = Params(&params);
        let now = Now::current();
        let done = |answer: Answer| Outcome::Done(answer);
        match method.as_str() {
            "system.listMethods" | "system.methodHelp" | "system.methodSignature" => {
                done(methods::introspect(&method, &p))
            }
            // The HTTP thread runs multicalls, sending each call here on its
            // own; one arriving here can only be nested in another.
            "system.multicall" => done(Err(fault(
                faults::INCORRECT_PARAMETERS,
                Some("Recursive system.multicall forbidden"),
            ))),
            "supervisor.startProcess" => self.start_named(&p, now),
            "supervisor.startProcessGroup" => self.start_group(&p, now),
            "supervisor.startAllProcesses" => {
                let keys = self.keys_in_priority_order();
                self.start_many(keys, p.wait(0), now)
            }
            "supervisor.stopProcess" => self.stop_named(&p, now),
            "supervisor.stopProcessGroup" => self.stop_group(&p, now),
            "supervisor.stopAllProcesses" => {
                let keys = self.keys_in_priority_order();
                self.stop_many(keys, p.wait(0), now)
            }
            "supervisor.signalProcess" => done(self.signal_named(&p, now)),
            "supervisor.signalProcessGroup" => done(self.signal_group(&p, now)),
            "supervisor.signalAllProcesses" => done(self.signal_all(&p, now)),
            "supervisor.sendProcessStdin" => done(self.send_stdin(&p)),
            "supervisor.sendRemoteCommEvent" => done(self.remote_comm(&p)),
            "supervisor.clearProcessLogs" | "supervisor.clearProcessLog" => {
                done(self.clear_named(&p))
            }
            "supervisor.clearAllProcessLogs" => done(Ok(self.clear_all())),
            "supervisor.clearLog" => done(self.clear_main_log()),
            "supervisor.shutdown" => done(Ok(self.shutdown_request())),
            "supervisor.restart" => done(
                // A config that does not load changes nothing, and says why.
                self.restart_request()
                    .map(|()| Value::Bool(true))
                    .map_err(|e| fault(faults::CANT_REREAD, Some(&e))),
            ),
            "supervisor.getAllConfigInfo" => done(Ok(self.all_config_info())),
            "supervisor.reloadConfig" => done(self.reload_config()),
            "supervisor.addProcessGroup" => done(p.string(0).and_then(|n| self.add_group(n))),
            "supervisor.removeProcessGroup" => done(p.string(0).and_then(|n| self.remove_group(n))),
            _ => done(Err(fault(faults::UNKNOWN_METHOD, None))),
        }
    }
}
