//! Unit tests of the loader: options, defaults, expansion names, includes,
//! numprocs and the error catalogue (spec config.md §3–§7).
//!
//! Every expected value is written out from the spec, not copied from the
//! loader's output. Where the loader deliberately differs from Supervisor
//! (error suffixes on every section, refused collisions, …) the test says so.

use crate::config::EventType;
use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The `ENV_*` names of [`Fx::new`]'s pinned environment, as "Available names" lists them.
const ENV: &str = "ENV_HOME, ENV_NUM, ENV_TMPDIR";

const MB: i64 = 1024 * 1024;

/// A scratch directory holding `supervisord.conf`, and a [`Host`] pinned to it:
/// environment `HOME=/home/tester`, `NUM=7`, `TMPDIR=<root>`; node name `box1`;
/// current directory `<root>`.
struct Fx {
    _tmp: TempDir,
    root: PathBuf,
    host: Host,
}

impl Fx {
    fn new() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let host = Host {
            env: vec![
                ("HOME".into(), "/home/tester".into()),
                ("NUM".into(), "7".into()),
                ("TMPDIR".into(), root.to_string_lossy().into_owned()),
            ],
            node_name: "box1".into(),
            cwd: root.clone(),
        };
        Fx {
            _tmp: tmp,
            root,
            host,
        }
    }

    /// `<root>` as text, for building expected strings.
    fn r(&self) -> String {
        self.root.to_string_lossy().into_owned()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn mkdir(&self, rel: &str) -> PathBuf {
        let dir = self.path(rel);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Write `text` to `<root>/<rel>`, creating directories as needed.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let file = self.path(rel);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, text).unwrap();
        file
    }

    fn main(&self) -> PathBuf {
        self.path("supervisord.conf")
    }

    /// Write `text` as the main file and load it with no overrides.
    fn load(&self, text: &str) -> Result<Config> {
        self.load_with(text, &Overrides::default())
    }

    fn load_with(&self, text: &str, overrides: &Overrides) -> Result<Config> {
        let main = self.write("supervisord.conf", text);
        load(&main, overrides, &self.host)
    }

    fn ok(&self, text: &str) -> Config {
        self.load(text)
            .unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    fn err(&self, text: &str) -> String {
        match self.load(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.0,
        }
    }

    /// The suffix of an error about `key` on `line` of the main file.
    fn at(&self, section: &str, line: usize, key: &str) -> String {
        at(section, &self.main(), line, key)
    }

    /// The suffix of an error about a section of the main file, no key involved.
    fn in_section(&self, section: &str) -> String {
        in_section(section, &self.main())
    }
}

/// ` in section '<section>' (file: '<file>', line <n>, key '<key>')`
fn at(section: &str, file: &Path, line: usize, key: &str) -> String {
    format!(
        " in section '{section}' (file: '{}', line {line}, key '{key}')",
        file.display()
    )
}

/// ` in section '<section>' (file: '<file>')`
fn in_section(section: &str, file: &Path) -> String {
    format!(" in section '{section}' (file: '{}')", file.display())
}

/// The "cannot be expanded" message of §3.
fn cannot_expand(value: &str, option: &str, name: &str, available: &str) -> String {
    format!(
        "Format string '{value}' for '{option}' contains names ('{name}') which cannot be \
         expanded. Available names: {available}"
    )
}

/// `[supervisord]` plus `[program:a]` with `command=/bin/cat`; `body` starts on line 4.
fn program(body: &str) -> String {
    format!("[supervisord]\n[program:a]\ncommand=/bin/cat\n{body}")
}

fn group<'c>(config: &'c Config, name: &str) -> &'c ProcessGroup {
    config
        .groups
        .iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no group {name} in {:?}", group_names(config)))
}

fn group_names(config: &Config) -> Vec<&str> {
    config.groups.iter().map(|g| g.name.as_str()).collect()
}

fn process_names(group: &ProcessGroup) -> Vec<&str> {
    group.processes.iter().map(|p| p.name.as_str()).collect()
}

/// The only process of the only group.
fn only_process(config: &Config) -> &ProcessConfig {
    assert_eq!(config.groups.len(), 1, "{:?}", group_names(config));
    assert_eq!(config.groups[0].processes.len(), 1);
    &config.groups[0].processes[0]
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn root_user() -> User {
    User {
        name: "root".into(),
        uid: 0,
        gid: 0,
    }
}

/// A stream with the defaults of §5.5.
fn default_stream() -> Stream {
    Stream {
        logfile: LogTarget::Auto,
        logfile_maxbytes: 50 * MB,
        logfile_backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    }
}

/// A process of `[<section>]` alone in its group, with the defaults of §5.5.
fn default_process(name: &str, section: &str, command: &str) -> ProcessConfig {
    ProcessConfig {
        name: name.into(),
        group: name.into(),
        section: section.into(),
        command: command.into(),
        directory: None,
        umask: None,
        priority: 999,
        autostart: true,
        autorestart: AutoRestart::Unexpected,
        startsecs: 1,
        startretries: 3,
        exitcodes: vec![0],
        stopsignal: 15,
        stopwaitsecs: 10,
        stopasgroup: false,
        killasgroup: false,
        user: None,
        redirect_stderr: false,
        stdout: default_stream(),
        stderr: default_stream(),
        environment: vec![],
        serverurl: None,
        console: Default::default(),
        lifecycle: Default::default(),
    }
}

// ---------------------------------------------------------------------------
// [supervisord] (§5.1)
// ---------------------------------------------------------------------------

#[test]
fn supervisord_minimal_section_gets_every_default() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n");
    assert_eq!(
        config.supervisord,
        Supervisord {
            logfile: MainLogTarget::File(fx.path("supervisord.log")),
            logfile_maxbytes: 50 * MB,
            logfile_backups: 10,
            loglevel: LogLevel::Info,
            pidfile: fx.path("supervisord.pid"),
            umask: 0o22,
            nodaemon: false,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: fx.root.clone(),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: vec![],
            identifier: "supervisor".into(),
            console: Default::default(),
            exit_when_done: false,
            shutdown_timeout: None,
        }
    );
    assert_eq!(config.file, fx.main());
    assert_eq!(config.here, fx.root);
    assert!(config.unix_servers.is_empty());
    assert!(config.inet_servers.is_empty());
    assert!(config.rpcinterfaces.is_empty());
    assert!(config.groups.is_empty());
    assert_eq!(config.messages, Messages::default());
}

#[test]
fn supervisord_reads_a_non_default_value_for_every_option() {
    let fx = Fx::new();
    fx.mkdir("logs");
    fx.mkdir("run");
    fx.mkdir("childlogs");
    let config = fx.ok("[supervisord]
logfile=%(here)s/logs/main.log
logfile_maxbytes=1KB
logfile_backups=3
loglevel=TRACE
pidfile=%(here)s/run/s.pid
umask=0o27
nodaemon=yes
silent=on
minfds=2048
minprocs=300
nocleanup=1
childlogdir=%(here)s/childlogs
user=root
directory=%(here)s/run
strip_ansi=TRUE
environment=A=\"1\",B=two
identifier=box
console_lines=true
console_prefix=yes
console_timestamps=1
");
    assert_eq!(
        config.supervisord,
        Supervisord {
            logfile: MainLogTarget::File(fx.path("logs/main.log")),
            logfile_maxbytes: 1024,
            logfile_backups: 3,
            loglevel: LogLevel::Trace,
            pidfile: fx.path("run/s.pid"),
            umask: 0o27,
            nodaemon: true,
            silent: true,
            minfds: 2048,
            minprocs: 300,
            nocleanup: true,
            childlogdir: fx.path("childlogs"),
            user: Some(root_user()),
            directory: Some(fx.path("run")),
            strip_ansi: true,
            environment: pairs(&[("A", "1"), ("B", "two")]),
            identifier: "box".into(),
            console: Console {
                lines: true,
                prefix: true,
                timestamps: true,
            },
            exit_when_done: false,
            shutdown_timeout: None,
        }
    );
}

#[test]
fn supervisord_relative_logfile_and_pidfile_are_made_absolute_against_the_current_directory() {
    let mut fx = Fx::new();
    // Not the config file's directory: §5.1 says the startup current directory.
    fx.host.cwd = fx.mkdir("elsewhere");
    let config = fx.ok("[supervisord]\nlogfile=main.log\n");
    assert_eq!(
        config.supervisord.logfile,
        MainLogTarget::File(fx.path("elsewhere/main.log"))
    );
    assert_eq!(
        config.supervisord.pidfile,
        fx.path("elsewhere/supervisord.pid")
    );
}

#[test]
fn supervisord_logfile_syslog_sends_the_main_log_to_syslog() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\nlogfile=syslog\n");
    assert_eq!(config.supervisord.logfile, MainLogTarget::Syslog);
}

#[test]
fn supervisord_logfile_syslog_must_be_lowercase_to_mean_syslog() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\nlogfile=SYSLOG\n");
    assert_eq!(
        config.supervisord.logfile,
        MainLogTarget::File(fx.path("SYSLOG"))
    );
}

#[test]
fn supervisord_childlogdir_defaults_to_tmpdir_when_it_is_a_directory() {
    let mut fx = Fx::new();
    let tmp = fx.mkdir("tmp");
    fx.host.env = vec![("TMPDIR".into(), tmp.to_string_lossy().into_owned())];
    let config = fx.ok("[supervisord]\n");
    assert_eq!(config.supervisord.childlogdir, tmp);
}

