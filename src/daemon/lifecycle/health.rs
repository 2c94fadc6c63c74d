//! Health checks with Docker's HEALTHCHECK semantics: a probe every
//! `interval` once the process has started; `retries` consecutive failures
//! (not counting those in `start_period`) make it unhealthy, one success
//! healthy again. Probes never block the loop: a command is a child reaped
//! like any other (its process group killed at the timeout), HTTP and TCP
//! probes are non-blocking sockets on the event loop. With no check
//! configured nothing here exists or wakes.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::config::{CheckTarget, HealthCheck, ProcessConfig};
use crate::daemon::proc::process::Health;
use crate::daemon::proc::spawn;
use crate::daemon::proc::status::ExitStatus;
use crate::daemon::proc::table::Key;

/// Most bytes of an HTTP answer read to find its status line.
const MAX_STATUS_LINE: usize = 1024;

/// A change of a process's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub key: Key,
    pub from: Health,
    pub to: Health,
}

/// One probe in flight.
enum Probe {
    Command {
        pid: i32,
    },
    Socket {
        stream: TcpStream,
        token: Token,
        /// HTTP: the request still to send and what came back so far.
        http: Option<Http>,
    },
}

struct Http {
    request: Vec<u8>,
    sent: usize,
    answer: Vec<u8>,
}

struct Check {
    config: HealthCheck,
    health: Health,
    started_at: Instant,
    failures: u32,
    /// When the next probe starts (none while one is in flight).
    next_at: Instant,
    probe: Option<(Probe, Instant)>,
}

/// The checks of the processes that have one and are up.
pub struct HealthChecks {
    checks: HashMap<Key, Check>,
    tokens: HashMap<Token, Key>,
    pids: HashMap<i32, Key>,
    next_token: usize,
    first_token: usize,
}

