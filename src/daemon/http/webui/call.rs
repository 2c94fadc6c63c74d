//! The web UI reaches the daemon exactly as any XML-RPC client does: it
//! encodes a call, hands it to the backend and decodes the answer. So the
//! UI can do nothing `supervisorctl` could not, and needs nothing new from
//! the reactor.

use std::sync::{Arc, OnceLock};

use super::super::pool::Pool;
use super::super::{Reply, Site};
use crate::xmlrpc::{self, faults, Fault, Value};

/// Call `method` on the daemon; a deferred answer (a start waiting for
/// RUNNING) is waited for on this worker, like `/RPC2` does.
pub(super) fn call(site: &Arc<Site>, method: &str, params: &[Value]) -> Result<Value, Fault> {
    let body = xmlrpc::write_call(method, params);
    let decoded = match site.backend.rpc(body) {
        Reply::Ready(bytes) => xmlrpc::parse_response(&bytes),
        Reply::Later(receiver) => match Pool::deferred(site, || receiver.recv()) {
            Ok(bytes) => xmlrpc::parse_response(&bytes),
            Err(_) => return Err(Fault::named(faults::SHUTDOWN_STATE, None)),
        },
        Reply::Error(status) => {
            return Err(Fault::new(faults::FAILED, format!("HTTP status {status}")))
        }
    };
    decoded.unwrap_or_else(|why| Err(Fault::new(faults::FAILED, why)))
}

/// `call` with one string parameter (a namespec or group name).
pub(super) fn call1(site: &Arc<Site>, method: &str, name: &str) -> Result<Value, Fault> {
    call(site, method, &[Value::str(name)])
}

/// The current time as C's `asctime` in local time:
/// `Sat Nov 21 04:40:17 2026` (day of month space-padded).
pub(super) fn ctime_now() -> String {
    crate::daemon::timefmt::asctime(&chrono::Local::now())
}

/// When this process (supervisord) started, in seconds since the epoch;
/// `None` without `/proc`. No XML-RPC method tells it, and the HTTP server
/// runs inside supervisord, so the process's own start time is the answer.
pub(super) fn started_at() -> Option<i64> {
    static STARTED: OnceLock<Option<i64>> = OnceLock::new();
    *STARTED.get_or_init(|| {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which may itself hold spaces.
        let rest = stat.get(stat.rfind(')')? + 2..)?;
        // Field 22 (starttime) is the 20th after the name (fields 3…).
        let ticks: i64 = rest.split(' ').nth(19)?.parse().ok()?;
        let boot: i64 = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        // USER_HZ is 100 on every architecture Linux exports it for.
        Some(boot + ticks / 100)
    })
}

/// The machine's host name, read once.
pub(super) fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        nix::unistd::gethostname()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_in_the_past() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let started = started_at().expect("/proc is mounted in tests");
        assert!(
            started <= now + 1 && started > now - 3600,
            "{started} vs {now}"
        );
    }

    #[test]
    fn ctime_looks_like_asctime() {
        let t = ctime_now();
        assert_eq!(t.len(), 24, "{t:?}");
    }
}
