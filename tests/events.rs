//! Event listeners, black-box: listeners written with Python's standard
//! library (tests/listeners/recorder.py) record every event exactly as they
//! read it — header line, then `len` bytes of payload — and these tests
//! check what arrived against events.md.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::{lines_with, Daemon, RPC_SERVER};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// An `[eventlistener:NAME]` running the recorder into `{dir}/NAME.events`.
fn listener(name: &str, events: &str, mode: &str, extra: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/listeners/recorder.py");
    // The default buffer of 10 events overflows when Python is slow to
    // start on a busy machine and a test raises more than 10 events before
    // the listener's first READY; tests about the buffer set their own.
    let buffer = if extra.contains("buffer_size") {
        ""
    } else {
        "buffer_size=1000\n"
    };
    format!(
        "[eventlistener:{name}]\ncommand=python3 {} {{dir}}/{name}.events {mode}\n\
         events={events}\nstartsecs=0\n{buffer}{extra}",
        script.display()
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Received {
    header: String,
    payload: Vec<u8>,
}

impl Received {
    fn field(&self, key: &str) -> &str {
        self.header
            .split(' ')
            .find_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.header))
    }

    fn name(&self) -> &str {
        self.field("eventname")
    }

    fn text(&self) -> String {
        String::from_utf8(self.payload.clone()).expect("payload is UTF-8")
    }
}

/// What listener `name` has recorded so far.
fn received(d: &Daemon, name: &str) -> Vec<Received> {
    let bytes = fs::read(d.path(&format!("{name}.events"))).unwrap_or_default();
    bytes
        .split(|&b| b == 0x1e)
        .filter(|r| !r.is_empty())
        .map(|record| {
            let end = record
                .iter()
                .position(|&b| b == b'\n')
                .expect("a header line");
            Received {
                header: String::from_utf8(record[..end].to_vec()).unwrap(),
                payload: record[end + 1..].to_vec(),
            }
        })
        .collect()
}

/// Wait until what listener `name` recorded satisfies `test`.
fn wait_received(
    d: &Daemon,
    name: &str,
    what: &str,
    test: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let deadline = Instant::now() + SECS(20);
    loop {
        let events = received(d, name);
        if test(&events) {
            return events;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; {name} got:\n{events:#?}\nlog:\n{}",
                d.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The header supervisord must send for an event of `pool`.
fn header(serial: u64, pool: &str, poolserial: u64, name: &str, payload: &str) -> String {
    format!(
        "ver:3.0 server:supervisor serial:{serial} pool:{pool} poolserial:{poolserial} \
         eventname:{name} len:{}",
        payload.len()
    )
}

/// The pid of the last spawn of `process`, from the main log.
fn spawned_pid(d: &Daemon, process: &str) -> String {
    let needle = format!("spawned: '{process}' with pid ");
    let log = d.wait_for(&needle, SECS(10));
    let line = lines_with(&log, &needle).pop().unwrap();
    line.rsplit(' ').next().unwrap().to_string()
}

#[test]
fn startup_events_arrive_in_order_with_exact_headers() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}[program:hello]\ncommand=sleep 1000\nstartsecs=0\n",
        listener("rec", "EVENT", "ok", "")
    ));
    let events = wait_received(&d, "rec", "hello RUNNING", |e| {
        e.iter()
            .any(|r| r.name() == "PROCESS_STATE_RUNNING" && r.text().contains("processname:hello "))
    });
    let expected = [
        ("PROCESS_GROUP_ADDED", "groupname:rec\n"),
        ("PROCESS_GROUP_ADDED", "groupname:hello\n"),
        ("SUPERVISOR_STATE_CHANGE_RUNNING", ""),
        (
            "PROCESS_STATE_STARTING",
            "processname:rec groupname:rec from_state:STOPPED tries:0",
        ),
    ];
    for (i, (name, payload)) in expected.iter().enumerate() {
        let serial = i as u64;
        assert_eq!(
            (events[i].header.as_str(), events[i].text().as_str()),
            (
                header(serial, "rec", serial, name, payload).as_str(),
                *payload
            ),
            "event {i}"
        );
    }
    // Every event went to the one pool: serial and poolserial count together.
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.field("serial"), i.to_string());
        assert_eq!(event.field("poolserial"), i.to_string());
    }
    let pid = spawned_pid(&d, "hello");
    let running = events
        .iter()
        .find(|r| r.name() == "PROCESS_STATE_RUNNING" && r.text().contains("processname:hello "))
        .unwrap();
    assert_eq!(
        running.text(),
        format!("processname:hello groupname:hello from_state:STARTING pid:{pid}")
    );
    d.shutdown();
}

