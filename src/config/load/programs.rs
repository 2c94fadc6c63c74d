//! The processes of one program-like section: every option, expanded
//! with the names Supervisor offers it, one copy per `numprocs`.

use super::*;
use crate::config::lifecycle;

/// The options read once per program (config.md §3: they may use
/// `%(program_name)s` but not `%(process_num)d`).
struct ProgramOptions {
    priority: i64,
    autostart: bool,
    autorestart: AutoRestart,
    startsecs: i64,
    startretries: i64,
    stopsignal: i32,
    stopwaitsecs: i64,
    stopasgroup: bool,
    killasgroup: bool,
    exitcodes: Vec<i32>,
    redirect_stderr: bool,
    numprocs: i64,
    numprocs_start: i64,
    capture: [i64; 2],
    events_enabled: [bool; 2],
    serverurl: Option<String>,
    user: Option<User>,
    umask: Option<u32>,
    console: Console,
    lifecycle: Lifecycle,
}

impl<'a> Loader<'a> {
    /// The processes of one program-like section, in group `group`.
    pub(super) fn processes(
        &self,
        section: &'a str,
        group: &str,
        env_names: &Names,
        supervisord: &Supervisord,
        messages: &mut Messages,
    ) -> Result<Vec<ProcessConfig>> {
        let s = self.section(section);
        let program_name = section.split_once(':').map(|(_, n)| n).unwrap_or_default();
        let program_name = dt::name(program_name).map_err(|m| s.error(None, &m))?;

        // Names for options read once per program (config.md §3).
        let mut names = self.with_here(env_names);
        names.insert("program_name".into(), Value::Str(program_name));
        names.insert("group_name".into(), Value::Str(group.to_string()));
        names.insert(
            "host_node_name".into(),
            Value::Str(self.host.node_name.clone()),
        );
        let options = program_options(&s, &names, supervisord, messages)?;
        // Read once for all copies: numprocs must not multiply the reads.
        let file_env = s.env_files(&names, &self.host.cwd)?;

        // The template is checked as a name before it is expanded, as Supervisor does.
        let process_name_entry = s.entry("process_name");
        let process_name = process_name_entry
            .map(|e| e.value.as_str())
            .unwrap_or("%(program_name)s");
        let process_name = dt::name(process_name).map_err(|m| s.error(process_name_entry, &m))?;
        if options.numprocs > 1 && !process_name.contains("%(process_num)") {
            return Err(s.error(
                process_name_entry,
                "%(process_num) must be present within process_name when numprocs > 1",
            ));
        }
        if s.entry("command").is_none() {
            return Err(s.error(
                None,
                &format!("program section {section} does not specify a command"),
            ));
        }

        // Checked before anything is built: numprocs is capped, and the
        // process numbers must not overflow.
        let numbers = limits::process_numbers(options.numprocs, options.numprocs_start)
            .map_err(|(key, m)| s.error(s.entry(key), &m))?;
        let count = numbers.map_or(0, |(first, last)| last.abs_diff(first) as usize + 1);
        let total = self.processes.get() + count;
        if total > MAX_PROCESSES {
            return Err(s.error(
                s.entry("numprocs"),
                &format!(
                    "the configuration defines more than {MAX_PROCESSES} processes in all, the \
                     most one supervisord may run; lower numprocs or split the programs \
                     between several supervisords"
                ),
            ));
        }
        self.processes.set(total);
        let mut processes = Vec::with_capacity(count);
        for process_num in numbers.into_iter().flat_map(|(first, last)| first..=last) {
            let mut names = names.clone();
            names.insert("process_num".into(), Value::Int(process_num));
            names.insert("numprocs".into(), Value::Int(options.numprocs));
            let copy = Copy {
                s: &s,
                section,
                group,
                process_name: &process_name,
                options: &options,
                file_env: &file_env,
                supervisord,
            };
            processes.push(copy.build(names, messages)?);
        }
        // Supervisor's ProcessConfig orders by (priority, name).
        processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(processes)
    }
}

