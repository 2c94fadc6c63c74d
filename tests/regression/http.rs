//! Regressions in the HTTP servers: connections, limits, timeouts.
//!
//! All servers once shared one pool of 256 connection threads and nothing
//! timed out, so a few hundred idle, slow or non-reading clients locked
//! every client out, the local unix socket included.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::common::http::{
    assert_answers_within, burst, raise_nofile, read_response, read_whole_log_request, rpc_request,
    server_connections, wait_closed, Served, Target,
};
use super::common::{lines_with, stamp_ms, wait_until};

use supervisord::daemon::http::limits::{
    IDLE_TIMEOUT, MAX_STREAMS, REQUEST_TIMEOUT, WRITE_TIMEOUT,
};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const ONE_SECOND: Duration = Duration::from_secs(1);

/// Connect `n` TCP clients that send nothing, and wait until the daemon has
/// accepted them.
fn idle_clients(served: &Served, n: usize) -> Vec<TcpStream> {
    let clients: Vec<TcpStream> = (0..n)
        .map(|_| TcpStream::connect(("127.0.0.1", served.port)).unwrap())
        .collect();
    wait_until("the idle connections accepted", SECS(10), || {
        server_connections(served.pid(), served.port).len() == n
    });
    clients
}

#[test]
fn idle_tcp_connections_lock_out_the_unix_socket() {
    raise_nofile(4096);
    let served = Served::start(4096, "");
    let connected = Instant::now();
    let idle = idle_clients(&served, 300);

    assert_answers_within(
        Target::Unix(&served.sock()),
        ONE_SECOND,
        "300 idle TCP clients",
    );
    assert_answers_within(Target::Tcp(served.port), ONE_SECOND, "300 idle TCP clients");

    // A keep-alive client that made a call, then goes quiet.
    let keep = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    (&keep)
        .write_all(&rpc_request("supervisor.getState", &[]))
        .unwrap();
    keep.set_read_timeout(Some(SECS(10))).unwrap();
    let mut reader = std::io::BufReader::new(&keep);
    assert_eq!(read_response(&mut reader).unwrap().status, 200);
    let answered = Instant::now();

    // The silent ones are closed at the request deadline, counted from
    // connect, without a word.
    for (i, client) in idle.iter().enumerate() {
        let limit =
            (connected + REQUEST_TIMEOUT + SECS(5)).saturating_duration_since(Instant::now());
        wait_closed(client, limit).unwrap_or_else(|e| panic!("idle client {i}: {e}"));
    }
    let closed_after = connected.elapsed();
    assert!(
        closed_after >= REQUEST_TIMEOUT - ONE_SECOND,
        "idle clients closed after {closed_after:?}, before the deadline"
    );
    // The keep-alive one at the idle timeout, counted from its answer.
    let limit = (answered + IDLE_TIMEOUT + SECS(5)).saturating_duration_since(Instant::now());
    wait_closed(&keep, limit).unwrap();
    let idle_for = answered.elapsed();
    assert!(
        idle_for >= IDLE_TIMEOUT - ONE_SECOND,
        "keep-alive client closed after {idle_for:?} idle"
    );
    eprintln!("idle clients closed after {closed_after:?}; keep-alive after {idle_for:?} idle");
    served.finish();
}

