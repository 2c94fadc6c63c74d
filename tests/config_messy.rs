//! A realistic, messy supervisord.conf as people write them for Python
//! Supervisor: Chinese comments after `;`, continuation lines, an include
//! glob, a group, numprocs, `%(ENV_X)s` and `%(here)s`. The whole resolved
//! model is asserted, with every expected value written out from the spec.

use std::fs;
use std::path::{Path, PathBuf};

use supervisord::config::{
    load, AutoRestart, Config, Credentials, EventType, GroupKind, Host, InetHttpServer,
    ListenerPool, LogLevel, LogTarget, MainLogTarget, Overrides, ProcessConfig, ProcessGroup,
    RpcInterface, Stream, Supervisord, UnixHttpServer,
};

const MAIN: &str = r#"; 这是主配置文件 —— 注释可以用中文写
[supervisord]
nodaemon = true          ; 前台运行
logfile = %(here)s/logs/supervisord.log
pidfile=%(here)s/run/supervisord.pid
childlogdir=%(here)s/logs
loglevel = DEBUG
environment = GREETING="你好, world",
    SHARED=from-supervisord

[unix_http_server]
file = %(here)s/run/sv.sock   # 套接字
chmod=0770

[inet_http_server]
port = 127.0.0.1:9001
username = admin
password = {SHA}d033e22ae348aeb5660fc2140aec35850c4da997

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[include]
files = conf.d/*.ini   ; 包含文件

[group:web]
programs=api,worker
priority=100

[program:api]
; 启动命令跨两行
command = /usr/bin/env python3 -m http.server
    --bind 127.0.0.1 8000 ; 端口
directory=%(here)s
environment=APP_HOME="%(ENV_APP_HOME)s",SHARED=from-api
stdout_logfile=%(here)s/logs/%(program_name)s-%(group_name)s.log
stdout_logfile_maxbytes=1MB
stderr_logfile=%(here)s/logs/%(ENV_SHARED)s.err

[program:worker]
command=/bin/sh -c 'echo worker %(process_num)d of %(numprocs)d'
process_name=%(program_name)s_%(process_num)02d
numprocs=3
numprocs_start=1
autorestart=true
stopsignal=INT
redirect_stderr=true
stdout_logfile=AUTO
"#;

const CRON: &str = r#"# 定时任务
[program:cron]
command=%(here)s/bin/cron -f   ; here = conf.d
autostart=false
startsecs=0
exitcodes=0,2
stdout_logfile=NONE
stderr_logfile=%(here)s/cron.err
stopasgroup=true
"#;

const LISTENER: &str = r#"[eventlistener:alerts]
command=python3 alerts.py
events=PROCESS_STATE_EXITED,process_state_fatal,PROCESS_STATE_EXITED
buffer_size=20
"#;

/// Hidden files are not matched by `*`: Supervisor's glob skips them.
const HIDDEN: &str = "[program:hidden]\ncommand=/bin/false\n";

fn write_tree(root: &Path) -> PathBuf {
    for dir in ["logs", "run", "conf.d"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    fs::write(root.join("supervisord.conf"), MAIN).unwrap();
    fs::write(root.join("conf.d/cron.ini"), CRON).unwrap();
    fs::write(root.join("conf.d/zz-listener.ini"), LISTENER).unwrap();
    fs::write(root.join("conf.d/.hidden.ini"), HIDDEN).unwrap();
    fs::write(root.join("conf.d/notes.txt"), "not a config").unwrap();
    root.join("supervisord.conf")
}

/// A stream with Supervisor's defaults (config.md §5.5) and the given target.
fn stream(logfile: LogTarget) -> Stream {
    Stream {
        logfile,
        logfile_maxbytes: 50 * 1024 * 1024,
        logfile_backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    }
}

/// A process with Supervisor's defaults (config.md §5.5).
fn defaults(name: &str, group: &str, section: &str, command: &str) -> ProcessConfig {
    ProcessConfig {
        name: name.into(),
        group: group.into(),
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
        stdout: stream(LogTarget::Auto),
        stderr: stream(LogTarget::Auto),
        environment: vec![],
        serverurl: None,
        console: Default::default(),
        lifecycle: Default::default(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn messy_real_world_config_resolves_to_the_expected_model() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let file = write_tree(&root);
    let r = root.to_str().unwrap();
    let host = Host {
        env: pairs(&[("APP_HOME", "/srv/app"), ("PATH", "/usr/bin:/bin")]),
        node_name: "box1".into(),
        cwd: root.clone(),
    };

    let config = load(&file, &Overrides::default(), &host).unwrap();

    let global_env = pairs(&[("GREETING", "你好, world"), ("SHARED", "from-supervisord")]);
    let api = ProcessConfig {
        command: "/usr/bin/env python3 -m http.server\n--bind 127.0.0.1 8000".into(),
        directory: Some(r.into()),
        stdout: Stream {
            logfile_maxbytes: 1024 * 1024,
            ..stream(LogTarget::Path(root.join("logs/api-web.log")))
        },
        // The program's own SHARED overrides the global one, also for %(ENV_SHARED)s.
        stderr: stream(LogTarget::Path(root.join("logs/from-api.err"))),
        environment: pairs(&[
            ("GREETING", "你好, world"),
            ("SHARED", "from-api"),
            ("APP_HOME", "/srv/app"),
        ]),
        ..defaults("api", "web", "program:api", "")
    };
    let worker = |n: i64| ProcessConfig {
        autorestart: AutoRestart::Always,
        stopsignal: 2,
        redirect_stderr: true,
        stderr: stream(LogTarget::None),
        environment: global_env.clone(),
        ..defaults(
            &format!("worker_{n:02}"),
            "web",
            "program:worker",
            &format!("/bin/sh -c 'echo worker {n} of 3'"),
        )
    };
    let cron = ProcessConfig {
        autostart: false,
        startsecs: 0,
        exitcodes: vec![0, 2],
        stopasgroup: true,
        killasgroup: true,
        stdout: stream(LogTarget::None),
        stderr: stream(LogTarget::Path(root.join("conf.d/cron.err"))),
        environment: global_env.clone(),
        ..defaults(
            "cron",
            "cron",
            "program:cron",
            &format!("{r}/conf.d/bin/cron -f"),
        )
    };
    // The pool's priority defaults to -1; its process keeps the program default.
    let alerts = ProcessConfig {
        environment: global_env.clone(),
        ..defaults(
            "alerts",
            "alerts",
            "eventlistener:alerts",
            "python3 alerts.py",
        )
    };

    let expected = Config {
        file: file.clone(),
        here: root.clone(),
        supervisord: Supervisord {
            logfile: MainLogTarget::File(root.join("logs/supervisord.log")),
            logfile_maxbytes: 50 * 1024 * 1024,
            logfile_backups: 10,
            loglevel: LogLevel::Debug,
            pidfile: root.join("run/supervisord.pid"),
            umask: 0o22,
            nodaemon: true,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: root.join("logs"),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: global_env.clone(),
            identifier: "supervisor".into(),
            console: Default::default(),
            exit_when_done: false,
            shutdown_timeout: None,
        },
        unix_servers: vec![UnixHttpServer {
            section: "unix_http_server".into(),
            file: root.join("run/sv.sock"),
            chmod: 0o770,
            chown: None,
            auth: None,
            refuse_get_actions: false,
        }],
        inet_servers: vec![InetHttpServer {
            section: "inet_http_server".into(),
            host: "127.0.0.1".into(),
            port: 9001,
            auth: Some(Credentials {
                username: "admin".into(),
                password: "{SHA}d033e22ae348aeb5660fc2140aec35850c4da997".into(),
                open_probes: false,
                readonly: None,
            }),
            refuse_get_actions: false,
        }],
        rpcinterfaces: vec![RpcInterface {
            name: "supervisor".into(),
            options: vec![],
        }],
        // Start order: ascending priority (listener -1, web 100, cron 999).
        groups: vec![
            ProcessGroup {
                name: "alerts".into(),
                section: "eventlistener:alerts".into(),
                priority: -1,
                kind: GroupKind::EventListenerPool(ListenerPool {
                    events: vec![EventType::ProcessStateExited, EventType::ProcessStateFatal],
                    buffer_size: 20,
                }),
                processes: vec![alerts],
            },
            ProcessGroup {
                name: "web".into(),
                section: "group:web".into(),
                priority: 100,
                kind: GroupKind::Programs,
                processes: vec![api, worker(1), worker(2), worker(3)],
            },
            ProcessGroup {
                name: "cron".into(),
                section: "program:cron".into(),
                priority: 999,
                kind: GroupKind::Programs,
                processes: vec![cron],
            },
        ],
        messages: Default::default(),
    };

    // Compare piece by piece first for readable failures, then the whole.
    assert_eq!(config.supervisord, expected.supervisord);
    assert_eq!(config.unix_servers, expected.unix_servers);
    assert_eq!(config.inet_servers, expected.inet_servers);
    for (got, want) in config.groups.iter().zip(&expected.groups) {
        assert_eq!(got, want);
    }
    assert_eq!(
        config.messages.infos,
        vec![
            format!("Included extra file \"{r}/conf.d/cron.ini\" during parsing"),
            format!("Included extra file \"{r}/conf.d/zz-listener.ini\" during parsing"),
        ]
    );
    assert!(
        config.messages.warnings.is_empty(),
        "{:?}",
        config.messages.warnings
    );
    assert_eq!(
        Config {
            messages: Default::default(),
            ..config
        },
        expected
    );
}