#[test]
fn supervisord_childlogdir_default_skips_a_tmpdir_that_is_not_a_directory() {
    let mut fx = Fx::new();
    let temp = fx.mkdir("temp");
    fx.host.env = vec![
        (
            "TMPDIR".into(),
            fx.path("missing").to_string_lossy().into_owned(),
        ),
        ("TEMP".into(), temp.to_string_lossy().into_owned()),
    ];
    let config = fx.ok("[supervisord]\n");
    assert_eq!(config.supervisord.childlogdir, temp);
}

#[test]
fn supervisord_user_may_be_a_numeric_uid() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\nuser=0\n");
    assert_eq!(config.supervisord.user, Some(root_user()));
}

// ---------------------------------------------------------------------------
// [unix_http_server] (§5.2) and [inet_http_server] (§5.3)
// ---------------------------------------------------------------------------

#[test]
fn unix_http_server_defaults_and_file_made_absolute() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[unix_http_server]\nfile = run/sv.sock  \n");
    assert_eq!(
        config.unix_servers,
        vec![UnixHttpServer {
            section: "unix_http_server".into(),
            file: fx.path("run/sv.sock"),
            chmod: 0o700,
            chown: None,
            auth: None,
            refuse_get_actions: false,
        }]
    );
}

#[test]
fn unix_http_server_reads_chmod_chown_user_group_and_auth() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[unix_http_server]
file=%(here)s/sv.sock
chmod=0770
chown=root:root
username=admin
password={SHA}d033e22ae348aeb5660fc2140aec35850c4da997
");
    assert_eq!(
        config.unix_servers,
        vec![UnixHttpServer {
            section: "unix_http_server".into(),
            file: fx.path("sv.sock"),
            chmod: 0o770,
            chown: Some((0, Some(0))),
            auth: Some(Credentials {
                username: "admin".into(),
                password: "{SHA}d033e22ae348aeb5660fc2140aec35850c4da997".into(),
                open_probes: false,
                readonly: None,
            }),
            refuse_get_actions: false,
        }]
    );
}

#[test]
fn unix_http_server_chown_with_a_user_only_leaves_the_group() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[unix_http_server]\nfile=/s.sock\nchown=0\n");
    assert_eq!(config.unix_servers[0].chown, Some((0, None)));
}

#[test]
fn sections_starting_with_a_server_name_define_more_servers() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[unix_http_server]
file=/one.sock
[unix_http_server:two]
file=/two.sock
[inet_http_server:x]
port=9002
");
    let unix: Vec<_> = config
        .unix_servers
        .iter()
        .map(|s| (s.section.as_str(), s.file.clone()))
        .collect();
    assert_eq!(
        unix,
        vec![
            ("unix_http_server", PathBuf::from("/one.sock")),
            ("unix_http_server:two", PathBuf::from("/two.sock")),
        ]
    );
    assert_eq!(config.inet_servers[0].section, "inet_http_server:x");
    assert_eq!(config.inet_servers[0].port, 9002);
}

#[test]
fn inet_http_server_port_forms() {
    let fx = Fx::new();
    for (port, host, number) in [
        ("9001", "", 9001),
        (":9002", "", 9002),
        ("*:9003", "", 9003),
        ("LocalHost:9004", "localhost", 9004),
        ("127.0.0.1:9005", "127.0.0.1", 9005),
    ] {
        let config = fx.ok(&format!("[supervisord]\n[inet_http_server]\nport={port}\n"));
        assert_eq!(
            config.inet_servers,
            vec![InetHttpServer {
                section: "inet_http_server".into(),
                host: host.into(),
                port: number,
                auth: None,
                refuse_get_actions: false,
            }],
            "port={port}"
        );
    }
}

#[test]
fn inet_http_server_reads_auth() {
    let fx = Fx::new();
    let config =
        fx.ok("[supervisord]\n[inet_http_server]\nport=9001\nusername=user\npassword=123\n");
    assert_eq!(
        config.inet_servers[0].auth,
        Some(Credentials {
            username: "user".into(),
            password: "123".into(),
            open_probes: false,
            readonly: None,
        })
    );
}

// ---------------------------------------------------------------------------
// [supervisorctl] via load_ctl (§5.4)
// ---------------------------------------------------------------------------

#[test]
fn ctl_empty_section_gets_every_default() {
    let fx = Fx::new();
    let file = fx.write("ctl.conf", "[supervisorctl]\n");
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap(),
        Ctl {
            serverurl: "http://localhost:9001".into(),
            username: None,
            password: None,
            prompt: "supervisor".into(),
            history_file: None,
        }
    );
}

#[test]
fn ctl_reads_every_option() {
    let fx = Fx::new();
    let file = fx.write(
        "ctl.conf",
        "[supervisorctl]
serverurl=http://127.0.0.1:9011
username=chris
password=123
prompt=mysupervisor
history_file=%(here)s/.sc_history
",
    );
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap(),
        Ctl {
            serverurl: "http://127.0.0.1:9011".into(),
            username: Some("chris".into()),
            password: Some("123".into()),
            prompt: "mysupervisor".into(),
            history_file: Some(fx.path(".sc_history")),
        }
    );
}

#[test]
fn ctl_unix_serverurl_path_is_made_absolute() {
    let fx = Fx::new();
    let file = fx.write(
        "ctl.conf",
        "[supervisorctl]\nserverurl=unix://run/sv.sock\n",
    );
    let ctl = load_ctl(&file, &fx.host).unwrap();
    assert_eq!(ctl.serverurl, format!("unix://{}/run/sv.sock", fx.r()));
}

#[test]
fn ctl_here_is_the_config_file_directory() {
    let fx = Fx::new();
    let file = fx.write(
        "etc/ctl.conf",
        "[supervisorctl]\nserverurl=unix://%(here)s/sv.sock\n",
    );
    let ctl = load_ctl(&file, &fx.host).unwrap();
    assert_eq!(ctl.serverurl, format!("unix://{}/etc/sv.sock", fx.r()));
}

#[test]
fn ctl_without_supervisorctl_section_is_an_error() {
    let fx = Fx::new();
    let file = fx.write("ctl.conf", "[supervisord]\n");
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap_err().0,
        ".ini file does not include supervisorctl section"
    );
}

#[test]
fn ctl_does_not_process_includes() {
    let fx = Fx::new();
    fx.write("ctl.ini", "[supervisorctl]\nprompt=included\n");
    let file = fx.write("ctl.conf", "[include]\nfiles=ctl.ini\n");
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap_err().0,
        ".ini file does not include supervisorctl section"
    );
}

// ---------------------------------------------------------------------------
// [program:x] (§5.5)
// ---------------------------------------------------------------------------

#[test]
fn program_minimal_section_gets_every_default() {
    let fx = Fx::new();
    let config = fx.ok(&program(""));
    assert_eq!(
        config.groups,
        vec![ProcessGroup {
            name: "a".into(),
            section: "program:a".into(),
            priority: 999,
            kind: GroupKind::Programs,
            processes: vec![default_process("a", "program:a", "/bin/cat")],
        }]
    );
    assert_eq!(config.messages, Messages::default());
}

