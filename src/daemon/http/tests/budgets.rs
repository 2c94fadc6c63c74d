//! Each server's budgets and what happens at each limit: workers, deferred
//! answers, connections, request memory.

use super::*;
use crate::daemon::http::limits::{FREE_BUFFER, MAX_BODY, MAX_BUFFERED, MAX_DEFERRED, MAX_WORKERS};

fn both_servers(dir: &Path, backend: Fake) -> (Servers, PathBuf, SocketAddr) {
    let sock = dir.join("supervisor.sock");
    let servers = Servers::start_with(
        &[unix_section(&sock, 0o700, None)],
        &[inet_section(None)],
        Arc::new(backend),
    )
    .unwrap();
    let addr = servers.tcp_addrs()[0];
    (servers, sock, addr)
}

#[test]
fn a_busy_server_queues_calls_and_other_servers_keep_answering() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::default();
    let (servers, sock, addr) = both_servers(dir.path(), Fake::default().with_gate(&gate));
    // More calls than a server has workers, each holding its worker.
    let mut held: Vec<Client> = (0..MAX_WORKERS + 8)
        .map(|_| {
            let mut client = Client::tcp(addr);
            client.send(&post_rpc("hang", ""));
            client
        })
        .collect();
    assert!(eventually(IO_TIMEOUT, || gate.held().0 == MAX_WORKERS));
    // The unix server has workers of its own.
    let mut unix = Client::unix(&sock);
    unix.send(&post_rpc("one", ""));
    assert_eq!(unix.response().text(), "echo:one");
    // Another TCP call waits its turn: queued, not refused.
    let mut queued = Client::tcp(addr);
    queued.send(&post_rpc("two", ""));
    assert!(queued.quiet_for(Duration::from_millis(300)));
    gate.open();
    assert_eq!(queued.response().text(), "echo:two");
    for client in &mut held {
        assert_eq!(client.response().text(), "<hang/>");
    }
    servers.stop();
}

#[test]
fn deferred_answers_do_not_take_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::default();
    let (servers, sock) = unix_server(dir.path(), Fake::default().with_gate(&gate));
    let waiting = MAX_DEFERRED + 8;
    let mut held: Vec<Client> = (0..waiting)
        .map(|_| {
            let mut client = Client::unix(&sock);
            client.send(&post_rpc("later", ""));
            client
        })
        .collect();
    assert!(eventually(IO_TIMEOUT, || gate.held().1 == waiting));
    // Their workers wait; replacements answer everyone else meanwhile.
    let mut client = Client::unix(&sock);
    for i in 0..3 {
        client.send(&post_rpc(&format!("call{i}"), ""));
        assert_eq!(client.response().text(), format!("echo:call{i}"));
    }
    gate.open();
    for client in &mut held {
        assert_eq!(client.response().text(), "<later/>");
    }
    servers.stop();
}

#[test]
fn at_the_connection_cap_the_connection_nearest_its_deadline_makes_room() {
    let gate = Gate::default();
    let (servers, addr) = tcp_server(Fake::default().with_gate(&gate), None);
    servers.set_max_open(4);
    let mut open: Vec<Client> = (0..4)
        .map(|i| {
            let mut client = Client::tcp(addr);
            client.send(&post_rpc(&format!("c{i}"), ""));
            assert_eq!(client.response().text(), format!("echo:c{i}"));
            client
        })
        .collect();
    // A fifth client: the first idle one, nearest its idle deadline, goes
    // (once every connection is back from its worker).
    let site = servers.sites()[0].clone();
    assert!(eventually(IO_TIMEOUT, || site.pool.all_idle()));
    let mut fifth = Client::tcp(addr);
    fifth.send(&post_rpc("fifth", ""));
    assert_eq!(fifth.response().text(), "echo:fifth");
    assert!(open[0].closed());
    open[0] = fifth;

    // All four busy: nothing to evict, so a new client waits, unrefused,
    // until one comes back.
    for client in &mut open {
        client.send(&post_rpc("hang", ""));
    }
    assert!(eventually(IO_TIMEOUT, || gate.held().0 == 4));
    let mut late = Client::tcp(addr);
    late.send(&post_rpc("late", ""));
    assert!(late.quiet_for(Duration::from_millis(300)));
    gate.open();
    assert_eq!(late.response().text(), "echo:late");
    let answered = open
        .iter_mut()
        .map(|client| client.response().text())
        .filter(|text| text == "<hang/>")
        .count();
    assert_eq!(answered, 4);
    servers.stop();
}

#[test]
fn request_memory_is_budgeted_per_server() {
    let (servers, addr) = tcp_server(Fake::default(), None);
    let site = servers.sites()[0].clone();
    let big_head = format!("POST /RPC2 HTTP/1.1\r\nContent-Length: {MAX_BODY}\r\n\r\n");
    // Bodies announced in full use up the budget before they arrive.
    let fit = MAX_BUFFERED / MAX_BODY as usize;
    let mut pending: Vec<Client> = (0..fit)
        .map(|_| {
            let mut client = Client::tcp(addr);
            client.send(big_head.as_bytes());
            client
        })
        .collect();
    let reserved = fit * (MAX_BODY as usize - FREE_BUFFER);
    assert!(eventually(IO_TIMEOUT, || site
        .buffered
        .load(Ordering::SeqCst)
        >= reserved));
    let mut over = Client::tcp(addr);
    over.send(big_head.as_bytes());
    let response = over.response();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(over.closed());
    // Ordinary requests fit in the free allowance and are never refused.
    let mut small = Client::tcp(addr);
    small.send(&post_rpc("small", ""));
    assert_eq!(small.response().text(), "echo:small");
    // A big one that arrives is answered, and its memory is returned.
    pending[0].send(&vec![b'x'; MAX_BODY as usize]);
    assert_eq!(pending[0].response().body.len(), 5 + MAX_BODY as usize);
    drop(pending);
    assert!(eventually(IO_TIMEOUT, || site
        .buffered
        .load(Ordering::SeqCst)
        == 0));
    servers.stop();
}