#[test]
fn every_process_state_change_is_an_event_with_its_fields() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}\
         [program:flaky]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=1\n\
         [program:bad]\ncommand=sh -c 'sleep 0.2; exit 3'\nstartsecs=0\nautorestart=false\n\
         [program:good]\ncommand=sh -c 'sleep 0.2; exit 0'\nstartsecs=0\nautorestart=false\n\
         [program:long]\ncommand=sleep 1000\nstartsecs=0\n",
        listener("rec", "PROCESS_STATE", "ok", "")
    ));
    let (bad, good, long) = (
        spawned_pid(&d, "bad"),
        spawned_pid(&d, "good"),
        spawned_pid(&d, "long"),
    );
    let payloads_of = |events: &[Received], process: &str| -> Vec<(String, String)> {
        let prefix = format!("processname:{process} groupname:{process} ");
        events
            .iter()
            .filter(|r| r.text().starts_with(&prefix))
            .map(|r| (r.name().to_string(), r.text()[prefix.len()..].to_string()))
            .collect()
    };
    wait_received(&d, "rec", "the exits and FATAL", |e| {
        payloads_of(e, "flaky").len() == 5
            && payloads_of(e, "bad").len() == 3
            && payloads_of(e, "good").len() == 3
            && payloads_of(e, "long").len() == 2
    });
    let (out, status) = d.ctl(&["stop", "long"]);
    assert_eq!((out.as_str(), status), ("long: stopped\n", 0));
    let events = wait_received(&d, "rec", "long STOPPED", |e| {
        payloads_of(e, "long").len() == 4
    });

    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(n, p)| (n.to_string(), p.to_string()))
            .collect()
    };
    assert_eq!(
        payloads_of(&events, "flaky"),
        pairs(&[
            ("PROCESS_STATE_STARTING", "from_state:STOPPED tries:0"),
            ("PROCESS_STATE_BACKOFF", "from_state:STARTING tries:1"),
            ("PROCESS_STATE_STARTING", "from_state:BACKOFF tries:1"),
            ("PROCESS_STATE_BACKOFF", "from_state:STARTING tries:2"),
            ("PROCESS_STATE_FATAL", "from_state:BACKOFF"),
        ])
    );
    assert_eq!(
        payloads_of(&events, "bad"),
        pairs(&[
            ("PROCESS_STATE_STARTING", "from_state:STOPPED tries:0"),
            (
                "PROCESS_STATE_RUNNING",
                &format!("from_state:STARTING pid:{bad}")
            ),
            (
                "PROCESS_STATE_EXITED",
                &format!("from_state:RUNNING expected:0 pid:{bad}")
            ),
        ])
    );
    assert_eq!(
        payloads_of(&events, "good")[2],
        (
            "PROCESS_STATE_EXITED".to_string(),
            format!("from_state:RUNNING expected:1 pid:{good}")
        )
    );
    assert_eq!(
        payloads_of(&events, "long")[2..],
        pairs(&[
            (
                "PROCESS_STATE_STOPPING",
                &format!("from_state:RUNNING pid:{long}")
            ),
            (
                "PROCESS_STATE_STOPPED",
                &format!("from_state:STOPPING pid:{long}")
            ),
        ])
    );
    assert!(
        events
            .iter()
            .all(|r| r.name().starts_with("PROCESS_STATE_")),
        "a PROCESS_STATE pool gets nothing else: {events:#?}"
    );
    d.shutdown();
}