fn program_options(
    s: &SectionCtx,
    names: &Names,
    supervisord: &Supervisord,
    messages: &mut Messages,
) -> Result<ProgramOptions> {
    let stopasgroup = s.typed("stopasgroup", "false", names, dt::boolean)?;
    let killasgroup = s.typed(
        "killasgroup",
        if stopasgroup { "true" } else { "false" },
        names,
        dt::boolean,
    )?;
    if stopasgroup && !killasgroup {
        return Err(s.error(
            s.entry("killasgroup"),
            "Cannot set stopasgroup=true and killasgroup=false",
        ));
    }
    let defaults = supervisord.console;
    let bool_or = |key: &str, default: bool| {
        s.typed(
            key,
            if default { "true" } else { "false" },
            names,
            dt::boolean,
        )
    };
    let (startretries, infinite) = s.typed("startretries", "3", names, |v| {
        if v.trim() == "infinite" {
            Ok((i64::MAX, true))
        } else {
            dt::integer(v).map(|n| (n, false))
        }
    })?;
    let mut lifecycle = lifecycle_options(s, names, messages)?;
    lifecycle.restart.infinite_retries = infinite;
    Ok(ProgramOptions {
        priority: s.typed("priority", "999", names, dt::integer)?,
        autostart: s.typed("autostart", "true", names, dt::boolean)?,
        autorestart: s.typed("autorestart", "unexpected", names, dt::autorestart)?,
        startsecs: s.typed("startsecs", "1", names, dt::integer)?,
        startretries,
        stopsignal: s.typed("stopsignal", "TERM", names, dt::signal)?,
        stopwaitsecs: s.typed("stopwaitsecs", "10", names, dt::integer)?,
        stopasgroup,
        killasgroup,
        exitcodes: s.typed("exitcodes", "0", names, dt::exit_codes)?,
        redirect_stderr: s.typed("redirect_stderr", "false", names, dt::boolean)?,
        numprocs: s.typed("numprocs", "1", names, dt::integer)?,
        numprocs_start: s.typed("numprocs_start", "0", names, dt::integer)?,
        capture: [
            s.typed("stdout_capture_maxbytes", "0", names, dt::byte_size)?,
            s.typed("stderr_capture_maxbytes", "0", names, dt::byte_size)?,
        ],
        events_enabled: [
            s.typed("stdout_events_enabled", "false", names, dt::boolean)?,
            s.typed("stderr_events_enabled", "false", names, dt::boolean)?,
        ],
        serverurl: s
            .optional("serverurl", names)?
            .filter(|u| !u.trim().eq_ignore_ascii_case("auto")),
        user: s.typed_optional("user", names, dt::user)?,
        umask: s.typed_optional("umask", names, dt::octal)?,
        console: Console {
            lines: bool_or("console_lines", defaults.lines)?,
            prefix: bool_or("console_prefix", defaults.prefix)?,
            timestamps: bool_or("console_timestamps", defaults.timestamps)?,
        },
        lifecycle,
    })
}

/// The container lifecycle keys of a program (our extension).
fn lifecycle_options(s: &SectionCtx, names: &Names, messages: &mut Messages) -> Result<Lifecycle> {
    let seconds = |key: &str, default: &str| s.typed(key, default, names, lifecycle::seconds);
    let healthcheck = match s.typed_optional("healthcheck", names, lifecycle::parse_check_target)? {
        Some(target) => {
            let interval = seconds("healthcheck_interval", "10")?;
            if interval.is_zero() {
                return Err(s.error(
                    s.entry("healthcheck_interval"),
                    "healthcheck_interval must be more than 0 seconds",
                ));
            }
            let retries = s.typed("healthcheck_retries", "3", names, dt::integer)?;
            let retries = u32::try_from(retries)
                .ok()
                .filter(|&r| r >= 1)
                .ok_or_else(|| {
                    s.error(
                        s.entry("healthcheck_retries"),
                        "healthcheck_retries must be at least 1",
                    )
                })?;
            Some(HealthCheck {
                target,
                interval,
                timeout: seconds("healthcheck_timeout", "5")?,
                retries,
                start_period: seconds("healthcheck_start_period", "0")?,
            })
        }
        None => None,
    };
    let restart_when_unhealthy = s.typed("restart_when_unhealthy", "false", names, dt::boolean)?;
    if healthcheck.is_none() {
        for key in [
            "healthcheck_interval",
            "healthcheck_timeout",
            "healthcheck_retries",
            "healthcheck_start_period",
            "restart_when_unhealthy",
        ] {
            if let Some(entry) = s.entry(key) {
                let located = s.error(
                    Some(entry),
                    &format!("{key} has no effect without healthcheck"),
                );
                messages.warnings.push(located.0);
            }
        }
    }
    Ok(Lifecycle {
        essential: s.typed("essential", "false", names, dt::boolean)?,
        depends_on: s.typed("depends_on", "", names, lifecycle::parse_depends_on)?,
        healthcheck,
        restart_when_unhealthy,
        restart: RestartPolicy {
            backoff: s.typed("backoff", "linear", names, lifecycle::backoff)?,
            backoff_max: s.typed_optional("backoff_max", names, lifecycle::seconds)?,
            infinite_retries: false,
            fatal_retry_after: s.typed_optional("fatal_retry_after", names, lifecycle::seconds)?,
        },
    })
}

