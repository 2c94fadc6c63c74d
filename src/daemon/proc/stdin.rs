//! The children's stdin pipes: writes never block the loop. What a full
//! pipe cannot take waits in a backlog and goes out when the pipe reports
//! room (a readiness event), so a child that stops reading costs nothing.

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// The most bytes waiting for one child to read its stdin. A write that
/// would go beyond it is refused whole (nothing of it is queued), so a
/// program that never reads cannot make supervisord grow without bound
/// (150 calls of 3 MB once took it to 462 MB). One request's worth always
/// fits when nothing is waiting: the HTTP body limit is the same size.
pub const STDIN_BACKLOG_LIMIT: usize = 4 * 1024 * 1024;

struct Pipe {
    file: std::fs::File,
    token: Token,
    /// Bytes the pipe could not take yet.
    backlog: Vec<u8>,
}

/// Every live child's stdin, by pid.
pub struct Stdins {
    pipes: HashMap<i32, Pipe>,
    tokens: HashMap<Token, i32>,
    next_token: usize,
}

impl Stdins {
    /// Tokens handed out count up from `first_token`; the caller keeps that
    /// range apart from its other tokens.
    pub fn new(first_token: usize) -> Stdins {
        Stdins {
            pipes: HashMap::new(),
            tokens: HashMap::new(),
            next_token: first_token,
        }
    }

    /// Whether `token` is one of ours.
    pub fn owns(&self, token: Token) -> bool {
        self.tokens.contains_key(&token)
    }

    /// Keep the (non-blocking) write end of `pid`'s stdin.
    pub fn insert(&mut self, registry: &Registry, pid: i32, fd: OwnedFd) {
        let token = Token(self.next_token);
        self.next_token += 1;
        // Unregistered, a backlog would only move on the next write; the
        // pipe still works for writes that fit.
        let _ = registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::WRITABLE);
        self.tokens.insert(token, pid);
        self.pipes.insert(
            pid,
            Pipe {
                file: std::fs::File::from(fd),
                token,
                backlog: Vec::new(),
            },
        );
    }

    /// The child is gone: close its stdin, drop what it never read.
    pub fn remove(&mut self, registry: &Registry, pid: i32) {
        if let Some(pipe) = self.pipes.remove(&pid) {
            let _ = registry.deregister(&mut SourceFd(&pipe.file.as_raw_fd()));
            self.tokens.remove(&pipe.token);
        }
    }

    /// Queue `data` for `pid` and write what the pipe takes now. Fails with
    /// `BrokenPipe` when the child has no stdin any more (it exited or
    /// closed it), and with `WouldBlock` when [`STDIN_BACKLOG_LIMIT`] bytes
    /// would be waiting.
    pub fn write(&mut self, registry: &Registry, pid: i32, data: &[u8]) -> io::Result<()> {
        let Some(pipe) = self.pipes.get_mut(&pid) else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        if pipe.backlog.len().saturating_add(data.len()) > STDIN_BACKLOG_LIMIT {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        pipe.backlog.extend_from_slice(data);
        self.flush(registry, pid)
    }

    /// The pipe behind `token` has room again.
    pub fn on_writable(&mut self, registry: &Registry, token: Token) {
        if let Some(&pid) = self.tokens.get(&token) {
            let _ = self.flush(registry, pid);
        }
    }

    fn flush(&mut self, registry: &Registry, pid: i32) -> io::Result<()> {
        let Some(pipe) = self.pipes.get_mut(&pid) else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        while !pipe.backlog.is_empty() {
            match pipe.file.write(&pipe.backlog) {
                Ok(n) => {
                    pipe.backlog.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // EPIPE: the program closed its stdin; nobody will
                    // read what is left.
                    self.remove(registry, pid);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}
