//! Property tests of the config loader on generated and mutated config texts.
//!
//! Every case builds a main config file and up to three included files from
//! the real section names and keys, with values that are meant to hurt: huge
//! and negative numbers, byte sizes with suffixes, `%(name)…` expansions with
//! wide fields, environment lists, quotes, continuation lines, comments and
//! stray bytes; then the text is mutated (characters inserted, lines cut,
//! duplicated). Loading it (as supervisord and as supervisorctl) must never
//! panic, must give a config or a clean error, and must finish quickly.
//!
//! By default 128 cases run, a few seconds in a debug build. For a
//! long run, set the number of cases, for example:
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --release --test fuzz_config
//! ```
//!
//! A failing case is shrunk and written to `tests/fuzz_config.proptest-regressions`,
//! replayed first on every later run; commit that file with the fix.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use supervisord::config::{self, Host, Overrides};

/// Cases per run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 128;

/// A load that takes longer than this is a hang, whatever the machine's load:
/// a debug build loads any of these texts in well under a second.
const HANG: Duration = Duration::from_secs(60);

/// The CPU time both loads of one case may take. Measured in CPU time of the
/// loading thread, so a busy machine does not make it flaky; the slowest
/// texts (those that fill the expansion budget) take a fraction of this.
const SLOW: Duration = Duration::from_secs(10);

const SECTIONS: &[&str] = &[
    "supervisord",
    "supervisord",
    "program:a",
    "program:a",
    "program:b",
    "program:%(here)s",
    "program:a b",
    "program:",
    "eventlistener:e",
    "fcgi-program:f",
    "group:g",
    "group:a",
    "include",
    "unix_http_server",
    "inet_http_server",
    "inet_http_server:2",
    "supervisorctl",
    "rpcinterface:supervisor",
    "rpcinterface:other",
    "DEFAULT",
    "Program:a",
    " program:a ",
    "nonsense",
];

const KEYS: &[&str] = &[
    // [supervisord]
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
    "identifier",
    "console_lines",
    "console_prefix",
    "console_timestamps",
    // servers, supervisorctl, groups, include, rpcinterface
    "file",
    "chmod",
    "chown",
    "username",
    "password",
    "port",
    "serverurl",
    "prompt",
    "history_file",
    "programs",
    "priority",
    "files",
    "supervisor.rpcinterface_factory",
    // programs
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
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
    // event listeners, fcgi
    "events",
    "buffer_size",
    "result_handler",
    "socket",
    "socket_owner",
    "socket_mode",
    "socket_backlog",
    // typos
    "autorestrat",
    "COMMAND",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "1_000",
    "010",
    "10000",
    "10001",
    "1000000000",
    "9223372036854775807",
    "9223372036854775806",
    "-9223372036854775808",
    "9223372036854775808",
    "99999999999999999999999",
    "50MB",
    "1kb",
    "99999999999GB",
    "8589934591GB",
    "8589934592gb",
    "-99999999999GB",
    "1.5",
    "0x10",
    "022",
    "0o777",
    "65535",
    "65536",
    "127.0.0.1:9001",
    ":0",
    "*:99999999999999999999",
];

const NAMES: &[&str] = &[
    "here",
    "program_name",
    "group_name",
    "process_num",
    "numprocs",
    "host_node_name",
    "ENV_HOME",
    "ENV_X",
    "ENV_A",
    "nosuch",
    "",
    "(",
];

const SPECS: &[&str] = &[
    "s",
    "d",
    "02d",
    "r",
    "a",
    "x",
    "#o",
    "c",
    ".3f",
    "e",
    "g",
    "1000000s",
    "01048576d",
    "-999999s",
    "*d",
    ".*s",
    "99999999999999999999d",
    "%",
    "",
    "z",
    "ld",
];

const WORDS: &[&str] = &[
    "true",
    "false",
    "yes",
    "off",
    "unexpected",
    "TERM",
    "SIGKILL",
    "RTMIN",
    "65",
    "info",
    "blather",
    "AUTO",
    "NONE",
    "syslog",
    "/bin/cat",
    "/bin/sh -c 'echo hi ; echo there'",
    "root",
    "nosuchuser",
    "0,1,2",
    "0,,1",
    "256",
    "PROCESS_STATE,TICK_5,tick_5",
    "FOO",
    "a,b",
    "supervisor.rpcinterface:make_main_rpcinterface",
    "supervisor.dispatchers:default_handler",
    "unix:///tmp/x.sock",
    "http://localhost:9001",
    "{SHA}d033e22ae348aeb5660fc2140aec35850c4da997",
    "A=1,B=\"x y\",C='p,q'",
    "A=$HOME",
    "A=1 B=2",
    "A=\"unterminated",
    "A=1#x",
    "PATH=/usr/bin:/bin",
    "%(program_name)s_%(process_num)02d",
    "~/x.log",
    "/nonexistent/dir/x.log",
    "inc/*.conf",
    "inc/[",
    "inc/**/*.conf",
    "/dev/null",
    "",
];

