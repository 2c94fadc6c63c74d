//! `supervisord --check-config`: what the configuration would run, without running it.

use std::fmt::Write as _;

use crate::config::{command, Config, GroupKind, Host, Process};

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
                format!("eventlistener pool (events {})", pool.events.join(","))
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
        }
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

/// Split and look up the command as the spawn will, with the same PATH rule:
/// the process's configured PATH, else ours, else a fixed default.
fn resolve(process: &Process, host: &Host) -> Result<String, String> {
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
