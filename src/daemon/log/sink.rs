//! A destination that never loses a byte: what it cannot write now (disk
//! full, a reader that stopped reading) waits, in order and bounded, and is
//! retried.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::rotate::RotatingFile;
use crate::config::LogLevel;

/// Bytes a destination may hold back before its writers are paused.
pub const BACKLOG_LIMIT: usize = 1 << 20;
/// How soon a destination that would block (a full pipe) is tried again.
const RETRY_BLOCKED: Duration = Duration::from_millis(10);
/// How soon a failing destination (disk full, I/O error) is tried again.
const RETRY_FAILED: Duration = Duration::from_secs(1);

/// A file (or pipe, or terminal) that never loses what it was given: what it
/// cannot write now waits in order and is retried.
#[derive(Debug)]
pub struct Sink {
    file: RotatingFile,
    backlog: Vec<u8>,
    /// The error of the current failure episode, reported once.
    failing: Option<String>,
    retry_at: Option<Instant>,
}

impl Sink {
    pub fn open(path: &Path, maxbytes: i64, backups: i64) -> io::Result<Sink> {
        Ok(Sink {
            file: RotatingFile::open(path, maxbytes, backups)?,
            backlog: Vec::new(),
            failing: None,
            retry_at: None,
        })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The text to warn about once, if this target cannot be rotated.
    pub fn rotation_warning(&self) -> Option<String> {
        self.file.rotation_warning()
    }

    /// Bytes waiting to be written.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// When [`retry`](Self::retry) is due, if anything waits.
    pub fn deadline(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Write `data` after whatever is already waiting. Returns a message to
    /// log when a failure episode starts.
    pub fn write(&mut self, data: &[u8], now: Instant) -> Option<(LogLevel, String)> {
        if !self.backlog.is_empty() {
            // Order matters more than speed: queue behind what waits.
            self.backlog.extend_from_slice(data);
            return None;
        }
        let (written, error) = self.file.write_some(data);
        if written < data.len() {
            self.backlog.extend_from_slice(&data[written..]);
        }
        self.after_write(error, now)
    }

    /// Try the backlog again. Returns a message when a failure episode ends.
    pub fn retry(&mut self, now: Instant) -> Option<(LogLevel, String)> {
        if self.backlog.is_empty() {
            self.retry_at = None;
            return None;
        }
        let (written, error) = self.file.write_some(&self.backlog);
        self.backlog.drain(..written);
        self.after_write(error, now)
    }

    fn after_write(
        &mut self,
        error: Option<io::Error>,
        now: Instant,
    ) -> Option<(LogLevel, String)> {
        match error {
            // Rotation may fail although the bytes went out; then nothing waits.
            Some(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.retry_at = Some(now + RETRY_BLOCKED);
                None
            }
            Some(e) => {
                self.retry_at = (!self.backlog.is_empty()).then_some(now + RETRY_FAILED);
                if self.failing.is_some() {
                    return None;
                }
                self.failing = Some(e.to_string());
                Some((
                    LogLevel::Error,
                    format!(
                        "{e}; output for {} is kept in memory and retried",
                        self.file.path().display()
                    ),
                ))
            }
            None if !self.backlog.is_empty() => {
                self.retry_at = Some(now + RETRY_BLOCKED);
                None
            }
            None => {
                self.retry_at = None;
                self.failing.take().map(|_| {
                    (
                        LogLevel::Info,
                        format!(
                            "{} is writable again; nothing was lost",
                            self.file.path().display()
                        ),
                    )
                })
            }
        }
    }

    /// SIGUSR2: reopen at the same path (the backlog is kept).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file.reopen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_sink_keeps_everything_and_reports_once() {
        // /dev/full fails every write with ENOSPC.
        let mut sink = Sink::open(Path::new("/dev/full"), 0, 0).unwrap();
        let now = Instant::now();
        let first = sink.write(b"abc", now);
        assert!(first.is_some_and(|(level, _)| level == LogLevel::Error));
        assert_eq!(sink.write(b"def", now), None, "reported once per episode");
        assert_eq!(sink.backlog(), 6);
        assert_eq!(sink.deadline(), Some(now + RETRY_FAILED));
        assert_eq!(sink.retry(now + RETRY_FAILED), None);
        assert_eq!(sink.backlog(), 6);
    }

    #[test]
    fn a_recovered_sink_writes_its_backlog_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let mut sink = Sink::open(&path, 0, 0).unwrap();
        // Simulate an episode: bytes waiting from an earlier failure.
        sink.backlog.extend_from_slice(b"one ");
        sink.failing = Some("disk full".into());
        let now = Instant::now();
        assert_eq!(sink.write(b"two", now), None);
        let recovered = sink.retry(now);
        assert!(recovered.is_some_and(|(level, _)| level == LogLevel::Info));
        assert_eq!(std::fs::read(&path).unwrap(), b"one two");
        assert_eq!((sink.backlog(), sink.deadline()), (0, None));
    }
}
