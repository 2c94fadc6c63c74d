//! supervisord's own log (spec logging.md §2): `<local time> LEVL message`
//! lines to a rotating file or to syslog, copied to stdout in the foreground.
//!
//! Messages logged before the configuration is known are queued and written
//! when the log opens, criticals first, then warnings, then infos, as
//! Supervisor does with its parse messages.
//!
//! A log that cannot be written never stops the daemon: the failure is
//! reported once on stderr and the lines written meanwhile may be lost.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use chrono::{Local, NaiveDateTime};

use super::rotate::RotatingFile;
use super::syslog::{Syslog, SOCKET as SYSLOG_SOCKET};
use crate::config::{self, LogLevel, Supervisord};

/// The 4-letter tag of a level in log lines.
pub fn tag(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Critical => "CRIT",
        LogLevel::Error => "ERRO",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBG",
        LogLevel::Trace => "TRAC",
        LogLevel::Blather => "BLAT",
    }
}

/// One log line: `YYYY-MM-DD HH:MM:SS,mmm LEVL message\n`, milliseconds
/// truncated as Supervisor does. `msg` is written as it is, newlines included.
pub fn format_line(time: NaiveDateTime, level: LogLevel, msg: &str) -> String {
    let mut line = String::with_capacity(30 + msg.len());
    crate::daemon::timefmt::log_stamp(&mut line, &time);
    line.push_str(tag(level));
    line.push(' ');
    line.push_str(msg);
    line.push('\n');
    line
}

/// supervisord's log. Create it with [`MainLog::queued`] at startup, log
/// freely, then [`MainLog::open`] once the configuration is loaded.
pub struct MainLog {
    level: LogLevel,
    /// Messages logged before `open`; `None` once open.
    queue: Option<Vec<(LogLevel, String)>>,
    destination: Destination,
    /// The foreground copy to stdout.
    echo: Option<Box<dyn Write + Send>>,
    /// Whether a failure of the destination / the copy was already reported;
    /// cleared by the next success so a new episode is reported again.
    destination_failing: bool,
    echo_failing: bool,
}

enum Destination {
    /// Not open yet.
    Nowhere,
    File(RotatingFile),
    Syslog(Syslog),
}

impl MainLog {
    /// A log that keeps every message until [`MainLog::open`].
    pub fn queued() -> MainLog {
        MainLog {
            level: LogLevel::Blather,
            queue: Some(Vec::new()),
            destination: Destination::Nowhere,
            echo: None,
            destination_failing: false,
            echo_failing: false,
        }
    }

    /// Open the destinations `cfg` names (`logfile`, with rotation, or
    /// syslog; plus stdout when `nodaemon` and not `silent`), take its
    /// `loglevel`, and write the queued messages. Calling it again (reload)
    /// switches to the new settings.
    ///
    /// Only a log file that cannot be opened is an error; the queue is then
    /// kept. Lesser problems (rotation impossible on `/dev/stdout`, no syslog
    /// socket) are logged as warnings.
    pub fn open(&mut self, cfg: &Supervisord) -> io::Result<()> {
        self.open_with(cfg, Box::new(io::stdout()))
    }

    /// [`MainLog::open`] with the stdout copy going to `stdout`.
    fn open_with(&mut self, cfg: &Supervisord, stdout: Box<dyn Write + Send>) -> io::Result<()> {
        let mut warnings = Vec::new();
        let mut destination_failing = false;
        let destination = match &cfg.logfile {
            config::MainLogTarget::File(path) => {
                let file = RotatingFile::open(path, cfg.logfile_maxbytes, cfg.logfile_backups)
                    .map_err(|e| {
                        io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
                    })?;
                warnings.extend(file.rotation_warning());
                Destination::File(file)
            }
            config::MainLogTarget::Syslog => {
                let syslog = Syslog::connect(Path::new(SYSLOG_SOCKET));
                if let Err(e) = &syslog.socket {
                    warnings.push(format!("cannot reach syslog at {SYSLOG_SOCKET}: {e}"));
                    // Said once in that warning; don't report it per message too.
                    destination_failing = true;
                }
                Destination::Syslog(syslog)
            }
        };
        // `logfile=/dev/stdout` in the foreground would print every line
        // twice (Supervisor does); one copy is enough.
        let echo = cfg.nodaemon && !cfg.silent && !is_stdout(&destination);
        if echo && matches!(destination, Destination::Syslog(_)) && destination_failing {
            warnings.push("syslog messages appear only on stdout until it is reachable".into());
        }
        self.destination = destination;
        self.destination_failing = destination_failing;
        self.echo = echo.then_some(stdout);
        self.echo_failing = false;
        self.level = cfg.loglevel;
        if let Some(mut queued) = self.queue.take() {
            // A stable sort keeps arrival order within each level.
            queued.sort_by_key(|(level, _)| match level {
                LogLevel::Critical => 0,
                LogLevel::Warn => 1,
                LogLevel::Info => 2,
                _ => 3,
            });
            for (level, msg) in queued {
                self.log(level, &msg);
            }
        }
        for warning in warnings {
            self.warn(&warning);
        }
        Ok(())
    }

