//! The JSON view the live page polls, its log reader and its actions.
//!
//! Everything goes through XML-RPC (`call.rs`) except log reading, which
//! reads the file the backend names for `/logtail` (as `/logtail` does), so
//! the page can page backwards and follow with byte offsets.

use std::fmt::Write as _;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::call::{call, ctime_now, hostname, started_at};
use super::legacy::{process_action, unexpected};
use super::text::{json_str, query_of, Form};
use super::{guard, send_json, Exchange};
use crate::daemon::http::exchange::After;
use crate::daemon::http::LogRequest;
use crate::xmlrpc::{faults, Value};

/// Default and greatest bytes of log one request returns.
const LOG_DEFAULT: u64 = 64 * 1024;
const LOG_MAX: u64 = 1024 * 1024;
/// The header the page's script sends with every action. A form on another
/// site cannot send it, and a script there cannot either without a CORS
/// preflight, which this server never grants.
pub(super) const UI_HEADER: &str = "x-supervisor-ui";

/// `ui/api/status`: supervisord's state and every process's info.
pub(super) fn status(ex: &mut Exchange<'_>) -> After {
    let site = ex.site;
    let processes = match call(site, "supervisor.getAllProcessInfo", &[]) {
        Ok(v) => v,
        Err(f) => return send_json(ex, 503, &error_json(&unexpected(&f))),
    };
    let text = |method| {
        call(site, method, &[])
            .ok()
            .and_then(|v| v.as_str().map(String::from))
    };
    let state = call(site, "supervisor.getState", &[]).ok();
    let statename = state
        .as_ref()
        .and_then(|s| s.get("statename"))
        .and_then(Value::as_str);
    let pid = call(site, "supervisor.getPID", &[])
        .ok()
        .and_then(|v| v.as_int());
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("{\"supervisor\":{\"state\":");
    json_str(&mut out, statename.unwrap_or("UNKNOWN"));
    out.push_str(",\"version\":");
    json_str(
        &mut out,
        &text("supervisor.getSupervisorVersion").unwrap_or_default(),
    );
    out.push_str(",\"identification\":");
    json_str(
        &mut out,
        &text("supervisor.getIdentification").unwrap_or_default(),
    );
    out.push_str(",\"hostname\":");
    json_str(&mut out, hostname());
    let now = chrono::Utc::now().timestamp();
    let _ = write!(
        out,
        ",\"pid\":{},\"started\":{},\"now\":{now},\"readonly\":{}}},\"processes\":",
        pid.unwrap_or(0),
        started_at().unwrap_or(0),
        ex.head.readonly
    );
    write_value(&mut out, &processes);
    out.push('}');
    send_json(ex, 200, &out)
}

/// A value as JSON. `logfile` (the old name of `stdout_logfile`) is left
/// out: at 500 processes every byte of the poll counts.
fn write_value(out: &mut String, value: &Value) {
    crate::xmlrpc::json::write_value(out, value, |name| name == "logfile");
}

fn error_json(message: &str) -> String {
    let mut out = String::from("{\"ok\":false,\"message\":");
    json_str(&mut out, message);
    out.push('}');
    out
}

fn result_json(ok: bool, message: &str) -> String {
    let mut out = format!("{{\"ok\":{ok},\"message\":");
    json_str(&mut out, message);
    out.push('}');
    out
}

/// `ui/api/log?name=<ns>&channel=stdout|stderr&at=N|before=N&max=N`: a
/// slice of a process's log (the main log without `name`). `at` reads
/// forward from an offset (following; an offset past the end means the
/// file was cleared or rotated: the answer starts over with `reset`),
/// `before` reads the bytes before an offset (loading more), neither reads
/// the end. The answer is `{size, start, end, text, reset}`.
pub(super) fn log(ex: &mut Exchange<'_>) -> After {
    let form = Form::new(query_of(ex.head.target()), None);
    let number = |k| form.get(k).and_then(|v| v.parse::<u64>().ok());
    let max = number("max").unwrap_or(LOG_DEFAULT).clamp(1, LOG_MAX);
    let which = match form.non_empty("name") {
        Some(name) => LogRequest::Process {
            namespec: name.to_string(),
            stderr: form.get("channel") == Some("stderr"),
        },
        None => LogRequest::Main,
    };
    let opened = ex.site.backend.log_file(which).and_then(|path| {
        let file = File::open(path).ok()?;
        let size = file.metadata().ok()?.len();
        Some((file, size))
    });
    let Some((file, size)) = opened else {
        return send_json(ex, 404, &error_json("No log file"));
    };
    let (mut reset, start, end) = match (number("at"), number("before")) {
        (Some(at), _) if at > size => (true, size.saturating_sub(max), size),
        (Some(at), _) => (false, at, size.min(at + max)),
        (None, Some(before)) => {
            let end = before.min(size);
            (false, end.saturating_sub(max), end)
        }
        (None, None) => (false, size.saturating_sub(max), size),
    };
    let mut bytes = vec![0u8; (end - start) as usize];
    let mut got = 0;
    while got < bytes.len() {
        match file.read_at(&mut bytes[got..], start + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                reset = true;
                break;
            }
        }
    }
    bytes.truncate(got);
    let mut out = format!(
        "{{\"size\":{size},\"start\":{start},\"end\":{},\"reset\":{reset},\"text\":",
        start + got as u64
    );
    json_str(&mut out, &String::from_utf8_lossy(&bytes));
    out.push('}');
    send_json(ex, 200, &out)
}

