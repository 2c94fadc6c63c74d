//! The listener protocol as supervisord sees it (events.md §2): a state
//! machine driven by the bytes a listener writes on its stdout.

use super::pool::Queued;
use crate::config::LogLevel;

/// Where a listener is in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    /// May be sent an event.
    Ready,
    /// Has an event; its result is awaited.
    Busy,
    /// Result received (or freshly spawned); `READY\n` is awaited.
    Acknowledged,
    /// Broke the protocol: gets no more events until it restarts.
    Unknown,
}

impl ListenerState {
    fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

const READY_TOKEN: &[u8] = b"READY\n";
/// The result line's length field starts after `RESULT `, which Supervisor
/// skips without checking; so do we, so listeners that work there work here.
const RESULT_PREFIX_LEN: usize = 7;

/// Longest result line (`RESULT <len>\n`) a listener may send; a longer
/// one is a protocol violation (it would otherwise be buffered forever).
pub const MAX_RESULT_LINE: usize = 64;
/// Largest result body a listener may announce (the results Supervisor
/// knows are `OK` and `FAIL`); beyond it the listener goes UNKNOWN instead
/// of supervisord buffering whatever it writes.
pub const MAX_RESULT_BODY: usize = 64 * 1024;

/// One listener process of a pool.
#[derive(Debug)]
pub struct Listener {
    name: String,
    /// The spawn whose stdout drives the protocol; bytes from an earlier
    /// spawn's pipe (still draining after its exit) are not protocol.
    pid: Option<i32>,
    state: ListenerState,
    buffer: Vec<u8>,
    /// The body length announced by the result line, once read.
    result_len: Option<usize>,
    in_flight: Option<Queued>,
}

type Logs = Vec<(LogLevel, String)>;

impl Listener {
    pub fn new(name: &str) -> Listener {
        Listener {
            name: name.to_string(),
            pid: None,
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result_len: None,
            in_flight: None,
        }
    }

