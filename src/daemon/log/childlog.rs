//! Child output, from the bytes read off a pipe to where they belong
//! (logging.md §1): one [`ChannelLog`] per channel of a process, feeding
//! capture mode (`capture.rs`), `strip_ansi` (`ansi.rs`), its destination —
//! a log file (`sink.rs`) or the console (`console.rs`) — and syslog.
//!
//! Nothing here may lose a byte or block the event loop. A destination that
//! fails (disk full, a reader that stopped reading) keeps what it could not
//! write in a bounded backlog and retries; while a backlog is over
//! [`BACKLOG_LIMIT`](super::sink::BACKLOG_LIMIT) the reactor stops reading that child's pipe, so the
//! child waits instead of its output being dropped.

use std::io;
use std::time::Instant;

use super::ansi::AnsiStripper;
use super::capture::{Capture, Piece};
use super::console::{write_console, Consoles, LineAssembler};
use super::sink::Sink;
use super::Channel;
use crate::config::LogLevel;

/// Where a channel's normal output goes.
#[derive(Debug)]
pub enum Destination {
    Nowhere,
    /// A file of its own (a path, or an AUTO file).
    File(Sink),
    /// supervisord's own stdout (1) or stderr (2), shared by every program
    /// writing there, with whole lines when `lines` is set.
    Console {
        fd: usize,
        lines: Option<LineAssembler>,
    },
}

/// Everything about one output channel (stdout or stderr) of one process.
#[derive(Debug)]
pub struct ChannelLog {
    pub process: String,
    pub channel: Channel,
    capture: Option<Capture>,
    strip: Option<AnsiStripper>,
    pub destination: Destination,
    syslog: bool,
    /// Every chunk also becomes a PROCESS_LOG event.
    events_enabled: bool,
    /// Reused for stripped and formatted bytes.
    scratch: Vec<u8>,
}

/// What one chunk produced besides the writes.
#[derive(Debug, Default)]
pub struct Fed {
    /// Main-log lines (failure episodes, comm events, the debug copy).
    pub messages: Vec<(LogLevel, String)>,
    /// PROCESS_COMMUNICATION payloads.
    pub communications: Vec<Vec<u8>>,
    /// Chunks for PROCESS_LOG events.
    pub log_events: Vec<Vec<u8>>,
    /// Lines for syslog, already prefixed with the process name.
    pub syslog_lines: Vec<String>,
}

impl ChannelLog {
    pub fn new(
        process: &str,
        channel: Channel,
        destination: Destination,
        capture_maxbytes: i64,
        events_enabled: bool,
        strip_ansi: bool,
        syslog: bool,
    ) -> ChannelLog {
        ChannelLog {
            process: process.to_string(),
            channel,
            capture: usize::try_from(capture_maxbytes)
                .ok()
                .filter(|&n| n > 0)
                .map(Capture::new),
            strip: strip_ansi.then(AnsiStripper::default),
            destination,
            syslog,
            events_enabled,
            scratch: Vec::new(),
        }
    }

    /// Whether bytes may go straight from the pipe to the file unchanged.
    pub fn is_plain_file(&self) -> bool {
        self.capture.is_none()
            && self.strip.is_none()
            && !self.syslog
            && matches!(self.destination, Destination::File(_))
    }

