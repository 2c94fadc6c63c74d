//! supervisorctl's connection to supervisord: XML-RPC over keep-alive
//! HTTP/1.1 on a unix socket or TCP, and log streaming.
//!
//! STUB: interface only; being written.

use crate::xmlrpc::{Fault, Value};

/// Why a call could not be made (the server's faults are not errors here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused (TCP, or a stale unix socket file).
    Refused,
    /// The unix socket file does not exist.
    NoSuchFile,
    /// HTTP 401.
    Unauthorized,
    /// Another HTTP status than 200.
    Http(u16),
    /// Any other socket error, with its text.
    Io(String),
    /// An answer that is not HTTP/XML-RPC.
    Protocol(String),
}

pub struct Transport {}

impl Transport {
    /// `serverurl` is `unix:///abs/path` or `http://host[:port][/…]`.
    /// Err: the text of an unusable URL (unknown scheme).
    pub fn new(serverurl: &str, username: Option<&str>, password: Option<&str>) -> Result<Transport, String> {
        let _ = (serverurl, username, password);
        todo!()
    }
}