#[test]
fn output_events_count_bytes_and_show_undecodable_output_as_python_does() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}\
         [program:talk]\ncommand=sh -c \"printf 'caf\\303\\251 \\342\\234\\223\\n'; \
         sleep 0.1; printf 'bad\\377\\n' >&2; exec sleep 1000\"\n\
         startsecs=0\nstdout_events_enabled=true\nstderr_events_enabled=true\n\
         [program:quiet]\ncommand=sh -c 'echo not an event; exec sleep 1000'\nstartsecs=0\n",
        listener("rec", "PROCESS_LOG", "ok", "")
    ));
    let pid = spawned_pid(&d, "talk");
    let events = wait_received(&d, "rec", "both output events", |e| e.len() >= 2);
    let stdout = format!("processname:talk groupname:talk pid:{pid} channel:stdout\ncafé ✓\n");
    let stderr = format!(
        "processname:talk groupname:talk pid:{pid} channel:stderr\nUndecodable: b'bad\\xff\\n'"
    );
    assert_eq!(
        events[0].header,
        header(0, "rec", 0, "PROCESS_LOG_STDOUT", &stdout)
    );
    assert_eq!(events[0].text(), stdout);
    // len is the byte count: the recorder read exactly the payload, so the
    // next header parsed (a character count would have cut "café ✓" short).
    assert_ne!(stdout.len(), stdout.chars().count());
    assert_eq!(
        events[1].header,
        header(1, "rec", 1, "PROCESS_LOG_STDERR", &stderr)
    );
    assert_eq!(events[1].text(), stderr);
    assert_eq!(events.len(), 2, "quiet has events disabled: {events:#?}");
    d.shutdown();
}

#[test]
fn capture_mode_sends_process_communication_with_the_captured_bytes() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}\
         [program:cap]\ncommand=sh -c \"printf 'before<!--XSUPERVISOR:BEGIN-->captured\\nbody\
         <!--XSUPERVISOR:END-->after\\n'; sleep 0.1; \
         printf '<!--XSUPERVISOR:BEGIN-->on stderr<!--XSUPERVISOR:END-->' >&2; exec sleep 1000\"\n\
         startsecs=0\nstdout_capture_maxbytes=1MB\nstderr_capture_maxbytes=1MB\n\
         stdout_logfile={{dir}}/cap.out\n",
        listener("rec", "PROCESS_COMMUNICATION", "ok", "")
    ));
    let pid = spawned_pid(&d, "cap");
    let events = wait_received(&d, "rec", "two communications", |e| e.len() >= 2);
    let stdout = format!("processname:cap groupname:cap pid:{pid}\ncaptured\nbody");
    let stderr = format!("processname:cap groupname:cap pid:{pid}\non stderr");
    assert_eq!(
        events[0].header,
        header(0, "rec", 0, "PROCESS_COMMUNICATION_STDOUT", &stdout)
    );
    assert_eq!(events[0].text(), stdout);
    assert_eq!(
        events[1].header,
        header(1, "rec", 1, "PROCESS_COMMUNICATION_STDERR", &stderr)
    );
    assert_eq!(events[1].text(), stderr);
    // What was captured is not in the log file; what surrounds it is, and
    // the short tail held back while looking for a token comes out at EOF.
    assert_eq!(d.ctl(&["stop", "cap"]).1, 0);
    common::wait_until("the tail in the log", SECS(10), || {
        fs::read_to_string(d.path("cap.out")).is_ok_and(|t| t == "beforeafter\n")
    });
    d.shutdown();
}

#[test]
fn remote_communication_and_group_events_over_rpc_use_consecutive_serials() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}[program:hello]\ncommand=sleep 1000\nstartsecs=0\n",
        listener("rec", "REMOTE_COMMUNICATION,PROCESS_GROUP", "ok", "")
    ));
    wait_received(&d, "rec", "the groups", |e| e.len() == 2);
    assert!(d
        .rpc(
            "supervisor.sendRemoteCommEvent",
            &["alert", "disk ünïcode full"]
        )
        .contains("<boolean>1</boolean>"));
    assert_eq!(d.ctl(&["stop", "hello"]).1, 0);
    assert_eq!(
        d.ctl(&["remove", "hello"]),
        ("hello: removed process group\n".into(), 0)
    );
    assert_eq!(
        d.ctl(&["add", "hello"]),
        ("hello: added process group\n".into(), 0)
    );
    let events = wait_received(&d, "rec", "remote, removed, added", |e| e.len() == 5);
    let expected = [
        ("PROCESS_GROUP_ADDED", "groupname:rec\n"),
        ("PROCESS_GROUP_ADDED", "groupname:hello\n"),
        ("REMOTE_COMMUNICATION", "type:alert\ndisk ünïcode full"),
        ("PROCESS_GROUP_REMOVED", "groupname:hello\n"),
        ("PROCESS_GROUP_ADDED", "groupname:hello\n"),
    ];
    // Events no pool subscribes to (all the state changes) use no serial.
    for (i, (name, payload)) in expected.iter().enumerate() {
        let serial = i as u64;
        assert_eq!(
            events[i].header,
            header(serial, "rec", serial, name, payload)
        );
        assert_eq!(events[i].text(), *payload);
    }
    d.shutdown();
}

