//! Child output end to end: log files, rotation, AUTO files, redirect,
//! `/dev/stdout`, console mode and a full disk, watched from outside.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{lines_with, names_in, wait_until, Daemon};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// What `seq 1 n` prints.
fn seq(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1..=n {
        out.extend_from_slice(format!("{i}\n").as_bytes());
    }
    out
}

#[test]
fn fifty_megabytes_through_rotation_keep_exactly_the_promised_bytes() {
    const LINES: u64 = 6_500_000; // about 52 MB
    let mut d = Daemon::start(
        "[program:big]\ncommand=seq 1 6500000\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/big.log\nstdout_logfile_maxbytes=1MB\nstdout_logfile_backups=3\n",
    );
    let current = d.path("big.log");
    let last_line = format!("\n{LINES}\n");
    wait_until("the last line in the log", SECS(60), || {
        fs::read(&current).is_ok_and(|b| b.ends_with(last_line.as_bytes()))
    });
    let mut kept = Vec::new();
    for backup in ["big.log.3", "big.log.2", "big.log.1"] {
        let bytes = fs::read(d.path(backup)).unwrap();
        // A backup holds at least maxbytes, plus at most one read's worth.
        assert!(
            (1 << 20..(1 << 20) + 128 * 1024 + 1).contains(&bytes.len()),
            "{backup}: {} bytes",
            bytes.len()
        );
        kept.extend(bytes);
    }
    kept.extend(fs::read(&current).unwrap());
    assert!(
        !d.path("big.log.4").exists(),
        "only `backups` backups are kept"
    );
    let written = seq(LINES);
    assert!(
        written.ends_with(&kept),
        "the kept files are not the last {} bytes of the output",
        kept.len()
    );
    assert!(d.shutdown().success());
}

#[test]
fn auto_logs_are_named_created_and_old_ones_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let old = "web-stdout---supervisor-oldoldol.log";
    fs::write(dir.path().join(old), "old run").unwrap();
    fs::write(dir.path().join(format!("{old}.2")), "old backup").unwrap();
    fs::write(
        dir.path().join("other-stdout---someone-else1.log"),
        "not ours",
    )
    .unwrap();
    let mut d = Daemon::launch(
        dir,
        "[program:web]\ncommand=sh -c 'echo out; echo err >&2; exec sleep 100'\n",
        "info",
        &[],
    );
    let find = |channel: &str| -> Option<String> {
        names_in(d.dir.path()).into_iter().find(|n| {
            n.starts_with(&format!("web-{channel}---supervisor-"))
                && n.ends_with(".log")
                && n != old
        })
    };
    wait_until("both AUTO logs with output", SECS(10), || {
        ["stdout", "stderr"].iter().all(|c| {
            find(c).is_some_and(|n| fs::read_to_string(d.path(&n)).is_ok_and(|t| !t.is_empty()))
        })
    });
    let stdout = find("stdout").unwrap();
    assert_eq!(
        stdout.len(),
        "web-stdout---supervisor-".len() + 8 + ".log".len(),
        "{stdout}"
    );
    assert_eq!(fs::read_to_string(d.path(&stdout)).unwrap(), "out\n");
    assert_eq!(
        fs::read_to_string(d.path(&find("stderr").unwrap())).unwrap(),
        "err\n"
    );
    let names = names_in(d.dir.path());
    assert!(!names.contains(&old.to_string()), "{names:?}");
    assert!(!names.contains(&format!("{old}.2")), "{names:?}");
    assert!(
        names.contains(&"other-stdout---someone-else1.log".to_string()),
        "{names:?}"
    );
    assert!(d.shutdown().success());
}

#[test]
fn nocleanup_keeps_old_auto_logs() {
    let dir = tempfile::tempdir().unwrap();
    let old = "web-stdout---supervisor-oldoldol.log";
    fs::write(dir.path().join(old), "old run").unwrap();
    let mut d = Daemon::launch(
        dir,
        "[supervisord]\nnocleanup=true\n[program:web]\ncommand=sleep 100\n",
        "info",
        &[],
    );
    d.wait_for("spawned: 'web'", SECS(10));
    assert_eq!(fs::read_to_string(d.path(old)).unwrap(), "old run");
    assert!(d.shutdown().success());
}

#[test]
fn none_drops_the_output_and_creates_no_file() {
    let mut d = Daemon::start(
        "[program:quiet]\ncommand=sh -c 'echo dropped; exec sleep 100'\nstdout_logfile=NONE\n\
         stderr_logfile=NONE\nstartsecs=0\n",
    );
    d.wait_for("success: quiet", SECS(10));
    let names = names_in(d.dir.path());
    assert!(!names.iter().any(|n| n.starts_with("quiet-")), "{names:?}");
    assert!(d.shutdown().success());
}

