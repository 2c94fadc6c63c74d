//! Supervisor's own pages (`http.md` §5), URL for URL: the status page with
//! its query-string actions, and the tail page. Without JavaScript this is
//! the whole UI; with it, `app.js` takes the page over.

use std::fmt::Write as _;

use super::call::{call, call1, ctime_now};
use super::text::{html, query_of, quote, Form};
use super::{guard, pages, refuse, send, send_page, Exchange, NO_CACHE};
use crate::daemon::http::exchange::After;
use crate::xmlrpc::{faults, Fault, Value};

/// The version the pages and footers name (Supervisor's, as the XML-RPC
/// `getSupervisorVersion` answers).
const VERSION: &str = "4.3.0";
/// The tail page shows at most this much; a bigger `limit` is cut to it.
const MAX_TAIL: i64 = 4 * 1024 * 1024;

/// `/`, `/index.html`: run `?action=` if any (then redirect with its
/// message), else show the status table.
pub(super) fn status(ex: &mut Exchange<'_>, body: Option<&[u8]>) -> After {
    let form = Form::new(query_of(ex.head.target()), body);
    if let Some(action) = form.non_empty("action") {
        let action = action.to_string();
        return act(ex, &form, &action);
    }
    let processes = call(ex.site, "supervisor.getAllProcessInfo", &[]);
    let page = status_page(form.get("message"), processes, ex.head.readonly);
    send_page(ex, 200, &page)
}

/// Perform an action, then redirect to the status page with its message.
fn act(ex: &mut Exchange<'_>, form: &Form, action: &str) -> After {
    if guard::cross_site(ex.head) {
        return refuse(
            ex,
            "This action was requested by a page of another web site.",
        );
    }
    if ex.head.readonly && action != "refresh" {
        return refuse(ex, "This login may only look (readonly_username).");
    }
    if ex.head.method() == "GET" && action != "refresh" && ex.site.refuse_get_actions {
        return refuse(
            ex,
            "This server refuses actions in links (refuse_get_actions): \
             use the buttons of the status page.",
        );
    }
    let message = match (action, form.non_empty("processname")) {
        ("refresh", _) => format!("Page refreshed at {}", ctime_now()),
        ("stopall", _) => {
            let _ = call(ex.site, "supervisor.stopAllProcesses", &[Value::Bool(true)]);
            format!("All stopped at {}", ctime_now())
        }
        ("restartall", _) => {
            let _ = call(ex.site, "supervisor.stopAllProcesses", &[Value::Bool(true)]);
            let _ = call(
                ex.site,
                "supervisor.startAllProcesses",
                &[Value::Bool(true)],
            );
            format!("All restarted at {}", ctime_now())
        }
        ("start" | "stop" | "restart" | "clearlog", Some(name)) => {
            process_action(ex, action, name).1
        }
        _ => return super::send_page(ex, 500, &pages::error_body(500)),
    };
    let location = format!("index.html?message={}", quote(&message));
    let mut headers = vec![("Location", location.as_str())];
    headers.extend_from_slice(&NO_CACHE);
    send(
        ex,
        301,
        "text/html",
        &headers,
        pages::error_body(301).as_bytes(),
    )
}

/// One process's action: whether it worked, and its message worded as
/// Supervisor's.
pub(super) fn process_action(ex: &Exchange<'_>, action: &str, name: &str) -> (bool, String) {
    let site = ex.site;
    let wait = [Value::str(name), Value::Bool(true)];
    let result = match action {
        "start" => call(site, "supervisor.startProcess", &wait),
        "stop" => call(site, "supervisor.stopProcess", &wait),
        "restart" => match call(site, "supervisor.stopProcess", &wait) {
            Err(f) if f.code == faults::BAD_NAME => Err(f),
            // Stopping a stopped process fails; the restart starts it anyway.
            _ => call(site, "supervisor.startProcess", &wait).or(Ok(Value::Bool(true))),
        },
        _ => call1(site, "supervisor.clearProcessLogs", name),
    };
    let ok = result.is_ok();
    let message = match (action, result) {
        (_, Err(f)) if f.code == faults::BAD_NAME => format!("No such process named {name}"),
        ("start", Ok(_)) => format!("Process {name} started"),
        ("stop", Ok(_)) => format!("Process {name} stopped"),
        ("restart", Ok(_)) => format!("Process {name} restarted"),
        (_, Ok(_)) => format!("Log for {name} cleared"),
        ("start", Err(f)) => format!("ERROR: Process {name}: {}", start_error(&f)),
        (_, Err(f)) => unexpected(&f),
    };
    (ok, message)
}

