//! Event types (events.md §5): one list for what `events=` accepts and what
//! the daemon raises, with the hierarchy subscriptions match against.

/// Every event type, abstract parents included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
    /// Our extension: health check results (`healthcheck=`).
    ProcessHealth,
    ProcessHealthHealthy,
    ProcessHealthUnhealthy,
}

use EventType::*;

/// Each type with its name and its parent (`None` only for EVENT; every
/// other type without a listed parent hangs directly off EVENT).
const TABLE: &[(EventType, &str, Option<EventType>)] = &[
    (Event, "EVENT", None),
    (ProcessState, "PROCESS_STATE", Some(Event)),
    (
        ProcessStateStopped,
        "PROCESS_STATE_STOPPED",
        Some(ProcessState),
    ),
    (
        ProcessStateExited,
        "PROCESS_STATE_EXITED",
        Some(ProcessState),
    ),
    (
        ProcessStateStarting,
        "PROCESS_STATE_STARTING",
        Some(ProcessState),
    ),
    (
        ProcessStateStopping,
        "PROCESS_STATE_STOPPING",
        Some(ProcessState),
    ),
    (
        ProcessStateBackoff,
        "PROCESS_STATE_BACKOFF",
        Some(ProcessState),
    ),
    (ProcessStateFatal, "PROCESS_STATE_FATAL", Some(ProcessState)),
    (
        ProcessStateRunning,
        "PROCESS_STATE_RUNNING",
        Some(ProcessState),
    ),
    (
        ProcessStateUnknown,
        "PROCESS_STATE_UNKNOWN",
        Some(ProcessState),
    ),
    (ProcessLog, "PROCESS_LOG", Some(Event)),
    (ProcessLogStdout, "PROCESS_LOG_STDOUT", Some(ProcessLog)),
    (ProcessLogStderr, "PROCESS_LOG_STDERR", Some(ProcessLog)),
    (ProcessCommunication, "PROCESS_COMMUNICATION", Some(Event)),
    (
        ProcessCommunicationStdout,
        "PROCESS_COMMUNICATION_STDOUT",
        Some(ProcessCommunication),
    ),
    (
        ProcessCommunicationStderr,
        "PROCESS_COMMUNICATION_STDERR",
        Some(ProcessCommunication),
    ),
    (RemoteCommunication, "REMOTE_COMMUNICATION", Some(Event)),
    (
        SupervisorStateChange,
        "SUPERVISOR_STATE_CHANGE",
        Some(Event),
    ),
    (
        SupervisorStateChangeRunning,
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        Some(SupervisorStateChange),
    ),
    (
        SupervisorStateChangeStopping,
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        Some(SupervisorStateChange),
    ),
    (Tick, "TICK", Some(Event)),
    (Tick5, "TICK_5", Some(Tick)),
    (Tick60, "TICK_60", Some(Tick)),
    (Tick3600, "TICK_3600", Some(Tick)),
    (ProcessGroup, "PROCESS_GROUP", Some(Event)),
    (ProcessGroupAdded, "PROCESS_GROUP_ADDED", Some(ProcessGroup)),
    (
        ProcessGroupRemoved,
        "PROCESS_GROUP_REMOVED",
        Some(ProcessGroup),
    ),
    (ProcessHealth, "PROCESS_HEALTH", Some(Event)),
    (
        ProcessHealthHealthy,
        "PROCESS_HEALTH_HEALTHY",
        Some(ProcessHealth),
    ),
    (
        ProcessHealthUnhealthy,
        "PROCESS_HEALTH_UNHEALTHY",
        Some(ProcessHealth),
    ),
];

impl EventType {
    fn row(self) -> &'static (EventType, &'static str, Option<EventType>) {
        TABLE
            .iter()
            .find(|(t, _, _)| *t == self)
            .expect("every type is in the table")
    }

    /// The name on the wire and in `events=`.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    pub fn parent(self) -> Option<EventType> {
        self.row().2
    }

    /// The type called `name` (upper-case), if any.
    pub fn parse(name: &str) -> Option<EventType> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(t, _, _)| *t)
    }

    /// Whether a subscription to `self` receives events of type `event`:
    /// the type itself or any of its ancestors.
    pub fn covers(self, event: EventType) -> bool {
        let mut t = Some(event);
        while let Some(current) = t {
            if current == self {
                return true;
            }
            t = current.parent();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_parents_form_a_tree() {
        for (t, name, _) in TABLE {
            assert_eq!(EventType::parse(name), Some(*t));
            assert_eq!(t.name(), *name);
            assert!(Event.covers(*t));
        }
        assert_eq!(EventType::parse("process_state"), None);
        assert_eq!(EventType::parse("NOPE"), None);
    }

    #[test]
    fn a_subscription_covers_its_type_and_descendants_only() {
        assert!(ProcessState.covers(ProcessStateExited));
        assert!(ProcessStateExited.covers(ProcessStateExited));
        assert!(!ProcessStateExited.covers(ProcessState));
        assert!(!ProcessLog.covers(Tick5));
        assert!(!Tick.covers(RemoteCommunication));
        assert!(ProcessHealth.covers(ProcessHealthUnhealthy));
    }
}