#[test]
fn redirect_stderr_interleaves_into_the_stdout_log_in_order() {
    let mut d = Daemon::start(
        "[program:both]\ncommand=sh -c 'echo one; echo two >&2; echo three; exec sleep 100'\n\
         redirect_stderr=true\nstdout_logfile={dir}/both.log\n",
    );
    let log = d.path("both.log");
    wait_until("three lines", SECS(10), || {
        fs::read_to_string(&log).is_ok_and(|t| t.lines().count() == 3)
    });
    assert_eq!(fs::read_to_string(&log).unwrap(), "one\ntwo\nthree\n");
    let names = names_in(d.dir.path());
    assert!(
        !names.iter().any(|n| n.starts_with("both-stderr---")),
        "{names:?}"
    );
    assert!(d.shutdown().success());
}

/// Read supervisord's stdout on a thread until `done` says it has enough.
fn collect_stdout(d: &mut Daemon, done: impl Fn(&str) -> bool + Send + 'static) -> String {
    let mut stdout = d.child.stdout.take().expect("stdout was piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    text.extend_from_slice(&buf[..n]);
                    if done(&String::from_utf8_lossy(&text)) {
                        break;
                    }
                }
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let deadline = std::time::Instant::now() + SECS(30);
    while !reader.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "stdout never had it all"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    reader.join().unwrap()
}

#[test]
fn dev_stdout_with_default_maxbytes_works_and_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::launch_with_stdout(
        dir,
        "[program:echoer]\ncommand=sh -c 'echo run-$$'\nstdout_logfile=/dev/stdout\n\
         startsecs=0\nautorestart=true\n",
        "info",
        &[],
        Stdio::piped(),
    );
    let out = collect_stdout(&mut d, |t| t.matches("run-").count() >= 3);
    assert!(out.matches("run-").count() >= 3, "{out}");
    let log = d.log_text();
    assert_eq!(
        lines_with(&log, "rotation is disabled").len(),
        1,
        "one warning however often it restarts:\n{log}"
    );
    assert!(
        log.contains("echoer: /dev/stdout is not a regular file"),
        "{log}"
    );
    assert!(!log.contains("Illegal seek"), "{log}");
    assert!(d.shutdown().success());
}

#[test]
fn program_output_to_dev_stdout_survives_when_our_stdout_is_a_regular_file() {
    // `supervisord -n > out.log`: the shell opens out.log without O_APPEND.
    // Program output and supervisord's own log lines must both end up in it.
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.log");
    let out = fs::File::create(&out_path).unwrap();
    let mut d = Daemon::launch_with_stdout(
        dir,
        "[supervisord]\nnodaemon=true\nsilent=false\n[program:echoer]\n\
         command=sh -c 'echo first-line; sleep 0.2; echo second-line; exec sleep 100'\n\
         stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nstartsecs=0\n",
        "info",
        &[],
        Stdio::from(out),
    );
    d.wait_for("success: echoer", SECS(10));
    wait_until("both program lines in out.log", SECS(10), || {
        fs::read_to_string(&out_path).is_ok_and(|t| t.contains("second-line\n"))
    });
    assert!(d.shutdown().success());
    let text = fs::read_to_string(&out_path).unwrap();
    assert!(text.contains("first-line\n"), "{text}");
    assert!(text.contains("INFO spawned: 'echoer'"), "{text}");
    assert!(text.contains("WARN received SIGTERM"), "{text}");
}

#[test]
fn console_mode_keeps_lines_of_concurrent_programs_whole_and_prefixed() {
    const LINES: usize = 2000;
    let program = |name: &str| {
        // Each line goes out in two writes, the worst case for interleaving.
        format!(
            "[program:{name}]\n\
             command=sh -c 'i=0; while [ $i -lt {LINES} ]; do printf \"{name}-%%d-\" $i; printf \"end\\\\n\"; i=$((i+1)); done; exec sleep 100'\n\
             stdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"
        )
    };
    let body = format!(
        "[supervisord]\nconsole_prefix=true\n{}{}{}{}",
        program("p1"),
        program("p2"),
        program("p3"),
        program("p4")
    );
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::launch_with_stdout(dir, &body, "info", &[], Stdio::piped());
    let out = collect_stdout(&mut d, |t| t.lines().count() >= 4 * LINES);
    let mut counts = std::collections::HashMap::new();
    for line in out.lines() {
        // `p3 | p3-17-end`
        let (prefix, rest) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("no prefix: {line:?}"));
        let mut parts = rest.split('-');
        assert_eq!(parts.next(), Some(prefix), "{line:?}");
        assert!(
            parts.next().is_some_and(|n| n.parse::<usize>().is_ok()),
            "{line:?}"
        );
        assert_eq!(parts.next(), Some("end"), "{line:?}");
        assert_eq!(parts.next(), None, "{line:?}");
        *counts.entry(prefix.to_string()).or_insert(0) += 1;
    }
    for name in ["p1", "p2", "p3", "p4"] {
        assert_eq!(counts.get(name), Some(&LINES), "{counts:?}");
    }
    assert!(d.shutdown().success());
}

