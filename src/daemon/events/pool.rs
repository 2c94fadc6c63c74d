//! A pool's event buffer (events.md §4): FIFO with a fixed capacity, the
//! oldest event dropped on overflow, rejected events back at the head.

use std::collections::VecDeque;
use std::rc::Rc;

use super::Event;
use crate::config::LogLevel;

/// An event in (or taken from) a pool's buffer, with its numbers; a
/// redelivery keeps both.
#[derive(Debug, Clone)]
pub struct Queued {
    pub event: Rc<Event>,
    pub serial: u64,
    pub poolserial: u64,
}

/// The next number of a counter that starts at 0 and, like Supervisor's,
/// wraps from the platform's largest int back to 0.
pub fn next_serial(last: &mut Option<u64>) -> u64 {
    let next = match *last {
        Some(n) if n < i64::MAX as u64 => n + 1,
        _ => 0,
    };
    *last = Some(next);
    next
}

#[derive(Debug)]
pub struct Pool {
    pub name: String,
    /// The `events=` types.
    pub subscriptions: Vec<crate::config::EventType>,
    capacity: usize,
    buffer: VecDeque<Queued>,
    last_poolserial: Option<u64>,
}

type Logs = Vec<(LogLevel, String)>;

impl Pool {
    pub fn new(name: &str, subscriptions: Vec<crate::config::EventType>, capacity: usize) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions,
            // The config refuses 0; a pool that could hold nothing would
            // drop every event.
            capacity: capacity.max(1),
            buffer: VecDeque::new(),
            last_poolserial: None,
        }
    }

    /// A new event enters the pool and gets its pool serial.
    pub fn accept(&mut self, event: Rc<Event>, serial: u64, logs: &mut Logs) {
        let poolserial = next_serial(&mut self.last_poolserial);
        self.make_room(logs);
        self.buffer.push_back(Queued {
            event,
            serial,
            poolserial,
        });
    }

    /// An event that could not be delivered, or was rejected, goes back to
    /// the head: it is the next one sent.
    pub fn requeue(&mut self, queued: Queued, logs: &mut Logs) {
        logs.push((
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                queued.serial,
                self.name,
                self.buffer.len(),
                self.capacity
            ),
        ));
        self.make_room(logs);
        self.buffer.push_front(queued);
    }

    /// A full buffer loses its oldest event (the one at the head).
    fn make_room(&mut self, logs: &mut Logs) {
        if self.buffer.len() < self.capacity {
            return;
        }
        if let Some(dropped) = self.buffer.pop_front() {
            logs.push((
                LogLevel::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, dropped.serial
                ),
            ));
        }
    }

    /// The oldest event, to be sent.
    pub fn take(&mut self) -> Option<Queued> {
        self.buffer.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Rc<Event> {
        Rc::new(Event::supervisor_running())
    }

    fn serials(pool: &Pool) -> Vec<u64> {
        pool.buffer.iter().map(|q| q.serial).collect()
    }

    #[test]
    fn overflow_drops_the_oldest_and_says_so() {
        let mut pool = Pool::new("p", vec![crate::config::EventType::Event], 2);
        let mut logs = Vec::new();
        for serial in 0..3 {
            pool.accept(event(), serial, &mut logs);
        }
        assert_eq!(serials(&pool), [1, 2]);
        assert_eq!(
            logs,
            [(
                LogLevel::Error,
                "pool p event buffer overflowed, discarding event 0".to_string()
            )]
        );
    }

    #[test]
    fn requeue_goes_to_the_head_and_may_push_out_the_oldest() {
        let mut pool = Pool::new("p", vec![crate::config::EventType::Event], 2);
        let mut logs = Vec::new();
        pool.accept(event(), 0, &mut logs);
        let first = pool.take().unwrap();
        pool.accept(event(), 1, &mut logs);
        pool.accept(event(), 2, &mut logs);
        pool.requeue(first, &mut logs);
        // Supervisor drops the head (the oldest waiting event), then inserts
        // the rejected one there.
        assert_eq!(serials(&pool), [0, 2]);
        assert_eq!(
            logs,
            [
                (
                    LogLevel::Debug,
                    "rebuffering event 0 for pool p (buf size=2, max=2)".to_string()
                ),
                (
                    LogLevel::Error,
                    "pool p event buffer overflowed, discarding event 1".to_string()
                ),
            ]
        );
    }

    #[test]
    fn pool_serials_count_from_zero_per_pool_and_survive_requeue() {
        let mut pool = Pool::new("p", vec![crate::config::EventType::Event], 10);
        let mut logs = Vec::new();
        pool.accept(event(), 5, &mut logs);
        pool.accept(event(), 9, &mut logs);
        let first = pool.take().unwrap();
        assert_eq!((first.serial, first.poolserial), (5, 0));
        pool.requeue(first, &mut logs);
        let again = pool.take().unwrap();
        assert_eq!((again.serial, again.poolserial), (5, 0));
        assert_eq!(pool.take().unwrap().poolserial, 1);
    }

    #[test]
    fn serials_wrap_at_the_largest_int() {
        let mut last = None;
        assert_eq!(next_serial(&mut last), 0);
        assert_eq!(next_serial(&mut last), 1);
        let mut last = Some(i64::MAX as u64);
        assert_eq!(next_serial(&mut last), 0);
    }
}
