//! Child output, from the bytes read off a pipe to where they belong
//! (spec logging.md §1): capture-mode splitting, `strip_ansi`, the log file,
//! syslog, and our console mode.
//!
//! Nothing here may lose a byte or block the event loop. A destination that
//! fails (disk full, a reader that stopped reading) keeps what it could not
//! write in a bounded backlog and retries; while a backlog is over
//! [`BACKLOG_LIMIT`] the reactor stops reading that child's pipe, so the
//! child waits instead of its output being dropped.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Local;

use super::rotate::RotatingFile;
use crate::config::LogLevel;

/// Bytes a destination may hold back before its writers are paused.
pub const BACKLOG_LIMIT: usize = 1 << 20;
/// How soon a destination that would block (a full pipe) is tried again.
const RETRY_BLOCKED: Duration = Duration::from_millis(10);
/// How soon a failing destination (disk full, I/O error) is tried again.
const RETRY_FAILED: Duration = Duration::from_secs(1);
/// Console mode: a partial line is written anyway once it is this long…
const PARTIAL_LINE_MAX: usize = 8 * 1024;
/// …or once it has waited this long for its newline.
const PARTIAL_LINE_WAIT: Duration = Duration::from_millis(200);

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

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

/// `strip_ansi` (logging.md §1.8): `ESC [` up to and including the first byte
/// of `HfABCDRsuJKhlpm` is removed. Unlike Supervisor, a sequence split across
/// two reads is still removed whole.
#[derive(Debug, Default)]
pub struct AnsiStripper {
    state: StripState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum StripState {
    #[default]
    Text,
    /// An ESC ended the previous chunk.
    Escape,
    /// Inside `ESC [ …`.
    Sequence,
}

impl AnsiStripper {
    pub fn strip(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &byte in data {
            self.state = match (self.state, byte) {
                (StripState::Text, 0x1b) => StripState::Escape,
                (StripState::Text, b) => {
                    out.push(b);
                    StripState::Text
                }
                (StripState::Escape, b'[') => StripState::Sequence,
                (StripState::Escape, 0x1b) => {
                    out.push(0x1b);
                    StripState::Escape
                }
                (StripState::Escape, b) => {
                    out.extend_from_slice(&[0x1b, b]);
                    StripState::Text
                }
                (StripState::Sequence, b) if b"HfABCDRsuJKhlpm".contains(&b) => StripState::Text,
                (StripState::Sequence, _) => StripState::Sequence,
            };
        }
    }
}

/// What capture mode makes of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Ordinary output, for the log.
    Normal(Vec<u8>),
    /// Output between the tokens: kept for the event, logged nowhere.
    Captured(Vec<u8>),
    /// An END token closed a capture: the PROCESS_COMMUNICATION payload.
    Communication(Vec<u8>),
}

/// Capture mode (logging.md §1.7), with the improvements the spec suggests:
/// the capture buffer keeps exactly the last `maxbytes` bytes, and what is
/// held back waiting for a token is flushed at EOF instead of lost.
#[derive(Debug)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    pending: Vec<u8>,
    captured: VecDeque<u8>,
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            pending: Vec::new(),
            captured: VecDeque::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8], pieces: &mut Vec<Piece>) {
        self.pending.extend_from_slice(data);
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if self.pending.len() <= token.len() {
                return;
            }
            match find(&self.pending, token) {
                Some(at) => {
                    let before: Vec<u8> = self.pending[..at].to_vec();
                    self.pending.drain(..at + token.len());
                    self.emit(before, pieces);
                    if self.capturing {
                        let payload: Vec<u8> = self.captured.drain(..).collect();
                        pieces.push(Piece::Communication(payload));
                    }
                    self.capturing = !self.capturing;
                }
                None => {
                    let keep = longest_token_prefix_at_end(&self.pending, token);
                    let ready: Vec<u8> = self.pending.drain(..self.pending.len() - keep).collect();
                    self.emit(ready, pieces);
                    return;
                }
            }
        }
    }

    /// End of output: nothing held back is lost.
    pub fn finish(&mut self, pieces: &mut Vec<Piece>) {
        let rest = std::mem::take(&mut self.pending);
        self.emit(rest, pieces);
    }

    fn emit(&mut self, bytes: Vec<u8>, pieces: &mut Vec<Piece>) {
        if bytes.is_empty() {
            return;
        }
        if self.capturing {
            self.captured.extend(&bytes);
            let excess = self.captured.len().saturating_sub(self.maxbytes);
            self.captured.drain(..excess);
            pieces.push(Piece::Captured(bytes));
        } else {
            pieces.push(Piece::Normal(bytes));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many bytes at the end of `data` could begin `token`.
fn longest_token_prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    (1..token.len().min(data.len() + 1))
        .rev()
        .find(|&n| data.ends_with(&token[..n]))
        .unwrap_or(0)
}

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
            out.extend_from_slice(now.format("%Y-%m-%d %H:%M:%S,%3f ").to_string().as_bytes());
        }
        if let Some(prefix) = &self.prefix {
            out.extend_from_slice(prefix.as_bytes());
        }
        out.append(&mut self.partial);
        self.since = None;
    }
}

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