#[test]
fn program_reads_a_non_default_value_for_every_option() {
    let fx = Fx::new();
    fx.mkdir("logs");
    let config = fx.ok("[supervisord]
[program:a]
command=/bin/cat -n
process_name=%(program_name)s_%(process_num)d
numprocs=2
numprocs_start=4
priority=50
autostart=false
autorestart=false
startsecs=0
startretries=9
exitcodes=0,2
stopsignal=KILL
stopwaitsecs=30
stopasgroup=true
killasgroup=true
user=root
directory=/srv/a
umask=002
redirect_stderr=false
stdout_logfile=%(here)s/logs/out.log
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=2
stdout_capture_maxbytes=64KB
stdout_events_enabled=true
stdout_syslog=true
stderr_logfile=%(here)s/logs/err.log
stderr_logfile_maxbytes=2MB
stderr_logfile_backups=3
stderr_capture_maxbytes=1KB
stderr_events_enabled=yes
stderr_syslog=on
environment=A=1,B=\"two words\"
serverurl=http://127.0.0.1:9001
console_prefix=true
");
    let expected = |name: &str| ProcessConfig {
        name: name.into(),
        group: "a".into(),
        section: "program:a".into(),
        command: "/bin/cat -n".into(),
        directory: Some("/srv/a".into()),
        umask: Some(0o2),
        priority: 50,
        autostart: false,
        autorestart: AutoRestart::Never,
        startsecs: 0,
        startretries: 9,
        exitcodes: vec![0, 2],
        stopsignal: 9,
        stopwaitsecs: 30,
        stopasgroup: true,
        killasgroup: true,
        user: Some(root_user()),
        redirect_stderr: false,
        stdout: Stream {
            logfile: LogTarget::Path(fx.path("logs/out.log")),
            logfile_maxbytes: MB,
            logfile_backups: 2,
            capture_maxbytes: 64 * 1024,
            events_enabled: true,
            syslog: true,
        },
        stderr: Stream {
            logfile: LogTarget::Path(fx.path("logs/err.log")),
            logfile_maxbytes: 2 * MB,
            logfile_backups: 3,
            capture_maxbytes: 1024,
            events_enabled: true,
            syslog: true,
        },
        environment: pairs(&[("A", "1"), ("B", "two words")]),
        serverurl: Some("http://127.0.0.1:9001".into()),
        console: Console {
            lines: false,
            prefix: true,
            timestamps: false,
        },
        lifecycle: Default::default(),
    };
    assert_eq!(
        config.groups,
        vec![ProcessGroup {
            name: "a".into(),
            section: "program:a".into(),
            priority: 50,
            kind: GroupKind::Programs,
            processes: vec![expected("a_4"), expected("a_5")],
        }]
    );
    assert_eq!(config.messages, Messages::default());
}

#[test]
fn program_redirect_stderr_drops_the_stderr_log_file() {
    let fx = Fx::new();
    let config = fx.ok(&program("redirect_stderr=true\n"));
    let p = only_process(&config);
    assert!(p.redirect_stderr);
    assert_eq!(p.stdout.logfile, LogTarget::Auto);
    assert_eq!(p.stderr.logfile, LogTarget::None);
    assert!(config.messages.warnings.is_empty());
}

#[test]
fn program_log_file_none_off_and_empty_mean_no_file() {
    let fx = Fx::new();
    for value in ["NONE", "off", ""] {
        let config = fx.ok(&program(&format!(
            "stdout_logfile={value}\nstderr_logfile={value}\n"
        )));
        let p = only_process(&config);
        assert_eq!(p.stdout.logfile, LogTarget::None, "{value:?}");
        assert_eq!(p.stderr.logfile, LogTarget::None, "{value:?}");
    }
}

#[test]
fn program_killasgroup_defaults_to_stopasgroup() {
    let fx = Fx::new();
    let config = fx.ok(&program("stopasgroup=true\n"));
    let p = only_process(&config);
    assert!(p.stopasgroup);
    assert!(p.killasgroup);

    let config = fx.ok(&program("killasgroup=true\n"));
    let p = only_process(&config);
    assert!(!p.stopasgroup);
    assert!(p.killasgroup);
}

#[test]
fn program_serverurl_auto_in_any_case_means_the_computed_one() {
    let fx = Fx::new();
    for value in ["AUTO", "auto", " Auto "] {
        let config = fx.ok(&program(&format!("serverurl={value}\n")));
        assert_eq!(only_process(&config).serverurl, None, "{value:?}");
    }
}

#[test]
fn program_user_may_be_a_name_or_a_uid() {
    let fx = Fx::new();
    for value in ["root", "0"] {
        let config = fx.ok(&program(&format!("user={value}\n")));
        assert_eq!(only_process(&config).user, Some(root_user()), "{value}");
    }
}

#[test]
fn program_umask_is_octal() {
    let fx = Fx::new();
    for (value, umask) in [("022", 0o22), ("22", 0o22), ("0o77", 0o77), ("0", 0)] {
        let config = fx.ok(&program(&format!("umask={value}\n")));
        assert_eq!(only_process(&config).umask, Some(umask), "{value}");
    }
}

#[test]
fn program_directory_is_neither_checked_nor_tilde_expanded() {
    let fx = Fx::new();
    let config = fx.ok(&program("directory=~/nowhere/at/all\n"));
    assert_eq!(
        only_process(&config).directory.as_deref(),
        Some("~/nowhere/at/all")
    );
}

#[test]
fn program_environment_is_merged_over_the_supervisord_environment() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
environment=SHARED=global,ONLY_GLOBAL=g
[program:a]
command=/bin/cat
environment=SHARED=mine,OWN=o
");
    assert_eq!(
        only_process(&config).environment,
        pairs(&[("SHARED", "mine"), ("ONLY_GLOBAL", "g"), ("OWN", "o")])
    );
}

#[test]
fn program_command_may_be_empty_at_load_time() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[program:a]\ncommand=\n");
    assert_eq!(only_process(&config).command, "");
}

// ---------------------------------------------------------------------------
// [eventlistener:x] (§5.7)
// ---------------------------------------------------------------------------

#[test]
fn eventlistener_minimal_section_gets_pool_defaults() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[eventlistener:l]\ncommand=/bin/l\nevents=TICK_5\n");
    assert_eq!(
        config.groups,
        vec![ProcessGroup {
            name: "l".into(),
            section: "eventlistener:l".into(),
            priority: -1,
            kind: GroupKind::EventListenerPool(ListenerPool {
                events: vec![EventType::parse("TICK_5").unwrap()],
                buffer_size: 10,
            }),
            // The process keeps the program default priority; the pool's is -1.
            processes: vec![default_process("l", "eventlistener:l", "/bin/l")],
        }]
    );
}

#[test]
fn eventlistener_events_are_case_insensitive_and_duplicates_collapse() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[eventlistener:l]
command=/bin/l
events=process_state_exited, PROCESS_STATE_EXITED,Tick_60,process_state_exited
");
    assert_eq!(
        config.groups[0].kind,
        GroupKind::EventListenerPool(ListenerPool {
            events: vec![
                EventType::parse("PROCESS_STATE_EXITED").unwrap(),
                EventType::parse("TICK_60").unwrap()
            ],
            buffer_size: 10,
        })
    );
}

#[test]
fn eventlistener_reads_buffer_size_priority_and_accepts_the_default_result_handler() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[eventlistener:l]
command=/bin/l
events=EVENT
buffer_size=20
priority=5
result_handler=supervisor.dispatchers:default_handler
stdout_capture_maxbytes=1KB
stdout_events_enabled=true
");
    let pool = &config.groups[0];
    assert_eq!(pool.priority, 5);
    assert_eq!(
        pool.kind,
        GroupKind::EventListenerPool(ListenerPool {
            events: vec![EventType::parse("EVENT").unwrap()],
            buffer_size: 20,
        })
    );
    let p = &pool.processes[0];
    assert_eq!(p.priority, 5);
    // Parsed although they have no effect on the protocol channel.
    assert_eq!(p.stdout.capture_maxbytes, 1024);
    assert!(p.stdout.events_enabled);
}

// ---------------------------------------------------------------------------
// [group:x] (§5.6)
// ---------------------------------------------------------------------------

#[test]
fn group_holds_its_programs_in_listed_order_with_its_priority() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[group:g]
programs=b, a
priority=100
[program:a]
command=/bin/a
priority=1
[program:b]
command=/bin/b
priority=2
");
    // The members are not groups of their own.
    assert_eq!(group_names(&config), vec!["g"]);
    let g = group(&config, "g");
    assert_eq!(g.section, "group:g");
    assert_eq!(g.priority, 100);
    assert_eq!(g.kind, GroupKind::Programs);
    assert_eq!(process_names(g), vec!["b", "a"]);
    let a = &g.processes[1];
    assert_eq!(a.group, "g");
    assert_eq!(a.section, "program:a");
    assert_eq!(a.priority, 1);
    assert_eq!(a.namespec(), "g:a");
}

#[test]
fn group_without_programs_is_empty_with_default_priority() {
    let fx = Fx::new();
    for body in ["", "programs=\n"] {
        let config = fx.ok(&format!("[supervisord]\n[group:g]\n{body}"));
        let g = group(&config, "g");
        assert_eq!(g.priority, 999);
        assert!(g.processes.is_empty());
    }
}

// ---------------------------------------------------------------------------
// [include] keys and [rpcinterface:x] (§5.9, §5.10)
// ---------------------------------------------------------------------------

#[test]
fn rpcinterface_standard_factory_keeps_its_other_options() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
retries = 3
mode = fast
");
    assert_eq!(
        config.rpcinterfaces,
        vec![RpcInterface {
            name: "supervisor".into(),
            options: pairs(&[("retries", "3"), ("mode", "fast")]),
        }]
    );
    assert!(config.messages.warnings.is_empty());
}

#[test]
fn rpcinterface_other_factory_is_warned_about_and_ignored() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[rpcinterface:plugin]
supervisor.rpcinterface_factory = myplugin.rpc:make
");
    assert!(config.rpcinterfaces.is_empty());
    let warnings = &config.messages.warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("[rpcinterface:plugin]"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("myplugin.rpc:make"), "{warnings:?}");
    assert!(warnings[0].contains(&fx.main().display().to_string()));
}

#[test]
fn rpcinterface_without_factory_is_an_error() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[rpcinterface:x]\nretries=3\n"),
        format!(
            "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory{}",
            fx.in_section("rpcinterface:x")
        )
    );
}

// ---------------------------------------------------------------------------
// Command-line overrides (§1)
// ---------------------------------------------------------------------------

#[test]
fn every_command_line_override_wins_over_the_file() {
    let fx = Fx::new();
    fx.mkdir("a");
    let b = fx.mkdir("b");
    let file = "[supervisord]
logfile=%(here)s/file.log
logfile_maxbytes=1KB
logfile_backups=1
loglevel=debug
pidfile=%(here)s/file.pid
umask=077
nodaemon=false
silent=false
minfds=100
minprocs=10
nocleanup=false
childlogdir=%(here)s/a
user=nosuchuser
directory=%(here)s/a
strip_ansi=false
identifier=file
";
    let overrides = Overrides {
        nodaemon: true,
        silent: true,
        user: Some("root".into()),
        umask: Some(0o2),
        directory: Some(b.clone()),
        logfile: Some(fx.path("cli.log")),
        logfile_maxbytes: Some(2048),
        logfile_backups: Some(5),
        loglevel: Some(LogLevel::Warn),
        pidfile: Some(fx.path("cli.pid")),
        identifier: Some("cli".into()),
        childlogdir: Some(b.clone()),
        nocleanup: true,
        minfds: Some(4096),
        strip_ansi: true,
        minprocs: Some(400),
    };
    let config = fx.load_with(file, &overrides).unwrap();
    assert_eq!(
        config.supervisord,
        Supervisord {
            logfile: MainLogTarget::File(fx.path("cli.log")),
            logfile_maxbytes: 2048,
            logfile_backups: 5,
            loglevel: LogLevel::Warn,
            pidfile: fx.path("cli.pid"),
            umask: 0o2,
            nodaemon: true,
            silent: true,
            minfds: 4096,
            minprocs: 400,
            nocleanup: true,
            childlogdir: b.clone(),
            // The file's unknown user is never looked up: the command line wins.
            user: Some(root_user()),
            directory: Some(b),
            strip_ansi: true,
            environment: vec![],
            identifier: "cli".into(),
            console: Console::default(),
            exit_when_done: false,
            shutdown_timeout: None,
        }
    );
}

