//! Raising events and handing them to the listener pools.

use super::Daemon;
use crate::daemon::events::Event;
use crate::daemon::log::outputs::Produced;
use crate::daemon::proc::status::State;

impl Daemon {
    /// Offer an event to the listener pools that subscribe to it.
    pub(crate) fn raise(&mut self, event: Event) {
        let mut logs = Vec::new();
        self.bus.publish(event, &mut logs);
        self.log_all(logs);
    }

    /// Every active group was just created (startup, restart): pools
    /// subscribe in start order, each before its own PROCESS_GROUP_ADDED,
    /// then supervisord is RUNNING.
    pub(crate) fn groups_created(&mut self) {
        let wall = std::time::SystemTime::now();
        let ids: Vec<_> = self.table.groups().map(|(id, _)| id).collect();
        for id in ids {
            let group = &self.table.group(id).config;
            self.bus.add_pool(id, group, wall);
            let added = Event::group_added(&group.name);
            self.raise(added);
        }
        self.raise(Event::supervisor_running());
    }

    /// What output produced: PROCESS_LOG and PROCESS_COMMUNICATION events,
    /// and the listeners' protocol bytes.
    pub(crate) fn handle_emitted(&mut self) {
        for emitted in std::mem::take(&mut self.emitted) {
            let (process, group) = (&emitted.process, &emitted.group);
            let event = match &emitted.what {
                Produced::Log(data) => {
                    // A chunk is only copied into a payload if someone listens.
                    let kind = Event::process_log_kind(emitted.channel);
                    self.bus.wants(kind).then(|| {
                        Event::process_log(emitted.channel, process, group, emitted.pid, data)
                    })
                }
                Produced::Communication(data) => Some(Event::process_communication(
                    emitted.channel,
                    process,
                    group,
                    emitted.pid,
                    data,
                )),
                Produced::Protocol(data) => {
                    let mut logs = Vec::new();
                    self.bus
                        .listener_output(emitted.key, emitted.pid, data, &mut logs);
                    self.log_all(logs);
                    None
                }
            };
            if let Some(event) = event {
                self.raise(event);
            }
        }
    }

    /// Hand queued events to ready listeners.
    pub(crate) fn dispatch_events(&mut self) {
        let mut logs = Vec::new();
        let table = &self.table;
        let stdin = &mut self.stdin;
        let registry = &self.registry;
        self.bus.dispatch(
            &self.config.supervisord.identifier,
            |key| {
                let process = table.get(key)?;
                process.pid().filter(|_| process.state() == State::Running)
            },
            |pid, bytes| stdin.write(registry, pid, bytes),
            &mut logs,
        );
        self.log_all(logs);
    }
}