    pub fn state(&self) -> ListenerState {
        self.state
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every spawn starts the protocol afresh, waiting for `READY\n`.
    pub fn spawned(&mut self, pid: i32) {
        self.pid = Some(pid);
        self.state = ListenerState::Acknowledged;
        self.buffer.clear();
        self.result_len = None;
        self.in_flight = None;
    }

    /// The process ended: the event it was handling, if any, goes back to
    /// its pool.
    pub fn exited(&mut self) -> Option<Queued> {
        self.pid = None;
        self.buffer.clear();
        self.result_len = None;
        self.in_flight.take()
    }

    /// An event went to this (READY) listener.
    pub fn sent(&mut self, event: Queued) {
        self.state = ListenerState::Busy;
        self.in_flight = Some(event);
    }

    /// Bytes the spawn `pid` wrote on its stdout. Returns a rejected event,
    /// which the caller puts back in the pool.
    pub fn feed(&mut self, pid: i32, data: &[u8], logs: &mut Logs) -> Option<Queued> {
        if self.pid != Some(pid) || self.state == ListenerState::Unknown {
            return None;
        }
        self.buffer.extend_from_slice(data);
        let mut rejected = None;
        loop {
            match self.state {
                ListenerState::Unknown => {
                    self.buffer.clear();
                    break;
                }
                ListenerState::Acknowledged => {
                    if self.buffer.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.buffer.starts_with(READY_TOKEN) {
                        self.buffer.drain(..READY_TOKEN.len());
                        self.change(ListenerState::Ready, logs);
                    } else {
                        self.buffer.clear();
                        self.change(ListenerState::Unknown, logs);
                    }
                }
                ListenerState::Ready => {
                    // Nothing may arrive unasked while READY.
                    if self.buffer.is_empty() {
                        break;
                    }
                    self.buffer.clear();
                    self.change(ListenerState::Unknown, logs);
                }
                ListenerState::Busy => match self.result_len {
                    None => {
                        let Some(end) = self.buffer.iter().position(|&b| b == b'\n') else {
                            if self.buffer.len() > MAX_RESULT_LINE {
                                let line = self.buffer[..MAX_RESULT_LINE].to_vec();
                                rejected = self.bad_result_line(&line, logs);
                            }
                            break;
                        };
                        let line: Vec<u8> = self.buffer.drain(..=end).collect();
                        let line = &line[..end];
                        match parse_result_len(line).filter(|&n| n <= MAX_RESULT_BODY) {
                            Some(len) => self.result_len = Some(len),
                            None => rejected = self.bad_result_line(line, logs),
                        }
                    }
                    Some(len) => {
                        if self.buffer.len() < len {
                            break;
                        }
                        let body: Vec<u8> = self.buffer.drain(..len).collect();
                        self.result_len = None;
                        let event = self.in_flight.take();
                        // The default result handler: exactly `OK` accepts.
                        if body == b"OK" {
                            logs.push((
                                LogLevel::Debug,
                                format!("{}: event was processed", self.name),
                            ));
                        } else {
                            logs.push((
                                LogLevel::Warn,
                                format!("{}: event was rejected", self.name),
                            ));
                            rejected = event;
                        }
                        self.change(ListenerState::Acknowledged, logs);
                    }
                },
            }
        }
        rejected
    }

    /// A result line that cannot be read (or is too long): the listener
    /// goes UNKNOWN and its event goes back to the pool.
    fn bad_result_line(&mut self, line: &[u8], logs: &mut Logs) -> Option<Queued> {
        logs.push((
            LogLevel::Warn,
            format!(
                "{}: bad result line: '{}'",
                self.name,
                String::from_utf8_lossy(line)
            ),
        ));
        self.buffer.clear();
        self.change(ListenerState::Unknown, logs);
        self.in_flight.take()
    }

    fn change(&mut self, to: ListenerState, logs: &mut Logs) {
        logs.push((
            LogLevel::Debug,
            format!("{}: {} -> {}", self.name, self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
            logs.push((
                LogLevel::Warn,
                format!(
                    "{}: has entered the UNKNOWN state and will no longer receive events, \
                     this usually indicates the process violated the eventlistener protocol",
                    self.name
                ),
            ));
        }
    }
}

/// The body length of a result line: whatever follows its first seven bytes,
/// as a decimal number with optional surrounding whitespace.
fn parse_result_len(line: &[u8]) -> Option<usize> {
    let field = line.get(RESULT_PREFIX_LEN..)?;
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::events::Event;
    use std::rc::Rc;

    const PID: i32 = 100;

    fn queued(serial: u64) -> Queued {
        Queued {
            event: Rc::new(Event::supervisor_running()),
            serial,
            poolserial: serial,
        }
    }

    fn spawned() -> Listener {
        let mut l = Listener::new("l");
        l.spawned(PID);
        l
    }

    fn busy() -> (Listener, Logs) {
        let mut l = spawned();
        let mut logs = Vec::new();
        l.feed(PID, b"READY\n", &mut logs);
        l.sent(queued(7));
        (l, logs)
    }

    #[test]
    fn ready_token_may_arrive_in_pieces() {
        let mut l = spawned();
        let mut logs = Vec::new();
        l.feed(PID, b"REA", &mut logs);
        assert_eq!(l.state(), ListenerState::Acknowledged);
        l.feed(PID, b"DY\n", &mut logs);
        assert_eq!(l.state(), ListenerState::Ready);
        assert_eq!(
            logs,
            vec![(LogLevel::Debug, "l: ACKNOWLEDGED -> READY".to_string())]
        );
    }

    #[test]
    fn two_ready_tokens_break_the_protocol() {
        let mut l = spawned();
        let mut logs = Vec::new();
        l.feed(PID, b"READY\nREADY\n", &mut logs);
        assert_eq!(l.state(), ListenerState::Unknown);
        assert_eq!(logs[1].1, "l: READY -> UNKNOWN");
        assert_eq!(logs[2].0, LogLevel::Warn);
        assert!(logs[2].1.starts_with("l: has entered the UNKNOWN state"));
    }

    #[test]
    fn ready_with_crlf_is_unknown() {
        let mut l = spawned();
        let mut logs = Vec::new();
        l.feed(PID, b"READY\r\n", &mut logs);
        assert_eq!(l.state(), ListenerState::Unknown);
    }

    #[test]
    fn ok_result_and_next_ready_in_one_write() {
        let (mut l, mut logs) = busy();
        logs.clear();
        assert!(l.feed(PID, b"RESULT 2\nOKREADY\n", &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Ready);
        let texts: Vec<&str> = logs.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            texts,
            [
                "l: event was processed",
                "l: BUSY -> ACKNOWLEDGED",
                "l: ACKNOWLEDGED -> READY"
            ]
        );
    }

    #[test]
    fn result_body_may_span_reads() {
        let (mut l, mut logs) = busy();
        assert!(l.feed(PID, b"RESULT 2\nO", &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Busy);
        assert!(l.feed(PID, b"K", &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Acknowledged);
    }

    #[test]
    fn fail_rejects_the_event_in_flight() {
        let (mut l, mut logs) = busy();
        let rejected = l.feed(PID, b"RESULT 4\nFAIL", &mut logs);
        assert_eq!(rejected.map(|q| q.serial), Some(7));
        assert_eq!(l.state(), ListenerState::Acknowledged);
        assert!(logs.contains(&(LogLevel::Warn, "l: event was rejected".to_string())));
    }

    #[test]
    fn the_result_prefix_is_not_checked() {
        let (mut l, mut logs) = busy();
        assert!(l.feed(PID, b"XXXXXXX 2\nOK", &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Acknowledged);
    }

    #[test]
    fn bad_result_line_rejects_and_goes_unknown() {
        let (mut l, mut logs) = busy();
        let rejected = l.feed(PID, b"RESULT two\nOK", &mut logs);
        assert_eq!(rejected.map(|q| q.serial), Some(7));
        assert_eq!(l.state(), ListenerState::Unknown);
        assert!(logs.contains(&(
            LogLevel::Warn,
            "l: bad result line: 'RESULT two'".to_string()
        )));
        // Once UNKNOWN, everything is discarded until a respawn.
        assert!(l.feed(PID, b"READY\n", &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Unknown);
        l.spawned(PID + 1);
        l.feed(PID + 1, b"READY\n", &mut logs);
        assert_eq!(l.state(), ListenerState::Ready);
    }

    #[test]
    fn bytes_while_ready_are_a_violation() {
        let mut l = spawned();
        let mut logs = Vec::new();
        l.feed(PID, b"READY\n", &mut logs);
        l.feed(PID, b"x", &mut logs);
        assert_eq!(l.state(), ListenerState::Unknown);
    }

    #[test]
    fn exit_while_busy_hands_back_the_event_and_ignores_the_old_pipe() {
        let (mut l, mut logs) = busy();
        assert_eq!(l.exited().map(|q| q.serial), Some(7));
        assert!(l.feed(PID, b"RESULT 2\nOK", &mut logs).is_none());
        assert_eq!(l.exited().map(|q| q.serial), None);
    }

    #[test]
    fn a_result_line_that_never_ends_is_a_protocol_violation() {
        let (mut l, mut logs) = busy();
        let rejected = l.feed(PID, &[b'x'; MAX_RESULT_LINE + 1], &mut logs);
        assert_eq!(rejected.map(|q| q.serial), Some(7));
        assert_eq!(l.state(), ListenerState::Unknown);
        assert!(l.buffer.is_empty());
    }

    #[test]
    fn a_result_body_beyond_the_limit_is_a_protocol_violation() {
        let (mut l, mut logs) = busy();
        let line = format!("RESULT {}\n", MAX_RESULT_BODY + 1);
        assert!(l.feed(PID, line.as_bytes(), &mut logs).is_some());
        assert_eq!(l.state(), ListenerState::Unknown);
        let (mut l, mut logs) = busy();
        let line = format!("RESULT {MAX_RESULT_BODY}\n");
        assert!(l.feed(PID, line.as_bytes(), &mut logs).is_none());
        assert_eq!(l.state(), ListenerState::Busy);
    }

    // Property tests: whatever a listener writes, in whatever pieces, the
    // parser never panics and never holds more than one result's worth of
    // bytes. They run PROPTEST_CASES cases (256 by default); for a long
    // local run: `PROPTEST_CASES=1000000 cargo test --lib listener::`.
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Bytes a listener might write: protocol pieces and noise.
        fn stream() -> impl Strategy<Value = Vec<Vec<u8>>> {
            let piece = prop_oneof![
                Just(b"READY\n".to_vec()),
                Just(b"RESULT 2\nOK".to_vec()),
                Just(b"RESULT 4\nFAIL".to_vec()),
                Just(b"RESULT ".to_vec()),
                "[0-9]{1,25}".prop_map(|n| n.into_bytes()),
                Just(b"\n".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..200),
            ];
            proptest::collection::vec(piece, 0..30)
        }

        proptest! {
            #[test]
            fn any_output_is_bounded_and_never_panics(
                pieces in stream(),
                sends in proptest::collection::vec(any::<bool>(), 30),
            ) {
                let mut l = spawned();
                let mut logs = Vec::new();
                for (i, piece) in pieces.iter().enumerate() {
                    if l.state() == ListenerState::Ready && sends[i] {
                        l.sent(queued(i as u64));
                    }
                    l.feed(PID, piece, &mut logs);
                    prop_assert!(l.buffer.len() <= MAX_RESULT_BODY);
                    if l.state() == ListenerState::Unknown {
                        prop_assert!(l.buffer.is_empty());
                    }
                }
            }

            #[test]
            fn a_well_behaved_listener_in_any_pieces_stays_in_step(
                results in proptest::collection::vec(any::<bool>(), 1..10),
                cuts in proptest::collection::vec(1usize..7, 1..200),
            ) {
                let mut l = spawned();
                let mut logs = Vec::new();
                let mut bytes = b"READY\n".to_vec();
                for ok in &results {
                    bytes.extend_from_slice(if *ok { b"RESULT 2\nOK" } else { b"RESULT 4\nFAIL" });
                    bytes.extend_from_slice(b"READY\n");
                }
                // Feed in pieces; send an event whenever it is READY. A real
                // listener writes nothing after READY until it gets an
                // event, so no piece reaches past a READY.
                let ends: Vec<usize> = (6..=bytes.len())
                    .filter(|&i| &bytes[i - 6..i] == b"READY\n")
                    .collect();
                let mut rejected = Vec::new();
                let mut serial = 0;
                let mut at = 0;
                let mut cut = cuts.iter().cycle();
                while at < bytes.len() {
                    if l.state() == ListenerState::Ready {
                        serial += 1;
                        l.sent(queued(serial));
                    }
                    let boundary = ends.iter().copied().find(|&e| e > at).unwrap_or(bytes.len());
                    let n = (*cut.next().unwrap()).min(boundary - at);
                    rejected.extend(l.feed(PID, &bytes[at..at + n], &mut logs).map(|q| q.serial));
                    at += n;
                }
                prop_assert_eq!(l.state(), ListenerState::Ready);
                let expected: Vec<u64> = results
                    .iter()
                    .enumerate()
                    .filter(|(_, ok)| !**ok)
                    .map(|(i, _)| i as u64 + 1)
                    .collect();
                prop_assert_eq!(rejected, expected);
            }
        }
    }
}