#[test]
fn slowloris_clients_are_never_timed_out() {
    const CLIENTS: usize = 500;
    raise_nofile(4096);
    let served = Served::start(4096, "");
    let started = Instant::now();
    let mut clients: Vec<Option<TcpStream>> = (0..CLIENTS)
        .map(|_| Some(TcpStream::connect(("127.0.0.1", served.port)).unwrap()))
        .collect();
    for client in clients.iter().flatten() {
        client.set_nonblocking(true).unwrap();
    }
    let head = b"GET /ok.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".repeat(8);
    let mut answered = vec![false; CLIENTS];
    let mut closed_at = Vec::new();
    // One byte of head per client per second, until the server has closed
    // them all (bounded: the head's length and the deadline plus a margin).
    for (round, byte) in head.iter().enumerate() {
        if clients.iter().all(Option::is_none) || started.elapsed() > REQUEST_TIMEOUT + SECS(5) {
            break;
        }
        for (i, slot) in clients.iter_mut().enumerate() {
            let Some(client) = slot else { continue };
            // Read first: what the server said before it closed.
            let mut answer = [0u8; 512];
            let mut reader: &TcpStream = client;
            let gone = match reader.read(&mut answer) {
                Ok(0) => true,
                Ok(n) => {
                    answered[i] |= answer[..n].starts_with(b"HTTP/1.1 408 ");
                    false
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                Err(_) => true,
            };
            if gone {
                closed_at.push(started.elapsed());
                *slot = None;
            } else if !answered[i] {
                let _ = client.write(&[*byte]);
            }
        }
        if round == 2 {
            // All of them are mid-request now.
            assert_answers_within(Target::Unix(&served.sock()), ONE_SECOND, "slowloris");
            assert_answers_within(Target::Tcp(served.port), ONE_SECOND, "slowloris");
        }
        std::thread::sleep(ONE_SECOND);
    }
    assert_eq!(closed_at.len(), CLIENTS, "slowloris clients still open");
    let first = closed_at.iter().min().unwrap();
    let last = closed_at.iter().max().unwrap();
    assert!(
        *first >= REQUEST_TIMEOUT - ONE_SECOND,
        "closed after {first:?}"
    );
    assert!(*last <= REQUEST_TIMEOUT + SECS(4), "closed after {last:?}");
    let told = answered.iter().filter(|a| **a).count();
    assert_eq!(told, CLIENTS, "each slow client is told 408");
    eprintln!("{CLIENTS} slowloris clients closed between {first:?} and {last:?}");
    served.finish();
}

/// A program whose stdout log holds `bytes` bytes once it runs.
fn big_log_program(bytes: u64) -> String {
    format!(
        "[program:big]\ncommand=sh -c 'yes | head -c {bytes}; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile={{dir}}/big.log\nstdout_logfile_maxbytes=0\n"
    )
}

/// A TCP connection to `port` with a tiny receive buffer, so that the
/// server's writes block as soon as the client stops reading.
fn small_window_client(port: u16) -> TcpStream {
    use nix::sys::socket::{setsockopt, sockopt};
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    setsockopt(&client, sockopt::RcvBuf, &4096).unwrap();
    client
}

#[test]
fn clients_that_stop_reading_hold_their_thread_forever() {
    const STALLED: usize = 4;
    const LOG_BYTES: u64 = 8 * 1024 * 1024;
    raise_nofile(4096);
    let program = big_log_program(LOG_BYTES);
    let served = Served::start(4096, &program);
    let log = served.daemon.path("big.log");
    wait_until("the big log", SECS(20), || {
        fs::metadata(&log).is_ok_and(|m| m.len() >= LOG_BYTES)
    });
    let request = read_whole_log_request("big");
    let stalled: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let client = small_window_client(served.port);
            (&client).write_all(&request).unwrap();
            client
        })
        .collect();
    let sent = Instant::now();
    // Every worker answering a stalled client is stuck writing; the others
    // keep answering, on the same server and on the unix socket.
    let connections = || server_connections(served.pid(), served.port);
    wait_until("the answers stuck in their send queues", SECS(20), || {
        let queues = connections();
        queues.len() == STALLED && queues.iter().all(|q| *q > 0)
    });
    assert_answers_within(Target::Tcp(served.port), ONE_SECOND, "clients not reading");
    assert_answers_within(
        Target::Unix(&served.sock()),
        ONE_SECOND,
        "clients not reading",
    );

    // After the write timeout the server gives up on them: their
    // descriptors go, and they never get their whole answer.
    wait_until(
        "the stalled connections closed",
        WRITE_TIMEOUT + SECS(30),
        || connections().is_empty(),
    );
    let gave_up = sent.elapsed();
    assert!(
        gave_up >= WRITE_TIMEOUT - ONE_SECOND,
        "gave up after {gave_up:?}"
    );
    for (i, client) in stalled.iter().enumerate() {
        client.set_read_timeout(Some(SECS(10))).unwrap();
        let mut total = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        let mut reader = client;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => panic!("stalled client {i}: {e} after {total} bytes"),
            }
        }
        assert!(total < LOG_BYTES, "stalled client {i} got {total} bytes");
    }
    eprintln!("{STALLED} clients that stopped reading were dropped after {gave_up:?}");
    served.finish();
}