/// One copy of a program (one `process_num`).
struct Copy<'c, 'a> {
    s: &'c SectionCtx<'a>,
    section: &'c str,
    group: &'c str,
    process_name: &'c str,
    options: &'c ProgramOptions,
    /// From `env_files=`: under the program's own `environment=`.
    file_env: &'c [(String, String)],
    supervisord: &'c Supervisord,
}

impl Copy<'_, '_> {
    fn build(&self, mut names: Names, messages: &mut Messages) -> Result<ProcessConfig> {
        let (s, section, o) = (self.s, self.section, self.options);
        let own_env = match s.entry("environment") {
            Some(e) => {
                let text = s.expand_entry(e, &names, "environment")?;
                check_environment(s, e, &text)?
            }
            None => Vec::new(),
        };
        let own_env = environment::merge(self.file_env, own_env);
        let name = match s.entry("process_name") {
            Some(e) => s.expand_entry(e, &names, "process_name")?,
            None => s.expand_text(self.process_name, None, &names, "process_name")?,
        };
        // The program's own environment is visible to its command, directory and logs.
        for (k, v) in &own_env {
            names.insert(format!("ENV_{k}"), Value::Str(v.clone()));
        }
        let directory = s.optional("directory", &names)?;
        let stdout = self.stream("stdout", 0, &names, messages)?;
        let mut stderr = self.stream("stderr", 1, &names, messages)?;
        if o.redirect_stderr {
            if !matches!(stderr.logfile, LogTarget::Auto | LogTarget::None) {
                messages.warnings.push(format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also \
                     been set to a filename, the filename has been ignored"
                ));
            }
            stderr.logfile = LogTarget::None;
        }
        let command_entry = s.entry("command").expect("checked before the copies");
        let command = s.expand_entry(command_entry, &names, &format!("{section}.command"))?;
        let environment = environment::merge(&self.supervisord.environment, own_env);
        // The inherited environment is copied into every process: count it.
        s.charge(environment.iter().map(|(k, v)| k.len() + v.len() + 2).sum())?;
        Ok(ProcessConfig {
            name,
            group: self.group.to_string(),
            section: section.to_string(),
            command,
            directory,
            umask: o.umask,
            priority: o.priority,
            autostart: o.autostart,
            autorestart: o.autorestart,
            startsecs: o.startsecs,
            startretries: o.startretries,
            exitcodes: o.exitcodes.clone(),
            stopsignal: o.stopsignal,
            stopwaitsecs: o.stopwaitsecs,
            stopasgroup: o.stopasgroup,
            killasgroup: o.killasgroup,
            user: o.user.clone(),
            redirect_stderr: o.redirect_stderr,
            stdout,
            stderr,
            environment,
            serverurl: o.serverurl.clone(),
            console: o.console,
            lifecycle: o.lifecycle.clone(),
        })
    }

    /// One output channel's options (`index` 0 for stdout, 1 for stderr).
    fn stream(
        &self,
        channel: &str,
        index: usize,
        names: &Names,
        messages: &mut Messages,
    ) -> Result<Stream> {
        let (s, section) = (self.s, self.section);
        let key = format!("{channel}_logfile");
        let logfile = match s.entry(&key) {
            Some(e) => {
                let text = s.expand_entry(e, names, &key)?;
                dt::child_logfile(&text).map_err(|m| s.error(Some(e), &m))?
            }
            None => LogTarget::Auto,
        };
        let backups = s.typed(&format!("{channel}_logfile_backups"), "10", names, |v| {
            dt::integer(v).and_then(limits::logfile_backups)
        })?;
        let maxbytes = s.typed(
            &format!("{channel}_logfile_maxbytes"),
            "50MB",
            names,
            dt::byte_size,
        )?;
        let mut syslog = s.typed(&format!("{channel}_syslog"), "false", names, dt::boolean)?;
        let logfile = if logfile == LogTarget::Syslog {
            messages.warnings.push(format!(
                "For [{section}], {key}=syslog but this is deprecated and will be \
                 removed.  Use {channel}_syslog=true to enable syslog instead."
            ));
            syslog = true;
            LogTarget::None
        } else {
            logfile
        };
        if logfile == LogTarget::Auto && maxbytes == 0 {
            messages.warnings.push(format!(
                "For [{section}], AUTO logging used for {key} without rollover, set \
                 maxbytes > 0 to avoid filling up filesystem unintentionally"
            ));
        }
        Ok(Stream {
            logfile,
            logfile_maxbytes: maxbytes,
            logfile_backups: backups,
            capture_maxbytes: self.options.capture[index],
            events_enabled: self.options.events_enabled[index],
            syslog,
        })
    }
}

/// Parse an `environment=` value, wording errors for its section and key.
pub(super) fn check_environment(
    s: &SectionCtx,
    entry: &Entry,
    text: &str,
) -> Result<Vec<(String, String)>> {
    environment::parse(text).map_err(|m| s.error(Some(entry), &m))
}