#[test]
fn command_line_logfile_syslog_sends_the_main_log_to_syslog() {
    let fx = Fx::new();
    let overrides = Overrides {
        logfile: Some("syslog".into()),
        ..Overrides::default()
    };
    let config = fx.load_with("[supervisord]\n", &overrides).unwrap();
    assert_eq!(config.supervisord.logfile, MainLogTarget::Syslog);
}

#[test]
fn command_line_unknown_user_is_an_error_without_a_file_suffix() {
    let fx = Fx::new();
    let overrides = Overrides {
        user: Some("nosuchuser".into()),
        ..Overrides::default()
    };
    let err = fx.load_with("[supervisord]\n", &overrides).unwrap_err();
    assert_eq!(err.0, "Invalid user name nosuchuser");
}

// ---------------------------------------------------------------------------
// Expansion names, one allowed and one refused per row of §3's table
// ---------------------------------------------------------------------------

#[test]
fn names_supervisord_options_allow_here_env_and_host_node_name() {
    let fx = Fx::new();
    // host_node_name is refused by Supervisor here; we allow it (per-host log names).
    let config =
        fx.ok("[supervisord]\nidentifier=%(host_node_name)s-%(ENV_NUM)s\npidfile=%(here)s/s.pid\n");
    assert_eq!(config.supervisord.identifier, "box1-7");
    assert_eq!(config.supervisord.pidfile, fx.path("s.pid"));
}

#[test]
fn names_supervisord_options_refuse_program_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\nidentifier=%(program_name)s\n"),
        cannot_expand(
            "%(program_name)s",
            "supervisord.identifier",
            "program_name",
            &format!("{ENV}, here, host_node_name")
        ) + &fx.at("supervisord", 2, "identifier")
    );
}

#[test]
fn names_supervisord_environment_is_expanded_once() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
environment=PCT=\"50%%\",WHERE=\"%(here)s\",HOST=\"%(host_node_name)s\",N=\"%(ENV_NUM)s\"
");
    assert_eq!(
        config.supervisord.environment,
        pairs(&[
            ("PCT", "50%"),
            ("WHERE", &fx.r()),
            ("HOST", "box1"),
            ("N", "7")
        ])
    );
}

#[test]
fn names_supervisord_environment_refuses_program_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\nenvironment=A=\"%(program_name)s\"\n"),
        cannot_expand(
            "A=\"%(program_name)s\"",
            "environment",
            "program_name",
            &format!("{ENV}, here, host_node_name")
        ) + &fx.at("supervisord", 2, "environment")
    );
}

#[test]
fn names_supervisord_environment_pairs_become_env_names_for_later_sections() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
environment=SOCK=sv.sock,NUM=8
[unix_http_server]
file=%(ENV_SOCK)s
[program:a]
command=/bin/echo %(ENV_NUM)s
");
    assert_eq!(config.unix_servers[0].file, fx.path("sv.sock"));
    // Overrides the process environment's NUM=7.
    assert_eq!(only_process(&config).command, "/bin/echo 8");
}

#[test]
fn names_include_files_allow_here_host_node_name_and_env() {
    let fx = Fx::new();
    fx.write("inc/box1-7.ini", "[program:inc]\ncommand=/bin/inc\n");
    let config =
        fx.ok("[supervisord]\n[include]\nfiles=%(here)s/inc/%(host_node_name)s-%(ENV_NUM)s.ini\n");
    assert_eq!(group_names(&config), vec!["inc"]);
}

#[test]
fn names_include_files_refuse_program_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[include]\nfiles=%(program_name)s.ini\n"),
        cannot_expand(
            "%(program_name)s.ini",
            "include.files",
            "program_name",
            &format!("{ENV}, here, host_node_name")
        ) + &fx.at("include", 3, "files")
    );
}

#[test]
fn names_unix_http_server_file_allows_here_and_env() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[unix_http_server]\nfile=%(here)s/%(ENV_NUM)s.sock\n");
    assert_eq!(config.unix_servers[0].file, fx.path("7.sock"));
}

#[test]
fn names_unix_http_server_file_refuses_host_node_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nfile=/%(host_node_name)s.sock\n"),
        cannot_expand(
            "/%(host_node_name)s.sock",
            "unix_http_server.file",
            "host_node_name",
            &format!("{ENV}, here")
        ) + &fx.at("unix_http_server", 3, "file")
    );
}

#[test]
fn names_other_http_server_options_allow_env() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[unix_http_server]
file=/s.sock
username=%(ENV_HOME)s
password=p
chmod=0%(ENV_NUM)s00
[inet_http_server]
port=%(ENV_NUM)s001
username=u
password=%(ENV_NUM)s
");
    let unix = &config.unix_servers[0];
    assert_eq!(unix.chmod, 0o700);
    assert_eq!(unix.auth.as_ref().unwrap().username, "/home/tester");
    let inet = &config.inet_servers[0];
    assert_eq!(inet.port, 7001);
    assert_eq!(inet.auth.as_ref().unwrap().password, "7");
}

#[test]
fn names_other_http_server_options_refuse_here() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nfile=/s.sock\nchmod=%(here)s\n"),
        cannot_expand("%(here)s", "unix_http_server.chmod", "here", ENV)
            + &fx.at("unix_http_server", 4, "chmod")
    );
    assert_eq!(
        fx.err("[supervisord]\n[inet_http_server]\nport=%(here)s:9001\n"),
        cannot_expand("%(here)s:9001", "inet_http_server.port", "here", ENV)
            + &fx.at("inet_http_server", 3, "port")
    );
}

#[test]
fn names_ctl_serverurl_and_history_file_allow_here_and_env() {
    let fx = Fx::new();
    let file = fx.write(
        "ctl.conf",
        "[supervisorctl]\nserverurl=http://%(ENV_NUM)s.0.0.1\nhistory_file=%(here)s/h\n\
         username=%(ENV_HOME)s\n",
    );
    let ctl = load_ctl(&file, &fx.host).unwrap();
    assert_eq!(ctl.serverurl, "http://7.0.0.1");
    assert_eq!(ctl.history_file, Some(fx.path("h")));
    assert_eq!(ctl.username.as_deref(), Some("/home/tester"));
}

#[test]
fn names_ctl_serverurl_refuses_host_node_name_and_other_options_refuse_here() {
    let fx = Fx::new();
    let file = fx.write(
        "ctl.conf",
        "[supervisorctl]\nserverurl=http://%(host_node_name)s\n",
    );
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap_err().0,
        cannot_expand(
            "http://%(host_node_name)s",
            "supervisorctl.serverurl",
            "host_node_name",
            &format!("{ENV}, here")
        ) + &at("supervisorctl", &file, 2, "serverurl")
    );
    let file = fx.write("ctl.conf", "[supervisorctl]\nprompt=%(here)s\n");
    assert_eq!(
        load_ctl(&file, &fx.host).unwrap_err().0,
        cannot_expand("%(here)s", "supervisorctl.prompt", "here", ENV)
            + &at("supervisorctl", &file, 2, "prompt")
    );
}

#[test]
fn names_group_options_allow_here_and_env() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
environment=MEMBER=a
[group:g]
programs=%(ENV_MEMBER)s
priority=%(ENV_NUM)s
[program:a]
command=/bin/a
");
    let g = group(&config, "g");
    assert_eq!(g.priority, 7);
    assert_eq!(process_names(g), vec!["a"]);
}

#[test]
fn names_group_options_refuse_program_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[group:g]\nprograms=%(program_name)s\n"),
        cannot_expand(
            "%(program_name)s",
            "group:g.programs",
            "program_name",
            &format!("{ENV}, here")
        ) + &fx.at("group:g", 3, "programs")
    );
}

#[test]
fn names_rpcinterface_keys_allow_env() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
retries=%(ENV_NUM)s
");
    assert_eq!(config.rpcinterfaces[0].options, pairs(&[("retries", "7")]));
}

#[test]
fn names_rpcinterface_keys_refuse_here() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(
            "[supervisord]
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
path=%(here)s
"
        ),
        cannot_expand("%(here)s", "rpcinterface:supervisor.path", "here", ENV)
            + &fx.at("rpcinterface:supervisor", 4, "path")
    );
}

#[test]
fn names_options_read_per_group_allow_here_and_env() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[program:a]
command=/bin/a
priority=%(ENV_NUM)s
[eventlistener:l]
command=/bin/l
events=TICK_5
buffer_size=%(ENV_NUM)s
");
    assert_eq!(group(&config, "a").priority, 7);
    assert_eq!(
        group(&config, "l").kind,
        GroupKind::EventListenerPool(ListenerPool {
            events: vec![EventType::parse("TICK_5").unwrap()],
            buffer_size: 7,
        })
    );
}

#[test]
fn names_options_read_per_group_refuse_program_name() {
    let fx = Fx::new();
    let available = format!("{ENV}, here");
    assert_eq!(
        fx.err(&program("priority=%(program_name)s\n")),
        cannot_expand(
            "%(program_name)s",
            "program:a.priority",
            "program_name",
            &available
        ) + &fx.at("program:a", 4, "priority")
    );
    assert_eq!(
        fx.err("[supervisord]\n[eventlistener:l]\ncommand=/bin/l\nevents=%(program_name)s\n"),
        cannot_expand(
            "%(program_name)s",
            "eventlistener:l.events",
            "program_name",
            &available
        ) + &fx.at("eventlistener:l", 4, "events")
    );
}

