//! The read-only login (`readonly_username`, `readonly_password`): it may
//! view status and logs, on the pages and over XML-RPC, and change nothing
//! (Supervisor has one login that may do everything).

use crate::xmlrpc::{self, Value};

/// XML-RPC methods that only read.
fn reads_only(method: &str) -> bool {
    ["supervisor.get", "supervisor.read", "supervisor.tail"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
        || matches!(
            method,
            "system.listMethods" | "system.methodHelp" | "system.methodSignature"
        )
}

/// May the read-only login make this `/RPC2` call? A multicall only if
/// every call in it only reads. A body that is no call at all may go on:
/// the server answers it with 400 and it changes nothing.
pub(crate) fn rpc_allowed(body: &[u8]) -> bool {
    let limits = xmlrpc::Limits {
        max_body: crate::daemon::http::MAX_BODY as usize,
        ..xmlrpc::Limits::default()
    };
    let Ok(call) = xmlrpc::parse_call(body, &limits) else {
        return true;
    };
    if call.method != "system.multicall" {
        return reads_only(&call.method);
    }
    let Some(Value::Array(calls)) = call.params.first() else {
        return true;
    };
    calls.iter().all(|c| {
        c.get("methodName")
            .and_then(Value::as_str)
            .is_none_or(reads_only)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reading_calls_pass() {
        let call = |m: &str, p: &[Value]| xmlrpc::write_call(m, p);
        assert!(rpc_allowed(&call("supervisor.getAllProcessInfo", &[])));
        assert!(rpc_allowed(&call("supervisor.tailProcessStdoutLog", &[])));
        assert!(rpc_allowed(&call("system.listMethods", &[])));
        assert!(!rpc_allowed(&call(
            "supervisor.stopProcess",
            &[Value::str("x")]
        )));
        assert!(!rpc_allowed(&call("supervisor.shutdown", &[])));
        assert!(!rpc_allowed(&call("supervisor.clearLog", &[])));
        let entry = |m: &str| Value::structure([("methodName", Value::str(m))]);
        let multi = |ms: &[&str]| {
            call(
                "system.multicall",
                &[Value::Array(ms.iter().map(|m| entry(m)).collect())],
            )
        };
        assert!(rpc_allowed(&multi(&[
            "supervisor.getState",
            "supervisor.getPID"
        ])));
        assert!(!rpc_allowed(&multi(&[
            "supervisor.getState",
            "supervisor.startAllProcesses"
        ])));
    }
}
