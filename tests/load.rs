//! Load tests of the HTTP servers: many concurrent clients, with the
//! daemon's threads and memory measured while they run. The figures are
//! printed (`cargo test --test load -- --nocapture`) so they can be quoted.
//!
//! Bounds asserted (see `http::limits`):
//! * threads: a server answers with at most `MAX_WORKERS` worker threads
//!   whatever the number of clients, so the daemon stays under
//!   `MAX_WORKERS` + [`FIXED_THREADS`];
//! * memory: [`MAX_RSS_KB`] resident for 1,000 concurrent calls (the debug
//!   build; a release build needs less);
//! * idle and slow connections cost no thread at all.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::http::{
    assert_answers_within, burst, proc_status, raise_nofile, rpc_request, sample_until,
    server_connections, Served, Target,
};
use common::wait_until;

use supervisord::daemon::http::limits::{MAX_WORKERS, REQUEST_TIMEOUT};

/// Threads besides the workers: the main thread (the reactor), one I/O
/// thread per server, and a margin for short-lived ones.
const FIXED_THREADS: u64 = 8;

/// Resident memory allowed during the burst of 1,000 calls.
const MAX_RSS_KB: u64 = 32 * 1024;

/// Programs, so that `getAllProcessInfo` has something to say.
const PROGRAMS: &str = "[program:a]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:b]\ncommand=sleep 1000\nstartsecs=0\n\
     [program:c]\ncommand=sleep 1000\nstartsecs=0\n";

fn threads_and_rss(pid: i32) -> (u64, u64) {
    (
        proc_status(pid, "Threads").unwrap_or(0),
        proc_status(pid, "VmRSS").unwrap_or(0),
    )
}

#[test]
fn a_thousand_concurrent_calls_are_all_answered_with_bounded_threads_and_memory() {
    const CLIENTS: usize = 1000;
    let fds = raise_nofile(4096);
    assert!(fds >= 2 * CLIENTS as u64, "open-files limit {fds} too low");
    let served = Served::start(fds, PROGRAMS);
    let pid = served.pid();
    wait_until("the programs", Duration::from_secs(10), || {
        served
            .daemon
            .log_text()
            .matches("entered RUNNING state")
            .count()
            == 3
    });
    let (threads_before, rss_before) = threads_and_rss(pid);

    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        thread::spawn(move || sample_until(pid, &done))
    };
    let request = rpc_request("supervisor.getAllProcessInfo", &[]);
    let result = burst(served.port, CLIENTS, &request, Duration::from_secs(60));
    done.store(true, Ordering::SeqCst);
    let peak = sampler.join().unwrap();

    assert!(
        result.failures.is_empty(),
        "{} failures, first: {}",
        result.failures.len(),
        result.failures[0]
    );
    assert_eq!(result.count(200), CLIENTS, "{:?}", result.statuses);
    eprintln!(
        "{CLIENTS} concurrent getAllProcessInfo calls over TCP: all answered 200 in {:?} \
         (slowest client {:?})",
        result.elapsed, result.slowest
    );
    eprintln!(
        "daemon before: {threads_before} threads, {rss_before} kB RSS; peak during the burst: \
         {} threads, {} kB RSS ({} samples)",
        peak.threads, peak.rss_kb, peak.samples
    );
    assert!(peak.samples > 0, "no samples of the daemon");
    assert!(
        peak.threads <= MAX_WORKERS as u64 + FIXED_THREADS,
        "{} threads",
        peak.threads
    );
    assert!(peak.rss_kb <= MAX_RSS_KB, "{} kB resident", peak.rss_kb);
    served.finish();
}

#[test]
fn six_hundred_idle_and_slow_connections_leave_answers_fast() {
    const IDLE: usize = 300;
    const SLOW: usize = 300;
    let fds = raise_nofile(4096);
    let served = Served::start(fds, "");
    let pid = served.pid();
    let (threads_before, _) = threads_and_rss(pid);

    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(("127.0.0.1", served.port)).unwrap())
        .collect();
    let slow: Vec<TcpStream> = (0..SLOW)
        .map(|_| TcpStream::connect(("127.0.0.1", served.port)).unwrap())
        .collect();
    wait_until("the connections accepted", Duration::from_secs(10), || {
        server_connections(pid, served.port).len() == IDLE + SLOW
    });
    // The slow ones trickle their heads, a byte every 200 ms, while the
    // fast clients are measured (bounded: until told to stop, or the
    // request deadline).
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = stop.clone();
        thread::spawn(move || {
            let head = b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 9999\r\n";
            let start = Instant::now();
            for byte in head.iter().cycle() {
                if stop.load(Ordering::SeqCst) || start.elapsed() > REQUEST_TIMEOUT {
                    break;
                }
                for mut client in &slow {
                    let _ = client.write(&[*byte]);
                }
                thread::sleep(Duration::from_millis(200));
            }
            slow
        })
    };

    let mut times = Vec::new();
    for _ in 0..5 {
        times.push((
            assert_answers_within(
                Target::Unix(&served.sock()),
                Duration::from_secs(1),
                "600 idle and slow TCP connections",
            ),
            assert_answers_within(
                Target::Tcp(served.port),
                Duration::from_secs(1),
                "600 idle and slow TCP connections",
            ),
        ));
    }
    let (threads_during, rss_during) = threads_and_rss(pid);
    stop.store(true, Ordering::SeqCst);
    let slow = trickle.join().unwrap();
    let worst_unix = times.iter().map(|t| t.0).max().unwrap();
    let worst_tcp = times.iter().map(|t| t.1).max().unwrap();
    eprintln!(
        "with {IDLE} idle and {SLOW} slowloris TCP connections open: unix socket answered in \
         {:?} (worst of 5), a fresh TCP client in {:?}; daemon {threads_during} threads \
         ({threads_before} before), {rss_during} kB RSS",
        worst_unix, worst_tcp
    );
    // Idle and slow connections cost no thread.
    assert!(
        threads_during <= threads_before + 4,
        "{threads_before} threads before, {threads_during} with the connections"
    );
    drop((idle, slow));
    served.finish();
}
