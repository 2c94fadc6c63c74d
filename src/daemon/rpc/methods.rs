//! Every XML-RPC method: its name, its signature for
//! `system.methodSignature` (`[return, params…]`, as Supervisor's
//! docstrings give them) and its help for `system.methodHelp`, in our own
//! words. Sorted as `system.listMethods` returns them.

use super::params::Params;
use super::Answer;
use crate::xmlrpc::{faults, Fault, Value};

pub struct Method {
    pub name: &'static str,
    pub signature: &'static [&'static str],
    pub help: &'static str,
}

const fn m(name: &'static str, signature: &'static [&'static str], help: &'static str) -> Method {
    Method {
        name,
        signature,
        help,
    }
}

pub const METHODS: &[Method] = &[
    m(
        "supervisor.addProcessGroup",
        &["boolean", "string"],
        "addProcessGroup(name): start managing the group `name` from the \
         configuration read by the last reloadConfig. Returns true; fails with \
         BAD_NAME if no such group was read, ALREADY_ADDED if it is active.",
    ),
    m(
        "supervisor.clearAllProcessLogs",
        &["array"],
        "clearAllProcessLogs(): empty the stdout and stderr log files of every \
         process. Returns one struct per process (name, group, status, description).",
    ),
    m(
        "supervisor.clearLog",
        &["boolean"],
        "clearLog(): empty supervisord's own log file. Returns true; fails with \
         NO_FILE when the log goes to syslog.",
    ),
    m(
        "supervisor.clearProcessLog",
        &["boolean", "string"],
        "clearProcessLog(name): the old name of clearProcessLogs.",
    ),
    m(
        "supervisor.clearProcessLogs",
        &["boolean", "string"],
        "clearProcessLogs(name): empty the stdout and stderr log files of the \
         process `name` (a namespec such as web or group:web). Returns true.",
    ),
    m(
        "supervisor.getAPIVersion",
        &["string"],
        "getAPIVersion(): the version of the XML-RPC API, \"3.0\".",
    ),
    m(
        "supervisor.getAllConfigInfo",
        &["array"],
        "getAllConfigInfo(): the configuration of every process, active or only \
         read by reloadConfig (inuse tells which), one struct per process.",
    ),
    m(
        "supervisor.getAllProcessInfo",
        &["array"],
        "getAllProcessInfo(): the state of every process, one struct per process \
         as getProcessInfo returns, ordered by group then name.",
    ),
    m(
        "supervisor.getIdentification",
        &["string"],
        "getIdentification(): the identifier set by [supervisord] identifier.",
    ),
    m(
        "supervisor.getPID",
        &["int"],
        "getPID(): the process id of supervisord.",
    ),
    m(
        "supervisor.getProcessInfo",
        &["struct", "string"],
        "getProcessInfo(name): the state of one process: name, group, start, \
         stop, now, state, statename, spawnerr, exitstatus, logfile, \
         stdout_logfile, stderr_logfile, pid, description.",
    ),
    m(
        "supervisor.getState",
        &["struct"],
        "getState(): supervisord's own state, as statecode and statename \
         (RUNNING while it accepts calls).",
    ),
    m(
        "supervisor.getSupervisorVersion",
        &["string"],
        "getSupervisorVersion(): the Supervisor version this daemon is compatible with.",
    ),
    m(
        "supervisor.getVersion",
        &["string"],
        "getVersion(): the old name of getAPIVersion.",
    ),
    m(
        "supervisor.readLog",
        &["string", "int", "int"],
        "readLog(offset, length): a slice of supervisord's own log. A negative \
         offset reads that many bytes from the end (length must then be 0); \
         length 0 reads to the end. At most 16 MiB per call.",
    ),
    m(
        "supervisor.readMainLog",
        &["string", "int", "int"],
        "readMainLog(offset, length): the old name of readLog.",
    ),
    m(
        "supervisor.readProcessLog",
        &["string", "string", "int", "int"],
        "readProcessLog(name, offset, length): the old name of readProcessStdoutLog.",
    ),
    m(
        "supervisor.readProcessStderrLog",
        &["string", "string", "int", "int"],
        "readProcessStderrLog(name, offset, length): a slice of a process's \
         stderr log, with readLog's offset and length rules.",
    ),
    m(
        "supervisor.readProcessStdoutLog",
        &["string", "string", "int", "int"],
        "readProcessStdoutLog(name, offset, length): a slice of a process's \
         stdout log, with readLog's offset and length rules.",
    ),
    m(
        "supervisor.reloadConfig",
        &["array"],
        "reloadConfig(): read the configuration file again without applying it. \
         Returns [[added, changed, removed]] group names; addProcessGroup and \
         removeProcessGroup then apply the changes.",
    ),
    m(
        "supervisor.removeProcessGroup",
        &["boolean", "string"],
        "removeProcessGroup(name): stop managing the group `name`, whose \
         processes must all be stopped (else STILL_RUNNING). Returns true.",
    ),
    m(
        "supervisor.restart",
        &["boolean"],
        "restart(): stop every process, read the configuration again and start \
         over. A configuration that does not load changes nothing (CANT_REREAD).",
    ),
    m(
        "supervisor.sendProcessStdin",
        &["boolean", "string", "string"],
        "sendProcessStdin(name, chars): write chars to the stdin of a running \
         process. At most 4 MiB may wait unread; beyond that the call fails.",
    ),
    m(
        "supervisor.sendRemoteCommEvent",
        &["boolean", "string", "string"],
        "sendRemoteCommEvent(type, data): raise a REMOTE_COMMUNICATION event \
         for event listeners. Returns true.",
    ),
    m(
        "supervisor.shutdown",
        &["boolean"],
        "shutdown(): stop every process, then supervisord. Returns true at once.",
    ),
    m(
        "supervisor.signalAllProcesses",
        &["array", "string"],
        "signalAllProcesses(signal): send a signal (name or number) to every \
         running process. Returns one struct per process signalled.",
    ),
    m(
        "supervisor.signalProcess",
        &["boolean", "string", "string"],
        "signalProcess(name, signal): send a signal (name such as HUP, or \
         number) to a process, or to every process of a group given as group:*.",
    ),
    m(
        "supervisor.signalProcessGroup",
        &["array", "string", "string"],
        "signalProcessGroup(name, signal): send a signal to every running \
         process of a group. Returns one struct per process signalled.",
    ),
    m(
        "supervisor.startAllProcesses",
        &["array", "boolean"],
        "startAllProcesses(wait=true): start every process that is not running, \
         in priority order. Returns one struct per process.",
    ),
    m(
        "supervisor.startProcess",
        &["boolean", "string", "boolean"],
        "startProcess(name, wait=true): start a process (or a group as group:*). \
         With wait, answer once it is RUNNING, or with the fault that stopped it.",
    ),
    m(
        "supervisor.startProcessGroup",
        &["array", "string", "boolean"],
        "startProcessGroup(name, wait=true): start every process of a group. \
         Returns one struct per process.",
    ),
    m(
        "supervisor.stopAllProcesses",
        &["array", "boolean"],
        "stopAllProcesses(wait=true): stop every running process. Returns one \
         struct per process.",
    ),
    m(
        "supervisor.stopProcess",
        &["boolean", "string", "boolean"],
        "stopProcess(name, wait=true): stop a process (or a group as group:*). \
         With wait, answer once it has stopped.",
    ),
    m(
        "supervisor.stopProcessGroup",
        &["array", "string", "boolean"],
        "stopProcessGroup(name, wait=true): stop every process of a group. \
         Returns one struct per process.",
    ),
    m(
        "supervisor.tailProcessLog",
        &["array", "string", "int", "int"],
        "tailProcessLog(name, offset, length): the old name of tailProcessStdoutLog.",
    ),
    m(
        "supervisor.tailProcessStderrLog",
        &["array", "string", "int", "int"],
        "tailProcessStderrLog(name, offset, length): like tailProcessStdoutLog, \
         for the stderr log.",
    ),
    m(
        "supervisor.tailProcessStdoutLog",
        &["array", "string", "int", "int"],
        "tailProcessStdoutLog(name, offset, length): the last `length` bytes of \
         a process's stdout log from `offset` on, as [bytes, new offset, \
         overflow]; overflow is true when more was written than asked for. \
         Call again with the new offset to follow the log.",
    ),
    m(
        "system.listMethods",
        &["array"],
        "listMethods(): the names of every method.",
    ),
    m(
        "system.methodHelp",
        &["string", "string"],
        "methodHelp(name): what a method does, its parameters and what it returns.",
    ),
    m(
        "system.methodSignature",
        &["array", "string"],
        "methodSignature(name): the types a method returns and takes, as \
         [return, parameter…].",
    ),
    m(
        "system.multicall",
        &["array", "array"],
        "multicall(calls): run several calls ({methodName, params} structs) in \
         order. Returns each result, or its fault as a struct, in an array.",
    ),
];

/// listMethods, methodHelp and methodSignature.
pub(super) fn introspect(method: &str, p: &Params) -> Answer {
    if method == "system.listMethods" {
        return Ok(Value::Array(
            METHODS.iter().map(|m| Value::str(m.name)).collect(),
        ));
    }
    let found =
        find(p.string(0)?).ok_or_else(|| Fault::named(faults::SIGNATURE_UNSUPPORTED, None))?;
    Ok(if method == "system.methodHelp" {
        Value::str(found.help)
    } else {
        Value::Array(found.signature.iter().map(|t| Value::str(*t)).collect())
    })
}

/// The method called `name`.
pub fn find(name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_each_with_its_own_help() {
        let names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        let mut helps: Vec<&str> = METHODS.iter().map(|m| m.help).collect();
        helps.sort();
        helps.dedup();
        assert_eq!(helps.len(), METHODS.len());
        for method in METHODS {
            let short = method.name.rsplit('.').next().unwrap();
            assert!(method.help.starts_with(short), "{}", method.name);
        }
    }
}
