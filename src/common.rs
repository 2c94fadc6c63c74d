//! What every applet shares: the version, Supervisor's usage-error
//! convention, writing to stdout, and supervisord's named exit statuses.
//! A leaf: it knows nothing of the daemon or the client.

use std::io::Write;

/// The Supervisor version we are compatible with, reported as our own
/// (clients such as Python's supervisorctl compare it).
pub const SUPERVISOR_VERSION: &str = "4.3.0";

/// Exit statuses of supervisord (the README's table).
pub mod exit {
    /// Stopped on request (signal, `shutdown`), or `--check-config` found
    /// the file valid.
    pub const OK: i32 = 0;
    /// The event loop itself failed; the programs were sent SIGTERM.
    pub const INTERNAL: i32 = 1;
    /// Bad command line or configuration, or startup failed (a socket in
    /// use, a log that cannot open): Supervisor's usage-error status.
    pub const USAGE: i32 = 2;
}

/// Supervisor's usage-error convention: `Error: <msg>`, a help hint, status 2.
pub fn usage_error(argv0: &str, message: &str) -> i32 {
    eprintln!("Error: {message}\nFor help, use {argv0} -h");
    exit::USAGE
}

/// Write `text` to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn print_stdout(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    exit::OK
}
/// Percent-encode every byte of `text` except ASCII letters, digits and
/// the bytes in `safe` (for URL paths and query values).
pub fn percent_encode(text: &str, safe: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || safe.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