#[test]
fn names_program_options_allow_program_group_host_here_and_env() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "serverurl=http://%(host_node_name)s/%(program_name)s/%(group_name)s/%(ENV_NUM)s%(here)s\n\
         startsecs=%(ENV_NUM)s\n",
    ));
    let p = only_process(&config);
    assert_eq!(p.serverurl, Some(format!("http://box1/a/a/7{}", fx.r())));
    assert_eq!(p.startsecs, 7);
}

#[test]
fn names_program_options_refuse_process_num() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&program("startsecs=%(process_num)d\n")),
        cannot_expand(
            "%(process_num)d",
            "program:a.startsecs",
            "process_num",
            &format!("{ENV}, group_name, here, host_node_name, program_name")
        ) + &fx.at("program:a", 4, "startsecs")
    );
}

#[test]
fn names_program_environment_allows_process_num_and_numprocs() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "environment=N=\"%(process_num)d of %(numprocs)d\",P=%(program_name)s,PCT=\"1%%\"\n",
    ));
    assert_eq!(
        only_process(&config).environment,
        pairs(&[("N", "0 of 1"), ("P", "a"), ("PCT", "1%")])
    );
}

#[test]
fn names_program_environment_refuses_unknown_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&program("environment=X=\"%(nope)s\"\n")),
        cannot_expand(
            "X=\"%(nope)s\"",
            "environment",
            "nope",
            &format!(
                "{ENV}, group_name, here, host_node_name, numprocs, process_num, program_name"
            )
        ) + &fx.at("program:a", 4, "environment")
    );
}

#[test]
fn names_process_name_allows_process_num_and_numprocs() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "process_name=%(program_name)s-%(process_num)d-%(numprocs)d\n",
    ));
    assert_eq!(only_process(&config).name, "a-0-1");
}

#[test]
fn names_process_name_refuses_the_programs_own_environment() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&program("environment=OWN=x\nprocess_name=%(ENV_OWN)s\n")),
        cannot_expand(
            "%(ENV_OWN)s",
            "process_name",
            "ENV_OWN",
            &format!(
                "{ENV}, group_name, here, host_node_name, numprocs, process_num, program_name"
            )
        ) + &fx.at("program:a", 5, "process_name")
    );
}

#[test]
fn names_command_directory_and_logs_see_the_programs_own_environment() {
    let fx = Fx::new();
    fx.mkdir("x");
    let config = fx.ok("[supervisord]
[program:a]
command=/bin/%(ENV_OWN)s %(process_num)d %(numprocs)d %(host_node_name)s
environment=OWN=x,SIZE=2KB,BACKUPS=4,YES=true
directory=/srv/%(ENV_OWN)s
stdout_logfile=%(here)s/%(ENV_OWN)s/out.log
stdout_logfile_maxbytes=%(ENV_SIZE)s
stdout_logfile_backups=%(ENV_BACKUPS)s
stdout_syslog=%(ENV_YES)s
stderr_logfile=%(here)s/%(ENV_OWN)s/err.log
stderr_logfile_maxbytes=%(ENV_SIZE)s
stderr_logfile_backups=%(ENV_BACKUPS)s
stderr_syslog=%(ENV_YES)s
");
    let p = only_process(&config);
    assert_eq!(p.command, "/bin/x 0 1 box1");
    assert_eq!(p.directory.as_deref(), Some("/srv/x"));
    for (stream, file) in [(&p.stdout, "x/out.log"), (&p.stderr, "x/err.log")] {
        assert_eq!(stream.logfile, LogTarget::Path(fx.path(file)));
        assert_eq!(stream.logfile_maxbytes, 2048);
        assert_eq!(stream.logfile_backups, 4);
        assert!(stream.syslog);
    }
}

#[test]
fn names_command_refuses_unknown_name_listing_the_programs_own_environment() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[program:a]\nenvironment=OWN=x\ncommand=/bin/%(nope)s\n"),
        cannot_expand(
            "/bin/%(nope)s",
            "program:a.command",
            "nope",
            "ENV_HOME, ENV_NUM, ENV_OWN, ENV_TMPDIR, group_name, here, host_node_name, \
             numprocs, process_num, program_name"
        ) + &fx.at("program:a", 4, "command")
    );
}

#[test]
fn names_program_options_do_not_see_the_programs_own_environment() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&program("environment=SECS=5\nstartsecs=%(ENV_SECS)s\n")),
        cannot_expand(
            "%(ENV_SECS)s",
            "program:a.startsecs",
            "ENV_SECS",
            &format!("{ENV}, group_name, here, host_node_name, program_name")
        ) + &fx.at("program:a", 5, "startsecs")
    );
}

