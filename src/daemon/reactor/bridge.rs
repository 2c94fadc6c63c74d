//! The bridge between the HTTP threads and the reactor (design.md: one
//! thread owns the state). HTTP threads parse requests and encode answers
//! themselves; only the call itself crosses over, through a channel and the
//! reactor's waker, and its answer comes back through a channel of its own.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

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
        let call = match xmlrpc::parse_call(&body, &xmlrpc::Limits::default()) {
            Ok(call) => call,
            // As Supervisor: a body that is not an XML-RPC call is a 400.
            Err(xmlrpc::RequestError::Malformed(_)) => return Reply::Error(400),
            Err(xmlrpc::RequestError::TooLarge) => return Reply::Error(413),
        };
        let (reply, answer) = mpsc::channel();
        if !self.send(Message::Call { call, reply }) {
            return Reply::Ready(gone());
        }
        match answer.recv() {
            Ok(Response::Now(answer)) => Reply::Ready(encode(answer)),
            Ok(Response::Later(later)) => Reply::Later(later),
            Err(_) => Reply::Ready(gone()),
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
