//! The daemon driven directly, without an event loop: calls go in, answers
//! come out of [`Daemon::take_answers`]. Nothing here forks; processes that
//! would run are only given states.

use std::sync::mpsc::{channel, Receiver};

use super::{Daemon, Source};
use crate::config::{self, Host, Overrides};
use crate::daemon::log::mainlog::MainLog;
use crate::daemon::rpc::{Answer, Waiter};
use crate::xmlrpc::{faults, Call, Value};

const RPC: &str = "[rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n";

struct Fixture {
    daemon: Daemon,
    dir: tempfile::TempDir,
    _poll: mio::Poll,
}

/// A daemon on `programs`, nothing started (no poll, no loop).
fn daemon(programs: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("supervisord.conf");
    let d = dir.path().display();
    std::fs::write(
        &file,
        format!(
            "[supervisord]\nlogfile={d}/main.log\npidfile={d}/pid\n\
             childlogdir={d}\n{RPC}{programs}"
        ),
    )
    .unwrap();
    let overrides = Overrides::default();
    let config = config::load(&file, &overrides, &Host::current()).unwrap();
    let poll = mio::Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let source = Source { file, overrides };
    Fixture {
        daemon: Daemon::new(config, source, MainLog::queued(), registry),
        dir,
        _poll: poll,
    }
}

fn call(d: &mut Daemon, method: &str, params: Vec<Value>) -> Receiver<Answer> {
    let (tx, rx) = channel();
    d.call(
        Call {
            method: method.into(),
            params,
        },
        tx,
    );
    for (reply, answer) in d.take_answers() {
        let _ = reply.send(answer);
    }
    rx
}

#[test]
fn removing_a_group_answers_the_calls_waiting_on_it_first() {
    let mut f = daemon("[program:p]\ncommand=sleep 1\nautostart=false\n");
    let d = &mut f.daemon;
    let key = d.table.keys()[0];
    // A stop that was waiting when the process stopped, not yet settled
    // (the exit and the removal arrived in the same pass of the loop).
    let (tx, waiting) = channel();
    d.waiting.push((Waiter::Stop(key), tx));
    let removed = call(d, "supervisor.removeProcessGroup", vec![Value::str("p")]);
    assert_eq!(removed.try_recv().unwrap(), Ok(Value::Bool(true)));
    assert_eq!(waiting.try_recv().unwrap(), Ok(Value::Bool(true)));
    assert!(d.waiting.is_empty());
    assert!(d.table.get(key).is_none(), "the key went stale");
}

#[test]
fn a_waiter_with_a_stale_key_is_answered_not_a_panic() {
    let mut f = daemon("[program:p]\ncommand=sleep 1\nautostart=false\n");
    let d = &mut f.daemon;
    let key = d.table.keys()[0];
    let id = key.group;
    d.table.remove_group(id);
    let again = d.table.add_group(d.config.groups[0].clone());
    assert_eq!(again.slot, id.slot, "the slot is reused");
    assert_ne!(again, id, "with a new generation");
    for (waiter, expected) in [
        (Waiter::Stop(key), Ok(Value::Bool(true))),
        (
            Waiter::Start(key),
            Err(crate::xmlrpc::Fault::named(
                faults::ABNORMAL_TERMINATION,
                None,
            )),
        ),
    ] {
        let (tx, rx) = channel();
        d.waiting.push((waiter, tx));
        d.settle_waiting();
        for (reply, answer) in d.take_answers() {
            let _ = reply.send(answer);
        }
        assert_eq!(rx.try_recv().unwrap(), expected);
    }
}

#[test]
fn adding_and_removing_groups_reuses_slots() {
    let mut f = daemon("[program:p]\ncommand=sleep 1\nautostart=false\n");
    let d = &mut f.daemon;
    call(d, "supervisor.reloadConfig", vec![]);
    for _ in 0..100 {
        let removed = call(d, "supervisor.removeProcessGroup", vec![Value::str("p")]);
        assert_eq!(removed.try_recv().unwrap(), Ok(Value::Bool(true)));
        let added = call(d, "supervisor.addProcessGroup", vec![Value::str("p")]);
        assert_eq!(added.try_recv().unwrap(), Ok(Value::Bool(true)));
    }
    assert_eq!(d.table.groups().count(), 1);
    assert!(d.table.slot_count() <= 2, "{} slots", d.table.slot_count());
}

#[test]
fn the_snapshot_shows_every_process_by_group_then_name() {
    let mut f = daemon(
        "[program:b]\ncommand=sleep 1\nautostart=false\n\
         [program:a]\ncommand=sleep 1\nautostart=false\npriority=1\n\
         [group:g]\nprograms=b\n",
    );
    let snapshot = f.daemon.snapshot(7);
    let names: Vec<String> = snapshot
        .processes
        .iter()
        .map(|v| v.process.config.namespec())
        .collect();
    assert_eq!(names, ["a", "g:b"]);
    assert_eq!(snapshot.generation, 7);
    assert_eq!(
        snapshot.main_log.as_deref(),
        Some(f.dir.path().join("main.log").as_path())
    );
    assert!(!f.daemon.snapshot_stale());
}

#[test]
fn nothing_is_due_in_a_daemon_with_nothing_to_do() {
    let mut f = daemon("[program:p]\ncommand=sleep 1\nautostart=false\n");
    let now = crate::daemon::proc::status::Now::current();
    f.daemon.on_time(now);
    assert_eq!(f.daemon.deadline(now), None, "an idle daemon never wakes");
}