/// Everything about one output channel (stdout or stderr) of one process.
#[derive(Debug)]
pub struct ChannelLog {
    pub process: String,
    pub channel: &'static str,
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
        channel: &'static str,
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

fn write_console(
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

/// A fresh AUTO log file name: `<name>-<channel>---<identifier>-<8 random>.log`,
/// created empty with mode 0600 so the name is ours.
pub fn create_auto_file(
    dir: &Path,
    process: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    for _ in 0..100 {
        let path = dir.join(format!(
            "{process}-{channel}---{identifier}-{}.log",
            random_suffix()?
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free AUTO log name",
    ))
}

/// Eight characters of `[a-z0-9_]`, as Python's mkstemp uses.
fn random_suffix() -> io::Result<String> {
    use std::io::Read;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Whether `name` is an AUTO log (or a rotated backup of one) of the
/// instance `identifier`: Supervisor's prefix match of
/// `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}`.
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    name.match_indices(&marker).any(|(at, _)| {
        at >= 1 && {
            let rest = &name[at + marker.len()..];
            // `\S+\.log`: at least one non-space byte, then `.log`, all
            // without whitespace in between.
            rest.match_indices(".log")
                .any(|(end, _)| end >= 1 && !rest[..end].contains(char::is_whitespace))
        }
    })
}

/// Delete old AUTO logs of this instance in `dir` (unless `nocleanup`).
/// Returns the warnings Supervisor logs for what could not be removed.
pub fn clean_auto_logs(dir: &Path, identifier: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec!["Could not clear childlog dir".to_string()];
    };
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if is_auto_log_name(name, identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                warnings.push(format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_all(chunks: &[&[u8]]) -> Vec<u8> {
        let mut stripper = AnsiStripper::default();
        let mut out = Vec::new();
        for chunk in chunks {
            stripper.strip(chunk, &mut out);
        }
        out
    }

    #[test]
    fn ansi_sequences_are_removed_through_their_final_byte() {
        assert_eq!(strip_all(&[b"\x1b[31mred\x1b[0m plain"]), b"red plain");
        assert_eq!(strip_all(&[b"a\x1b[2Kb\x1b[1;1Hc"]), b"abc");
    }

    #[test]
    fn a_sequence_split_across_reads_is_still_removed() {
        assert_eq!(strip_all(&[b"red\x1b", b"[3", b"1mX"]), b"redX");
    }

    #[test]
    fn other_escapes_are_kept() {
        assert_eq!(strip_all(&[b"a\x1b]0;title\x07b"]), b"a\x1b]0;title\x07b");
        assert_eq!(strip_all(&[b"a\x1b", b"Xb"]), b"a\x1bXb");
    }

    fn capture_all(maxbytes: usize, chunks: &[&[u8]]) -> Vec<Piece> {
        let mut capture = Capture::new(maxbytes);
        let mut pieces = Vec::new();
        for chunk in chunks {
            capture.feed(chunk, &mut pieces);
        }
        capture.finish(&mut pieces);
        pieces
    }

    fn normal_text(pieces: &[Piece]) -> Vec<u8> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Normal(b) => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn capture_between_tokens_becomes_a_communication() {
        let pieces = capture_all(
            100,
            &[b"pre\n<!--XSUPERVISOR:BEGIN-->payload<!--XSUPERVISOR:END-->post\n"],
        );
        assert_eq!(normal_text(&pieces), b"pre\npost\n");
        assert!(pieces.contains(&Piece::Communication(b"payload".to_vec())));
    }

    #[test]
    fn tokens_split_across_reads_are_found() {
        let pieces = capture_all(
            100,
            &[
                b"a<!--XSUPER",
                b"VISOR:BEGIN-->x",
                b"y<!--XSUPERVISOR:E",
                b"ND-->b",
            ],
        );
        assert_eq!(normal_text(&pieces), b"ab");
        assert!(pieces.contains(&Piece::Communication(b"xy".to_vec())));
    }

    #[test]
    fn a_short_tail_is_not_lost_at_eof() {
        // Supervisor loses `post\n` here (it is shorter than the token).
        let pieces = capture_all(
            100,
            &[b"<!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->post\n"],
        );
        assert_eq!(normal_text(&pieces), b"post\n");
    }

    #[test]
    fn the_capture_buffer_keeps_exactly_the_last_maxbytes() {
        let pieces = capture_all(
            4,
            &[b"<!--XSUPERVISOR:BEGIN-->abcdef<!--XSUPERVISOR:END-->"],
        );
        assert!(
            pieces.contains(&Piece::Communication(b"cdef".to_vec())),
            "{pieces:?}"
        );
    }

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
    fn auto_log_names_match_supervisors_cleanup_pattern() {
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_xyz.log",
            "supervisor"
        ));
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_xyz.log.3",
            "supervisor"
        ));
        assert!(!is_auto_log_name("---supervisor-x.log", "supervisor"));
        assert!(!is_auto_log_name(
            "web-stdout---other-ab12.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "web-stdout---supervisor-.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "web-stdout---supervisor-a b.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name("notes.txt", "supervisor"));
    }

    #[test]
    fn auto_files_are_created_empty_private_and_cleaned() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = create_auto_file(dir.path(), "web", "stdout", "supervisor").unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("web-stdout---supervisor-") && name.ends_with(".log"),
            "{name}"
        );
        assert_eq!(name.len(), "web-stdout---supervisor-".len() + 8 + 4);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (0, 0o600));
        std::fs::write(dir.path().join("keep.log"), "").unwrap();
        std::fs::write(dir.path().join(format!("{name}.1")), "").unwrap();
        assert!(clean_auto_logs(dir.path(), "supervisor").is_empty());
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["keep.log".to_string()]);
    }

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

    #[test]
    fn console_paths() {
        assert_eq!(console_fd(Path::new("/dev/stdout")), Some(1));
        assert_eq!(console_fd(Path::new("/proc/self/fd/2")), Some(2));
        assert_eq!(console_fd(Path::new("/var/log/x.log")), None);
    }
}
