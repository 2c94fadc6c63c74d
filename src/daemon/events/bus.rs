//! Every listener pool and its listeners: who subscribes to what, the global
//! serial, dispatch to ready listeners, and the TICK clock. Pure: the
//! reactor says which listeners run and does the writing.

use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use super::listener::{Listener, ListenerState};
use super::pool::{next_serial, Pool};
use super::{envelope, subscribes, Event};
use crate::config::EventType;
use crate::config::{self, GroupKind, LogLevel};
use crate::daemon::proc::status::Now;
use crate::daemon::proc::table::{GroupId, Key};

type Logs = Vec<(LogLevel, String)>;

/// TICK periods, in the order their events go out when several roll over.
const TICK_PERIODS: [u64; 3] = [5, 60, 3600];

/// A pool and its listeners, which are the processes of group `slot`
/// (listener `i` is process `i`).
#[derive(Debug)]
struct Member {
    slot: GroupId,
    pool: Pool,
    listeners: Vec<Listener>,
}

#[derive(Debug, Default)]
pub struct Bus {
    /// In subscription order: the order pools were created.
    members: Vec<Member>,
    /// The last serial given out; never reset, not even by a reload.
    last_serial: Option<u64>,
    /// Per TICK period: the start of the current slice, while subscribed.
    tick_slices: [Option<u64>; 3],
}

impl Bus {
    /// A reload: the old pools go, the serial counter stays.
    pub fn reset(&mut self) {
        self.members.clear();
        self.tick_slices = [None; 3];
    }

    /// Subscribe the pool of a new group (other groups have no pool).
    pub fn add_pool(&mut self, slot: GroupId, group: &config::ProcessGroup, wall: SystemTime) {
        let GroupKind::EventListenerPool(options) = &group.kind else {
            return;
        };
        self.members.push(Member {
            slot,
            pool: Pool::new(
                &group.name,
                options.events.clone(),
                usize::try_from(options.buffer_size).unwrap_or(1),
            ),
            listeners: group
                .processes
                .iter()
                .map(|p| Listener::new(&p.name))
                .collect(),
        });
        self.arm_ticks(wall);
    }

    /// Unsubscribe a group's pool before the group goes; its queue is lost.
    pub fn remove_pool(&mut self, slot: GroupId, wall: SystemTime) {
        self.members.retain(|m| m.slot != slot);
        self.arm_ticks(wall);
    }

    fn listener_mut(&mut self, key: Key) -> Option<(&mut Pool, &mut Listener)> {
        let member = self.members.iter_mut().find(|m| m.slot == key.group)?;
        let listener = member.listeners.get_mut(key.process)?;
        Some((&mut member.pool, listener))
    }

    /// Whether `key` is a listener (its stdout is the protocol channel).
    pub fn is_listener(&self, key: Key) -> bool {
        self.members.iter().any(|m| m.slot == key.group)
    }

    pub fn listener_state(&self, key: Key) -> Option<ListenerState> {
        let member = self.members.iter().find(|m| m.slot == key.group)?;
        member.listeners.get(key.process).map(Listener::state)
    }

    /// Whether any pool would take an event of type `name` (so that costly
    /// payloads are only built when someone listens).
    pub fn wants(&self, kind: EventType) -> bool {
        self.members
            .iter()
            .any(|m| subscribes(&m.pool.subscriptions, kind))
    }

    /// Offer an event to every subscribed pool. It gets the next serial
    /// only if some pool takes it.
    pub fn publish(&mut self, event: Event, logs: &mut Logs) {
        if !self.wants(event.kind) {
            return;
        }
        let serial = next_serial(&mut self.last_serial);
        let event = Rc::new(event);
        for member in &mut self.members {
            if subscribes(&member.pool.subscriptions, event.kind) {
                member.pool.accept(event.clone(), serial, logs);
            }
        }
    }

    /// A listener was spawned as `pid`.
    pub fn spawned(&mut self, key: Key, pid: i32) {
        if let Some((_, listener)) = self.listener_mut(key) {
            listener.spawned(pid);
        }
    }

