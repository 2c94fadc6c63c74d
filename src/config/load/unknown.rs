//! Unknown sections and keys: warned about with a suggestion, never
//! silently ignored (`autorestrat=true` doing nothing is a classic outage).

use super::*;

const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "env_files",
    "identifier",
    "console_lines",
    "console_prefix",
    "console_timestamps",
    // Our container lifecycle extension.
    "exit_when_done",
    "shutdown_timeout",
];

const UNIX_SERVER_KEYS: &[&str] = &[
    "file",
    "chmod",
    "chown",
    "username",
    "password",
    // Our extensions: probes that cannot send credentials; the web UI's
    // actions by POST only.
    "probes_without_auth",
    "refuse_get_actions",
    "readonly_username",
    "readonly_password",
];

const INET_SERVER_KEYS: &[&str] = &[
    "port",
    "username",
    "password",
    "probes_without_auth",
    "refuse_get_actions",
    "readonly_username",
    "readonly_password",
];

const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];

const GROUP_KEYS: &[&str] = &["programs", "priority"];

const INCLUDE_KEYS: &[&str] = &["files"];

const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "directory",
    "umask",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "env_files",
    "serverurl",
    "console_lines",
    "console_prefix",
    "console_timestamps",
    // Our container lifecycle extension.
    "essential",
    "depends_on",
    "healthcheck",
    "healthcheck_interval",
    "healthcheck_timeout",
    "healthcheck_retries",
    "healthcheck_start_period",
    "restart_when_unhealthy",
    "backoff",
    "backoff_max",
    "fatal_retry_after",
];

const LISTENER_EXTRA_KEYS: &[&str] = &["events", "buffer_size", "result_handler"];

const FCGI_EXTRA_KEYS: &[&str] = &["socket", "socket_owner", "socket_mode", "socket_backlog"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Supervisord,
    UnixServer,
    InetServer,
    Ctl,
    Group,
    Include,
    Program,
    EventListener,
    FcgiProgram,
    RpcInterface,
}

/// What Supervisor makes of a section name (`None`: it ignores the section).
fn section_kind(name: &str) -> Option<SectionKind> {
    Some(match name {
        "supervisord" => SectionKind::Supervisord,
        "supervisorctl" => SectionKind::Ctl,
        "include" => SectionKind::Include,
        n if n.starts_with("unix_http_server") => SectionKind::UnixServer,
        n if n.starts_with("inet_http_server") => SectionKind::InetServer,
        n if n.starts_with("group:") => SectionKind::Group,
        n if n.starts_with("program:") => SectionKind::Program,
        n if n.starts_with("eventlistener:") => SectionKind::EventListener,
        n if n.starts_with("fcgi-program:") => SectionKind::FcgiProgram,
        n if n.starts_with("rpcinterface:") => SectionKind::RpcInterface,
        _ => return None,
    })
}

impl<'a> Loader<'a> {
    /// Unknown sections and keys are ignored, as in Supervisor, but said out
    /// loud: `autorestrat=true` silently doing nothing is a classic outage.
    /// The first [`limits::MAX_UNKNOWN_WARNINGS`] are listed, the rest counted.
    pub(super) fn warn_about_unknowns(&self, messages: &mut Messages) {
        let (mut listed, mut unlisted) = (0usize, 0usize);
        let mut warn = |messages: &mut Messages, text: &dyn Fn() -> String| {
            if listed < limits::MAX_UNKNOWN_WARNINGS {
                messages.warnings.push(text());
                listed += 1;
            } else {
                unlisted += 1;
            }
        };
        for section in self.doc.sections() {
            let name = section.name.as_str();
            let known: Vec<&str> = match section_kind(name) {
                Some(SectionKind::Supervisord) => SUPERVISORD_KEYS.to_vec(),
                Some(SectionKind::UnixServer) => UNIX_SERVER_KEYS.to_vec(),
                Some(SectionKind::InetServer) => INET_SERVER_KEYS.to_vec(),
                Some(SectionKind::Ctl) => CTL_KEYS.to_vec(),
                Some(SectionKind::Group) => GROUP_KEYS.to_vec(),
                Some(SectionKind::Include) => INCLUDE_KEYS.to_vec(),
                Some(SectionKind::Program) => PROGRAM_KEYS.to_vec(),
                Some(SectionKind::EventListener) => [PROGRAM_KEYS, LISTENER_EXTRA_KEYS].concat(),
                Some(SectionKind::FcgiProgram) => [PROGRAM_KEYS, FCGI_EXTRA_KEYS].concat(),
                // Every key of an rpcinterface section is handed to its factory.
                Some(SectionKind::RpcInterface) => continue,
                None => {
                    warn(messages, &|| {
                        format!(
                            "Section [{name}] (file: {}, line {}) is not a section supervisord \
                             knows{}; it is ignored",
                            repr(&section.file),
                            section.line,
                            suggest_section(name)
                        )
                    });
                    continue;
                }
            };
            for entry in section.entries() {
                if !known.contains(&entry.key.as_str()) {
                    warn(messages, &|| {
                        let hint = closest(&entry.key, &known)
                            .map(|k| format!("; did you mean '{k}'?"))
                            .unwrap_or_default();
                        format!(
                            "Unknown key '{}' in section [{name}] (file: {}, line {}) is \
                             ignored{hint}",
                            entry.key,
                            repr(&entry.file),
                            entry.line
                        )
                    });
                }
            }
        }
        if unlisted > 0 {
            messages.warnings.push(format!(
                "... and {unlisted} more unknown sections or keys, not listed"
            ));
        }
    }
}

/// A hint for a section name that is close to a real one (`[Program:x]`, `[ program:x ]`).
fn suggest_section(name: &str) -> String {
    let tidy = name.trim().to_lowercase();
    if tidy != name && section_kind(&tidy).is_some() {
        return format!(
            " (did you mean [{tidy}]? section names are case-sensitive and keep spaces)"
        );
    }
    let prefix = tidy.split(':').next().unwrap_or("");
    let kinds = [
        "supervisord",
        "supervisorctl",
        "include",
        "unix_http_server",
        "inet_http_server",
        "group",
        "program",
        "eventlistener",
        "rpcinterface",
    ];
    match closest(prefix, &kinds) {
        Some(k) if k != prefix => format!(" (did you mean {k}?)"),
        _ => String::new(),
    }
}

/// The known word within edit distance 2 of `word`, if any.
fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        // Two edits change the length by at most two characters (8 bytes):
        // a long word is skipped without the quadratic comparison.
        .filter(|k| word.len() <= k.len() + 8)
        .map(|k| (edit_distance(word, k), *k))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