fn start_error(f: &Fault) -> String {
    match f.code {
        faults::NO_FILE => "no such file".into(),
        faults::NOT_EXECUTABLE => "file not executable".into(),
        faults::ALREADY_STARTED => "already started".into(),
        faults::SPAWN_ERROR => "spawn error".into(),
        faults::ABNORMAL_TERMINATION => "abnormal termination".into(),
        _ => unexpected(f),
    }
}

pub(super) fn unexpected(f: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", f.code, f.string)
}

/// The namespec of a `getProcessInfo` struct: `name`, or `group:name`.
pub(super) fn namespec(info: &Value) -> String {
    let name = info.get("name").and_then(Value::as_str).unwrap_or("");
    let group = info.get("group").and_then(Value::as_str).unwrap_or("");
    if group == name || group.is_empty() {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// The head and top of every page. `page` names it for the script, which
/// runs before the body is parsed on the status page only: it starts the
/// first status request at once and hides the server's table before the
/// browser lays it out (at 500 processes that table is most of the work).
fn page_start(out: &mut String, page: &str, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\" data-page=\"{page}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"ui/app.css\">\
         <script src=\"ui/app.js\"></script></head>\n<body>\n\
         <header class=\"top\"><a class=\"logo\" href=\"index.html\">Supervisor</a></header>\n",
        html(title)
    );
}

fn page_end(out: &mut String) {
    let year = chrono::Datelike::year(&chrono::Local::now());
    let _ = write!(
        out,
        "<footer><a href=\"http://supervisord.org\">Supervisor</a> \
         <span class=\"version\">{VERSION}</span> &middot; &copy; {year}</footer>\n\
         </body></html>\n"
    );
}

/// The status table; a read-only login gets no action links.
fn status_page(message: Option<&str>, processes: Result<Value, Fault>, readonly: bool) -> String {
    let mut out = String::with_capacity(16 * 1024);
    page_start(&mut out, "status", "Supervisor Status");
    out.push_str("<main id=\"legacy\">\n");
    if let Some(message) = message.filter(|m| !m.is_empty()) {
        let _ = writeln!(
            out,
            "<div class=\"msg\" id=\"message\">{}</div>",
            html(message)
        );
    }
    out.push_str(
        "<ul class=\"buttons\"><li><a class=\"button\" href=\"index.html?action=refresh\">Refresh</a></li>",
    );
    if !readonly {
        out.push_str(
            "<li><a class=\"button\" href=\"index.html?action=restartall\">Restart All</a></li>\
             <li><a class=\"button\" href=\"index.html?action=stopall\">Stop All</a></li>",
        );
    }
    out.push_str("</ul>\n");
    let mut infos: Vec<Value> = match processes {
        Ok(Value::Array(infos)) => infos,
        Ok(_) => Vec::new(),
        Err(f) => {
            let _ = writeln!(out, "<p class=\"error\">{}</p>", html(&unexpected(&f)));
            Vec::new()
        }
    };
    infos.sort_by_cached_key(|i| {
        let field = |k| i.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        (field("group"), field("name"))
    });
    if infos.is_empty() {
        out.push_str("<p class=\"empty\">No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table class=\"legacy\"><thead><tr><th>State</th><th>Description</th>\
             <th>Name</th><th>Action</th></tr></thead><tbody>\n",
        );
        for (i, info) in infos.iter().enumerate() {
            status_row(&mut out, info, i % 2 == 1, readonly);
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</main>\n");
    page_end(&mut out);
    out
}

fn status_row(out: &mut String, info: &Value, shade: bool, readonly: bool) {
    let ns = namespec(info);
    let q = quote(&ns);
    let state = info
        .get("statename")
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    let class = match state {
        "RUNNING" => "running",
        "FATAL" | "BACKOFF" => "error",
        _ => "nominal",
    };
    let description = info
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = write!(
        out,
        "<tr{}><td class=\"status\"><span class=\"status{class}\">{}</span></td>\
         <td><span>{}</span></td><td><a href=\"tail.html?processname={q}\" target=\"_blank\">{}</a></td>\
         <td class=\"action\"><ul>",
        if shade { " class=\"shade\"" } else { "" },
        html(&state.to_ascii_lowercase()),
        html(description),
        html(&ns),
    );
    let actions: &[(&str, &str)] = match state {
        _ if readonly => &[],
        "RUNNING" => &[
            ("restart", "Restart"),
            ("stop", "Stop"),
            ("clearlog", "Clear Log"),
        ],
        "STOPPED" | "EXITED" | "FATAL" => &[("start", "Start"), ("clearlog", "Clear Log")],
        _ => &[("clearlog", "Clear Log")],
    };
    for (action, label) in actions {
        let _ = write!(
            out,
            "<li><a href=\"index.html?processname={q}&amp;action={action}\">{label}</a></li>"
        );
    }
    let _ = writeln!(
        out,
        "<li><a href=\"logtail/{q}\" target=\"_blank\">Tail -f Stdout</a></li>\
         <li><a href=\"logtail/{q}/stderr\" target=\"_blank\">Tail -f Stderr</a></li></ul></td></tr>"
    );
}

/// `/tail.html?processname=<ns>[&limit=N]`: the end of a process's stdout.
pub(super) fn tail(ex: &mut Exchange<'_>, body: Option<&[u8]>) -> After {
    let form = Form::new(query_of(ex.head.target()), body);
    let name = form.non_empty("processname").map(str::to_string);
    let limit = form
        .get("limit")
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .map_or(1024, |l| l.parse::<i64>().unwrap_or(MAX_TAIL))
        .clamp(1024, MAX_TAIL);
    let mut out = String::with_capacity(4096);
    page_start(
        &mut out,
        "tail",
        &format!(
            "Supervisor tail of process {}",
            name.as_deref().unwrap_or("None")
        ),
    );
    out.push_str("<main id=\"tail\">\n");
    match &name {
        None => out.push_str("<pre>No process name found</pre>\n"),
        Some(name) => {
            let params = [Value::str(name.as_str()), Value::Int(-limit), Value::Int(0)];
            let text = match call(ex.site, "supervisor.readProcessStdoutLog", &params) {
                Ok(v) => v.as_str().unwrap_or("").to_string(),
                Err(f) if f.code == faults::NO_FILE => format!("No file for {name}"),
                Err(f) => format!("ERROR: {}", unexpected(&f)),
            };
            let _ = writeln!(
                out,
                "<pre class=\"log\">{}</pre>\n<ul class=\"buttons\"><li><a class=\"button\" \
                 href=\"tail.html?processname={}&amp;limit={limit}\">Refresh</a></li></ul>",
                html(&text),
                quote(name)
            );
        }
    }
    out.push_str("</main>\n");
    page_end(&mut out);
    send_page(ex, 200, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, group: &str, state: &str, description: &str) -> Value {
        Value::structure([
            ("name", Value::str(name)),
            ("group", Value::str(group)),
            ("statename", Value::str(state)),
            ("description", Value::str(description)),
        ])
    }

    #[test]
    fn status_table_has_supervisors_links_by_state() {
        let page = status_page(
            Some("<script>alert(1)</script>"),
            Ok(Value::Array(vec![
                info("web", "grp", "RUNNING", "pid 7, uptime 0:00:01"),
                info("a<b", "a<b", "FATAL", "Exited too quickly"),
            ])),
            false,
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("href=\"index.html?processname=grp%3Aweb&amp;action=stop\""));
        assert!(page.contains("href=\"index.html?processname=grp%3Aweb&amp;action=restart\""));
        assert!(page.contains("href=\"logtail/grp%3Aweb/stderr\""));
        assert!(page.contains("href=\"tail.html?processname=a%3Cb\""));
        assert!(page.contains("index.html?processname=a%3Cb&amp;action=start"));
        assert!(page.contains("<span class=\"statuserror\">fatal</span>"));
        // Sorted by group: "a<b" before "grp".
        assert!(page.find("a&lt;b").unwrap() < page.find("grp:web").unwrap());
        assert!(!page.contains(" style="), "no inline styles under the CSP");
    }

    #[test]
    fn empty_table_says_so() {
        let page = status_page(None, Ok(Value::Array(vec![])), false);
        assert!(page.contains("No programs to manage"));
        assert!(!page.contains("class=\"msg\""));
    }
}
