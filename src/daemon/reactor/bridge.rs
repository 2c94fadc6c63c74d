//! The bridge between the HTTP threads and the reactor (architecture.md: one
//! thread owns the state). HTTP threads parse requests and encode answers
//! themselves; only the call itself crosses over, through a channel and the
//! reactor's waker, and its answer comes back through a channel of its own.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use mio::Waker;

use super::snapshot::Snapshot;
use crate::daemon::http::{Backend, LogRequest, Probe, ProbeAnswer, Reply};
use crate::daemon::probes;
use crate::daemon::proc::status::Now;
use crate::daemon::rpc::info;
use crate::xmlrpc::{self, faults, Call, Fault, Value};

pub use crate::daemon::rpc::Answer;

/// What an HTTP thread asks of the reactor: a call, and where its answer
/// goes — at once, or once the processes get where the call waits for.
pub enum Message {
    Call {
        call: Call,
        reply: Sender<Answer>,
    },
    /// `/healthz`: answered as soon as the event loop reads it.
    Ping {
        reply: Sender<()>,
    },
}

/// The daemon's side of the HTTP layer.
pub struct ReactorBackend {
    pub tx: Sender<Message>,
    pub waker: Arc<Waker>,
    /// Read-only calls are answered from here, on the calling thread.
    pub snapshot: super::snapshot::Shared,
    /// The last encoded answer to a status read (see [`Cached`]).
    pub cache: Mutex<Option<Cached>>,
    /// The generation of the snapshot published last, stored by the
    /// reactor after the snapshot itself: a worker whose own copy of the
    /// cached answer has this generation answers without taking any lock.
    pub published: Arc<AtomicU64>,
}