impl HealthChecks {
    /// Probe sockets get tokens from `first_token` up.
    pub fn new(first_token: usize) -> HealthChecks {
        HealthChecks {
            checks: HashMap::new(),
            tokens: HashMap::new(),
            pids: HashMap::new(),
            next_token: first_token,
            first_token,
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.first_token && self.tokens.contains_key(&token)
    }

    /// The process was (re)started: its health starts over as "starting";
    /// the first probe runs one interval from now.
    pub fn started(&mut self, key: Key, config: &HealthCheck, now: Instant, registry: &Registry) {
        self.stopped(key, registry);
        self.checks.insert(
            key,
            Check {
                config: config.clone(),
                health: Health::Starting,
                started_at: now,
                failures: 0,
                next_at: now + config.interval,
                probe: None,
            },
        );
    }

    /// The process is down: no more probes; one in flight is abandoned
    /// (a command's process group is killed).
    pub fn stopped(&mut self, key: Key, registry: &Registry) {
        if let Some(mut check) = self.checks.remove(&key) {
            self.abandon(&mut check, registry);
        }
    }

    fn abandon(&mut self, check: &mut Check, registry: &Registry) {
        match check.probe.take() {
            Some((Probe::Command { pid }, _)) => {
                // It stays in `pids` until reaped, so its exit is ignored.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(-pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            Some((
                Probe::Socket {
                    mut stream, token, ..
                },
                _,
            )) => {
                let _ = registry.deregister(&mut stream);
                self.tokens.remove(&token);
            }
            None => {}
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.checks
            .values()
            .map(|c| c.probe.as_ref().map_or(c.next_at, |(_, until)| *until))
            .min()
    }

    /// Start the probes that are due and fail those past their timeout.
    pub fn on_time(
        &mut self,
        now: Instant,
        config_of: impl Fn(Key) -> Option<ProcessConfig>,
        ctx: &spawn::Context,
        registry: &Registry,
    ) -> (Vec<Change>, Vec<String>) {
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        let keys: Vec<Key> = self.checks.keys().copied().collect();
        for key in keys {
            let Some(check) = self.checks.get(&key) else {
                continue;
            };
            match &check.probe {
                Some((_, until)) if now >= *until => {
                    let mut check = self.checks.remove(&key).expect("just found");
                    self.abandon(&mut check, registry);
                    self.checks.insert(key, check);
                    changes.extend(self.result(key, false, now));
                }
                None if now >= check.next_at => {
                    let target = check.config.target.clone();
                    let timeout = check.config.timeout;
                    match self.probe(key, &target, &config_of, ctx, registry) {
                        Ok(probe) => {
                            if let Some(check) = self.checks.get_mut(&key) {
                                check.probe = Some((probe, now + timeout));
                            }
                        }
                        Err(e) => {
                            errors.push(e);
                            changes.extend(self.result(key, false, now));
                        }
                    }
                }
                _ => {}
            }
        }
        (changes, errors)
    }

    fn probe(
        &mut self,
        key: Key,
        target: &CheckTarget,
        config_of: &impl Fn(Key) -> Option<ProcessConfig>,
        ctx: &spawn::Context,
        registry: &Registry,
    ) -> Result<Probe, String> {
        match target {
            CheckTarget::Command(command) => {
                let config = config_of(key).ok_or("the process is gone")?;
                let pid = spawn::spawn_check(&config, command, ctx)?;
                self.pids.insert(pid, key);
                Ok(Probe::Command { pid })
            }
            CheckTarget::Tcp { addr } | CheckTarget::Http { addr, .. } => {
                let mut stream = TcpStream::connect(*addr)
                    .map_err(|e| format!("health check cannot connect to {addr}: {e}"))?;
                let token = Token(self.next_token);
                self.next_token += 1;
                let http = match target {
                    CheckTarget::Http { host, path, .. } => Some(Http {
                        request: format!(
                            "GET {path} HTTP/1.0\r\nHost: {host}\r\n\
                             User-Agent: supervisord-healthcheck\r\n\r\n"
                        )
                        .into_bytes(),
                        sent: 0,
                        answer: Vec::new(),
                    }),
                    _ => None,
                };
                registry
                    .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                    .map_err(|e| format!("health check cannot watch its socket: {e}"))?;
                self.tokens.insert(token, key);
                Ok(Probe::Socket {
                    stream,
                    token,
                    http,
                })
            }
        }
    }

    /// A probe socket is ready: connected, or an answer arrived.
    pub fn on_ready(&mut self, token: Token, now: Instant, registry: &Registry) -> Vec<Change> {
        let Some(&key) = self.tokens.get(&token) else {
            return Vec::new();
        };
        let verdict = match self.checks.get_mut(&key).and_then(|c| c.probe.as_mut()) {
            Some((Probe::Socket { stream, http, .. }, _)) => advance(stream, http),
            _ => None,
        };
        match verdict {
            Some(ok) => {
                if let Some(mut check) = self.checks.remove(&key) {
                    self.abandon(&mut check, registry);
                    self.checks.insert(key, check);
                }
                self.result(key, ok, now)
            }
            None => Vec::new(),
        }
    }

    /// A child was reaped: if it was a command probe, its exit is the result.
    /// `None` when the pid is not a probe of ours.
    pub fn reaped(&mut self, pid: i32, status: ExitStatus, now: Instant) -> Option<Vec<Change>> {
        let key = self.pids.remove(&pid)?;
        let current = self
            .checks
            .get_mut(&key)
            .filter(|c| matches!(c.probe, Some((Probe::Command { pid: p }, _)) if p == pid));
        let Some(check) = current else {
            return Some(Vec::new());
        };
        check.probe = None;
        Some(self.result(key, status == ExitStatus::Code(0), now))
    }

    /// Count a probe's result; a change of health is returned.
    fn result(&mut self, key: Key, ok: bool, now: Instant) -> Vec<Change> {
        let Some(check) = self.checks.get_mut(&key) else {
            return Vec::new();
        };
        check.next_at = now + check.config.interval;
        let from = check.health;
        if ok {
            check.failures = 0;
            check.health = Health::Healthy;
        } else if now < check.started_at + check.config.start_period {
            // Failures while the program starts up do not count.
        } else {
            check.failures = check.failures.saturating_add(1);
            if check.failures >= check.config.retries {
                check.health = Health::Unhealthy;
            }
        }
        if check.health == from {
            Vec::new()
        } else {
            vec![Change {
                key,
                from,
                to: check.health,
            }]
        }
    }
}

/// Move a socket probe on: `Some(true)` healthy, `Some(false)` failed,
/// `None` not finished.
fn advance(stream: &mut TcpStream, http: &mut Option<Http>) -> Option<bool> {
    if let Ok(Some(_)) | Err(_) = stream.take_error() {
        return Some(false);
    }
    match stream.peer_addr() {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
        Err(_) => return Some(false),
    }
    let Some(http) = http else {
        // TCP: connected is healthy.
        return Some(true);
    };
    while http.sent < http.request.len() {
        match stream.write(&http.request[http.sent..]) {
            Ok(n) => http.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some(false),
        }
    }
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(status_ok(&http.answer)),
            Ok(n) => {
                let room = MAX_STATUS_LINE.saturating_sub(http.answer.len());
                http.answer.extend_from_slice(&buf[..n.min(room)]);
                if http.answer.contains(&b'\n') || room <= n {
                    return Some(status_ok(&http.answer));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some(false),
        }
    }
}

/// Healthy on a 2xx or 3xx status line (`HTTP/1.x NNN ...`).
fn status_ok(answer: &[u8]) -> bool {
    let line = answer.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split_whitespace();
    let version_ok = parts.next().is_some_and(|v| v.starts_with("HTTP/"));
    let code: Option<u16> = parts.next().and_then(|c| c.parse().ok());
    version_ok && code.is_some_and(|c| (200..400).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::proc::table::GroupId;
    use std::time::Duration;

    fn key() -> Key {
        Key {
            group: GroupId {
                slot: 0,
                generation: 0,
            },
            process: 0,
        }
    }

    fn check(retries: u32, start_period_ms: u64) -> HealthCheck {
        HealthCheck {
            target: CheckTarget::Command("true".into()),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            retries,
            start_period: Duration::from_millis(start_period_ms),
        }
    }

    /// Feed results `ok` at the given milliseconds after the start; the
    /// health after each.
    fn run(config: HealthCheck, results: &[(u64, bool)]) -> Vec<Health> {
        let poll = mio::Poll::new().unwrap();
        let mut checks = HealthChecks::new(1000);
        let start = Instant::now();
        checks.started(key(), &config, start, poll.registry());
        results
            .iter()
            .map(|&(at, ok)| {
                checks.result(key(), ok, start + Duration::from_millis(at));
                checks.checks[&key()].health
            })
            .collect()
    }

    #[test]
    fn retries_consecutive_failures_make_it_unhealthy_and_one_success_heals() {
        use Health::*;
        assert_eq!(
            run(
                check(3, 0),
                &[(1, false), (2, false), (3, false), (4, true)]
            ),
            [Starting, Starting, Unhealthy, Healthy]
        );
        assert_eq!(
            run(
                check(2, 0),
                &[(1, true), (2, false), (3, true), (4, false), (5, false)]
            ),
            [Healthy, Healthy, Healthy, Healthy, Unhealthy]
        );
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        use Health::*;
        assert_eq!(
            run(check(1, 500), &[(100, false), (400, false), (600, false)]),
            [Starting, Starting, Unhealthy]
        );
        assert_eq!(run(check(1, 500), &[(100, true)]), [Healthy]);
    }

    #[test]
    fn http_status_lines() {
        assert!(status_ok(b"HTTP/1.1 200 OK\r\n"));
        assert!(status_ok(b"HTTP/1.0 302 Found\r\n"));
        assert!(!status_ok(b"HTTP/1.1 404 Not Found\r\n"));
        assert!(!status_ok(b"HTTP/1.1 500 x\r\n"));
        assert!(!status_ok(b"garbage"));
        assert!(!status_ok(b""));
    }
}