/// `POST ui/api/action` (`action=…&name=…&signal=…`), from the page's
/// script only: see [`UI_HEADER`] and [`guard::cross_site`].
pub(super) fn action(ex: &mut Exchange<'_>, body: &[u8]) -> After {
    if ex.head.readonly {
        return send_json(ex, 403, &error_json("This login may only look"));
    }
    if ex.head.header(UI_HEADER).is_none() || guard::cross_site(ex.head) {
        return send_json(
            ex,
            403,
            &error_json("Refused: not sent by this server's page"),
        );
    }
    let form = Form::new("", Some(body));
    let name = form.get("name").unwrap_or("").to_string();
    let action = form.get("action").unwrap_or("").to_string();
    let (ok, message) = match action.as_str() {
        "start" | "stop" | "restart" | "clearlog" if !name.is_empty() => {
            process_action(ex, &action, &name)
        }
        "signal" if !name.is_empty() => {
            let signal = form.get("signal").unwrap_or("").to_string();
            let params = [Value::str(name.as_str()), Value::str(signal.as_str())];
            match call(ex.site, "supervisor.signalProcess", &params) {
                Ok(_) => (true, format!("Signalled {name} with {signal}")),
                Err(f) => (false, format!("{name}: {}", f.string)),
            }
        }
        "startgroup" | "stopgroup" | "restartgroup" if !name.is_empty() => {
            group(ex, &action, &name)
        }
        "startall" | "stopall" | "restartall" => all(ex, &action),
        "reread" => reread(ex),
        "update" => update(ex),
        _ => (false, format!("Unknown action {action:?}")),
    };
    send_json(ex, 200, &result_json(ok, &message))
}

/// The failures in a `startProcessGroup`-style result array, one line each.
fn failures(result: &Value) -> Vec<String> {
    let items = result.as_array().unwrap_or_default();
    items
        .iter()
        .filter(|i| i.get("status").and_then(Value::as_int) != Some(faults::SUCCESS.into()))
        .map(|i| {
            let desc = i.get("description").and_then(Value::as_str).unwrap_or("");
            format!("{}: {desc}", super::legacy::namespec(i))
        })
        .collect()
}

/// Run `methods` in order (each with `params`); the message lists the
/// failures, or says `done`.
fn steps(ex: &Exchange<'_>, methods: &[&str], params: &[Value], done: String) -> (bool, String) {
    let mut problems = Vec::new();
    for (i, method) in methods.iter().enumerate() {
        match call(ex.site, method, params) {
            // A stop before a start may find nothing running: fine.
            Ok(v) if i + 1 == methods.len() || methods.len() == 1 => problems.extend(failures(&v)),
            Ok(_) => {}
            Err(f) if f.code == faults::NOT_RUNNING && i + 1 < methods.len() => {}
            Err(f) => problems.push(unexpected(&f)),
        }
    }
    if problems.is_empty() {
        (true, done)
    } else {
        (false, problems.join("\n"))
    }
}

fn group(ex: &Exchange<'_>, action: &str, name: &str) -> (bool, String) {
    let params = [Value::str(name), Value::Bool(true)];
    let (start, stop) = (
        "supervisor.startProcessGroup",
        "supervisor.stopProcessGroup",
    );
    match action {
        "startgroup" => steps(ex, &[start], &params, format!("Group {name} started")),
        "stopgroup" => steps(ex, &[stop], &params, format!("Group {name} stopped")),
        _ => steps(
            ex,
            &[stop, start],
            &params,
            format!("Group {name} restarted"),
        ),
    }
}