    /// A listener ended; an event it was handling goes back to its own pool.
    pub fn exited(&mut self, key: Key, logs: &mut Logs) {
        if let Some((pool, listener)) = self.listener_mut(key) {
            if let Some(event) = listener.exited() {
                pool.requeue(event, logs);
            }
        }
    }

    /// Bytes from a listener's stdout. A rejected event is re-queued in the
    /// listener's own pool only (Supervisor also re-queues it in every pool
    /// whose listeners share the priority).
    pub fn listener_output(&mut self, key: Key, pid: i32, data: &[u8], logs: &mut Logs) {
        if let Some((pool, listener)) = self.listener_mut(key) {
            if let Some(event) = listener.feed(pid, data, logs) {
                pool.requeue(event, logs);
            }
        }
    }

    /// Send queued events to listeners that are RUNNING (`running_pid`
    /// gives their pid) and READY: per pool, oldest event first, each to
    /// the first ready listener in the pool's order. `write` queues bytes
    /// for a pid's stdin and fails when that stdin is gone.
    pub fn dispatch(
        &mut self,
        server: &str,
        running_pid: impl Fn(Key) -> Option<i32>,
        mut write: impl FnMut(i32, &[u8]) -> io::Result<()>,
        logs: &mut Logs,
    ) {
        for member in &mut self.members {
            if member.pool.is_empty() {
                continue;
            }
            let slot = member.slot;
            let key = |process| Key {
                group: slot,
                process,
            };
            let ready = |listeners: &[Listener], i: usize| {
                listeners[i].state() == ListenerState::Ready && running_pid(key(i)).is_some()
            };
            if !(0..member.listeners.len()).any(|i| ready(&member.listeners, i)) {
                continue;
            }
            while let Some(queued) = member.pool.take() {
                let mut undelivered = Some(queued);
                for i in 0..member.listeners.len() {
                    if !ready(&member.listeners, i) {
                        continue;
                    }
                    let (Some(pid), Some(queued)) = (running_pid(key(i)), undelivered.take())
                    else {
                        break;
                    };
                    let bytes = envelope(
                        server,
                        queued.serial,
                        &member.pool.name,
                        queued.poolserial,
                        &queued.event,
                    );
                    let listener = &mut member.listeners[i];
                    if write(pid, &bytes).is_err() {
                        logs.push((
                            LogLevel::Debug,
                            format!(
                                "epipe occurred while sending event {} to listener {}, \
                                 listener state unchanged",
                                queued.serial,
                                listener.name()
                            ),
                        ));
                        undelivered = Some(queued);
                        continue;
                    }
                    logs.push((
                        LogLevel::Debug,
                        format!(
                            "event {} sent to listener {}",
                            queued.serial,
                            listener.name()
                        ),
                    ));
                    listener.sent(queued);
                }
                if let Some(queued) = undelivered {
                    member.pool.requeue(queued, logs);
                    break;
                }
            }
        }
    }

    /// Which TICK periods someone subscribes to: those get a clock, the
    /// others none (no wakeups for events nobody reads). A newly armed
    /// period starts at the current slice: the first TICK is the next one.
    fn arm_ticks(&mut self, wall: SystemTime) {
        let now = epoch_secs(wall);
        for (i, period) in TICK_PERIODS.into_iter().enumerate() {
            let wanted = self.wants(Event::tick(period, 0).kind);
            self.tick_slices[i] = match (wanted, self.tick_slices[i]) {
                (false, _) => None,
                (true, Some(slice)) => Some(slice),
                (true, None) => Some(now - now % period),
            };
        }
    }

    /// When the next subscribed TICK slice begins.
    pub fn tick_deadline(&self, now: Now) -> Option<Instant> {
        let since_epoch = now
            .wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        TICK_PERIODS
            .into_iter()
            .zip(self.tick_slices)
            .filter_map(|(period, slice)| slice.map(|s| s + period))
            .map(|next| now.mono + Duration::from_secs(next).saturating_sub(since_epoch))
            .min()
    }

    /// The TICK events of the slices entered since the last call. Missed
    /// slices are not caught up; a clock set back starts counting anew.
    pub fn due_ticks(&mut self, now: Now) -> Vec<Event> {
        let secs = epoch_secs(now.wall);
        let mut due = Vec::new();
        for (i, period) in TICK_PERIODS.into_iter().enumerate() {
            let Some(last) = self.tick_slices[i] else {
                continue;
            };
            let slice = secs - secs % period;
            if slice > last {
                due.push(Event::tick(period, slice));
            }
            if slice != last {
                self.tick_slices[i] = Some(slice);
            }
        }
        due
    }
}