/// One value: a number, a word, an expansion, or a mix of pieces and noise.
fn value() -> impl Strategy<Value = String> {
    let number = proptest::sample::select(NUMBERS).prop_map(str::to_string);
    let word = proptest::sample::select(WORDS).prop_map(str::to_string);
    let expansion = (
        proptest::sample::select(NAMES),
        proptest::sample::select(SPECS),
    )
        .prop_map(|(name, spec)| format!("%({name}){spec}"));
    let noise = "[ -~\t\u{e9}\u{4e2d}\u{fffd}]{0,12}";
    let piece = prop_oneof![
        3 => number.clone(),
        3 => word.clone(),
        3 => expansion.clone(),
        2 => noise.prop_map(|s: String| s),
        1 => Just("%".to_string()),
        1 => Just(" ;comment".to_string()),
        1 => Just("\n    continued".to_string()),
        1 => Just("\n\n  ".to_string()),
    ];
    prop_oneof![
        3 => number,
        3 => word,
        2 => expansion,
        3 => proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat()),
    ]
}

/// What sort of value a key takes, to generate mostly plausible ones.
fn plausible(key: &str) -> BoxedStrategy<String> {
    let pick = |list: &'static [&'static str]| {
        proptest::sample::select(list)
            .prop_map(str::to_string)
            .boxed()
    };
    // Mostly usual values, so that whole configs load and every step runs;
    // sometimes the edge ones.
    let usual_or = |usual: &'static [&'static str], edge: &'static [&'static str]| {
        prop_oneof![5 => pick(usual), 1 => pick(edge)].boxed()
    };
    match key {
        "numprocs" => usual_or(&["1", "2", "3"], &["0", "-1", "100", "10000", "10001"]),
        "numprocs_start" => usual_or(
            &["0", "5", "-3"],
            &["9223372036854775806", "9223372036854775807"],
        ),
        "priority"
        | "startsecs"
        | "startretries"
        | "stopwaitsecs"
        | "minfds"
        | "minprocs"
        | "buffer_size"
        | "logfile_backups"
        | "stdout_logfile_backups"
        | "stderr_logfile_backups" => usual_or(
            &["0", "1", "-1", "3", "10", "1_000"],
            &[
                "010",
                "10000",
                "9223372036854775807",
                "-9223372036854775808",
                "99999999999999999999999",
            ],
        ),
        "logfile_maxbytes"
        | "stdout_logfile_maxbytes"
        | "stderr_logfile_maxbytes"
        | "stdout_capture_maxbytes"
        | "stderr_capture_maxbytes" => usual_or(
            &["0", "1KB", "50MB", "-1"],
            &["99999999999GB", "8589934591GB", "1TB"],
        ),
        "autostart"
        | "nodaemon"
        | "silent"
        | "nocleanup"
        | "strip_ansi"
        | "stopasgroup"
        | "killasgroup"
        | "redirect_stderr"
        | "stdout_events_enabled"
        | "stderr_events_enabled"
        | "stdout_syslog"
        | "stderr_syslog"
        | "console_lines"
        | "console_prefix"
        | "console_timestamps" => pick(&["true", "false", "yes", "0"]),
        "autorestart" => pick(&["unexpected", "true", "false"]),
        "stopsignal" => pick(&["TERM", "KILL", "SIGHUP", "9", "RTMAX"]),
        "exitcodes" => pick(&["0", "0,2", "", "1,255"]),
        "loglevel" => pick(&["info", "debug", "blather", "warn"]),
        "umask" | "chmod" | "socket_mode" => pick(&["022", "0o777", "7"]),
        "process_name" => usual_or(
            &[
                "%(program_name)s_%(process_num)02d",
                "%(process_num)d",
                "p%(process_num)s%(numprocs)d",
            ],
            &["%(program_name)s", "%(process_num)01000000d"],
        ),
        "command" => pick(&[
            "/bin/cat",
            "/bin/sh -c 'echo %(process_num)d'",
            "%(ENV_X)s %(program_name)s %(host_node_name)s",
            "/bin/echo %(process_num)0999999d",
            "",
        ]),
        "environment" => pick(&[
            "A=1,B=\"x y\"",
            "A=%(process_num)d,HOME=%(ENV_HOME)s",
            "A=%(ENV_X)s%(ENV_X)s%(ENV_X)s",
            "K1=1,K2=2,K3=3,K1=4",
        ]),
        "events" => pick(&["TICK_5", "PROCESS_STATE,TICK_60", "EVENT"]),
        "programs" => pick(&["a", "a,b", "b", "a,a", "nosuch"]),
        "files" => pick(&["inc/*.conf", "inc/0.conf inc/0.conf", "inc/[", "/dev/null"]),
        "port" => pick(&["127.0.0.1:9001", "9001", ":0", "*:65536"]),
        "file" => pick(&["%(here)s/s.sock", "/tmp/x.sock"]),
        "supervisor.rpcinterface_factory" => {
            pick(&["supervisor.rpcinterface:make_main_rpcinterface", "x:y"])
        }
        "stdout_logfile" | "stderr_logfile" | "logfile" | "pidfile" => pick(&[
            "AUTO",
            "NONE",
            "%(here)s/%(program_name)s-%(process_num)d.log",
            "/nonexistent/x.log",
            "syslog",
        ]),
        _ => value().boxed(),
    }
}

