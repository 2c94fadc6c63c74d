//! `supervisord --check-config`: what the configuration would run, without running it.

use std::fmt::Write as _;

use crate::config::{command, Backoff, CheckTarget, Config, GroupKind, Host, ProcessConfig};

/// Print the groups and processes of `config` with their resolved commands.
/// Problems Supervisor only finds at spawn time (a command that cannot be
/// parsed or found) are warnings: the same file may run on another machine.
pub fn report(config: &Config, host: &Host) -> i32 {
    let mut out = String::new();
    let mut warnings: Vec<String> = config.messages.warnings.clone();
    for info in &config.messages.infos {
        let _ = writeln!(out, "{info}");
    }
    let processes: usize = config.groups.iter().map(|g| g.processes.len()).sum();
    for group in &config.groups {
        let what = match &group.kind {
            GroupKind::Programs => "group".to_string(),
            GroupKind::EventListenerPool(pool) => {
                let names: Vec<&str> = pool.events.iter().map(|e| e.name()).collect();
                format!("eventlistener pool (events {})", names.join(","))
            }
        };
        let _ = writeln!(out, "{what} {} [priority {}]", group.name, group.priority);
        for process in &group.processes {
            let resolved = match resolve(process, host) {
                Ok(path) => path,
                Err(problem) => {
                    warnings.push(format!("{}: {problem}", process.namespec()));
                    "?".to_string()
                }
            };
            let _ = writeln!(
                out,
                "  {}  command: {}  program: {resolved}",
                process.namespec(),
                process.command
            );
            if let Some(line) = lifecycle_line(process) {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let s = &config.supervisord;
    if s.exit_when_done || s.shutdown_timeout.is_some() {
        let mut parts = Vec::new();
        if s.exit_when_done {
            parts.push("exit_when_done".to_string());
        }
        if let Some(t) = s.shutdown_timeout {
            parts.push(format!("shutdown_timeout {}s", t.as_secs_f64()));
        }
        let _ = writeln!(out, "supervisord: {}", parts.join(", "));
    }
    let _ = writeln!(
        out,
        "{}: valid ({} groups, {processes} processes)",
        config.file.display(),
        config.groups.len()
    );
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    crate::common::print_stdout(&out)
}

/// The container lifecycle settings of a process, when it has any.
fn lifecycle_line(process: &ProcessConfig) -> Option<String> {
    let l = &process.lifecycle;
    let mut parts = Vec::new();
    if l.essential {
        parts.push("essential".to_string());
    }
    if !l.depends_on.is_empty() {
        let deps: Vec<String> = l
            .depends_on
            .iter()
            .map(|d| format!("{}:{}", d.name, d.condition.name()))
            .collect();
        parts.push(format!("depends_on {}", deps.join(" ")));
    }
    if let Some(check) = &l.healthcheck {
        let target = match &check.target {
            CheckTarget::Command(c) => c.clone(),
            CheckTarget::Http { addr, path, .. } => format!("http://{addr}{path}"),
            CheckTarget::Tcp { addr } => format!("tcp://{addr}"),
        };
        parts.push(format!(
            "healthcheck {target} every {}s (timeout {}s, {} retries, start period {}s){}",
            check.interval.as_secs_f64(),
            check.timeout.as_secs_f64(),
            check.retries,
            check.start_period.as_secs_f64(),
            if l.restart_when_unhealthy {
                ", restarted when unhealthy"
            } else {
                ""
            }
        ));
    }
    let r = &l.restart;
    if r.backoff == Backoff::Exponential {
        parts.push("exponential backoff".to_string());
    }
    if let Some(max) = r.backoff_max {
        parts.push(format!("backoff_max {}s", max.as_secs_f64()));
    }
    if r.infinite_retries {
        parts.push("retries forever".to_string());
    }
    if let Some(after) = r.fatal_retry_after {
        parts.push(format!("retried {}s after FATAL", after.as_secs_f64()));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Split and look up the command as the spawn will, with the same PATH rule:
/// the process's configured PATH, else ours, else a fixed default.
fn resolve(process: &ProcessConfig, host: &Host) -> Result<String, String> {
    let argv = command::split(&process.command).map_err(|e| {
        format!(
            "can't parse command {}: {e}",
            crate::pyrepr::repr(&process.command)
        )
    })?;
    let Some(program) = argv.first() else {
        return Err("command is empty".to_string());
    };
    let path = process
        .environment
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            host.env
                .iter()
                .rev()
                .find(|(k, _)| k == "PATH")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| "/bin:/usr/bin:/usr/local/bin".to_string());
    command::resolve(program, &path)
        .map(|p| p.display().to_string())
        .map_err(|e| e.to_string())
}
