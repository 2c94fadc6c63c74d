//! What `/readyz` and `/metrics` say, rendered from the published status
//! snapshot on the HTTP thread that asked (`/healthz` is a round trip
//! through the event loop instead: see `reactor::bridge`).
//!
//! Ready means: supervisord is running (not shutting down or restarting)
//! and every program meant to run is up — each `autostart` process is
//! RUNNING, healthy where it has a health check, and not waiting for its
//! dependencies; a one-shot that exited with an expected code (with no
//! restart to come) counts as done, as `depends_on=x:completed` does.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::SUPERVISOR_VERSION;
use crate::daemon::proc::process::{Health, Process};
use crate::daemon::proc::status::{Now, State};
use crate::daemon::proc::table::Phase;
use crate::daemon::reactor::snapshot::Snapshot;

/// When supervisord started (for its uptime); set once at startup.
static STARTED: OnceLock<SystemTime> = OnceLock::new();

/// Remember now as supervisord's start time (the first call wins).
pub fn mark_started() {
    let _ = STARTED.set(SystemTime::now());
}

fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// At most this many not-ready lines in a `/readyz` body: a probe's output
/// is read by people, and 10,000 lines help nobody.
const MAX_READY_LINES: usize = 20;

/// `(ready, body)` for `/readyz`.
pub fn readiness(snapshot: &Snapshot) -> (bool, String) {
    if snapshot.phase != Phase::Running {
        return (false, "not ready: supervisord is shutting down\n".into());
    }
    let mut not_ready = 0;
    let mut body = String::new();
    for view in &snapshot.processes {
        if let Some(why) = not_ready_because(&view.process) {
            not_ready += 1;
            if not_ready <= MAX_READY_LINES {
                let c = &view.process.config;
                let name = if c.group == c.name {
                    c.name.clone()
                } else {
                    format!("{}:{}", c.group, c.name)
                };
                let _ = writeln!(body, "not ready: {name} {why}");
            }
        }
    }
    if not_ready == 0 {
        return (true, "ready\n".into());
    }
    if not_ready > MAX_READY_LINES {
        let _ = writeln!(body, "… and {} more", not_ready - MAX_READY_LINES);
    }
    (false, body)
}

/// Why this process keeps supervisord from being ready, if it does.
fn not_ready_because(p: &Process) -> Option<String> {
    if !p.config.autostart {
        return None;
    }
    if let Some(what) = p.waiting_for() {
        return Some(format!("(waiting for {what})"));
    }
    match p.state() {
        State::Running => match (p.config.lifecycle.healthcheck.is_some(), p.health()) {
            (false, _) | (true, Some(Health::Healthy)) => None,
            (true, health) => Some(format!(
                "(RUNNING, health {})",
                health.map_or("unknown", Health::name)
            )),
        },
        State::Exited if p.completed() && p.is_done() => None,
        state => Some(format!("({})", state.name())),
    }
}

/// Every state a process can be in, for the per-state counts.
const STATES: [State; 8] = [
    State::Stopped,
    State::Starting,
    State::Running,
    State::Backoff,
    State::Stopping,
    State::Exited,
    State::Fatal,
    State::Unknown,
];

/// A label value in the exposition format: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `# HELP` and `# TYPE` of one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The Prometheus text exposition (version 0.0.4) of supervisord and its
/// processes.
pub fn metrics(snapshot: &Snapshot, now: Now) -> String {
    let mut out = String::with_capacity(1024 + snapshot.processes.len() * 900);
    let now_s = seconds(now.wall);
    let started = STARTED.get().copied().unwrap_or(now.wall);

    family(
        &mut out,
        "supervisord_up",
        "gauge",
        "1 while supervisord answers.",
    );
    out.push_str("supervisord_up 1\n");
    family(
        &mut out,
        "supervisord_info",
        "gauge",
        "supervisord's version, identifier and state (RUNNING, RESTARTING, SHUTDOWN).",
    );
    let _ = writeln!(
        out,
        "supervisord_info{{version=\"{}\",identifier=\"{}\",state=\"{}\"}} 1",
        SUPERVISOR_VERSION,
        label(&snapshot.identifier),
        snapshot.phase.name()
    );
    family(
        &mut out,
        "supervisord_start_time_seconds",
        "gauge",
        "When supervisord started, in seconds since the epoch.",
    );
    let _ = writeln!(
        out,
        "supervisord_start_time_seconds {:.3}",
        seconds(started)
    );
    family(
        &mut out,
        "supervisord_uptime_seconds",
        "gauge",
        "How long supervisord has been running.",
    );
    let _ = writeln!(
        out,
        "supervisord_uptime_seconds {:.3}",
        (now_s - seconds(started)).max(0.0)
    );
    family(
        &mut out,
        "supervisord_processes",
        "gauge",
        "Processes in each state.",
    );
    for state in STATES {
        let count = snapshot
            .processes
            .iter()
            .filter(|v| v.process.state() == state)
            .count();
        let _ = writeln!(
            out,
            "supervisord_processes{{state=\"{}\"}} {count}",
            state.name()
        );
    }
    process_metrics(&mut out, snapshot, now_s);
    out
}

/// One family per process fact, one sample per process.
fn process_metrics(out: &mut String, snapshot: &Snapshot, now_s: f64) {
    type Sample = fn(&Process, f64) -> Option<f64>;
    let families: [(&str, &str, &str, Sample); 8] = [
        (
            "supervisord_process_state",
            "gauge",
            "The process state as getProcessInfo's code (0 STOPPED, 10 STARTING, 20 RUNNING, \
             30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN).",
            |p, _| Some(p.state().code().into()),
        ),
        (
            "supervisord_process_up",
            "gauge",
            "1 when the process is RUNNING.",
            |p, _| Some(f64::from(u8::from(p.state() == State::Running))),
        ),
        (
            "supervisord_process_start_time_seconds",
            "gauge",
            "When the process last started, in seconds since the epoch (0: never).",
            |p, _| Some(p.laststart_wall().map_or(0.0, seconds)),
        ),
        (
            "supervisord_process_uptime_seconds",
            "gauge",
            "How long the process has been RUNNING (0 when it is not).",
            |p, now| {
                let start = p.laststart_wall().map_or(now, seconds);
                Some(if p.state() == State::Running {
                    (now - start).max(0.0)
                } else {
                    0.0
                })
            },
        ),
        (
            "supervisord_process_starts_total",
            "counter",
            "How many times the process was spawned.",
            |p, _| Some(p.spawns() as f64),
        ),
        (
            "supervisord_process_restarts_total",
            "counter",
            "How many times the process was spawned again after its first start.",
            |p, _| Some(p.spawns().saturating_sub(1) as f64),
        ),
        (
            "supervisord_process_exit_status",
            "gauge",
            "The exit status of the process's last run (absent before it first exits).",
            |p, _| p.exitstatus().map(|s| s.code().into()),
        ),
        (
            "supervisord_process_healthy",
            "gauge",
            "1 when the health check passes, 0 otherwise (only processes with a check).",
            |p, _| {
                p.config.lifecycle.healthcheck.as_ref()?;
                Some(f64::from(u8::from(p.health() == Some(Health::Healthy))))
            },
        ),
    ];
    for (name, kind, help, sample) in families {
        family(out, name, kind, help);
        for view in &snapshot.processes {
            let p = &view.process;
            if let Some(value) = sample(p, now_s) {
                let _ = writeln!(
                    out,
                    "{name}{{group=\"{}\",name=\"{}\"}} {value}",
                    label(&p.config.group),
                    label(&p.config.name)
                );
            }
        }
    }
}