/// One `key = value` line with a key from `keys`, its value mostly plausible.
fn line(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        proptest::sample::select(keys),
        proptest::sample::select(&["=", " = ", ":", "="][..]),
        proptest::bool::weighted(0.9),
    )
        .prop_flat_map(|(key, delimiter, likely)| {
            let value = if likely {
                plausible(key)
            } else {
                value().boxed()
            };
            value.prop_map(move |v| format!("{key}{delimiter}{v}\n"))
        })
}

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
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stderr_logfile",
    "stderr_logfile_backups",
    "environment",
    "umask",
    "user",
    "directory",
    "serverurl",
    "autorestrat",
];
const SUPERVISORD_KEYS: &[&str] = &[
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "umask",
    "nodaemon",
    "minfds",
    "minprocs",
    "nocleanup",
    "strip_ansi",
    "environment",
    "identifier",
    "console_prefix",
];

/// A section header and its `key = value` lines, some keys repeated: a
/// section of a known kind with mostly fitting keys, or anything.
fn section() -> impl Strategy<Value = String> {
    let body =
        |keys: &'static [&'static str], n: usize| proptest::collection::vec(line(keys), 0..n);
    let program = (
        proptest::sample::select(&["program:a", "program:b", "program:a", "eventlistener:e"][..]),
        body(PROGRAM_KEYS, 8),
        line(&["command"]),
        line(&["events"]),
    )
        .prop_map(|(name, lines, command, events)| {
            format!("[{name}]\n{command}{events}{}", lines.concat())
        });
    let supervisord =
        body(SUPERVISORD_KEYS, 6).prop_map(|lines| format!("[supervisord]\n{}", lines.concat()));
    let group = body(&["programs", "priority"], 3)
        .prop_map(|lines| format!("[group:g]\n{}", lines.concat()));
    let servers = (
        proptest::sample::select(&["inet_http_server", "unix_http_server", "supervisorctl"][..]),
        body(
            &["port", "file", "username", "password", "chmod", "serverurl"],
            4,
        ),
    )
        .prop_map(|(name, lines)| format!("[{name}]\n{}", lines.concat()));
    let anything = (proptest::sample::select(SECTIONS), body(KEYS, 10))
        .prop_map(|(name, lines)| format!("[{name}]\n{}", lines.concat()));
    prop_oneof![
        5 => program,
        2 => supervisord,
        1 => group,
        1 => servers,
        3 => anything,
    ]
}

/// A config file: some sections, then mutations applied to its text.
fn file() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(section(), 0..7),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec(mutation(), 1..4),
        ],
    )
        .prop_map(|(sections, mutations)| {
            let mut text = sections.concat();
            for m in mutations {
                m.apply(&mut text);
            }
            text
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Insert text at a position (as a fraction of the length).
    Insert(f64, String),
    /// Remove a range.
    Cut(f64, f64),
    /// Repeat a line many times.
    RepeatLine(f64, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0, "[\\[\\]=:;#%() \t\n\"',a-z0-9\u{0}\u{ff}]{1,6}")
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        (0.0..1.0, 0.0..0.2).prop_map(|(at, len)| Mutation::Cut(at, len)),
        (0.0..1.0, 1usize..2000).prop_map(|(at, n)| Mutation::RepeatLine(at, n)),
    ]
}