#[test]
fn tick_5_arrives_at_the_start_of_a_new_slice() {
    let started = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut d = Daemon::start(&listener("rec", "TICK_5", "ok", ""));
    let events = wait_received(&d, "rec", "a TICK_5", |e| !e.is_empty());
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let when: u64 = events[0]
        .text()
        .strip_prefix("when:")
        .expect("when:<secs>")
        .parse()
        .unwrap();
    assert_eq!(when % 5, 0, "{events:?}");
    // Not the slice supervisord started in: the first one it entered.
    assert!(when > started && when <= now, "{started} < {when} <= {now}");
    assert_eq!(
        events[0].header,
        header(0, "rec", 0, "TICK_5", &events[0].text())
    );
    d.shutdown();
}

#[test]
fn listeners_hear_that_supervisord_is_stopping() {
    let mut d = Daemon::start(&format!(
        "{}[program:stubborn]\n\
         command=python3 -c \"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); \
         print('up', flush=True); time.sleep(1000)\"\n\
         startsecs=0\nstopwaitsecs=1\nstdout_logfile={{dir}}/stubborn.out\n",
        listener("rec", "SUPERVISOR_STATE_CHANGE", "ok", "")
    ));
    wait_received(&d, "rec", "RUNNING", |e| e.len() == 1);
    common::wait_until("stubborn ignores SIGTERM", SECS(10), || {
        fs::read_to_string(d.path("stubborn.out")).is_ok_and(|t| t == "up\n")
    });
    assert!(d.shutdown().success());
    let events = received(&d, "rec");
    let names: Vec<&str> = events.iter().map(Received::name).collect();
    assert_eq!(
        names,
        [
            "SUPERVISOR_STATE_CHANGE_RUNNING",
            "SUPERVISOR_STATE_CHANGE_STOPPING"
        ]
    );
    assert_eq!(
        events[1].header,
        header(1, "rec", 1, "SUPERVISOR_STATE_CHANGE_STOPPING", "")
    );
}

#[test]
fn a_failed_event_is_redelivered_to_its_own_pool_only() {
    let mut d = Daemon::start_with(
        &format!(
            "{RPC_SERVER}{}{}{}\
             [program:spare]\ncommand=sleep 1000\nautostart=false\n",
            listener("failer", "REMOTE_COMMUNICATION", "fail-first", ""),
            listener("peer", "REMOTE_COMMUNICATION", "ok", ""),
            listener("other", "PROCESS_GROUP", "ok", ""),
        ),
        "debug",
        &[],
    );
    d.rpc("supervisor.sendRemoteCommEvent", &["ping", "x"]);
    let failer = wait_received(&d, "failer", "the redelivery", |e| e.len() == 2);
    assert_eq!(failer[0], failer[1], "same serial, poolserial and payload");
    assert_eq!(failer[0].text(), "type:ping\nx");
    let peer = wait_received(&d, "peer", "the event", |e| !e.is_empty());
    assert_eq!(peer[0].field("serial"), failer[0].field("serial"));
    // `other` gets a PROCESS_GROUP event after the rejection; anything that
    // leaked into its queue would have come before it.
    assert_eq!(d.ctl(&["remove", "spare"]).1, 0);
    let other = wait_received(&d, "other", "the removal", |e| {
        e.iter().any(|r| r.name() == "PROCESS_GROUP_REMOVED")
    });
    assert!(
        other.iter().all(|r| r.name().starts_with("PROCESS_GROUP_")),
        "{other:#?}"
    );
    assert_eq!(received(&d, "peer").len(), 1);
    assert_eq!(
        lines_with(&d.log_text(), "failer: event was rejected").len(),
        1
    );
    assert!(d.log_text().contains(&format!(
        "rebuffering event {} for pool failer",
        failer[0].field("serial")
    )));
    assert!(d.shutdown().success());
}