fn epoch_secs(wall: SystemTime) -> u64 {
    wall.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Host, Overrides, ProcessGroup};
    use std::path::{Path, PathBuf};

    /// A pool as the config loader makes it from an `[eventlistener:x]` section.
    fn group(name: &str, events: &[&str], buffer_size: i64, listeners: usize) -> ProcessGroup {
        let text = format!(
            "[supervisord]\n[eventlistener:{name}]\ncommand=/bin/cat\nevents={}\n\
             buffer_size={buffer_size}\nnumprocs={listeners}\nprocess_name=%(program_name)s_%(process_num)d\n",
            events.join(",")
        );
        let host = Host {
            env: Vec::new(),
            node_name: "node".into(),
            cwd: PathBuf::from("/"),
        };
        let config = config::load::load_text(
            Path::new("/test.conf"),
            text.as_bytes(),
            &Overrides::default(),
            &host,
        )
        .unwrap();
        config.groups.into_iter().next().unwrap()
    }

    fn wall(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn id(slot: usize) -> GroupId {
        GroupId {
            slot,
            generation: 0,
        }
    }

    fn key(group: usize, process: usize) -> Key {
        Key {
            group: id(group),
            process,
        }
    }

    /// Make every listener of `slot` READY as pid 1000 + process index.
    fn ready(bus: &mut Bus, slot: usize, listeners: usize) {
        let mut logs = Vec::new();
        for i in 0..listeners {
            bus.spawned(key(slot, i), 1000 + i as i32);
            bus.listener_output(key(slot, i), 1000 + i as i32, b"READY\n", &mut logs);
        }
    }

    /// Dispatch with every listener running; returns (pid, bytes) written.
    fn dispatch(bus: &mut Bus, logs: &mut Logs) -> Vec<(i32, String)> {
        let mut sent = Vec::new();
        bus.dispatch(
            "supervisor",
            |k| Some(1000 + k.process as i32),
            |pid, bytes| {
                sent.push((pid, String::from_utf8(bytes.to_vec()).unwrap()));
                Ok(())
            },
            logs,
        );
        sent
    }

    #[test]
    fn serial_is_global_and_only_used_when_someone_subscribes() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("a", &["TICK"], 10, 1), wall(0));
        bus.add_pool(id(1), &group("b", &["EVENT"], 10, 1), wall(0));
        let mut logs = Vec::new();
        bus.publish(Event::group_added("x"), &mut logs); // b only: serial 0
        bus.publish(Event::tick(5, 5), &mut logs); // both: serial 1
        ready(&mut bus, 0, 1);
        ready(&mut bus, 1, 1);
        let sent = dispatch(&mut bus, &mut logs);
        assert_eq!(
            sent,
            [
                (
                    1000,
                    "ver:3.0 server:supervisor serial:1 pool:a poolserial:0 eventname:TICK_5 \
                     len:6\nwhen:5"
                        .to_string()
                ),
                (
                    1000,
                    "ver:3.0 server:supervisor serial:0 pool:b poolserial:0 \
                     eventname:PROCESS_GROUP_ADDED len:12\ngroupname:x\n"
                        .to_string()
                ),
            ]
        );
        let mut none = Bus::default();
        none.publish(Event::tick(5, 5), &mut logs);
        assert_eq!(none.last_serial, None);
    }

    #[test]
    fn first_ready_listener_gets_it_and_busy_ones_are_skipped() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("p", &["EVENT"], 10, 2), wall(0));
        ready(&mut bus, 0, 2);
        let mut logs = Vec::new();
        for _ in 0..3 {
            bus.publish(Event::supervisor_running(), &mut logs);
        }
        logs.clear();
        let sent: Vec<i32> = dispatch(&mut bus, &mut logs)
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(sent, [1000, 1001]);
        assert_eq!(
            logs.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
            [
                "event 0 sent to listener p_0",
                "event 1 sent to listener p_1",
                "rebuffering event 2 for pool p (buf size=0, max=10)",
            ]
        );
        assert_eq!(bus.listener_state(key(0, 0)), Some(ListenerState::Busy));
    }

    #[test]
    fn a_listener_not_running_gets_nothing_even_when_ready() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("p", &["EVENT"], 10, 1), wall(0));
        ready(&mut bus, 0, 1);
        let mut logs = Vec::new();
        bus.publish(Event::supervisor_running(), &mut logs);
        let mut sent = 0;
        bus.dispatch(
            "s",
            |_| None,
            |_, _| {
                sent += 1;
                Ok(())
            },
            &mut logs,
        );
        assert_eq!(sent, 0);
    }

    #[test]
    fn epipe_tries_the_next_listener() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("p", &["EVENT"], 10, 2), wall(0));
        ready(&mut bus, 0, 2);
        let mut logs = Vec::new();
        bus.publish(Event::supervisor_running(), &mut logs);
        let mut to = Vec::new();
        bus.dispatch(
            "s",
            |k| Some(1000 + k.process as i32),
            |pid, _| {
                to.push(pid);
                if pid == 1000 {
                    Err(io::ErrorKind::BrokenPipe.into())
                } else {
                    Ok(())
                }
            },
            &mut logs,
        );
        assert_eq!(to, [1000, 1001]);
        assert!(logs.iter().any(|l| l.1
            == "epipe occurred while sending event 0 to listener p_0, listener state unchanged"));
        assert_eq!(bus.listener_state(key(0, 0)), Some(ListenerState::Ready));
        assert_eq!(bus.listener_state(key(0, 1)), Some(ListenerState::Busy));
    }

    #[test]
    fn a_rejected_event_is_redelivered_in_its_own_pool_only() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("a", &["TICK_5"], 10, 1), wall(0));
        bus.add_pool(id(1), &group("b", &["PROCESS_GROUP_ADDED"], 10, 1), wall(0));
        ready(&mut bus, 0, 1);
        ready(&mut bus, 1, 1);
        let mut logs = Vec::new();
        bus.publish(Event::tick(5, 5), &mut logs);
        assert_eq!(dispatch(&mut bus, &mut logs).len(), 1);
        bus.listener_output(key(0, 0), 1000, b"RESULT 4\nFAILREADY\n", &mut logs);
        let again = dispatch(&mut bus, &mut logs);
        assert_eq!(again.len(), 1);
        assert!(again[0]
            .1
            .contains("serial:0 pool:a poolserial:0 eventname:TICK_5"));
    }

    #[test]
    fn an_exit_while_busy_puts_the_event_back_first() {
        let mut bus = Bus::default();
        bus.add_pool(id(0), &group("p", &["EVENT"], 10, 1), wall(0));
        ready(&mut bus, 0, 1);
        let mut logs = Vec::new();
        bus.publish(Event::supervisor_running(), &mut logs);
        dispatch(&mut bus, &mut logs);
        bus.publish(Event::supervisor_stopping(), &mut logs);
        bus.exited(key(0, 0), &mut logs);
        ready(&mut bus, 0, 1);
        let sent = dispatch(&mut bus, &mut logs);
        assert!(sent[0].1.contains("serial:0 "), "{sent:?}");
    }

    #[test]
    fn ticks_only_while_subscribed_and_never_for_the_first_slice() {
        let mut bus = Bus::default();
        let at = |secs: u64| Now {
            mono: Instant::now(),
            wall: wall(secs),
        };
        assert_eq!(bus.tick_deadline(at(12)), None);
        bus.add_pool(id(0), &group("p", &["TICK_5", "TICK_60"], 10, 1), wall(12));
        let now = at(12);
        let deadline = bus.tick_deadline(now).unwrap();
        assert_eq!(deadline - now.mono, Duration::from_secs(3));
        assert!(bus.due_ticks(at(14)).is_empty());
        let due = bus.due_ticks(at(61));
        assert_eq!(
            due,
            [Event::tick(5, 60), Event::tick(60, 60)],
            "missed slices are not caught up"
        );
        bus.remove_pool(id(0), wall(62));
        assert_eq!(bus.tick_deadline(at(62)), None);
    }
}
