//! Connecting to the server, over a unix socket or TCP.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::url::Endpoint;
use super::TransportError;

/// How long a TCP connect may take per address (calls themselves have no
/// time limit: a `startProcess` may legitimately wait a long time).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected socket of either kind.
pub(super) enum Sock {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    pub(super) fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.set_nonblocking(on),
            Sock::Tcp(s) => s.set_nonblocking(on),
        }
    }

    /// Another handle on the same socket.
    pub(super) fn try_clone(&self) -> io::Result<Sock> {
        match self {
            Sock::Unix(s) => s.try_clone().map(Sock::Unix),
            Sock::Tcp(s) => s.try_clone().map(Sock::Tcp),
        }
    }

    /// Shut both directions: a read blocked on any handle returns.
    pub(super) fn shutdown(&self) -> io::Result<()> {
        match self {
            Sock::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Sock::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.read(buf),
            Sock::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Unix(s) => s.write(buf),
            Sock::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Connect to `endpoint`. A refused connection and a missing unix socket
/// file are errors of their own: supervisorctl words them its own way.
pub(super) fn connect(endpoint: &Endpoint) -> Result<Sock, TransportError> {
    let refused_or = |e: io::Error, not_found: bool| match e.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::Refused,
        io::ErrorKind::NotFound if not_found => TransportError::NoSuchFile,
        _ => TransportError::Io(e.to_string()),
    };
    match endpoint {
        Endpoint::Unix(path) => UnixStream::connect(path)
            .map(Sock::Unix)
            .map_err(|e| refused_or(e, true)),
        Endpoint::Tcp { host, port } => {
            let addrs = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| TransportError::Io(e.to_string()))?;
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        return Ok(Sock::Tcp(stream));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(match last {
                Some(e) => refused_or(e, false),
                None => TransportError::Io(format!("no address found for {host}")),
            })
        }
    }
}
