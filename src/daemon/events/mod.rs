//! Events for listener pools (events.md): what each event type carries, the
//! type hierarchy subscriptions match against, and the envelope a listener
//! reads. The pools and the listener protocol live in the submodules; the
//! reactor only raises events and hands over the listeners' bytes.

mod bus;
mod listener;
mod pool;

pub use bus::Bus;
pub use listener::ListenerState;

use crate::config::EventType;
use crate::daemon::log::Channel;
use crate::daemon::proc::process::{Health, StateChange};
use crate::pyrepr::output_text;

/// One event: its concrete type and its payload text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub payload: String,
}

/// Whether a pool subscribed to `subscriptions` receives events of type
/// `kind`: the type itself or one of its ancestors (events.md §5).
pub fn subscribes(subscriptions: &[EventType], kind: EventType) -> bool {
    subscriptions.iter().any(|s| s.covers(kind))
}

impl Event {
    /// `PROCESS_STATE_<TO>`, with the fields that state's payload has.
    pub fn process_state(change: &StateChange, process: &str, group: &str) -> Event {
        use crate::daemon::proc::status::State;
        let head = format!(
            "processname:{process} groupname:{group} from_state:{}",
            change.from.name()
        );
        let payload = match change.to {
            State::Exited => format!(
                "{head} expected:{} pid:{}",
                u8::from(change.expected.unwrap_or(false)),
                change.pid
            ),
            State::Stopped | State::Stopping | State::Running => {
                format!("{head} pid:{}", change.pid)
            }
            State::Starting | State::Backoff => format!("{head} tries:{}", change.tries),
            State::Fatal | State::Unknown => head,
        };
        let kind = match change.to {
            State::Stopped => EventType::ProcessStateStopped,
            State::Starting => EventType::ProcessStateStarting,
            State::Running => EventType::ProcessStateRunning,
            State::Backoff => EventType::ProcessStateBackoff,
            State::Stopping => EventType::ProcessStateStopping,
            State::Exited => EventType::ProcessStateExited,
            State::Fatal => EventType::ProcessStateFatal,
            State::Unknown => EventType::ProcessStateUnknown,
        };
        Event { kind, payload }
    }

    /// The type of a chunk of output on `channel`.
    pub fn process_log_kind(channel: Channel) -> EventType {
        match channel {
            Channel::Stdout => EventType::ProcessLogStdout,
            Channel::Stderr => EventType::ProcessLogStderr,
        }
    }

    /// A chunk of a program's output (`*_events_enabled`).
    pub fn process_log(
        channel: Channel,
        process: &str,
        group: &str,
        pid: i32,
        data: &[u8],
    ) -> Event {
        Event {
            kind: Self::process_log_kind(channel),
            payload: format!(
                "processname:{process} groupname:{group} pid:{pid} channel:{channel}\n{}",
                text(data)
            ),
        }
    }

    /// What a program wrote between the capture tokens.
    pub fn process_communication(
        channel: Channel,
        process: &str,
        group: &str,
        pid: i32,
        data: &[u8],
    ) -> Event {
        let kind = match channel {
            Channel::Stdout => EventType::ProcessCommunicationStdout,
            Channel::Stderr => EventType::ProcessCommunicationStderr,
        };
        Event {
            kind,
            payload: format!(
                "processname:{process} groupname:{group} pid:{pid}\n{}",
                text(data)
            ),
        }
    }

    /// A health check changed its verdict (our extension).
    pub fn process_health(from: Health, to: Health, process: &str, group: &str, pid: i32) -> Event {
        let kind = match to {
            Health::Unhealthy => EventType::ProcessHealthUnhealthy,
            Health::Healthy | Health::Starting => EventType::ProcessHealthHealthy,
        };
        Event {
            kind,
            payload: format!(
                "processname:{process} groupname:{group} from_health:{} health:{} pid:{pid}",
                from.name(),
                to.name()
            ),
        }
    }

    /// `supervisor.sendRemoteCommEvent(type, data)`.
    pub fn remote_communication(kind: &str, data: &str) -> Event {
        Event {
            kind: EventType::RemoteCommunication,
            payload: format!("type:{kind}\n{data}"),
        }
    }

    pub fn supervisor_running() -> Event {
        Event {
            kind: EventType::SupervisorStateChangeRunning,
            payload: String::new(),
        }
    }

    pub fn supervisor_stopping() -> Event {
        Event {
            kind: EventType::SupervisorStateChangeStopping,
            payload: String::new(),
        }
    }

    /// The wall clock entered the slice of `period` seconds starting at `when`.
    pub fn tick(period: u64, when: u64) -> Event {
        let kind = match period {
            5 => EventType::Tick5,
            60 => EventType::Tick60,
            _ => EventType::Tick3600,
        };
        Event {
            kind,
            payload: format!("when:{when}"),
        }
    }

    pub fn group_added(group: &str) -> Event {
        Event {
            kind: EventType::ProcessGroupAdded,
            payload: format!("groupname:{group}\n"),
        }
    }

    pub fn group_removed(group: &str) -> Event {
        Event {
            kind: EventType::ProcessGroupRemoved,
            payload: format!("groupname:{group}\n"),
        }
    }
}

/// Output as payload text (see [`output_text`]), so the payload stays
/// valid UTF-8 for listeners that read their stdin as text.
fn text(data: &[u8]) -> String {
    output_text(data)
}