thread_local! {
    /// This worker's copy of the cached answer. With many clients polling
    /// status, the locks of the shared cache and snapshot were where the
    /// workers met (a futex call for most requests).
    static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Status answers only change when the snapshot does or the clock moves to
/// the next second (`now`, uptimes): monitoring tools polling many times a
/// second then get a copy instead of a fresh encoding.
#[derive(Clone)]
pub struct Cached {
    generation: u64,
    second: u64,
    /// The request it answered: the same bytes skip parsing altogether.
    request: Vec<u8>,
    body: Arc<[u8]>,
}

fn wall_second() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ReactorBackend {
    fn send(&self, message: Message) -> bool {
        self.tx.send(message).is_ok() && self.waker.wake().is_ok()
    }

    /// The latest published snapshot (a poisoned lock still holds one).
    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Run one call against the latest snapshot (see `answer_from`).
    fn answer(&self, call: Call) -> Answer {
        self.answer_from(&self.snapshot(), call)
    }

    /// Run one call from `snapshot` when it only reads, otherwise on the
    /// reactor, waiting here (never there) for a deferred answer.
    fn answer_from(&self, snapshot: &Snapshot, call: Call) -> Answer {
        if let Some(answer) = snapshot.answer(&call) {
            return answer;
        }
        let (reply, answer) = mpsc::channel();
        if !self.send(Message::Call { call, reply }) {
            return Err(shutting_down());
        }
        answer.recv().unwrap_or_else(|_| Err(shutting_down()))
    }

    /// system.multicall: the calls in order, each answered as if alone
    /// (so each sees the effects of the ones before it); a fault becomes
    /// that entry's struct, as in Python.
    fn multicall(params: &[Value], answer: &mut dyn FnMut(Call) -> Answer) -> Answer {
        let [Value::Array(calls)] = params else {
            return Err(Fault::named(faults::INCORRECT_PARAMETERS, None));
        };
        let results = calls
            .iter()
            .map(|item| {
                let result = multicall_item(item).and_then(|call| {
                    if call.method == "system.multicall" {
                        return Err(Fault::named(
                            faults::INCORRECT_PARAMETERS,
                            Some("Recursive system.multicall forbidden"),
                        ));
                    }
                    answer(call)
                });
                result.unwrap_or_else(|fault| fault.to_value())
            })
            .collect();
        Ok(Value::Array(results))
    }
}

/// Whether the answer to `call` may be cached (see [`Cached`]): a status
/// read, or a multicall of nothing else (`supervisorctl status` sends
/// `getVersion` and `getAllProcessInfo` as one).
fn answer_is_stable(call: &Call) -> bool {
    match (call.method.as_str(), call.params.as_slice()) {
        ("system.multicall", [Value::Array(items)]) => items.iter().all(|item| {
            multicall_item(item).is_ok_and(|call| info::answer_is_stable(&call.method))
        }),
        (method, _) => info::answer_is_stable(method),
    }
}

/// One entry of a multicall's array as a call of its own.
fn multicall_item(item: &Value) -> Result<Call, Fault> {
    let Some(method) = item.get("methodName").and_then(Value::as_str) else {
        return Err(Fault::named(
            faults::INCORRECT_PARAMETERS,
            Some("No methodName"),
        ));
    };
    let params = match item.get("params") {
        Some(Value::Array(params)) => params.clone(),
        None => Vec::new(),
        Some(_) => return Err(Fault::named(faults::INCORRECT_PARAMETERS, None)),
    };
    Ok(Call {
        method: method.to_string(),
        params,
    })
}

pub fn encode(answer: Answer) -> Vec<u8> {
    match answer {
        Ok(value) => xmlrpc::write_response(&value),
        Err(fault) => xmlrpc::write_fault(&fault),
    }
}

/// The reactor is gone (shutting down): say so as a fault, not a hang.
fn shutting_down() -> Fault {
    Fault::named(faults::SHUTDOWN_STATE, None)
}

impl Backend for ReactorBackend {
    fn rpc(&self, body: Vec<u8>) -> Reply {
        let second = wall_second();
        let published = self.published.load(Ordering::Acquire);
        let fresh =
            |c: &&Cached| c.generation == published && c.second == second && c.request == body;
        if let Some(hit) =
            LAST.with(|last| last.borrow().as_ref().filter(fresh).map(|c| c.body.clone()))
        {
            return Reply::Ready(hit);
        }
        let snapshot = self.snapshot();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(hit) = cache.as_ref().filter(|c| {
                c.generation == snapshot.generation && c.second == second && c.request == body
            }) {
                LAST.with(|last| *last.borrow_mut() = Some(hit.clone()));
                return Reply::Ready(hit.body.clone());
            }
        }
        let limits = xmlrpc::Limits {
            // The HTTP layer's limit: room for a sendProcessStdin of a few MB.
            max_body: crate::daemon::http::MAX_BODY as usize,
            ..xmlrpc::Limits::default()
        };
        let call = match xmlrpc::parse_call(&body, &limits) {
            Ok(call) => call,
            // As Supervisor: a body that is not an XML-RPC call is a 400.
            Err(xmlrpc::RequestError::Malformed(_)) => return Reply::Error(400),
            Err(xmlrpc::RequestError::TooLarge) => return Reply::Error(413),
        };
        if answer_is_stable(&call) {
            // Every call is answered from this one snapshot, so the answer
            // is the one its generation stands for.
            let answer = if call.method == "system.multicall" {
                Self::multicall(&call.params, &mut |c| self.answer_from(&snapshot, c))
            } else {
                self.answer_from(&snapshot, call)
            };
            let encoded: Arc<[u8]> = encode(answer).into();
            let cached = Cached {
                generation: snapshot.generation,
                second,
                request: body,
                body: encoded.clone(),
            };
            LAST.with(|last| *last.borrow_mut() = Some(cached.clone()));
            *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(cached);
            return Reply::Ready(encoded);
        }
        let answer = if call.method == "system.multicall" {
            Self::multicall(&call.params, &mut |c| self.answer(c))
        } else {
            self.answer(call)
        };
        Reply::Ready(encode(answer).into())
    }

    fn log_file(&self, which: LogRequest) -> Option<PathBuf> {
        self.snapshot().log_file(&which)
    }

    fn probe(&self, which: Probe) -> ProbeAnswer {
        let (status, body) = match which {
            Probe::Healthz => self.healthz(),
            Probe::Readyz => match probes::readiness(&self.snapshot()) {
                (true, body) => (200, body),
                (false, body) => (503, body),
            },
            Probe::Metrics => (200, probes::metrics(&self.snapshot(), Now::current())),
        };
        ProbeAnswer { status, body }
    }
}

/// How long `/healthz` waits for the event loop. A loop that cannot turn
/// around in this long supervises nothing; kubelet's own probe timeout
/// (1 s by default) should be set above it.
const HEALTHZ_WAIT: std::time::Duration = std::time::Duration::from_millis(2500);