#[test]
fn a_full_buffer_drops_the_oldest_event_and_logs_it() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}",
        listener("slow", "REMOTE_COMMUNICATION", "hold", "buffer_size=2\n")
    ));
    d.rpc("supervisor.sendRemoteCommEvent", &["t", "e0"]);
    wait_received(&d, "slow", "e0, held", |e| e.len() == 1);
    for n in 1..=5 {
        d.rpc("supervisor.sendRemoteCommEvent", &["t", &format!("e{n}")]);
    }
    let log = d.wait_for("discarding event 3", SECS(10));
    fs::write(d.path("slow.events.release"), "").unwrap();
    let events = wait_received(&d, "slow", "the two kept", |e| e.len() == 3);
    let got: Vec<(String, String, String)> = events
        .iter()
        .map(|r| {
            (
                r.field("serial").to_string(),
                r.field("poolserial").to_string(),
                r.text(),
            )
        })
        .collect();
    let want = |s: &str, p: &str, t: &str| (s.to_string(), p.to_string(), t.to_string());
    assert_eq!(
        got,
        [
            want("0", "0", "type:t\ne0"),
            want("4", "4", "type:t\ne4"),
            want("5", "5", "type:t\ne5")
        ]
    );
    let overflows: Vec<&str> = lines_with(&log, "event buffer overflowed")
        .into_iter()
        .map(|l| &l[24..])
        .collect();
    assert_eq!(
        overflows,
        [
            "ERRO pool slow event buffer overflowed, discarding event 1",
            "ERRO pool slow event buffer overflowed, discarding event 2",
            "ERRO pool slow event buffer overflowed, discarding event 3",
        ]
    );
    assert!(d.shutdown().success());
}

#[test]
fn a_listener_that_breaks_the_protocol_gets_nothing_more_but_keeps_running() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}{}",
        listener("broken", "REMOTE_COMMUNICATION", "double-ready", ""),
        listener("good", "REMOTE_COMMUNICATION", "ok", ""),
    ));
    d.wait_for(
        "WARN broken: has entered the UNKNOWN state and will no longer receive events, \
         this usually indicates the process violated the eventlistener protocol",
        SECS(10),
    );
    d.rpc("supervisor.sendRemoteCommEvent", &["t", "x"]);
    // `good` got it in the same dispatch pass that skipped `broken`.
    wait_received(&d, "good", "the event", |e| e.len() == 1);
    assert!(received(&d, "broken").is_empty());
    let (status, _) = d.ctl(&["status", "broken"]);
    assert!(status.contains("RUNNING"), "{status}");
    assert!(d.shutdown().success());
}

#[test]
fn an_event_in_flight_when_its_listener_dies_is_delivered_again() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}",
        listener("dies", "REMOTE_COMMUNICATION", "die-first", "")
    ));
    d.rpc("supervisor.sendRemoteCommEvent", &["t", "again"]);
    let events = wait_received(&d, "dies", "the redelivery", |e| e.len() == 2);
    assert_eq!(events[0], events[1]);
    d.wait_for("exited: dies (exit status 1; not expected)", SECS(10));
    assert!(lines_with(&d.log_text(), "spawned: 'dies'").len() >= 2);
    assert!(d.shutdown().success());
}

/// Context switches of all of supervisord's threads so far.
fn context_switches(pid: i32) -> u64 {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status = fs::read_to_string(task.unwrap().path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if line.contains("ctxt_switches:") {
                total += line
                    .rsplit('\t')
                    .next()
                    .unwrap()
                    .trim()
                    .parse::<u64>()
                    .unwrap();
            }
        }
    }
    total
}

