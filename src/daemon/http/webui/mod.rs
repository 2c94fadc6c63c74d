//! The web UI (`http.md` §5): Supervisor's status page, its query-string
//! actions and tail page, kept working for bookmarks and scripts, plus a
//! live page built by a small script embedded in the binary, which talks to
//! a JSON view of the daemon (`ui/api/…`).
//!
//! * `legacy.rs`: `/`, `/index.html` (+ `?action=`), `/tail.html`, as
//!   Supervisor 4.3.0 answers them, with relative redirects (§6.5). The page
//!   is a complete status table without JavaScript.
//! * `api.rs`: `ui/api/status` (GET), `ui/api/log` (GET), `ui/api/action`
//!   (POST, for the script only).
//! * `guard.rs`: security headers and the cross-site check.
//! * `assets/`: `app.js` and `app.css`, served as `ui/app.js`, `ui/app.css`.
//!
//! Every URL the pages use is relative, so the UI works under a path prefix
//! behind a reverse proxy. Authentication happened before any of this (the
//! I/O thread checks it for every path, assets included).

mod api;
mod call;
pub(crate) mod guard;
mod legacy;
pub(crate) mod readonly;
mod text;

use std::io::IoSlice;

use super::exchange::{write_all, After, Exchange};
use super::limits::RESPONSE_TIMEOUT;
use super::pages;

const APP_JS: &[u8] = include_bytes!("assets/app.js");
const APP_CSS: &[u8] = include_bytes!("assets/app.css");

/// Pages and JSON must never be cached: they are the daemon's state now.
const NO_CACHE: [(&str, &str); 3] = [
    ("Pragma", "no-cache"),
    ("Cache-Control", "no-cache"),
    ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
];

/// Answer `name` (the path without its leading slashes; `index.html` for
/// `/`) if it belongs to the web UI; `None` leaves it to the caller (404 or
/// 400 as for any unknown path).
pub(super) fn serve(ex: &mut Exchange<'_>, name: &str, body: Vec<u8>) -> Option<After> {
    let method = ex.head.method();
    let get_or_post = matches!(method, "GET" | "POST");
    let body = (method == "POST").then_some(body.as_slice());
    Some(match name {
        "index.html" if get_or_post => legacy::status(ex, body),
        "tail.html" if get_or_post => legacy::tail(ex, body),
        "ui/app.js" | "ui/app.css" if matches!(method, "GET" | "HEAD") => asset(ex, name),
        "ui/api/status" if method == "GET" => api::status(ex),
        "ui/api/log" if method == "GET" => api::log(ex),
        "ui/api/action" if method == "POST" => api::action(ex, body.unwrap_or_default()),
        _ => return None,
    })
}

/// An embedded asset. It changes only with the binary, so its ETag is a
/// hash of its bytes and a revalidation costs a 304.
fn asset(ex: &mut Exchange<'_>, name: &str) -> After {
    let (bytes, content_type) = if name.ends_with(".js") {
        (APP_JS, "text/javascript;charset=utf-8")
    } else {
        (APP_CSS, "text/css;charset=utf-8")
    };
    let etag = format!("\"{:016x}\"", fnv1a(bytes));
    let cache = [("Cache-Control", "no-cache"), ("ETag", etag.as_str())];
    if ex.head.header("if-none-match") == Some(etag.as_str()) {
        return send(ex, 304, content_type, &cache, b"");
    }
    send(ex, 200, content_type, &cache, bytes)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A complete response carrying the UI's security headers and `extra`;
/// the connection continues as the client asked.
fn send(
    ex: &mut Exchange<'_>,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> After {
    let mut headers: Vec<(&str, &str)> = guard::HEADERS.to_vec();
    headers.extend_from_slice(extra);
    let with_body = ex.head.method() != "HEAD" && status != 304;
    let body = if with_body { body } else { &[] };
    let head = pages::head_of_full(
        ex.minor(),
        status,
        ex.persist(),
        &headers,
        content_type,
        body.len(),
    );
    let mut bufs = [IoSlice::new(&head), IoSlice::new(body)];
    let deadline = std::time::Instant::now() + RESPONSE_TIMEOUT;
    match write_all(ex.conn, &mut bufs, Some(deadline)) {
        Ok(()) if ex.keep => After::Next,
        Ok(()) => After::Linger,
        Err(e) => ex.conn.failed(&e),
    }
}

/// An HTML page that must not be cached.
fn send_page(ex: &mut Exchange<'_>, status: u16, html: &str) -> After {
    send(
        ex,
        status,
        "text/html;charset=utf-8",
        &NO_CACHE,
        html.as_bytes(),
    )
}

/// JSON that must not be cached.
fn send_json(ex: &mut Exchange<'_>, status: u16, json: &str) -> After {
    send(ex, status, "application/json", &NO_CACHE, json.as_bytes())
}

/// A refusal the person at the browser can read (403 and the reason).
fn refuse(ex: &mut Exchange<'_>, why: &str) -> After {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Forbidden</title></head><body><h1>Forbidden</h1><p>{}</p></body></html>\n",
        text::html(why)
    );
    send_page(ex, 403, &html)
}
