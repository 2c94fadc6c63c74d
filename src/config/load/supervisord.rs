//! `[supervisord]`, merged with the command line.

use super::*;

impl<'a> Loader<'a> {
    pub(super) fn supervisord(&self, o: &Overrides, env_names: &mut Names) -> Result<Supervisord> {
        let s = self.section("supervisord");
        // Supervisor refuses %(host_node_name)s here; we allow it (per-host log names).
        let mut names = self.with_here(env_names);
        names.insert(
            "host_node_name".into(),
            Value::Str(self.host.node_name.clone()),
        );

        let minfds = s.typed("minfds", "1024", &names, dt::integer)?;
        let minprocs = s.typed("minprocs", "200", &names, dt::integer)?;
        let directory = s.typed_optional("directory", &names, dt::existing_directory)?;
        let user = s.optional("user", &names)?;
        let umask = s.typed("umask", "022", &names, dt::octal)?;
        let logfile = s.typed("logfile", "supervisord.log", &names, dt::existing_dirpath)?;
        let logfile_maxbytes = s.typed("logfile_maxbytes", "50MB", &names, dt::byte_size)?;
        let logfile_backups = s.typed("logfile_backups", "10", &names, |v| {
            dt::integer(v).and_then(limits::logfile_backups)
        })?;
        let loglevel = s.typed("loglevel", "info", &names, dt::log_level)?;
        let pidfile = s.typed("pidfile", "supervisord.pid", &names, dt::existing_dirpath)?;
        let identifier = s.string("identifier", "supervisor", &names)?;
        let nodaemon = s.typed("nodaemon", "false", &names, dt::boolean)?;
        let silent = s.typed("silent", "false", &names, dt::boolean)?;
        let childlogdir = s.typed(
            "childlogdir",
            &temp_dir(self.host),
            &names,
            dt::existing_directory,
        )?;
        let nocleanup = s.typed("nocleanup", "false", &names, dt::boolean)?;
        let strip_ansi = s.typed("strip_ansi", "false", &names, dt::boolean)?;
        let console = Console {
            lines: s.typed("console_lines", "false", &names, dt::boolean)?,
            prefix: s.typed("console_prefix", "false", &names, dt::boolean)?,
            timestamps: s.typed("console_timestamps", "false", &names, dt::boolean)?,
        };
        let environment = self.environment(&s, &names)?;
        let exit_when_done = s.typed("exit_when_done", "false", &names, dt::boolean)?;
        let shutdown_timeout = s.typed_optional(
            "shutdown_timeout",
            &names,
            crate::config::lifecycle::seconds,
        )?;
        // With its copy gone, `env_names` owns its shared layer again and the
        // pairs go there, not into the layer every later copy would clone.
        drop(names);
        for (k, v) in &environment {
            env_names.insert(format!("ENV_{k}"), Value::Str(v.clone()));
        }

        let user = user_of(&s, o, user)?;
        let logfile = o.logfile.clone().unwrap_or(logfile);
        let logfile = if logfile.as_os_str() == "syslog" {
            MainLogTarget::Syslog
        } else {
            MainLogTarget::File(absolute(&self.host.cwd, &logfile))
        };
        Ok(Supervisord {
            logfile,
            logfile_maxbytes: o.logfile_maxbytes.unwrap_or(logfile_maxbytes),
            logfile_backups: match o.logfile_backups {
                Some(n) => limits::logfile_backups(n)
                    .map_err(|m| ConfigError(format!("invalid value for -z '{n}': {m}")))?,
                None => logfile_backups,
            },
            loglevel: o.loglevel.unwrap_or(loglevel),
            pidfile: absolute(&self.host.cwd, &o.pidfile.clone().unwrap_or(pidfile)),
            umask: o.umask.unwrap_or(umask),
            nodaemon: o.nodaemon || nodaemon,
            silent: o.silent || silent,
            minfds: o.minfds.unwrap_or(minfds),
            minprocs: o.minprocs.unwrap_or(minprocs),
            nocleanup: o.nocleanup || nocleanup,
            childlogdir: o.childlogdir.clone().unwrap_or(childlogdir),
            user,
            directory: o.directory.clone().or(directory),
            strip_ansi: o.strip_ansi || strip_ansi,
            environment,
            identifier: o.identifier.clone().unwrap_or(identifier),
            console,
            exit_when_done,
            shutdown_timeout,
        })
    }
}

/// Supervisor's default temporary directory: the first usable of `$TMPDIR`,
/// `$TEMP`, `$TMP`, then the usual system directories.
impl Loader<'_> {
    /// `environment=` over `env_files=` (our extension). Supervisor expands
    /// this value twice (so `%` needs `%%%%`); once is enough.
    fn environment(&self, s: &SectionCtx, names: &Names) -> Result<Vec<(String, String)>> {
        let environment = match s.entry("environment") {
            Some(e) => {
                let text = s.expand_entry(e, names, "environment")?;
                check_environment(s, e, &text)?
            }
            None => Vec::new(),
        };
        let file_env = s.env_files(names, &self.host.cwd)?;
        Ok(environment::merge(&file_env, environment))
    }
}

/// `-u` wins over `user=`; the file's value was still checked (expanded).
fn user_of(s: &SectionCtx, o: &Overrides, from_file: Option<String>) -> Result<Option<User>> {
    let Some(name) = o.user.clone().or(from_file) else {
        return Ok(None);
    };
    dt::user(&name).map(Some).map_err(|msg| match &o.user {
        Some(_) => ConfigError(msg),
        None => s.error(s.entry("user"), &msg),
    })
}

fn temp_dir(host: &Host) -> String {
    let candidates = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|v| host.var(v).map(str::to_string))
        .chain(["/tmp", "/var/tmp", "/usr/tmp"].map(String::from));
    for dir in candidates {
        if !dir.is_empty() && Path::new(&dir).is_dir() {
            return dir;
        }
    }
    host.cwd.to_string_lossy().into_owned()
}