#[test]
fn a_listener_that_stops_reading_never_blocks_supervisord() {
    const SIZE: u64 = 4 * 1024 * 1024;
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}[program:spew]\n\
         command=sh -c 'yes | head -c {SIZE}; exec sleep 1000'\n\
         startsecs=0\nstdout_events_enabled=true\nstdout_logfile={{dir}}/spew.log\n\
         stdout_logfile_maxbytes=0\n",
        listener("mute", "PROCESS_LOG_STDOUT", "mute", "buffer_size=10\n")
    ));
    // Every byte still reaches the log, though the listener reads nothing.
    common::wait_until("the whole output in the log", SECS(20), || {
        fs::metadata(d.path("spew.log")).is_ok_and(|m| m.len() == SIZE)
    });
    let (status, code) = d.ctl(&["status"]);
    assert_eq!(code, 0, "{status}");
    assert!(
        status.contains("mute") && status.contains("RUNNING"),
        "{status}"
    );
    assert!(d
        .log_text()
        .contains("ERRO pool mute event buffer overflowed"));
    // The unread event waits in a pipe that is watched, not polled.
    let before = context_switches(d.pid());
    std::thread::sleep(SECS(1));
    let woke = context_switches(d.pid()) - before;
    assert!(
        woke <= 3,
        "{woke} context switches in 1 s with a stuck listener"
    );
    assert!(d.shutdown().success());
}

#[test]
fn the_exit_on_fatal_example_stops_supervisord_when_a_program_gives_up() {
    use std::process::{Command, Stdio};
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/eventlistener.conf");
    let mut child = Command::new(common::BIN)
        .arg("-c")
        .arg(&example)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // `broken` fails three times (about 3 s with its backoff), then the
    // listener asks for a shutdown; stderr ends when supervisord exits.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let deadline = Instant::now() + SECS(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            common::terminate(&mut child);
            panic!("supervisord did not stop itself");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap();
    assert!(status.success(), "{status:?}\n{text}");
    assert!(
        text.contains(
            "PROCESS_STATE_FATAL: processname:broken groupname:broken from_state:BACKOFF"
        ),
        "{text}"
    );
}

#[test]
fn a_restart_makes_fresh_pools_but_keeps_counting_serials() {
    let mut d = Daemon::start(&format!(
        "{}[program:hello]\ncommand=sleep 1000\nstartsecs=0\n",
        listener("rec", "PROCESS_GROUP", "ok", "")
    ));
    wait_received(&d, "rec", "the first groups", |e| e.len() == 2);
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let events = wait_received(&d, "rec", "the groups after the restart", |e| e.len() == 4);
    let numbers: Vec<(&str, &str)> = events
        .iter()
        .map(|r| (r.field("serial"), r.field("poolserial")))
        .collect();
    assert_eq!(numbers, [("0", "0"), ("1", "1"), ("2", "0"), ("3", "1")]);
    assert_eq!(events[2].text(), "groupname:rec\n");
    assert!(d.shutdown().success());
}

#[test]
fn update_removes_then_adds_groups_and_listeners_hear_both() {
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}[program:first]\ncommand=sleep 1000\nstartsecs=0\n",
        listener("rec", "PROCESS_GROUP", "ok", "")
    ));
    wait_received(&d, "rec", "the first groups", |e| e.len() == 2);
    let conf = fs::read_to_string(&d.conf).unwrap();
    fs::write(&d.conf, conf.replace("[program:first]", "[program:second]")).unwrap();
    assert_eq!(
        d.ctl(&["update"]).0,
        "first: stopped\nfirst: removed process group\nsecond: added process group\n"
    );
    let events = wait_received(&d, "rec", "removed and added", |e| e.len() == 4);
    let got: Vec<(&str, String)> = events[2..].iter().map(|r| (r.name(), r.text())).collect();
    assert_eq!(
        got,
        [
            ("PROCESS_GROUP_REMOVED", "groupname:first\n".to_string()),
            ("PROCESS_GROUP_ADDED", "groupname:second\n".to_string())
        ]
    );
    assert!(d.shutdown().success());
}

