//! Console mode: programs writing to supervisord's own stdout or stderr
//! share one sink per descriptor, with whole lines (optionally prefixed with
//! the program's name and a timestamp) so that programs do not interleave
//! mid-line.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Local;

use super::sink::Sink;
use crate::config::LogLevel;

/// A partial line is written anyway once it is this long…
const PARTIAL_LINE_MAX: usize = 8 * 1024;
/// …or once it has waited this long for its newline.
const PARTIAL_LINE_WAIT: Duration = Duration::from_millis(200);

/// Console mode: whole lines, optionally stamped and prefixed.
#[derive(Debug)]
pub struct LineAssembler {
    /// `<process name> | `, when prefixing.
    prefix: Option<String>,
    timestamps: bool,
    partial: Vec<u8>,
    /// When the partial line started waiting.
    since: Option<Instant>,
}

impl LineAssembler {
    pub fn new(process_name: &str, prefix: bool, timestamps: bool) -> LineAssembler {
        LineAssembler {
            prefix: prefix.then(|| format!("{process_name} | ")),
            timestamps,
            partial: Vec::new(),
            since: None,
        }
    }

    /// Append `data`; returns the complete lines, formatted, ready to write.
    pub fn push(&mut self, data: &[u8], now: Instant, out: &mut Vec<u8>) {
        let mut rest = data;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(newline + 1);
            self.partial.extend_from_slice(line);
            self.emit_line(out);
            rest = after;
        }
        if !rest.is_empty() {
            self.partial.extend_from_slice(rest);
            self.since.get_or_insert(now);
            if self.partial.len() >= PARTIAL_LINE_MAX {
                self.flush(out);
            }
        }
    }

    /// When a partial line should be written even without its newline.
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + PARTIAL_LINE_WAIT)
    }

    /// Write the partial line now, ending it with a newline so that the next
    /// program's line starts on a line of its own.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            self.partial.push(b'\n');
            self.emit_line(out);
        }
    }

    fn emit_line(&mut self, out: &mut Vec<u8>) {
        if self.timestamps {
            let now = Local::now().naive_local();
            let mut stamp = String::with_capacity(24);
            crate::daemon::timefmt::log_stamp(&mut stamp, &now);
            out.extend_from_slice(stamp.as_bytes());
        }
        if let Some(prefix) = &self.prefix {
            out.extend_from_slice(prefix.as_bytes());
        }
        out.append(&mut self.partial);
        self.since = None;
    }
}

/// The descriptor a path stands for when it is supervisord's own stdout or
/// stderr (`/dev/stdout`, `/dev/fd/2`, `/proc/self/fd/1` …).
pub fn console_fd(path: &Path) -> Option<usize> {
    let text = path.to_str()?;
    match text {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" | "/proc/thread-self/fd/1" => Some(1),
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" | "/proc/thread-self/fd/2" => Some(2),
        _ => None,
    }
}

/// supervisord's own stdout and stderr, as shared sinks for console output.
#[derive(Debug, Default)]
pub struct Consoles {
    sinks: [Option<Sink>; 3],
}

impl Consoles {
    /// The sink for fd 1 or 2, opened on first use. Opened by path, it is a
    /// description of our own that can be non-blocking without affecting
    /// whoever else shares our stdout.
    pub fn sink(&mut self, fd: usize) -> io::Result<&mut Sink> {
        let slot = &mut self.sinks[fd];
        if slot.is_none() {
            let path = if fd == 2 {
                "/dev/stderr"
            } else {
                "/dev/stdout"
            };
            *slot = Some(Sink::open(Path::new(path), 0, 0)?);
        }
        Ok(slot.as_mut().expect("just opened"))
    }

    pub fn backlog(&self, fd: usize) -> usize {
        self.sinks[fd].as_ref().map_or(0, Sink::backlog)
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.sinks.iter().flatten().filter_map(Sink::deadline).min()
    }

    pub fn retry(&mut self, now: Instant) -> Vec<(LogLevel, String)> {
        self.sinks
            .iter_mut()
            .flatten()
            .filter(|s| s.deadline().is_some_and(|d| d <= now))
            .filter_map(|s| s.retry(now))
            .collect()
    }
}

pub(super) fn write_console(
    consoles: &mut Consoles,
    fd: usize,
    bytes: &[u8],
    now: Instant,
) -> Option<(LogLevel, String)> {
    if bytes.is_empty() {
        return None;
    }
    match consoles.sink(fd) {
        Ok(sink) => sink.write(bytes, now),
        Err(e) => Some((
            LogLevel::Error,
            format!("cannot open supervisord's fd {fd} for program output: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_assembled_prefixed_and_partials_wait() {
        let mut lines = LineAssembler::new("web", true, false);
        let now = Instant::now();
        let mut out = Vec::new();
        lines.push(b"one\ntw", now, &mut out);
        assert_eq!(out, b"web | one\n");
        assert_eq!(lines.deadline(), Some(now + PARTIAL_LINE_WAIT));
        out.clear();
        lines.push(b"o\nthree\n", now, &mut out);
        assert_eq!(out, b"web | two\nweb | three\n");
        assert_eq!(lines.deadline(), None);
    }

    #[test]
    fn a_partial_line_is_flushed_with_a_newline() {
        let mut lines = LineAssembler::new("web", false, false);
        let mut out = Vec::new();
        lines.push(b"no newline", Instant::now(), &mut out);
        assert!(out.is_empty());
        lines.flush(&mut out);
        assert_eq!(out, b"no newline\n");
    }

    #[test]
    fn an_overlong_partial_line_is_written_at_the_size_bound() {
        let mut lines = LineAssembler::new("x", false, false);
        let mut out = Vec::new();
        lines.push(&vec![b'a'; PARTIAL_LINE_MAX], Instant::now(), &mut out);
        assert_eq!(out.len(), PARTIAL_LINE_MAX + 1);
    }

    #[test]
    fn timestamps_come_first() {
        let mut lines = LineAssembler::new("web", true, true);
        let mut out = Vec::new();
        lines.push(b"hi\n", Instant::now(), &mut out);
        let text = String::from_utf8(out).unwrap();
        // `YYYY-MM-DD HH:MM:SS,mmm web | hi`
        assert_eq!(text.len(), 24 + "web | hi\n".len(), "{text}");
        assert!(
            text.ends_with(" web | hi\n") && text.as_bytes()[10] == b' ',
            "{text}"
        );
    }

    #[test]
    fn console_paths() {
        assert_eq!(console_fd(Path::new("/dev/stdout")), Some(1));
        assert_eq!(console_fd(Path::new("/proc/self/fd/2")), Some(2));
        assert_eq!(console_fd(Path::new("/var/log/x.log")), None);
    }
}