impl Mutation {
    fn apply(&self, text: &mut String) {
        let boundary = |text: &str, at: f64| {
            let mut i = ((text.len() as f64) * at) as usize;
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match self {
            Mutation::Insert(at, s) => {
                let i = boundary(text, *at);
                text.insert_str(i, s);
            }
            Mutation::Cut(at, len) => {
                let i = boundary(text, *at);
                let j = boundary(text, (*at + *len).min(1.0));
                text.replace_range(i..j.max(i), "");
            }
            Mutation::RepeatLine(at, n) => {
                let lines: Vec<&str> = text.lines().collect();
                if lines.is_empty() {
                    return;
                }
                let pick = lines[((lines.len() as f64) * at) as usize % lines.len()];
                let repeated = format!("{pick}\n").repeat(*n);
                text.push('\n');
                text.push_str(&repeated);
            }
        }
    }
}

/// A directory with the main file, its includes under `inc/`, and a
/// `[supervisord]` header (kept by most cases) keeping every path inside it.
struct Case {
    _tmp: tempfile::TempDir,
    main: PathBuf,
    host: Host,
}

impl Case {
    fn write(header: bool, main: &str, includes: &[String]) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir(root.join("inc")).unwrap();
        for (i, text) in includes.iter().enumerate() {
            std::fs::write(root.join("inc").join(format!("{i}.conf")), text).unwrap();
        }
        let d = root.display();
        let head = if header {
            format!(
                "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nchildlogdir={d}\n\
                 [include]\nfiles=inc/*.conf\n"
            )
        } else {
            String::new()
        };
        let main_path = root.join("supervisord.conf");
        std::fs::write(&main_path, format!("{head}{main}")).unwrap();
        let host = Host {
            env: vec![
                ("HOME".into(), root.to_string_lossy().into_owned()),
                ("X".into(), "x".repeat(100)),
                ("TMPDIR".into(), root.to_string_lossy().into_owned()),
            ],
            node_name: "box".into(),
            cwd: root.to_path_buf(),
        };
        Case {
            _tmp: tmp,
            main: main_path,
            host,
        }
    }
}

/// Load `main` as supervisord and as supervisorctl in a thread of its own;
/// `Err` describes a panic, a dirty error or a hang.
fn load_both(main: &Path, host: &Host) -> Result<(), String> {
    let (main, host) = (main.to_path_buf(), host.clone());
    let (done, result) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let check = |outcome: Result<(), config::ConfigError>| match outcome {
            Err(e) if e.0.trim().is_empty() => Err("an empty error message".to_string()),
            _ => Ok(()),
        };
        let start = thread_cpu_time();
        let outcome = check(config::load(&main, &Overrides::default(), &host).map(|_| ()))
            .and_then(|()| check(config::load_ctl(&main, &host).map(|_| ())));
        let spent = thread_cpu_time() - start;
        let outcome = outcome.and_then(|()| {
            if spent > SLOW {
                Err(format!("loading took {spent:?} of CPU time"))
            } else {
                Ok(())
            }
        });
        let _ = done.send(outcome);
    });
    match result.recv_timeout(HANG) {
        Ok(outcome) => {
            let _ = worker.join();
            outcome
        }
        // The sender was dropped without a result: the loader panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => Err(format!(
                "the loader panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(()) => Err("the loader gave no result".to_string()),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("no result after {HANG:?}")),
    }
}

/// CPU time used by the calling thread.
fn thread_cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    time(usage.user_time()) + time(usage.system_time())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_config_text_loads_or_fails_cleanly(
        header in proptest::bool::weighted(0.95),
        main in file(),
        includes in proptest::collection::vec(file(), 0..4),
    ) {
        let case = Case::write(header, &main, &includes);
        if let Err(problem) = load_both(&case.main, &case.host) {
            return Err(TestCaseError::fail(problem));
        }
    }
}

/// Texts built to hit each limit, so every run covers them whatever the
/// random cases do.
#[test]
fn limits_are_hit_cleanly() {
    let texts = [
        "[program:a]\ncommand=%(process_num)01000000d\nnumprocs=10000\nprocess_name=%(process_num)d\n",
        "[program:a]\ncommand=x\nnumprocs=10001\nprocess_name=%(process_num)d\n",
        "[program:a]\ncommand=x\nnumprocs=2\nnumprocs_start=9223372036854775807\nprocess_name=%(process_num)d\n",
        "[program:a]\ncommand=x\nstdout_logfile_backups=99999999999999999999\n",
        "[program:a]\ncommand=%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s%(here)1048576s\n",
        "[include]\nfiles=/dev/zero\n",
        "[eventlistener:e]\ncommand=x\nevents=TICK_5\nbuffer_size=99999999999999999999\n",
    ];
    for text in texts {
        let case = Case::write(true, text, &[]);
        let outcome = config::load(&case.main, &Overrides::default(), &case.host);
        assert!(outcome.is_err(), "{text}");
        load_both(&case.main, &case.host).unwrap();
    }
}