#[test]
fn here_is_each_files_own_directory() {
    let fx = Fx::new();
    fx.write("conf.d/b.ini", "[program:b]\ncommand=%(here)s/bin/b\n");
    let config = fx.ok("[supervisord]
[include]
files=conf.d/*.ini
[program:a]
command=%(here)s/bin/a
");
    assert_eq!(
        group(&config, "a").processes[0].command,
        format!("{}/bin/a", fx.r())
    );
    assert_eq!(
        group(&config, "b").processes[0].command,
        format!("{}/conf.d/bin/b", fx.r())
    );
}

#[test]
fn group_name_is_the_groups_name_for_grouped_programs() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[group:g]
programs=a
[program:a]
command=/bin/echo %(group_name)s %(program_name)s
[program:b]
command=/bin/echo %(group_name)s %(program_name)s
");
    assert_eq!(group(&config, "g").processes[0].command, "/bin/echo g a");
    assert_eq!(group(&config, "b").processes[0].command, "/bin/echo b b");
}

#[test]
fn eventlistener_names_program_name_and_group_name_after_the_pool() {
    let fx = Fx::new();
    let config = fx.ok(
        "[supervisord]\n[eventlistener:l]\ncommand=/bin/%(program_name)s-%(group_name)s\n\
         events=TICK_5\n",
    );
    assert_eq!(only_process(&config).command, "/bin/l-l");
}

#[test]
fn double_percent_is_a_literal_percent() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]\n[program:a]\ncommand=/bin/echo 50%% done\n");
    assert_eq!(only_process(&config).command, "/bin/echo 50% done");
}

#[test]
fn lone_percent_is_an_incomplete_format() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[program:a]\ncommand=/bin/echo 50%\n"),
        "Format string '/bin/echo 50%' for 'program:a.command' is badly formatted: \
         incomplete format"
            .to_string()
            + &fx.at("program:a", 3, "command")
    );
}

#[test]
fn bare_percent_d_needs_a_name() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[program:a]\ncommand=/bin/echo %d\n"),
        "Format string '/bin/echo %d' for 'program:a.command' is badly formatted: \
         %d format: a real number is required, not dict"
            .to_string()
            + &fx.at("program:a", 3, "command")
    );
}

#[test]
fn bare_percent_s_is_an_error_instead_of_dumping_the_names() {
    let fx = Fx::new();
    let err = fx.err("[supervisord]\n[program:a]\ncommand=/bin/echo %s\n");
    assert!(
        err.starts_with(
            "Format string '/bin/echo %s' for 'program:a.command' is badly formatted: "
        ),
        "{err}"
    );
    assert!(err.ends_with(&fx.at("program:a", 3, "command")), "{err}");
    // Nothing of the environment leaks into the message.
    assert!(!err.contains("/home/tester"), "{err}");
}

#[test]
fn default_section_values_apply_to_programs_unless_overridden() {
    let fx = Fx::new();
    let config = fx.ok("[DEFAULT]
startsecs=7
autostart=false
[supervisord]
[program:a]
command=/bin/a
[program:b]
command=/bin/b
startsecs=2
");
    let a = &group(&config, "a").processes[0];
    let b = &group(&config, "b").processes[0];
    assert_eq!((a.startsecs, a.autostart), (7, false));
    assert_eq!((b.startsecs, b.autostart), (2, false));
    // [DEFAULT] keys are not "unknown keys" of the sections they apply to.
    assert!(config.messages.warnings.is_empty(), "{:?}", config.messages);
}

// ---------------------------------------------------------------------------
// [include] (§5.9)
// ---------------------------------------------------------------------------

/// `[supervisord]` plus `[include] files=<files>`.
fn including(files: &str) -> String {
    format!("[supervisord]\n[include]\nfiles={files}\n")
}

fn included(fx: &Fx, rel: &str) -> String {
    format!(
        "Included extra file \"{}\" during parsing",
        fx.path(rel).display()
    )
}

#[test]
fn include_pattern_is_relative_to_the_main_files_directory() {
    let mut fx = Fx::new();
    fx.host.cwd = fx.mkdir("elsewhere");
    fx.write("conf.d/a.ini", "[program:a]\ncommand=/bin/a\n");
    let config = fx.ok(&including("conf.d/*.ini"));
    assert_eq!(group_names(&config), vec!["a"]);
    assert_eq!(config.messages.infos, vec![included(&fx, "conf.d/a.ini")]);
    assert!(config.messages.warnings.is_empty());
}

#[test]
fn include_absolute_pattern_is_used_as_is() {
    let fx = Fx::new();
    let other_tmp = tempfile::tempdir().unwrap();
    let other = other_tmp.path().canonicalize().unwrap();
    fs::write(other.join("x.ini"), "[program:x]\ncommand=/bin/x\n").unwrap();
    let config = fx.ok(&including(&format!("{}/*.ini", other.display())));
    assert_eq!(group_names(&config), vec!["x"]);
    assert_eq!(
        config.messages.infos,
        vec![format!(
            "Included extra file \"{}/x.ini\" during parsing",
            other.display()
        )]
    );
}

#[test]
fn include_patterns_are_read_left_to_right_with_each_patterns_matches_sorted() {
    let fx = Fx::new();
    for (file, n) in [("b/2.ini", 2), ("b/1.ini", 1), ("a/0.ini", 0)] {
        fx.write(
            file,
            &format!("[program:p]\ncommand=/bin/{n}\n[program:p{n}]\ncommand=/bin/{n}\n"),
        );
    }
    let config = fx.ok(&including("b/*.ini\n    a/*.ini"));
    assert_eq!(
        config.messages.infos,
        vec![
            included(&fx, "b/1.ini"),
            included(&fx, "b/2.ini"),
            included(&fx, "a/0.ini"),
        ]
    );
    // The last file read wins the shared section.
    assert_eq!(group(&config, "p").processes[0].command, "/bin/0");
}

#[test]
fn include_matches_sort_as_strings_like_python() {
    let fx = Fx::new();
    // As text "a-b/x.ini" < "a/x.ini" ('-' < '/'), though the directory "a" < "a-b".
    fx.write("a/x.ini", "[program:p]\ncommand=/bin/a\n");
    fx.write("a-b/x.ini", "[program:p]\ncommand=/bin/a-b\n");
    let config = fx.ok(&including("*/x.ini"));
    assert_eq!(
        config.messages.infos,
        vec![included(&fx, "a-b/x.ini"), included(&fx, "a/x.ini")]
    );
    assert_eq!(group(&config, "p").processes[0].command, "/bin/a");
}

#[test]
fn include_star_does_not_match_hidden_files() {
    let fx = Fx::new();
    fx.write("conf.d/.hidden.ini", "[program:hidden]\ncommand=/bin/h\n");
    fx.write("conf.d/shown.ini", "[program:shown]\ncommand=/bin/s\n");
    let config = fx.ok(&including("conf.d/*.ini"));
    assert_eq!(group_names(&config), vec!["shown"]);
}

#[test]
fn include_pattern_starting_with_a_dot_matches_hidden_files() {
    let fx = Fx::new();
    fx.write("conf.d/.hidden.ini", "[program:hidden]\ncommand=/bin/h\n");
    fx.write("conf.d/shown.ini", "[program:shown]\ncommand=/bin/s\n");
    let config = fx.ok(&including("conf.d/.*.ini"));
    assert_eq!(group_names(&config), vec!["hidden"]);
}

#[test]
fn include_directory_with_a_non_utf8_file_name_is_not_fatal() {
    use std::os::unix::ffi::OsStrExt;
    let fx = Fx::new();
    fx.write("conf.d/a.ini", "[program:a]\ncommand=/bin/a\n");
    let odd = fx
        .path("conf.d")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    fs::write(odd, "not a config").unwrap();
    let config = fx.ok(&including("conf.d/*.ini"));
    assert_eq!(group_names(&config), vec!["a"]);
}

#[test]
fn include_pattern_without_match_warns_with_the_joined_pattern() {
    let fx = Fx::new();
    let config = fx.ok(&including("conf.d/*.ini"));
    assert_eq!(
        config.messages.warnings,
        vec![format!(
            "No file matches via include \"{}/conf.d/*.ini\"",
            fx.r()
        )]
    );
    assert!(config.messages.infos.is_empty());
}

#[test]
fn include_matches_that_cannot_be_read_are_skipped() {
    let fx = Fx::new();
    fx.mkdir("conf.d/dir.ini");
    std::os::unix::fs::symlink(fx.path("missing"), fx.path("conf.d/dangling.ini")).unwrap();
    fx.write("conf.d/ok.ini", "[program:ok]\ncommand=/bin/ok\n");
    let config = fx.ok(&including("conf.d/*.ini"));
    assert_eq!(group_names(&config), vec!["ok"]);
    // Each match is announced before it is read, as Supervisor does.
    assert_eq!(
        config.messages.infos,
        vec![
            included(&fx, "conf.d/dangling.ini"),
            included(&fx, "conf.d/dir.ini"),
            included(&fx, "conf.d/ok.ini"),
        ]
    );
}

#[test]
fn include_parse_error_names_the_included_file() {
    let fx = Fx::new();
    let bad = fx.write("conf.d/bad.ini", "[program:b]\ngarbage\n");
    assert_eq!(
        fx.err(&including("conf.d/*.ini")),
        format!(
            "Source contains parsing errors: '{}'\n\t[line  2]: 'garbage\\n'",
            bad.display()
        )
    );
}

#[test]
fn include_errors_name_the_included_file_and_its_line() {
    let fx = Fx::new();
    let inc = fx.write(
        "conf.d/b.ini",
        "[program:b]\ncommand=/bin/b\nstartsecs=abc\n",
    );
    assert_eq!(
        fx.err(&including("conf.d/b.ini")),
        "invalid literal for int() with base 10: 'abc'".to_string()
            + &at("program:b", &inc, 3, "startsecs")
    );
    fx.write("conf.d/b.ini", "[program:b]\nautostart=true\n");
    assert_eq!(
        fx.err(&including("conf.d/b.ini")),
        "program section program:b does not specify a command".to_string()
            + &in_section("program:b", &inc)
    );
}

#[test]
fn include_key_error_in_a_section_from_the_main_file_names_the_included_line() {
    let fx = Fx::new();
    let inc = fx.write("conf.d/a.ini", "\n[program:a]\nstartsecs=abc\n");
    assert_eq!(
        fx.err(&(including("conf.d/a.ini") + "[program:a]\ncommand=/bin/a\n")),
        "invalid literal for int() with base 10: 'abc'".to_string()
            + &at("program:a", &inc, 3, "startsecs")
    );
}

#[test]
fn include_duplicate_sections_are_merged_with_later_keys_winning() {
    let fx = Fx::new();
    fx.write("conf.d/a.ini", "[program:a]\ncommand=Y\n");
    let config = fx.ok("[supervisord]
[include]
files=conf.d/a.ini
[program:a]
command=X
startsecs=9
");
    let a = only_process(&config);
    assert_eq!(a.command, "Y");
    assert_eq!(a.startsecs, 9);
    assert!(config.messages.warnings.is_empty());
}

#[test]
fn include_section_in_an_included_file_is_not_acted_on() {
    let fx = Fx::new();
    fx.write(
        "one.ini",
        "[include]\nfiles=two.ini\n[program:one]\ncommand=/bin/1\n",
    );
    fx.write("two.ini", "[program:two]\ncommand=/bin/2\n");
    let config = fx.ok(&including("one.ini"));
    assert_eq!(group_names(&config), vec!["one"]);
    assert_eq!(config.messages.infos, vec![included(&fx, "one.ini")]);
}

#[test]
fn supervisord_section_may_come_from_an_include() {
    let fx = Fx::new();
    fx.write("sv.ini", "[supervisord]\nidentifier=included\n");
    let config = fx.ok("[include]\nfiles=sv.ini\n");
    assert_eq!(config.supervisord.identifier, "included");
}

#[test]
fn include_without_files_is_an_error() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[include]\n"),
        ".ini file has [include] section, but no files setting".to_string()
            + &fx.in_section("include")
    );
}

// ---------------------------------------------------------------------------
// numprocs (§5.5)
// ---------------------------------------------------------------------------

#[test]
fn numprocs_names_copies_from_numprocs_start() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[program:w]
command=/bin/w %(process_num)d/%(numprocs)d
process_name=%(program_name)s_%(process_num)02d
numprocs=3
numprocs_start=5
environment=SLOT=\"%(process_num)d\"
");
    let w = group(&config, "w");
    assert_eq!(group_names(&config), vec!["w"]);
    assert_eq!(process_names(w), vec!["w_05", "w_06", "w_07"]);
    for (p, n) in w.processes.iter().zip(5..) {
        assert_eq!(p.group, "w");
        assert_eq!(p.namespec(), format!("w:w_{n:02}"));
        assert_eq!(p.command, format!("/bin/w {n}/3"));
        assert_eq!(p.environment, pairs(&[("SLOT", &n.to_string())]));
    }
}

#[test]
fn numprocs_zero_gives_an_empty_group_and_a_warning() {
    let fx = Fx::new();
    let config = fx.ok(&program("numprocs=0\n"));
    let a = group(&config, "a");
    assert!(a.processes.is_empty());
    let warnings = &config.messages.warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("[program:a]"), "{warnings:?}");
    assert!(warnings[0].contains("numprocs"), "{warnings:?}");
}

#[test]
fn numprocs_above_one_needs_process_num_in_process_name() {
    let fx = Fx::new();
    let message = "%(process_num) must be present within process_name when numprocs > 1";
    assert_eq!(
        fx.err(&program("numprocs=2\nprocess_name=%(program_name)s\n")),
        message.to_string() + &fx.at("program:a", 5, "process_name")
    );
    assert_eq!(
        fx.err(&program("numprocs=2\n")),
        message.to_string() + &fx.in_section("program:a")
    );
}

// ---------------------------------------------------------------------------
// Errors (§7, §5.7, §5.10, and our additions)
// ---------------------------------------------------------------------------

#[test]
fn missing_config_file_is_an_error() {
    let fx = Fx::new();
    let missing = fx.path("nope.conf");
    assert_eq!(
        load(&missing, &Overrides::default(), &fx.host)
            .unwrap_err()
            .0,
        format!("could not find config file {}", missing.display())
    );
}

#[test]
fn config_without_supervisord_section_is_an_error() {
    let fx = Fx::new();
    for text in ["", "[program:a]\ncommand=/bin/a\n"] {
        assert_eq!(
            fx.err(text),
            ".ini file does not include supervisord section",
            "{text:?}"
        );
    }
}