impl ReactorBackend {
    /// A round trip through the event loop: alive only if it answers.
    fn healthz(&self) -> (u16, String) {
        let (reply, answer) = mpsc::channel();
        if !self.send(Message::Ping { reply }) {
            return (503, "not ok: supervisord is shutting down\n".into());
        }
        match answer.recv_timeout(HEALTHZ_WAIT) {
            Ok(()) => (200, "ok\n".into()),
            Err(mpsc::RecvTimeoutError::Timeout) => (
                503,
                format!(
                    "not ok: the event loop did not answer within {} ms\n",
                    HEALTHZ_WAIT.as_millis()
                ),
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                (503, "not ok: supervisord is shutting down\n".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::proc::table::Phase;
    use std::sync::mpsc::Receiver;

    fn backend() -> (ReactorBackend, Receiver<Message>, mio::Poll) {
        let poll = mio::Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let (tx, rx) = mpsc::channel();
        let snapshot = Arc::new(Mutex::new(Arc::new(Snapshot {
            generation: 0,
            phase: Phase::Running,
            identifier: "supervisor".into(),
            rpc_enabled: true,
            main_log: None,
            processes: Vec::new(),
        })));
        let backend = ReactorBackend {
            tx,
            waker,
            snapshot,
            published: Default::default(),
            cache: Default::default(),
        };
        (backend, rx, poll)
    }

    #[test]
    fn healthz_is_ok_only_when_the_event_loop_answers() {
        let (backend, rx, _poll) = backend();
        let event_loop = std::thread::spawn(move || {
            if let Ok(Message::Ping { reply }) = rx.recv() {
                let _ = reply.send(());
            }
            rx
        });
        assert_eq!(backend.probe(Probe::Healthz).status, 200);
        // A loop that is stuck (it holds the channel but never reads).
        let _stuck = event_loop.join().unwrap();
        let started = std::time::Instant::now();
        let answer = backend.probe(Probe::Healthz);
        assert_eq!(answer.status, 503);
        assert!(answer.body.contains("did not answer"), "{}", answer.body);
        assert!(started.elapsed() >= HEALTHZ_WAIT);
    }

    #[test]
    fn healthz_fails_once_the_event_loop_is_gone() {
        let (backend, rx, _poll) = backend();
        drop(rx);
        let answer = backend.probe(Probe::Healthz);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (503, "not ok: supervisord is shutting down\n")
        );
    }

    fn multicall_of(methods: &[&str]) -> Vec<u8> {
        let items = methods
            .iter()
            .map(|m| {
                Value::structure([
                    ("methodName", Value::str(*m)),
                    ("params", Value::Array(Vec::new())),
                ])
            })
            .collect();
        xmlrpc::write_call("system.multicall", &[Value::Array(items)])
    }

    fn ready(reply: Reply) -> Arc<[u8]> {
        match reply {
            Reply::Ready(body) => body,
            _ => panic!("expected an answer"),
        }
    }

    fn publish(backend: &ReactorBackend, generation: u64, identifier: &str) {
        *backend.snapshot.lock().unwrap() = Arc::new(Snapshot {
            generation,
            phase: Phase::Running,
            identifier: identifier.into(),
            rpc_enabled: true,
            main_log: None,
            processes: Vec::new(),
        });
        backend.published.store(generation, Ordering::Release);
    }

    #[test]
    fn only_status_reads_and_multicalls_of_them_are_cached() {
        let call = |body: Vec<u8>| xmlrpc::parse_call(&body, &xmlrpc::Limits::default()).unwrap();
        let stable = |body| answer_is_stable(&call(body));
        let status = ["supervisor.getVersion", "supervisor.getAllProcessInfo"];
        assert!(stable(multicall_of(&status)));
        assert!(stable(xmlrpc::write_call("supervisor.getState", &[])));
        // A log grows without a new snapshot; a start changes the state.
        assert!(!stable(multicall_of(&[
            "supervisor.getVersion",
            "supervisor.readLog"
        ])));
        assert!(!stable(multicall_of(&[
            "supervisor.getVersion",
            "supervisor.startAllProcesses"
        ])));
        assert!(!stable(xmlrpc::write_call("supervisor.readLog", &[])));
        assert!(!stable(xmlrpc::write_call(
            "supervisor.stopAllProcesses",
            &[]
        )));
    }

    #[test]
    fn status_multicall_answer_is_reused_until_a_new_snapshot() {
        let (backend, _rx, _poll) = backend();
        let body = multicall_of(&["supervisor.getVersion", "supervisor.getIdentification"]);
        // Two requests within one wall-clock second get the same answer.
        let (first, again) = loop {
            let second = wall_second();
            let first = ready(backend.rpc(body.clone()));
            let again = ready(backend.rpc(body.clone()));
            if wall_second() == second {
                break (first, again);
            }
        };
        assert!(Arc::ptr_eq(&first, &again));
        let text = String::from_utf8_lossy(&first).into_owned();
        assert!(text.contains("<string>supervisor</string>"), "{text}");
        // A new snapshot is never answered from the old one's cache.
        publish(&backend, 1, "renamed");
        let fresh = ready(backend.rpc(body));
        let text = String::from_utf8_lossy(&fresh).into_owned();
        assert!(text.contains("<string>renamed</string>"), "{text}");
    }
}