#[test]
fn a_full_disk_loses_nothing_and_output_resumes_when_space_is_back() {
    // A 4 MB tmpfs over `logs`, private to supervisord's mount namespace;
    // the test reaches it through /proc/<pid>/root.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    fs::create_dir(root.join("logs")).unwrap();
    let conf = root.join("supervisord.conf");
    fs::write(
        &conf,
        format!(
            "{}[program:writer]\n\
             command=sh -c 'while [ ! -e {r}/go ]; do sleep 0.05; done; seq 1 300000; exec sleep 100'\n\
             stdout_logfile={r}/logs/w.log\nstdout_logfile_maxbytes=0\nstartsecs=0\n",
            common::header(&root, "info"),
            r = root.display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new("unshare")
        .arg("--mount")
        .arg("sh")
        .arg("-c")
        .arg(format!(
            "mount -t tmpfs -o size=4m tmpfs {r}/logs && exec {bin} -n -c {c}",
            r = root.display(),
            bin = common::BIN,
            c = conf.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let main_log = root.join("supervisord.log");
    let log_text = || fs::read_to_string(&main_log).unwrap_or_default();
    wait_until("supervisord to start", SECS(10), || {
        log_text().contains("spawned: 'writer'")
    });
    let inside = Path::new("/proc")
        .join(pid.to_string())
        .join("root")
        .join(root.strip_prefix("/").unwrap());

    // Fill the disk, then let the writer go: about 2 MB of output must wait.
    let filler = inside.join("logs/filler");
    let _ = fs::write(&filler, vec![0u8; 4 << 20]);
    fs::write(root.join("go"), "").unwrap();
    wait_until("the write error to be reported", SECS(20), || {
        log_text().contains("output for") && log_text().contains("is kept in memory and retried")
    });
    assert!(child.try_wait().unwrap().is_none(), "supervisord died");

    // Space comes back: everything arrives, in order, nothing lost.
    fs::remove_file(&filler).unwrap();
    let expected = seq(300_000);
    let w = inside.join("logs/w.log");
    wait_until("all output in the log", SECS(30), || {
        fs::read(&w).is_ok_and(|b| b.len() >= expected.len())
    });
    assert!(
        fs::read(&w).unwrap() == expected,
        "the log differs from what was written"
    );
    let log = log_text();
    assert_eq!(
        lines_with(&log, "is kept in memory and retried").len(),
        1,
        "{log}"
    );
    assert!(log.contains("is writable again; nothing was lost"), "{log}");

    assert!(common::sigterm_and_wait(&mut child, SECS(20)).success());
}

#[test]
fn strip_ansi_removes_colour_codes_from_the_log() {
    let mut d = Daemon::start(
        "[supervisord]\nstrip_ansi=true\n\
         [program:colour]\ncommand=printf '\\033[31mred\\033[0m plain\\n'\nstartsecs=0\n\
         autorestart=false\nstdout_logfile={dir}/colour.log\n",
    );
    let log = d.path("colour.log");
    wait_until("the line", SECS(10), || {
        fs::read_to_string(&log).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(fs::read_to_string(&log).unwrap(), "red plain\n");
    assert!(d.shutdown().success());
}

/// With loglevel=debug, each read of a child's output is copied to the
/// main log as Supervisor does it (tools grep for these lines): the text,
/// or a bytes literal for output that is not UTF-8; every SIGCHLD is noted.
#[test]
fn debug_level_logs_each_read_of_output_and_each_sigchld() {
    let mut d = Daemon::start_with(
        "[program:talker]\n\
         command=sh -c 'echo hello; sleep 0.2; printf \"\\210\\n\"; sleep 0.2; exec sleep 1000'\n\
         startsecs=0\n",
        "debug",
        &[],
    );
    let log = d.wait_for("Undecodable", SECS(10));
    assert!(
        log.contains("DEBG 'talker' stdout output:\nhello\n"),
        "{log}"
    );
    assert!(
        log.contains("DEBG 'talker' stdout output:\nUndecodable: b'\\x88\\n'"),
        "{log}"
    );
    assert!(d.shutdown().success());
    assert!(d
        .log_text()
        .contains("DEBG received SIGCHLD indicating a child quit"));
}
