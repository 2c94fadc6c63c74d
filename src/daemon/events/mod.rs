//! Events for listener pools (events.md): what each event type carries, the
//! type hierarchy subscriptions match against, and the envelope a listener
//! reads. The pools and the listener protocol live in the submodules; the
//! reactor only raises events and hands over the listeners' bytes.

mod bus;
mod listener;
mod pool;

pub use bus::Bus;
pub use listener::ListenerState;

use crate::daemon::log::Channel;
use crate::daemon::proc::process::StateChange;
use crate::pyrepr::output_text;

/// One event: its concrete type name and its payload text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: &'static str,
    pub payload: String,
}

/// The abstract parent of a concrete event type (`EVENT` is everyone's
/// root and is not listed). REMOTE_COMMUNICATION has none.
fn parent(name: &str) -> Option<&'static str> {
    const PARENTS: &[&str] = &[
        "PROCESS_STATE",
        "PROCESS_LOG",
        "PROCESS_COMMUNICATION",
        "SUPERVISOR_STATE_CHANGE",
        "TICK",
        "PROCESS_GROUP",
    ];
    PARENTS.iter().copied().find(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// Whether a pool subscribed to `subscriptions` (upper-case names from
/// `events=`) receives events of the concrete type `name`.
pub fn subscribes(subscriptions: &[String], name: &str) -> bool {
    subscriptions
        .iter()
        .any(|s| s == "EVENT" || s == name || Some(s.as_str()) == parent(name))
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
        let name = match change.to {
            State::Stopped => "PROCESS_STATE_STOPPED",
            State::Starting => "PROCESS_STATE_STARTING",
            State::Running => "PROCESS_STATE_RUNNING",
            State::Backoff => "PROCESS_STATE_BACKOFF",
            State::Stopping => "PROCESS_STATE_STOPPING",
            State::Exited => "PROCESS_STATE_EXITED",
            State::Fatal => "PROCESS_STATE_FATAL",
            State::Unknown => "PROCESS_STATE_UNKNOWN",
        };
        Event { name, payload }
    }

    /// The type of a chunk of output on `channel`.
    pub fn process_log_name(channel: Channel) -> &'static str {
        match channel {
            Channel::Stdout => "PROCESS_LOG_STDOUT",
            Channel::Stderr => "PROCESS_LOG_STDERR",
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
        let name = Self::process_log_name(channel);
        Event {
            name,
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
        let name = match channel {
            Channel::Stdout => "PROCESS_COMMUNICATION_STDOUT",
            Channel::Stderr => "PROCESS_COMMUNICATION_STDERR",
        };
        Event {
            name,
            payload: format!(
                "processname:{process} groupname:{group} pid:{pid}\n{}",
                text(data)
            ),
        }
    }

    /// `supervisor.sendRemoteCommEvent(type, data)`.
    pub fn remote_communication(kind: &str, data: &str) -> Event {
        Event {
            name: "REMOTE_COMMUNICATION",
            payload: format!("type:{kind}\n{data}"),
        }
    }

    pub fn supervisor_running() -> Event {
        Event {
            name: "SUPERVISOR_STATE_CHANGE_RUNNING",
            payload: String::new(),
        }
    }

    pub fn supervisor_stopping() -> Event {
        Event {
            name: "SUPERVISOR_STATE_CHANGE_STOPPING",
            payload: String::new(),
        }
    }

    /// The wall clock entered the slice of `period` seconds starting at `when`.
    pub fn tick(period: u64, when: u64) -> Event {
        let name = match period {
            5 => "TICK_5",
            60 => "TICK_60",
            _ => "TICK_3600",
        };
        Event {
            name,
            payload: format!("when:{when}"),
        }
    }

    pub fn group_added(group: &str) -> Event {
        Event {
            name: "PROCESS_GROUP_ADDED",
            payload: format!("groupname:{group}\n"),
        }
    }

    pub fn group_removed(group: &str) -> Event {
        Event {
            name: "PROCESS_GROUP_REMOVED",
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
        event.name,
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
            assert_eq!((event.name, event.payload.as_str()), (name, payload));
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
        let subs = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
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
        assert_eq!(Event::tick(60, 0).name, "TICK_60");
        assert_eq!(
            Event::remote_communication("alert", "x y").payload,
            "type:alert\nx y"
        );
    }
}