#[test]
fn malformed_lines_are_reported_with_file_and_line() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\nnot an option\n"),
        format!(
            "Source contains parsing errors: '{}'\n\t[line  2]: 'not an option\\n'",
            fx.main().display()
        )
    );
    assert_eq!(
        fx.err("command=/bin/a\n[supervisord]\n"),
        format!(
            "File contains no section headers.\nfile: '{}', line: 1\n'command=/bin/a\\n'",
            fx.main().display()
        )
    );
}

#[test]
fn program_without_command_is_an_error() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[program:a]\nautostart=true\n"),
        "program section program:a does not specify a command".to_string()
            + &fx.in_section("program:a")
    );
}

#[test]
fn stopasgroup_without_killasgroup_is_an_error() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&program("stopasgroup=true\nkillasgroup=false\n")),
        "Cannot set stopasgroup=true and killasgroup=false".to_string()
            + &fx.at("program:a", 5, "killasgroup")
    );
}

#[test]
fn bad_program_values_name_section_file_line_and_key() {
    let fx = Fx::new();
    let missing_dir = fx.path("x/y.log");
    let missing_dir = missing_dir.to_string_lossy();
    for (key, value, message) in [
        (
            "startsecs",
            "abc",
            "invalid literal for int() with base 10: 'abc'".to_string(),
        ),
        (
            "autostart",
            "maybe",
            "not a valid boolean value: 'maybe'".into(),
        ),
        (
            "stopsignal",
            "FOO",
            "value 'FOO' is not a valid signal name".into(),
        ),
        (
            "exitcodes",
            "256",
            "not a valid list of exit codes: '256'".into(),
        ),
        (
            "autorestart",
            "Always",
            "invalid 'autorestart' value 'always'".into(),
        ),
        (
            "stdout_logfile_maxbytes",
            "50M",
            "invalid literal for int() with base 10: '50m'".into(),
        ),
        (
            "umask",
            "999",
            "999 can not be converted to an octal type".into(),
        ),
        (
            "environment",
            "A=",
            "Unexpected end of key/value pairs in value 'A='".into(),
        ),
        ("user", "nosuchuser", "Invalid user name nosuchuser".into()),
        (
            "stdout_logfile",
            &missing_dir,
            format!("The directory named as part of the path {missing_dir} does not exist"),
        ),
        (
            "stderr_logfile",
            &missing_dir,
            format!("The directory named as part of the path {missing_dir} does not exist"),
        ),
    ] {
        assert_eq!(
            fx.err(&program(&format!("{key}={value}\n"))),
            message + &fx.at("program:a", 4, key),
            "{key}={value}"
        );
    }
}

#[test]
fn environment_with_a_dollar_variable_is_an_error() {
    let fx = Fx::new();
    let err = fx.err(&program("environment=A=$HOME\n"));
    assert!(err.contains("environment value for A"), "{err}");
    assert!(err.contains("%(ENV_HOME)s"), "{err}");
    assert!(
        err.ends_with(&fx.at("program:a", 4, "environment")),
        "{err}"
    );
}

#[test]
fn bad_names_are_errors_naming_the_section() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[program:a b]\ncommand=/bin/a\n"),
        "Invalid name: 'a b' because of character: ' '".to_string() + &fx.in_section("program:a b")
    );
    assert_eq!(
        fx.err("[supervisord]\n[group:g/h]\n"),
        "Invalid name: 'g/h' because of character: '/'".to_string() + &fx.in_section("group:g/h")
    );
    assert_eq!(
        fx.err(&program("process_name=a:%(process_num)d\n")),
        "Invalid name: 'a:%(process_num)d' because of character: ':'".to_string()
            + &fx.at("program:a", 4, "process_name")
    );
}

#[test]
fn group_naming_an_unknown_program_is_an_error() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[group:g]\nprograms=x\n"),
        "[group:g] names unknown program or fcgi-program x".to_string()
            + &fx.at("group:g", 3, "programs")
    );
    // Event listeners cannot be grouped.
    assert_eq!(
        fx.err("[supervisord]\n[group:g]\nprograms=l\n[eventlistener:l]\ncommand=/bin/l\nevents=TICK_5\n"),
        "[group:g] names unknown program or fcgi-program l".to_string()
            + &fx.at("group:g", 3, "programs")
    );
}

#[test]
fn bad_supervisord_values_name_section_file_line_and_key() {
    let fx = Fx::new();
    let r = fx.r();
    for (key, value, message) in [
        (
            "user",
            "nosuchuser".to_string(),
            "Invalid user name nosuchuser".to_string(),
        ),
        (
            "loglevel",
            "verbose".into(),
            "bad logging level name 'verbose'".into(),
        ),
        (
            "loglevel",
            "warning".into(),
            "bad logging level name 'warning'".into(),
        ),
        (
            "logfile",
            format!("{r}/x/s.log"),
            format!("The directory named as part of the path {r}/x/s.log does not exist"),
        ),
        (
            "pidfile",
            format!("{r}/x/s.pid"),
            format!("The directory named as part of the path {r}/x/s.pid does not exist"),
        ),
        (
            "directory",
            format!("{r}/x"),
            format!("{r}/x is not an existing directory"),
        ),
        (
            "childlogdir",
            format!("{r}/x"),
            format!("{r}/x is not an existing directory"),
        ),
        (
            "umask",
            "999".into(),
            "999 can not be converted to an octal type".into(),
        ),
        (
            "minfds",
            "many".into(),
            "invalid literal for int() with base 10: 'many'".into(),
        ),
        (
            "nodaemon",
            "".into(),
            "not a valid boolean value: ''".into(),
        ),
    ] {
        assert_eq!(
            fx.err(&format!("[supervisord]\n{key}={value}\n")),
            message + &fx.at("supervisord", 2, key),
            "{key}={value}"
        );
    }
}

#[test]
fn http_servers_without_port_or_file_are_errors() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[inet_http_server]\nusername=u\npassword=p\n"),
        "section [inet_http_server] has no port value".to_string()
            + &fx.in_section("inet_http_server")
    );
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nchmod=0700\n"),
        "section [unix_http_server] has no file value".to_string()
            + &fx.in_section("unix_http_server")
    );
}

#[test]
fn http_servers_with_half_authentication_are_errors() {
    let fx = Fx::new();
    let half = |section: &str| {
        format!(
            "Section [{section}] contains incomplete authentication: If a username or a \
             password is specified, both the username and password must be specified"
        )
    };
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nfile=/s.sock\nusername=u\n"),
        half("unix_http_server") + &fx.at("unix_http_server", 4, "username")
    );
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nfile=/s.sock\npassword=p\n"),
        half("unix_http_server") + &fx.at("unix_http_server", 4, "password")
    );
    // The auth check runs before the port check.
    assert_eq!(
        fx.err("[supervisord]\n[inet_http_server]\npassword=p\n"),
        half("inet_http_server") + &fx.at("inet_http_server", 3, "password")
    );
}

#[test]
fn bad_http_server_values_are_errors() {
    let fx = Fx::new();
    assert_eq!(
        fx.err("[supervisord]\n[inet_http_server]\nport=host:abc\n"),
        "invalid literal for int() with base 10: 'abc'".to_string()
            + &fx.at("inet_http_server", 3, "port")
    );
    assert_eq!(
        fx.err("[supervisord]\n[unix_http_server]\nfile=/s.sock\nchmod=999\n"),
        "Invalid chmod value 999".to_string() + &fx.at("unix_http_server", 4, "chmod")
    );
    for chown in ["nosuchuser", "root:nosuchgroup", ":root", "root:"] {
        assert_eq!(
            fx.err(&format!(
                "[supervisord]\n[unix_http_server]\nfile=/s.sock\nchown={chown}\n"
            )),
            format!("Invalid sockchown value {chown}") + &fx.at("unix_http_server", 4, "chown"),
            "chown={chown}"
        );
    }
}

/// `[eventlistener:l]` with `command=`; `body` starts on line 4.
fn listener(body: &str) -> String {
    format!("[supervisord]\n[eventlistener:l]\ncommand=/bin/l\n{body}")
}

#[test]
fn eventlistener_errors() {
    let fx = Fx::new();
    assert_eq!(
        fx.err(&listener("")),
        "[eventlistener:l] section requires an \"events\" line".to_string()
            + &fx.in_section("eventlistener:l")
    );
    assert_eq!(
        fx.err(&listener("events=\n")),
        "[eventlistener:l] section requires an \"events\" line".to_string()
            + &fx.at("eventlistener:l", 4, "events")
    );
    assert_eq!(
        fx.err(&listener("events=TICK_5,foo\n")),
        "Unknown event type FOO in [eventlistener:l] events".to_string()
            + &fx.at("eventlistener:l", 4, "events")
    );
    assert_eq!(
        fx.err(&listener("events=TICK_5\nbuffer_size=0\n")),
        "[eventlistener:l] section sets invalid buffer_size (0)".to_string()
            + &fx.at("eventlistener:l", 5, "buffer_size")
    );
    assert_eq!(
        fx.err(&listener("events=TICK_5\nredirect_stderr=true\n")),
        "[eventlistener:l] section sets redirect_stderr=true but this is not allowed because \
         it will interfere with the eventlistener protocol"
            .to_string()
            + &fx.at("eventlistener:l", 5, "redirect_stderr")
    );
    let err = fx.err(&listener("events=TICK_5\nresult_handler=mymod:handler\n"));
    assert!(
        err.starts_with("mymod:handler cannot be resolved within [eventlistener:l]"),
        "{err}"
    );
    assert!(
        err.ends_with(&fx.at("eventlistener:l", 5, "result_handler")),
        "{err}"
    );
}