#[test]
fn output_written_after_its_process_was_reaped_is_refused_without_harm() {
    // A background child keeps the pipe and writes after its parent was
    // reaped and the group removed. As in Supervisor, the pipe closed at
    // the reap: the write fails (EPIPE), nothing breaks, no event appears.
    let mut d = Daemon::start(&format!(
        "{RPC_SERVER}{}[program:late]\n\
         command=sh -c 'echo early; (trap \"\" PIPE; while [ ! -e {{dir}}/go ]; do sleep 0.05; done; \
         echo late; echo $? > {{dir}}/late-status) & exec sleep 1000'\n\
         startsecs=0\nstdout_events_enabled=true\n",
        listener("rec", "PROCESS_LOG_STDOUT", "ok", "")
    ));
    wait_received(&d, "rec", "early", |e| e.len() == 1);
    assert_eq!(d.ctl(&["stop", "late"]).1, 0);
    assert_eq!(d.ctl(&["remove", "late"]).1, 0);
    fs::write(d.path("go"), "").unwrap();
    common::wait_until("the late write", SECS(10), || {
        fs::read_to_string(d.path("late-status")).is_ok_and(|s| s.ends_with('\n'))
    });
    let status = fs::read_to_string(d.path("late-status")).unwrap();
    assert_ne!(status.trim(), "0", "the late write went somewhere");
    assert_eq!(received(&d, "rec").len(), 1);
    assert!(d.rpc("supervisor.getState", &[]).contains("RUNNING"));
    assert!(d.shutdown().success());
}

#[test]
fn a_pool_gives_each_event_to_its_first_ready_listener_not_round_robin() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/listeners/recorder.py");
    let mut d = Daemon::start_with(
        &format!(
            "{RPC_SERVER}[eventlistener:pool]\n\
             command=python3 {} {{dir}}/pool%(process_num)d.events hold\n\
             process_name=%(program_name)s_%(process_num)d\nnumprocs=2\n\
             events=REMOTE_COMMUNICATION\nstartsecs=0\n",
            script.display()
        ),
        "debug",
        &[],
    );
    let texts =
        |name: &str| -> Vec<String> { received(&d, name).iter().map(Received::text).collect() };
    // How often `process` has become READY: once at start, then after each event.
    let readies = |process: &str, n: usize| {
        let needle = format!("{process}: ACKNOWLEDGED -> READY");
        d.wait_log(&needle, SECS(10), |t| lines_with(t, &needle).len() == n);
    };
    readies("pool_0", 1);
    readies("pool_1", 1);
    // pool_0 holds its first event: the next one goes to pool_1.
    d.rpc("supervisor.sendRemoteCommEvent", &["t", "e0"]);
    wait_received(&d, "pool0", "e0", |e| e.len() == 1);
    d.rpc("supervisor.sendRemoteCommEvent", &["t", "e1"]);
    wait_received(&d, "pool1", "e1", |e| e.len() == 1);
    fs::write(d.path("pool0.events.release"), "").unwrap();
    fs::write(d.path("pool1.events.release"), "").unwrap();
    readies("pool_0", 2);
    readies("pool_1", 2);
    // With both READY, every event goes to the first one.
    for n in 2..5 {
        d.rpc("supervisor.sendRemoteCommEvent", &["t", &format!("e{n}")]);
        readies("pool_0", n + 1);
    }
    assert_eq!(
        texts("pool0"),
        ["type:t\ne0", "type:t\ne2", "type:t\ne3", "type:t\ne4"]
    );
    assert_eq!(texts("pool1"), ["type:t\ne1"]);
    assert!(d.shutdown().success());
}

#[test]
fn health_changes_are_events_listeners_can_subscribe_to() {
    let mut d = Daemon::start(&format!(
        "{}[program:db]\ncommand=sleep 1000\nstartsecs=0\n\
         healthcheck=test -e {{dir}}/ok\nhealthcheck_interval=0.2\nhealthcheck_retries=1\n",
        listener("rec", "PROCESS_HEALTH", "ok", "")
    ));
    fs::write(d.path("ok"), "").unwrap();
    wait_received(&d, "rec", "healthy", |e| e.len() == 1);
    fs::remove_file(d.path("ok")).unwrap();
    let events = wait_received(&d, "rec", "unhealthy", |e| e.len() == 2);
    let pid = spawned_pid(&d, "db");
    assert_eq!(events[0].name(), "PROCESS_HEALTH_HEALTHY");
    assert_eq!(
        events[0].text(),
        format!("processname:db groupname:db from_health:starting health:healthy pid:{pid}")
    );
    assert_eq!(events[1].name(), "PROCESS_HEALTH_UNHEALTHY");
    assert_eq!(
        events[1].text(),
        format!("processname:db groupname:db from_health:healthy health:unhealthy pid:{pid}")
    );
    assert!(d.shutdown().success());
}
