//! Response heads, Medusa's error page, and HTTP dates.

use std::cell::RefCell;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Sent on every response; Supervisor's Medusa says this and clients ignore it.
pub(super) const SERVER: &str = "Medusa/1.12";

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Medusa's error page (lines end with CRLF): 134 bytes for a 404.
pub(super) fn error_body(status: u16) -> String {
    format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n\
         <h1>Error response</h1>\r\n<p>Error code {status}.\r\n\
         <p>Message: {}.\r\n</body>\r\n",
        reason(status)
    )
}

/// How the connection continues after a response, as told by its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Persist {
    /// HTTP/1.1 default: no header.
    Default,
    /// An HTTP/1.0 client asked for keep-alive: `Connection: Keep-Alive`.
    KeepAlive10,
    /// We close after this response: `Connection: close`.
    Close,
}

/// The status line and the headers every response has, without the blank
/// line that ends the head (so callers can add more).
pub(super) fn head(out: &mut Vec<u8>, minor: u8, status: u16, persist: Persist) {
    // Formatted straight into `out`: a response head costs one allocation.
    let _ = write!(
        out,
        "HTTP/1.{} {status} {}\r\n",
        minor.min(1),
        reason(status)
    );
    out.extend_from_slice(b"Server: ");
    out.extend_from_slice(SERVER.as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    with_now_date(|date| out.extend_from_slice(date.as_bytes()));
    out.extend_from_slice(b"\r\n");
    // Browsers must take every answer as the type it says: Chrome otherwise
    // sniffs a /logtail stream and shows nothing until 1 KiB has arrived.
    out.extend_from_slice(b"X-Content-Type-Options: nosniff\r\n");
    match persist {
        Persist::Default => {}
        Persist::KeepAlive10 => out.extend_from_slice(b"Connection: Keep-Alive\r\n"),
        Persist::Close => out.extend_from_slice(b"Connection: close\r\n"),
    }
}

/// Add `Name: value` CRLF.
pub(super) fn header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A complete response with a body framed by `Content-Length`; the body is
/// left out for HEAD (`with_body` false) but still measured.
#[allow(clippy::too_many_arguments)]
pub(super) fn full(
    minor: u8,
    status: u16,
    persist: Persist,
    extra: &[(&str, &str)],
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> Vec<u8> {
    let mut out = head_of_full(minor, status, persist, extra, content_type, body.len());
    if with_body {
        out.extend_from_slice(body);
    }
    out
}

/// The head of [`full`]'s response, for a body of `length` bytes sent
/// separately.
pub(super) fn head_of_full(
    minor: u8,
    status: u16,
    persist: Persist,
    extra: &[(&str, &str)],
    content_type: &str,
    length: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    head(&mut out, minor, status, persist);
    for (name, value) in extra {
        header(&mut out, name, value);
    }
    let _ = write!(out, "Content-Length: {length}\r\n");
    header(&mut out, "Content-Type", content_type);
    out.extend_from_slice(b"\r\n");
    out
}

/// An error response with Medusa's page.
pub(super) fn error(
    minor: u8,
    status: u16,
    persist: Persist,
    extra: &[(&str, &str)],
    with_body: bool,
) -> Vec<u8> {
    let body = error_body(status);
    full(
        minor,
        status,
        persist,
        extra,
        "text/html",
        body.as_bytes(),
        with_body,
    )
}

/// RFC 1123 date in GMT: `Sat, 21 Nov 2026 04:36:17 GMT`.
pub(super) fn http_date(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => crate::daemon::timefmt::http_date(&t),
        None => "Thu, 01 Jan 1970 00:00:00 GMT".to_string(),
    }
}

/// Seconds since the epoch of `t` (0 before it).
pub(super) fn epoch_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

thread_local! {
    /// The `Date` of the current second, formatted once per thread and second.
    static NOW: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

fn with_now_date(f: impl FnOnce(&str)) {
    let now = epoch_secs(SystemTime::now());
    NOW.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != now {
            *cached = (now, http_date(now));
        }
        f(&cached.1);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_have_medusa_sizes() {
        assert_eq!(error_body(404).len(), 134);
        assert_eq!(error_body(401).len(), 137);
        assert!(error_body(411).contains("<p>Message: Length Required.\r\n"));
    }

    #[test]
    fn dates_are_rfc1123() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_795_063_377), "Thu, 19 Nov 2026 04:42:57 GMT");
    }
}