    /// Whether a message at `level` would be written; lets callers skip
    /// building expensive debug text. Everything counts while queued.
    pub fn enabled(&self, level: LogLevel) -> bool {
        self.queue.is_some() || level >= self.level
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    pub fn set_level(&mut self, level: LogLevel) {
        self.level = level;
    }

    /// Write `msg` at `level` (or queue it before `open`).
    pub fn log(&mut self, level: LogLevel, msg: &str) {
        match &mut self.queue {
            Some(queue) => queue.push((level, msg.to_owned())),
            None if level >= self.level => self.emit(level, msg),
            None => {}
        }
    }

    pub fn critical(&mut self, msg: &str) {
        self.log(LogLevel::Critical, msg);
    }

    pub fn error(&mut self, msg: &str) {
        self.log(LogLevel::Error, msg);
    }

    pub fn warn(&mut self, msg: &str) {
        self.log(LogLevel::Warn, msg);
    }

    pub fn info(&mut self, msg: &str) {
        self.log(LogLevel::Info, msg);
    }

    pub fn debug(&mut self, msg: &str) {
        self.log(LogLevel::Debug, msg);
    }

    pub fn trace(&mut self, msg: &str) {
        self.log(LogLevel::Trace, msg);
    }

    pub fn blather(&mut self, msg: &str) {
        self.log(LogLevel::Blather, msg);
    }

    /// SIGUSR2: reopen the log file at its path (logrotate may have moved
    /// it). On error the old file stays in use. For syslog, reconnect.
    pub fn reopen(&mut self) -> io::Result<()> {
        match &mut self.destination {
            Destination::File(file) => file.reopen(),
            Destination::Syslog(syslog) => {
                syslog.reconnect();
                Ok(())
            }
            Destination::Nowhere => Ok(()),
        }
    }

    fn emit(&mut self, level: LogLevel, msg: &str) {
        let now = Local::now().naive_local();
        let line = format_line(now, level, msg);
        let result = match &mut self.destination {
            Destination::Nowhere => Ok(()),
            Destination::File(file) => file.write(line.as_bytes()),
            Destination::Syslog(syslog) => {
                let sent = syslog.send_lines(now, msg, |line| format_line(now, level, line));
                // Keep the line visible somewhere, unless stdout shows it anyway.
                if sent.is_err() && self.echo.is_none() {
                    let _ = io::stderr().write_all(line.as_bytes());
                }
                sent
            }
        };
        report_once(&mut self.destination_failing, result);
        if let Some(out) = &mut self.echo {
            let result = out.write_all(line.as_bytes()).and_then(|()| out.flush());
            let result = result.map_err(|e| io::Error::new(e.kind(), format!("stdout: {e}")));
            report_once(&mut self.echo_failing, result);
        }
    }
}

/// Tell stderr about the first failure of an episode; a success ends it.
fn report_once(failing: &mut bool, result: io::Result<()>) {
    match result {
        Ok(()) => *failing = false,
        Err(e) if !*failing => {
            *failing = true;
            // Never eprintln!: it panics when stderr itself is gone.
            let _ = writeln!(
                io::stderr(),
                "supervisord: cannot write the log ({e}); messages may be lost until this recovers"
            );
        }
        Err(_) => {}
    }
}

/// Whether the log file is the very file our stdout is (same device and inode).
fn is_stdout(destination: &Destination) -> bool {
    let Destination::File(file) = destination else {
        return false;
    };
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| File::from(fd).metadata());
    match (file.metadata(), stdout) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::os::unix::net::UnixDatagram;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    fn at(h: u32, m: u32, s: u32, micros: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_micro_opt(h, m, s, micros)
            .unwrap()
    }