    /// Take one chunk read from the pipe.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        now: Instant,
        consoles: &mut Consoles,
        debug_copy: bool,
    ) -> Fed {
        let mut fed = Fed::default();
        let mut pieces = Vec::new();
        match &mut self.capture {
            Some(capture) => capture.feed(chunk, &mut pieces),
            None => {
                self.write_normal(chunk, now, consoles, debug_copy, &mut fed);
                return fed;
            }
        }
        self.handle_pieces(pieces, now, consoles, debug_copy, &mut fed);
        fed
    }

    /// The pipe reached EOF: nothing held back may be lost.
    pub fn finish(&mut self, now: Instant, consoles: &mut Consoles) -> Fed {
        let mut fed = Fed::default();
        let mut pieces = Vec::new();
        if let Some(capture) = &mut self.capture {
            capture.finish(&mut pieces);
        }
        self.handle_pieces(pieces, now, consoles, false, &mut fed);
        self.flush_partial_line(now, consoles, &mut fed);
        fed
    }

    fn handle_pieces(
        &mut self,
        pieces: Vec<Piece>,
        now: Instant,
        consoles: &mut Consoles,
        debug_copy: bool,
        fed: &mut Fed,
    ) {
        for piece in pieces {
            match piece {
                Piece::Normal(bytes) => self.write_normal(&bytes, now, consoles, debug_copy, fed),
                Piece::Captured(bytes) => {
                    if debug_copy {
                        fed.messages.push(self.debug_copy(&bytes));
                    }
                    // Supervisor sends captured output as PROCESS_LOG too.
                    if self.events_enabled {
                        fed.log_events.push(bytes);
                    }
                }
                Piece::Communication(payload) => {
                    fed.messages.push((
                        LogLevel::Debug,
                        format!("'{}' {} emitted a comm event", self.process, self.channel),
                    ));
                    fed.communications.push(payload);
                }
            }
        }
    }

    fn write_normal(
        &mut self,
        bytes: &[u8],
        now: Instant,
        consoles: &mut Consoles,
        debug_copy: bool,
        fed: &mut Fed,
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let bytes = match &mut self.strip {
            Some(strip) => {
                strip.strip(bytes, &mut scratch);
                &scratch[..]
            }
            None => bytes,
        };
        if debug_copy {
            fed.messages.push(self.debug_copy(bytes));
        }
        if self.events_enabled && !bytes.is_empty() {
            fed.log_events.push(bytes.to_vec());
        }
        if self.syslog {
            let text = String::from_utf8_lossy(bytes);
            for line in text.trim_end_matches('\n').split('\n') {
                fed.syslog_lines.push(format!("{} {line}", self.process));
            }
        }
        match &mut self.destination {
            Destination::Nowhere => {}
            Destination::File(sink) => fed.messages.extend(sink.write(bytes, now)),
            Destination::Console { fd, lines } => {
                let fd = *fd;
                let message = match lines {
                    Some(assembler) => {
                        let mut formatted = Vec::new();
                        assembler.push(bytes, now, &mut formatted);
                        write_console(consoles, fd, &formatted, now)
                    }
                    None => write_console(consoles, fd, bytes, now),
                };
                fed.messages.extend(message);
            }
        }
        self.scratch = scratch;
    }

    fn debug_copy(&self, bytes: &[u8]) -> (LogLevel, String) {
        (
            LogLevel::Debug,
            format!(
                "'{}' {} output:\n{}",
                self.process,
                self.channel,
                crate::pyrepr::output_text(bytes)
            ),
        )
    }

    /// Bytes this channel waits to write (its own file's backlog, or the
    /// shared console's).
    pub fn backlog(&self, consoles: &Consoles) -> usize {
        match &self.destination {
            Destination::File(sink) => sink.backlog(),
            Destination::Console { fd, .. } => consoles.backlog(*fd),
            Destination::Nowhere => 0,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        match &self.destination {
            Destination::File(sink) => sink.deadline(),
            Destination::Console { lines: Some(a), .. } => a.deadline(),
            _ => None,
        }
    }

    /// Retries and partial-line flushes that are due.
    pub fn on_deadline(
        &mut self,
        now: Instant,
        consoles: &mut Consoles,
    ) -> Vec<(LogLevel, String)> {
        let mut fed = Fed::default();
        match &mut self.destination {
            Destination::File(sink) if sink.deadline().is_some_and(|d| d <= now) => {
                fed.messages.extend(sink.retry(now));
            }
            Destination::Console { lines: Some(a), .. }
                if a.deadline().is_some_and(|d| d <= now) =>
            {
                self.flush_partial_line(now, consoles, &mut fed);
            }
            _ => {}
        }
        fed.messages
    }

    fn flush_partial_line(&mut self, now: Instant, consoles: &mut Consoles, fed: &mut Fed) {
        if let Destination::Console {
            fd,
            lines: Some(assembler),
        } = &mut self.destination
        {
            let mut formatted = Vec::new();
            assembler.flush(&mut formatted);
            fed.messages
                .extend(write_console(consoles, *fd, &formatted, now));
        }
    }

    pub fn reopen(&mut self) -> io::Result<()> {
        match &mut self.destination {
            Destination::File(sink) => sink.reopen(),
            _ => Ok(()),
        }
    }
}