#[test]
fn open_log_streams_starve_rpc() {
    const STREAMS: usize = 300;
    raise_nofile(4096);
    let program = "[program:talker]\ncommand=sh -c 'echo hello; exec sleep 1000'\n\
                   startsecs=0\nstdout_logfile={dir}/talker.log\n";
    let served = Served::start(4096, program);
    let log = served.daemon.path("talker.log");
    wait_until("talker's output", SECS(10), || {
        fs::read_to_string(&log).is_ok_and(|t| t == "hello\n")
    });
    let request = b"GET /logtail/talker HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\n\
                    Accept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n";
    let mut streams = Vec::new();
    let mut refused = 0;
    for _ in 0..STREAMS {
        let client = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
        client.set_read_timeout(Some(SECS(10))).unwrap();
        (&client).write_all(request).unwrap();
        let mut status_line = [0u8; 12];
        (&client).read_exact(&mut status_line).unwrap();
        match &status_line {
            b"HTTP/1.1 200" => streams.push(client),
            b"HTTP/1.1 503" => refused += 1,
            other => panic!("stream answer {:?}", String::from_utf8_lossy(other)),
        }
    }
    assert_eq!(streams.len(), MAX_STREAMS);
    assert_eq!(refused, STREAMS - MAX_STREAMS);
    assert_answers_within(Target::Tcp(served.port), ONE_SECOND, "open streams");
    assert_answers_within(Target::Unix(&served.sock()), ONE_SECOND, "open streams");
    // The unix socket has a stream budget of its own.
    let mut unix = UnixStream::connect(served.sock()).unwrap();
    unix.set_read_timeout(Some(SECS(10))).unwrap();
    unix.write_all(request).unwrap();
    let mut status_line = [0u8; 12];
    unix.read_exact(&mut status_line).unwrap();
    assert_eq!(&status_line, b"HTTP/1.1 200");
    served.finish();
}

#[test]
fn a_burst_of_a_thousand_clients_gets_503s() {
    const CLIENTS: usize = 1000;
    raise_nofile(4096);
    let served = Served::start(4096, "");
    let result = burst(
        served.port,
        CLIENTS,
        &rpc_request("supervisor.getState", &[]),
        SECS(60),
    );
    assert!(
        result.failures.is_empty(),
        "{} failures, first: {}",
        result.failures.len(),
        result.failures[0]
    );
    assert_eq!(result.count(200), CLIENTS, "{:?}", result.statuses);
    eprintln!(
        "{CLIENTS} concurrent calls all answered 200 in {:?} (slowest {:?})",
        result.elapsed, result.slowest
    );
    served.finish();
}

#[test]
fn stopping_the_servers_blocks_the_event_loop_while_an_answer_is_stuck() {
    const LOG_BYTES: u64 = 8 * 1024 * 1024;
    raise_nofile(4096);
    let program = big_log_program(LOG_BYTES);
    let served = Served::start(4096, &program);
    let log = served.daemon.path("big.log");
    wait_until("the big log", SECS(20), || {
        fs::metadata(&log).is_ok_and(|m| m.len() >= LOG_BYTES)
    });
    // An answer stuck writing to a client that does not read.
    let request = read_whole_log_request("big");
    let stalled = small_window_client(served.port);
    (&stalled).write_all(&request).unwrap();
    wait_until("the stuck answer", SECS(20), || {
        server_connections(served.pid(), served.port)
            .iter()
            .any(|q| *q > 0)
    });
    // A restart that moves the unix socket: the servers are stopped and
    // bound again by the event loop, which must not wait for that answer.
    let conf = fs::read_to_string(&served.daemon.conf).unwrap();
    let moved = served.daemon.path("moved.sock");
    fs::write(
        &served.daemon.conf,
        conf.replace("supervisor.sock", "moved.sock"),
    )
    .unwrap();
    let hup = Instant::now();
    served.daemon.signal(nix::sys::signal::Signal::SIGHUP);
    wait_until("the moved socket", SECS(10), || {
        UnixStream::connect(&moved).is_ok()
    });
    let took = hup.elapsed();
    assert_answers_within(Target::Unix(&moved), ONE_SECOND, "after the restart");
    assert!(
        took < Duration::from_millis(1800),
        "the restart waited {took:?} for a stuck answer"
    );
    drop(stalled);
    eprintln!("restart with a stuck answer: new socket after {took:?}");
    served.finish();
}

#[test]
fn rebinding_waits_for_a_silent_socket_in_the_event_loop() {
    let served = Served::start(1024, "");
    // A listener that accepts nothing and says nothing, where the restart
    // moves the unix socket.
    let taken = served.daemon.path("taken.sock");
    let _silent = std::os::unix::net::UnixListener::bind(&taken).unwrap();
    let conf = fs::read_to_string(&served.daemon.conf).unwrap();
    fs::write(
        &served.daemon.conf,
        conf.replace("supervisor.sock", "taken.sock"),
    )
    .unwrap();
    served.daemon.signal(nix::sys::signal::Signal::SIGHUP);
    let text = served
        .daemon
        .wait_for("cannot reopen the HTTP servers", SECS(10));
    let hup = stamp_ms(lines_with(&text, "SIGHUP")[0]);
    let failed = stamp_ms(lines_with(&text, "cannot reopen the HTTP servers")[0]);
    assert!(
        text.contains("Another program is already listening"),
        "{text}"
    );
    // Restarting includes stopping programs (none) and reading the config.
    assert!(
        failed - hup < 500,
        "the event loop spent {} ms on a silent socket",
        failed - hup
    );
    served.finish();
}