#[test]
fn same_named_groups_are_an_error() {
    let fx = Fx::new();
    let cases = [
        (
            "[group:foo]\nprograms=bar\n[program:bar]\ncommand=/bin/b\n[program:foo]\ncommand=/bin/f\n",
            "program:foo",
        ),
        (
            "[program:x]\ncommand=/bin/x\n[eventlistener:x]\ncommand=/bin/l\nevents=TICK_5\n",
            "eventlistener:x",
        ),
        (
            "[group:x]\n[eventlistener:x]\ncommand=/bin/l\nevents=TICK_5\n",
            "eventlistener:x",
        ),
    ];
    for (sections, second) in cases {
        let err = fx.err(&format!("[supervisord]\n{sections}"));
        let name = second.split_once(':').unwrap().1;
        assert!(
            err.contains(&format!("process group named '{name}'")),
            "{err}"
        );
        assert!(err.contains(&format!("[{second}]")), "{err}");
        assert!(err.ends_with(&fx.in_section(second)), "{err}");
    }
}

#[test]
fn program_in_two_groups_is_an_error() {
    let fx = Fx::new();
    let err = fx.err(
        "[supervisord]
[group:g1]
programs=a
[group:g2]
programs=a
[program:a]
command=/bin/a
",
    );
    assert!(err.contains("[program:a]"), "{err}");
    assert!(err.contains("[group:g1]"), "{err}");
    assert!(err.ends_with(&fx.at("group:g2", 5, "programs")), "{err}");
}

#[test]
fn fcgi_program_is_refused() {
    let fx = Fx::new();
    let err =
        fx.err("[supervisord]\n[fcgi-program:f]\ncommand=/bin/f\nsocket=unix:///tmp/f.sock\n");
    assert!(err.starts_with("[fcgi-program:f]"), "{err}");
    assert!(err.ends_with(&fx.in_section("fcgi-program:f")), "{err}");
}

#[test]
fn unknown_keys_and_sections_are_warned_about_with_a_hint() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
nodeamon=true
[program:a]
command=/bin/a
autorestrat=true
[Program:b]
command=/bin/b
[frobnicate]
x=1
");
    let w = &config.messages.warnings;
    assert_eq!(w.len(), 4, "{w:?}");
    let find = |needle: &str| {
        w.iter()
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no warning with {needle:?} in {w:?}"))
    };
    let typo = find("'autorestrat'");
    assert!(typo.contains("[program:a]"), "{typo}");
    assert!(typo.contains("line 5"), "{typo}");
    assert!(typo.contains("did you mean 'autorestart'?"), "{typo}");
    assert!(find("'nodeamon'").contains("did you mean 'nodaemon'?"));
    let case = find("[Program:b]");
    assert!(case.contains("did you mean [program:b]?"), "{case}");
    assert!(case.contains("line 6"), "{case}");
    find("[frobnicate]");
    // Ignored, as Supervisor ignores them.
    assert_eq!(group_names(&config), vec!["a"]);
    assert!(!config.supervisord.nodaemon);
}

#[test]
fn unknown_keys_past_the_first_hundred_are_counted_not_listed() {
    let fx = Fx::new();
    let keys: String = (0..150).map(|i| format!("unknown{i}=1\n")).collect();
    let config = fx.ok(&format!("[supervisord]\n{keys}[nosuch]\n"));
    let w = &config.messages.warnings;
    assert_eq!(w.len(), limits::MAX_UNKNOWN_WARNINGS + 1, "{w:?}");
    assert!(w[99].contains("'unknown99'"), "{}", w[99]);
    assert_eq!(
        w[100],
        "... and 51 more unknown sections or keys, not listed"
    );
}

#[test]
fn command_line_logfile_backups_beyond_the_limit_is_an_error() {
    let fx = Fx::new();
    let overrides = Overrides {
        logfile_backups: Some(limits::MAX_LOGFILE_BACKUPS + 1),
        ..Overrides::default()
    };
    let err = fx.load_with("[supervisord]\n", &overrides).unwrap_err().0;
    assert_eq!(
        err,
        "invalid value for -z '10001': 10001 is more than 10000, the most backups a log may \
         keep; lower it"
    );
    let overrides = Overrides {
        logfile_backups: Some(limits::MAX_LOGFILE_BACKUPS),
        ..Overrides::default()
    };
    let config = fx.load_with("[supervisord]\n", &overrides).unwrap();
    assert_eq!(
        config.supervisord.logfile_backups,
        limits::MAX_LOGFILE_BACKUPS
    );
}

#[test]
fn processes_beyond_the_total_limit_are_an_error() {
    let fx = Fx::new();
    // Ten programs of 10,000 copies are the most; one more process is too many.
    let mut text = String::from("[supervisord]\n");
    for i in 0..11 {
        let n = if i < 10 { 10_000 } else { 1 };
        text.push_str(&format!(
            "[program:p{i}]\ncommand=x\nnumprocs={n}\nprocess_name=%(process_num)d\n"
        ));
    }
    let err = fx.err(&text);
    assert!(
        err.starts_with(
            "the configuration defines more than 100000 processes in all, the most one \
             supervisord may run"
        ),
        "{err}"
    );
    assert!(
        err.ends_with(&fx.at("program:p10", 44, "numprocs")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Parse-time messages (§6)
// ---------------------------------------------------------------------------

#[test]
fn auto_log_without_rollover_warns_once_per_process_copy() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "numprocs=2\nprocess_name=a%(process_num)d\nstdout_logfile_maxbytes=0\n",
    ));
    let warning = "For [program:a], AUTO logging used for stdout_logfile without rollover, set \
                   maxbytes > 0 to avoid filling up filesystem unintentionally";
    assert_eq!(config.messages.warnings, vec![warning, warning]);
}

#[test]
fn auto_log_with_rollover_or_without_auto_does_not_warn() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "stdout_logfile=NONE\nstdout_logfile_maxbytes=0\nstderr_logfile_maxbytes=1KB\n",
    ));
    assert!(config.messages.warnings.is_empty(), "{:?}", config.messages);
}

#[test]
fn redirect_stderr_with_a_stderr_file_warns_and_drops_the_file() {
    let fx = Fx::new();
    let config = fx.ok(&program(
        "redirect_stderr=true\nstderr_logfile=%(here)s/err.log\n",
    ));
    assert_eq!(
        config.messages.warnings,
        vec![
            "For [program:a], redirect_stderr=true but stderr_logfile has also been set to a \
             filename, the filename has been ignored"
        ]
    );
    assert_eq!(only_process(&config).stderr.logfile, LogTarget::None);
}

#[test]
fn logfile_syslog_is_deprecated_and_means_syslog_true_without_file() {
    let fx = Fx::new();
    let config = fx.ok(&program("stdout_logfile=syslog\nstderr_logfile=SYSLOG\n"));
    assert_eq!(
        config.messages.warnings,
        vec![
            "For [program:a], stdout_logfile=syslog but this is deprecated and will be \
             removed.  Use stdout_syslog=true to enable syslog instead.",
            "For [program:a], stderr_logfile=syslog but this is deprecated and will be \
             removed.  Use stderr_syslog=true to enable syslog instead.",
        ]
    );
    let p = only_process(&config);
    for stream in [&p.stdout, &p.stderr] {
        assert_eq!(stream.logfile, LogTarget::None);
        assert!(stream.syslog);
    }
}

// ---------------------------------------------------------------------------
// Order of groups and processes
// ---------------------------------------------------------------------------

#[test]
fn groups_are_ordered_by_priority_then_name() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[program:b]
command=/bin/b
priority=5
[program:a]
command=/bin/a
priority=5
[program:c]
command=/bin/c
priority=1
[group:g]
programs=z
priority=3
[program:z]
command=/bin/z
priority=-10
[eventlistener:l]
command=/bin/l
events=TICK_5
");
    assert_eq!(group_names(&config), vec!["l", "c", "g", "a", "b"]);
}

#[test]
fn group_processes_keep_programs_order_with_each_programs_copies_by_priority_then_name() {
    let fx = Fx::new();
    let config = fx.ok("[supervisord]
[group:g]
programs=z,y
[program:y]
command=/bin/y
process_name=y%(process_num)d
numprocs=11
priority=1
[program:z]
command=/bin/z
priority=10
");
    assert_eq!(
        process_names(group(&config, "g")),
        vec!["z", "y0", "y1", "y10", "y2", "y3", "y4", "y5", "y6", "y7", "y8", "y9"]
    );
}

#[test]
fn console_options_default_from_supervisord_and_programs_override_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.conf");
    std::fs::write(
        &file,
        "[supervisord]\nconsole_prefix=true\nconsole_timestamps=true\n\
         [program:a]\ncommand=cat\n\
         [program:b]\ncommand=cat\nconsole_prefix=false\nconsole_lines=true\n",
    )
    .unwrap();
    let host = Host {
        env: vec![],
        node_name: "n".into(),
        cwd: dir.path().to_path_buf(),
    };
    let config = load(&file, &Overrides::default(), &host).unwrap();
    let console = |name: &str| {
        config
            .groups
            .iter()
            .find(|g| g.name == name)
            .unwrap()
            .processes[0]
            .console
    };
    assert_eq!(
        console("a"),
        Console {
            lines: false,
            prefix: true,
            timestamps: true
        }
    );
    assert_eq!(
        console("b"),
        Console {
            lines: true,
            prefix: false,
            timestamps: true
        }
    );
    assert!(
        config.messages.warnings.is_empty(),
        "{:?}",
        config.messages.warnings
    );
}