    /// A stdout stand-in the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn settings(logfile: config::MainLogTarget) -> Supervisord {
        Supervisord {
            logfile,
            logfile_maxbytes: 0,
            logfile_backups: 0,
            loglevel: LogLevel::Info,
            pidfile: PathBuf::from("/nonexistent/supervisord.pid"),
            umask: 0o22,
            nodaemon: false,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: PathBuf::from("/nonexistent"),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: Vec::new(),
            identifier: "supervisor".into(),
            console: Default::default(),
            exit_when_done: false,
            shutdown_timeout: None,
        }
    }

    fn file_settings(path: &Path) -> Supervisord {
        settings(config::MainLogTarget::File(path.to_path_buf()))
    }

    /// The lines of `text` without their timestamps.
    fn bodies(text: &str) -> Vec<String> {
        text.lines().map(|line| line[24..].to_string()).collect()
    }

    #[test]
    fn line_format() {
        assert_eq!(
            format_line(at(4, 5, 6, 789_999), LogLevel::Info, "hello"),
            "2026-11-21 04:05:06,789 INFO hello\n"
        );
        assert_eq!(
            format_line(at(23, 0, 9, 7_000), LogLevel::Critical, "x"),
            "2026-11-21 23:00:09,007 CRIT x\n"
        );
        assert_eq!(
            format_line(at(0, 0, 0, 0), LogLevel::Debug, "a\nb\n"),
            "2026-11-21 00:00:00,000 DEBG a\nb\n\n"
        );
        let tags: Vec<&str> = LogLevel::ALL.into_iter().map(tag).collect();
        assert_eq!(
            tags,
            ["CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"]
        );
    }

    #[test]
    fn leap_second_millis_stay_three_digits() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(
            format_line(leap, LogLevel::Warn, "x"),
            "2016-12-31 23:59:59,999 WARN x\n"
        );
    }

    #[test]
    fn messages_below_the_level_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("supervisord.log");
        let mut cfg = file_settings(&path);
        cfg.loglevel = LogLevel::Warn;
        let mut log = MainLog::queued();
        log.open(&cfg).unwrap();
        assert!(!log.enabled(LogLevel::Info));
        assert!(log.enabled(LogLevel::Warn));
        log.info("no");
        log.debug("no");
        log.warn("yes warn");
        log.error("yes error");
        log.critical("yes crit");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            bodies(&text),
            ["WARN yes warn", "ERRO yes error", "CRIT yes crit"]
        );
        log.set_level(LogLevel::Blather);
        log.blather("now yes");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with(" BLAT now yes\n"));
    }

    #[test]
    fn queued_messages_flush_criticals_then_warnings_then_infos() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("supervisord.log");
        let mut log = MainLog::queued();
        assert!(log.enabled(LogLevel::Blather));
        log.info("i1");
        log.warn("w1");
        log.critical("c1");
        log.debug("d1");
        log.error("e1");
        log.info("i2");
        log.warn("w2");
        log.critical("c2");
        assert!(!path.exists());
        log.open(&file_settings(&path)).unwrap();
        log.info("after");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            bodies(&text),
            [
                "CRIT c1",
                "CRIT c2",
                "WARN w1",
                "WARN w2",
                "INFO i1",
                "INFO i2",
                "ERRO e1",
                "INFO after"
            ]
        );
    }

    #[test]
    fn a_failed_open_keeps_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = MainLog::queued();
        log.warn("kept");
        let missing = dir.path().join("no/such/dir/x.log");
        let err = log.open(&file_settings(&missing)).unwrap_err();
        assert!(err.to_string().contains("no/such/dir/x.log"), "{err}");
        let path = dir.path().join("x.log");
        log.open(&file_settings(&path)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(bodies(&text), ["WARN kept"]);
    }

    #[test]
    fn the_file_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("supervisord.log");
        let mut cfg = file_settings(&path);
        cfg.logfile_maxbytes = 200;
        cfg.logfile_backups = 2;
        let mut log = MainLog::queued();
        log.open(&cfg).unwrap();
        for i in 0..42 {
            log.info(&format!("message number {i}"));
        }
        let backup = |n| dir.path().join(format!("supervisord.log.{n}"));
        let newest = std::fs::read_to_string(backup(1)).unwrap();
        assert!(newest.len() >= 200);
        assert!(std::fs::metadata(backup(2)).unwrap().len() >= 200);
        assert!(!backup(3).exists());
        let active = std::fs::read_to_string(&path).unwrap();
        assert!(active.len() < 200);
        assert!(active.ends_with(" INFO message number 41\n"));
    }

    #[test]
    fn reopen_recreates_a_moved_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("supervisord.log");
        let mut log = MainLog::queued();
        log.open(&file_settings(&path)).unwrap();
        log.info("one");
        std::fs::rename(&path, dir.path().join("old.log")).unwrap();
        log.reopen().unwrap();
        log.info("two");
        assert_eq!(
            bodies(&std::fs::read_to_string(&path).unwrap()),
            ["INFO two"]
        );
    }

    #[test]
    fn stdout_copy_only_in_the_foreground_and_not_silent() {
        for (nodaemon, silent, copied) in [
            (true, false, true),
            (true, true, false),
            (false, false, false),
            (false, true, false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("supervisord.log");
            let mut cfg = file_settings(&path);
            cfg.nodaemon = nodaemon;
            cfg.silent = silent;
            let sink = Sink::default();
            let mut log = MainLog::queued();
            log.warn("queued");
            log.open_with(&cfg, Box::new(sink.clone())).unwrap();
            log.info("hello");
            let file = std::fs::read_to_string(&path).unwrap();
            assert_eq!(bodies(&file), ["WARN queued", "INFO hello"]);
            if copied {
                assert_eq!(sink.text(), file, "nodaemon={nodaemon} silent={silent}");
            } else {
                assert_eq!(sink.text(), "", "nodaemon={nodaemon} silent={silent}");
            }
        }
    }

    #[test]
    fn rotation_on_a_device_is_warned_about_and_off() {
        let mut cfg = settings(config::MainLogTarget::File(PathBuf::from("/dev/null")));
        cfg.logfile_maxbytes = 50 * 1024 * 1024;
        cfg.nodaemon = true;
        let sink = Sink::default();
        let mut log = MainLog::queued();
        log.open_with(&cfg, Box::new(sink.clone())).unwrap();
        log.info("still fine");
        let lines = bodies(&sink.text());
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with("WARN /dev/null is not a regular file; rotation is disabled"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "INFO still fine");
    }

    #[test]
    fn write_errors_do_not_panic() {
        let mut cfg = settings(config::MainLogTarget::File(PathBuf::from("/dev/full")));
        cfg.nodaemon = true;
        let mut log = MainLog::queued();
        log.open_with(&cfg, Box::new(Broken)).unwrap();
        for _ in 0..3 {
            log.critical("nowhere to go");
        }
        assert!(log.destination_failing);
        assert!(log.echo_failing);
    }

    #[test]
    fn syslog_datagrams() {
        let dir = tempfile::tempdir().unwrap();
        let socket_path = dir.path().join("log");
        let server = UnixDatagram::bind(&socket_path).unwrap();
        let mut syslog = Syslog::connect(&socket_path);
        let now = at(4, 5, 6, 789_000);
        syslog
            .send_lines(now, "first\nsecond\n", |l| {
                format_line(now, LogLevel::Warn, l)
            })
            .unwrap();
        let mut buf = [0u8; 512];
        let mut received = Vec::new();
        for _ in 0..2 {
            let n = server.recv(&mut buf).unwrap();
            received.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        assert_eq!(
            received,
            [
                "<14>Nov 21 04:05:06 supervisord: 2026-11-21 04:05:06,789 WARN first\n",
                "<14>Nov 21 04:05:06 supervisord: 2026-11-21 04:05:06,789 WARN second\n",
            ]
        );
    }

    #[test]
    fn syslog_reconnects_after_the_daemon_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let socket_path = dir.path().join("log");
        let mut syslog = Syslog::connect(&socket_path);
        assert!(syslog.socket.is_err());
        assert!(syslog
            .send_lines(at(1, 2, 3, 0), "lost", |l| l.to_string())
            .is_err());
        let server = UnixDatagram::bind(&socket_path).unwrap();
        syslog
            .send_lines(at(1, 2, 3, 0), "found", |l| {
                format_line(at(1, 2, 3, 0), LogLevel::Info, l)
            })
            .unwrap();
        let mut buf = [0u8; 512];
        let n = server.recv(&mut buf).unwrap();
        assert!(buf[..n].ends_with(b" INFO found\n"));
    }
}