/// The bytes a listener reads for one event: the header line, then the
/// payload. `len` is the payload's length in bytes (Supervisor counts
/// characters, which desynchronises listeners on non-ASCII payloads).
pub fn envelope(server: &str, serial: u64, pool: &str, poolserial: u64, event: &Event) -> Vec<u8> {
    let header = format!(
        "ver:3.0 server:{server} serial:{serial} pool:{pool} poolserial:{poolserial} \
         eventname:{} len:{}\n",
        event.kind.name(),
        event.payload.len()
    );
    let mut bytes = header.into_bytes();
    bytes.extend_from_slice(event.payload.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::proc::status::State;

    fn change(from: State, to: State, pid: i32, tries: u32, expected: Option<bool>) -> StateChange {
        StateChange {
            from,
            to,
            pid,
            tries,
            expected,
        }
    }

    #[test]
    fn every_process_state_payload_has_its_fields() {
        let cases = [
            (
                change(State::Stopping, State::Stopped, 42, 0, None),
                "PROCESS_STATE_STOPPED",
                "processname:p groupname:g from_state:STOPPING pid:42",
            ),
            (
                change(State::Running, State::Exited, 42, 0, Some(true)),
                "PROCESS_STATE_EXITED",
                "processname:p groupname:g from_state:RUNNING expected:1 pid:42",
            ),
            (
                change(State::Running, State::Exited, 42, 0, Some(false)),
                "PROCESS_STATE_EXITED",
                "processname:p groupname:g from_state:RUNNING expected:0 pid:42",
            ),
            (
                change(State::Stopped, State::Starting, 0, 0, None),
                "PROCESS_STATE_STARTING",
                "processname:p groupname:g from_state:STOPPED tries:0",
            ),
            (
                change(State::Running, State::Stopping, 42, 0, None),
                "PROCESS_STATE_STOPPING",
                "processname:p groupname:g from_state:RUNNING pid:42",
            ),
            (
                change(State::Starting, State::Backoff, 42, 1, None),
                "PROCESS_STATE_BACKOFF",
                "processname:p groupname:g from_state:STARTING tries:1",
            ),
            (
                change(State::Backoff, State::Fatal, 0, 4, None),
                "PROCESS_STATE_FATAL",
                "processname:p groupname:g from_state:BACKOFF",
            ),
            (
                change(State::Starting, State::Running, 42, 0, None),
                "PROCESS_STATE_RUNNING",
                "processname:p groupname:g from_state:STARTING pid:42",
            ),
            (
                change(State::Stopping, State::Unknown, 42, 0, None),
                "PROCESS_STATE_UNKNOWN",
                "processname:p groupname:g from_state:STOPPING",
            ),
        ];
        for (change, name, payload) in cases {
            let event = Event::process_state(&change, "p", "g");
            assert_eq!((event.kind.name(), event.payload.as_str()), (name, payload));
        }
    }

    #[test]
    fn undecodable_output_is_shown_as_python_bytes() {
        let event = Event::process_log(Channel::Stdout, "p", "g", 7, b"bad\xff\n");
        assert_eq!(
            event.payload,
            "processname:p groupname:g pid:7 channel:stdout\nUndecodable: b'bad\\xff\\n'"
        );
    }

    #[test]
    fn len_counts_bytes_of_the_payload() {
        let event = Event::process_log(Channel::Stderr, "p", "g", 7, "café".as_bytes());
        let bytes = envelope("supervisor", 3, "pool", 1, &event);
        let text = String::from_utf8(bytes).unwrap();
        let (header, payload) = text.split_once('\n').unwrap();
        assert_eq!(
            header,
            "ver:3.0 server:supervisor serial:3 pool:pool poolserial:1 \
             eventname:PROCESS_LOG_STDERR len:52"
        );
        // 47 ASCII bytes of fields and newline, then "café": 5 bytes, 4 characters.
        assert_eq!(
            payload,
            "processname:p groupname:g pid:7 channel:stderr\ncafé"
        );
    }

    #[test]
    fn subscriptions_match_the_type_and_its_ancestors_only() {
        let subs = |names: &[&str]| -> Vec<EventType> {
            names.iter().map(|s| EventType::parse(s).unwrap()).collect()
        };
        let subscribes =
            |subs: &[EventType], name: &str| subscribes(subs, EventType::parse(name).unwrap());
        assert!(subscribes(&subs(&["EVENT"]), "TICK_5"));
        assert!(subscribes(&subs(&["TICK"]), "TICK_3600"));
        assert!(subscribes(
            &subs(&["PROCESS_STATE"]),
            "PROCESS_STATE_EXITED"
        ));
        assert!(subscribes(
            &subs(&["PROCESS_STATE_EXITED"]),
            "PROCESS_STATE_EXITED"
        ));
        assert!(!subscribes(
            &subs(&["PROCESS_STATE_EXITED"]),
            "PROCESS_STATE_FATAL"
        ));
        assert!(!subscribes(&subs(&["PROCESS_STATE"]), "PROCESS_LOG_STDOUT"));
        assert!(!subscribes(
            &subs(&["PROCESS_LOG"]),
            "PROCESS_COMMUNICATION_STDOUT"
        ));
        assert!(!subscribes(
            &subs(&["SUPERVISOR_STATE_CHANGE"]),
            "REMOTE_COMMUNICATION"
        ));
        assert!(subscribes(
            &subs(&["REMOTE_COMMUNICATION"]),
            "REMOTE_COMMUNICATION"
        ));
        assert!(!subscribes(&subs(&["TICK_5"]), "TICK_60"));
    }

    #[test]
    fn group_events_end_with_a_newline_and_ticks_carry_the_slice_start() {
        assert_eq!(Event::group_added("web").payload, "groupname:web\n");
        assert_eq!(Event::group_removed("web").payload, "groupname:web\n");
        assert_eq!(Event::tick(60, 1795236540).payload, "when:1795236540");
        assert_eq!(Event::tick(60, 0).kind.name(), "TICK_60");
        assert_eq!(
            Event::remote_communication("alert", "x y").payload,
            "type:alert\nx y"
        );
    }
}