fn all(ex: &Exchange<'_>, action: &str) -> (bool, String) {
    let params = [Value::Bool(true)];
    let (start, stop) = (
        "supervisor.startAllProcesses",
        "supervisor.stopAllProcesses",
    );
    let now = ctime_now();
    match action {
        "startall" => steps(ex, &[start], &params, format!("All started at {now}")),
        "stopall" => steps(ex, &[stop], &params, format!("All stopped at {now}")),
        _ => steps(
            ex,
            &[stop, start],
            &params,
            format!("All restarted at {now}"),
        ),
    }
}

/// `reloadConfig`'s `[[added, changed, removed]]` as three name lists.
fn reload(ex: &Exchange<'_>) -> Result<[Vec<String>; 3], String> {
    let value = call(ex.site, "supervisor.reloadConfig", &[]).map_err(|f| unexpected(&f))?;
    let lists = value
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_array)
        .unwrap_or_default();
    let names = |i: usize| -> Vec<String> {
        lists
            .get(i)
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    Ok([names(0), names(1), names(2)])
}

/// Like `supervisorctl reread`.
fn reread(ex: &Exchange<'_>) -> (bool, String) {
    match reload(ex) {
        Err(e) => (false, e),
        Ok([added, changed, removed]) => {
            let mut lines: Vec<String> = Vec::new();
            lines.extend(removed.iter().map(|g| format!("{g}: disappeared")));
            lines.extend(changed.iter().map(|g| format!("{g}: changed")));
            lines.extend(added.iter().map(|g| format!("{g}: available")));
            if lines.is_empty() {
                lines.push("No config updates to processes".into());
            }
            (true, lines.join("\n"))
        }
    }
}

/// Like `supervisorctl update`: stop and remove what went away, replace
/// what changed, add what is new.
fn update(ex: &Exchange<'_>) -> (bool, String) {
    let [added, changed, removed] = match reload(ex) {
        Ok(lists) => lists,
        Err(e) => return (false, e),
    };
    let mut lines = Vec::new();
    let mut ok = true;
    let mut run = |method: &str, group: &str, done: &str, lines: &mut Vec<String>| {
        let params: Vec<Value> = if method.ends_with("ProcessGroup") && method.contains("stop") {
            vec![Value::str(group), Value::Bool(true)]
        } else {
            vec![Value::str(group)]
        };
        match call(ex.site, method, &params) {
            Ok(_) => {
                if !done.is_empty() {
                    lines.push(format!("{group}: {done}"));
                }
            }
            Err(f) => {
                ok = false;
                lines.push(format!("{group}: ERROR ({})", f.string));
            }
        }
    };
    let (stop, remove, add) = (
        "supervisor.stopProcessGroup",
        "supervisor.removeProcessGroup",
        "supervisor.addProcessGroup",
    );
    for g in &removed {
        run(stop, g, "stopped", &mut lines);
        run(remove, g, "removed process group", &mut lines);
    }
    for g in &changed {
        run(stop, g, "stopped", &mut lines);
        run(remove, g, "", &mut lines);
        run(add, g, "updated process group", &mut lines);
    }
    for g in &added {
        run(add, g, "added process group", &mut lines);
    }
    if lines.is_empty() {
        lines.push("No config updates to processes".into());
    }
    (ok, lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_json() {
        let v = Value::Array(vec![Value::structure([
            ("name", Value::str("a\"<")),
            ("logfile", Value::str("/x")),
            ("pid", Value::Int(7)),
            ("ok", Value::Bool(true)),
            ("nan", Value::Double(f64::NAN)),
        ])]);
        let mut out = String::new();
        write_value(&mut out, &v);
        assert_eq!(
            out,
            r#"[{"name":"a\"\u003c","pid":7,"ok":true,"nan":null}]"#
        );
    }

    #[test]
    fn group_failures_are_listed() {
        let result = Value::Array(vec![
            Value::structure([
                ("name", Value::str("a")),
                ("group", Value::str("g")),
                ("status", Value::Int(80)),
                ("description", Value::str("OK")),
            ]),
            Value::structure([
                ("name", Value::str("b")),
                ("group", Value::str("g")),
                ("status", Value::Int(50)),
                ("description", Value::str("SPAWN_ERROR")),
            ]),
        ]);
        assert_eq!(failures(&result), vec!["g:b: SPAWN_ERROR".to_string()]);
    }
}
