//! The requests, byte for byte as Python's clients send them, with Basic
//! authentication.

use std::fmt::Write as _;

use base64::Engine as _;

use super::Transport;

/// What Python's `xmlrpc.client.Transport` sends (captured with 3.11).
const USER_AGENT: &str = "Python-xmlrpc/3.11";
/// What Python's `supervisor.http_client` sends on streams.
const STREAM_USER_AGENT: &str = "Supervisor HTTP Client";

impl Transport {
    /// The whole `POST /RPC2` request, headers in Python's order.
    pub(super) fn rpc_request(&self, body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\n\
             User-Agent: {USER_AGENT}\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
            self.host
        );
        if let (Some(user), Some(pass)) = (&self.username, &self.password) {
            let _ = write!(head, "Authorization: Basic {}\r\n", basic(user, pass));
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        request
    }

    /// The streaming `GET` request, as Python's `http_client` sends it
    /// (credentials only when the password is not empty).
    pub(super) fn stream_request(&self, path: &str) -> Vec<u8> {
        let mut target = String::new();
        if !path.starts_with('/') {
            target.push('/');
        }
        for &b in path.as_bytes() {
            if b <= b' ' || b >= 0x7f {
                let _ = write!(target, "%{b:02X}");
            } else {
                target.push(char::from(b));
            }
        }
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: {STREAM_USER_AGENT}\r\n",
            self.host
        );
        match &self.password {
            Some(pass) if !pass.is_empty() => {
                let user = self.username.as_deref().unwrap_or("");
                let _ = write!(request, "Authorization: Basic {}\r\n", basic(user, pass));
            }
            _ => {}
        }
        request.push_str("\r\n");
        request.into_bytes()
    }
}

/// Basic credentials: base64 of `user:pass`.
fn basic(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
}
