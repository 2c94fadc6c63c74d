//! The bridge between the HTTP threads and the reactor (design.md: one
//! thread owns the state). HTTP threads parse requests and encode answers
//! themselves; only the call itself crosses over, through a channel and the
//! reactor's waker, and its answer comes back through a channel of its own.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use mio::Waker;

use crate::daemon::http::{Backend, LogRequest, Reply};
use crate::xmlrpc::{self, faults, Call, Fault, Value};

pub type Answer = Result<Value, Fault>;

/// What an HTTP thread asks of the reactor.
pub enum Message {
    Call {
        call: Call,
        reply: Sender<Response>,
    },
    LogFile {
        which: LogRequest,
        reply: Sender<Option<PathBuf>>,
    },
}

/// The reactor's first reply to a call.
pub enum Response {
    Now(Answer),
    /// The call waits for process state; its encoded answer will come on
    /// this channel (deferred answers are rare, so the reactor encodes them).
    Later(Receiver<Vec<u8>>),
}

/// The daemon's side of the HTTP layer.
pub struct ReactorBackend {
    pub tx: Sender<Message>,
    pub waker: Arc<Waker>,
    /// Read-only calls are answered from here, on the calling thread.
    pub snapshot: super::snapshot::Shared,
    /// The last encoded `getAllProcessInfo` answer (see [`Cached`]).
    pub cache: Mutex<Option<Cached>>,
}

/// Status answers only change when the snapshot does or the clock moves to
/// the next second (`now`, uptimes): monitoring tools polling many times a
/// second then get a copy instead of a fresh encoding.
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
}

pub fn encode(answer: Answer) -> Vec<u8> {
    match answer {
        Ok(value) => xmlrpc::write_response(&value),
        Err(fault) => xmlrpc::write_fault(&fault),
    }
}

/// The reactor is gone (shutting down): say so as a fault, not a hang.
fn gone() -> Vec<u8> {
    xmlrpc::write_fault(&Fault::named(faults::SHUTDOWN_STATE, None))
}

impl Backend for ReactorBackend {
    fn rpc(&self, body: Vec<u8>) -> Reply {
        let snapshot = self.snapshot.lock().map(|s| s.clone()).ok();
        let second = wall_second();
        if let Some(snapshot) = &snapshot {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(hit) = cache.as_ref().filter(|c| {
                c.generation == snapshot.generation && c.second == second && c.request == body
            }) {
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
        if let Some(snapshot) = snapshot {
            if let Some(answer) = snapshot.answer(&call) {
                let encoded: Arc<[u8]> = encode(answer).into();
                if call.method == "supervisor.getAllProcessInfo" {
                    *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                        generation: snapshot.generation,
                        second,
                        request: body,
                        body: encoded.clone(),
                    });
                }
                return Reply::Ready(encoded);
            }
        }
        let (reply, answer) = mpsc::channel();
        if !self.send(Message::Call { call, reply }) {
            return Reply::Ready(gone().into());
        }
        match answer.recv() {
            Ok(Response::Now(answer)) => Reply::Ready(encode(answer).into()),
            Ok(Response::Later(later)) => Reply::Later(later),
            Err(_) => Reply::Ready(gone().into()),
        }
    }

    fn log_file(&self, which: LogRequest) -> Option<PathBuf> {
        let (reply, answer) = mpsc::channel();
        if !self.send(Message::LogFile { which, reply }) {
            return None;
        }
        answer.recv().ok().flatten()
    }
}
