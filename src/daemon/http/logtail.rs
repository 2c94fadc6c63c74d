//! `/logtail/<namespec>[/stdout|stderr]` and `/mainlogtail`: follow a log file
//! like `tail -f` (`http.md` §4, with the improvements of §6.3).
//!
//! HTTP/1.1 gets a chunked stream; HTTP/1.0 or `Connection: close` gets the
//! raw bytes, unbuffered, until the client goes. The first piece is the last
//! 1024 bytes of the file, then the file is checked every 0.1 s and whatever
//! was appended goes out as one chunk. A rotated or cleared log (the path names
//! another file) is followed from the new file's start after the rest of the
//! old one is sent; a file truncated in place gets a `==> File truncated <==`
//! line and is followed from offset 0. The stream ends when the client closes
//! (seen at once, even while the log is idle: the tick is a timed read of the
//! connection), when a write fails, or when the servers stop.

use std::fs::{self, File};
use std::io::{self, IoSlice, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use nix::poll::PollFlags;

use super::exchange::{wait_ready, write_all, After, Conn, Exchange};
use super::limits::{STREAM_HEAD_BYTES, STREAM_MAX_CHUNK, STREAM_TICK};
use super::pages::{self, Persist};
use super::{LogRequest, Site, StreamSlot};

/// Sent when the file shrank in place.
const TRUNCATED: &[u8] = b"==> File truncated <==\n";
/// Stack of a stream thread (it copies file bytes to a socket).
const STACK_SIZE: usize = 256 * 1024;

/// Answer a `/logtail…` or `/mainlogtail…` GET (the method is checked):
/// 404 or 503 at once, else [`After::Stream`] with the stream to start.
pub(super) fn serve(ex: &mut Exchange<'_>, path: &str) -> After {
    let is_logtail = path.starts_with("/logtail");
    let which = if is_logtail {
        match parse_logtail(path) {
            Some(which) => which,
            None => return ex.error(404),
        }
    } else {
        LogRequest::Main
    };
    let Some(file) = ex.site.backend.log_file(which) else {
        return ex.error(404);
    };
    let Ok(follower) = Follower::open(&file) else {
        return ex.error(404);
    };
    let Some(slot) = ex.site.stream_slot() else {
        return ex.error(503);
    };
    let chunked = ex.minor() == 1 && ex.keep;
    let persist = if chunked {
        Persist::Default
    } else {
        Persist::Close
    };
    let mut out = Vec::with_capacity(2048);
    pages::head(&mut out, ex.minor(), 200, persist);
    let mtime = pages::epoch_secs(follower.mtime());
    pages::header(&mut out, "Last-Modified", &pages::http_date(mtime));
    pages::header(&mut out, "Content-Type", "text/plain;charset=utf-8");
    if is_logtail {
        pages::header(&mut out, "X-Accel-Buffering", "no");
    }
    if chunked {
        pages::header(&mut out, "Transfer-Encoding", "chunked");
    }
    out.extend_from_slice(b"\r\n");
    After::Stream(Stream {
        follower,
        chunked,
        head: out,
        site: ex.site.clone(),
        _slot: slot,
    })
}

/// A log stream ready to start: it gets a thread of its own (outside the
/// worker pool, within the server's stream budget) for as long as it runs.
pub(super) struct Stream {
    follower: Follower,
    chunked: bool,
    /// The response head, sent with the first piece.
    head: Vec<u8>,
    site: Arc<Site>,
    _slot: StreamSlot,
}

impl Stream {
    /// Run the stream on a thread of its own; if none can be started the
    /// connection is closed.
    pub(super) fn start(self, conn: Conn) {
        let _ = thread::Builder::new()
            .name("http-stream".to_string())
            .stack_size(STACK_SIZE)
            .spawn(move || self.run(conn));
    }

    fn run(mut self, conn: Conn) {
        let mut sink = Sink {
            conn: &conn,
            chunked: self.chunked,
            out: std::mem::take(&mut self.head),
        };
        if self.follower.start(&mut sink).is_err() || sink.flush().is_err() {
            return;
        }
        let mut junk = [0u8; 512];
        let mut checked = Instant::now();
        let mut reader = &conn;
        while !self.site.stopping() {
            // Wait up to a tick for the client: EOF means it is gone. Anything
            // it sends (supervisorctl's extra CRLF) is ignored.
            match wait_ready(&conn, PollFlags::POLLIN, STREAM_TICK) {
                Ok(true) => match reader.read(&mut junk) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if is_wait(&e) => {}
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
            if checked.elapsed() >= STREAM_TICK {
                checked = Instant::now();
                if self.follower.poll(&mut sink).is_err() {
                    break;
                }
            }
        }
    }
}

fn is_wait(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// `/logtail/<namespec>[/<channel>]`, split as Supervisor does (the first
/// path segment is not checked); `None` for a missing name or a channel
/// other than `stdout` / `stderr`.
fn parse_logtail(path: &str) -> Option<LogRequest> {
    let rest = path.trim_start_matches('/');
    let (_, spec) = rest.split_once('/')?;
    let (name, channel) = spec.split_once('/').unwrap_or((spec, "stdout"));
    let stderr = match channel {
        "stdout" => false,
        "stderr" => true,
        _ => return None,
    };
    if name.is_empty() {
        return None;
    }
    Some(LogRequest::Process {
        namespec: name.to_string(),
        stderr,
    })
}

/// Where the stream's bytes go: chunks, or raw bytes.
struct Sink<'a> {
    conn: &'a Conn,
    chunked: bool,
    /// Bytes not written yet (the response head before the first piece).
    out: Vec<u8>,
}

impl Sink<'_> {
    /// Send `data` at once, as one chunk when chunked. Never an empty chunk
    /// (that would end the stream).
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.chunked {
            self.out
                .extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
            self.out.extend_from_slice(data);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.out.extend_from_slice(data);
        }
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        // No deadline: a stream is cut only when its client takes nothing
        // for WRITE_TIMEOUT.
        let result = write_all(self.conn, &mut [IoSlice::new(&self.out)], None);
        self.out.clear();
        if let Err(e) = &result {
            // A client that stopped reading is reset, as for any answer.
            self.conn.failed(e);
        }
        result
    }
}

/// A log file being followed.
struct Follower {
    path: PathBuf,
    file: File,
    /// (device, inode) of `file`.
    id: (u64, u64),
    /// Offset of the next byte to send.
    pos: u64,
    buf: Vec<u8>,
}

impl Follower {
    fn open(path: &Path) -> io::Result<Follower> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        Ok(Follower {
            path: path.to_path_buf(),
            file,
            id: (meta.dev(), meta.ino()),
            pos: 0,
            buf: Vec::new(),
        })
    }

    fn mtime(&self) -> std::time::SystemTime {
        self.file
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH)
    }

    /// The first piece: the last [`STREAM_HEAD_BYTES`] of the file.
    fn start(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        let len = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        self.pos = len.saturating_sub(STREAM_HEAD_BYTES);
        self.send_to(len, sink)
    }

    /// One check: follow a replaced file, notice truncation, send new bytes.
    /// Errors are write errors (the client is gone); file trouble is retried
    /// at the next check.
    fn poll(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        if let Ok(meta) = fs::metadata(&self.path) {
            if (meta.dev(), meta.ino()) != self.id {
                self.switch(sink)?;
            }
        }
        let Ok(meta) = self.file.metadata() else {
            return Ok(());
        };
        let len = meta.len();
        if len < self.pos {
            sink.send(TRUNCATED)?;
            self.pos = 0;
        }
        self.send_to(len, sink)
    }

    /// The path names a new file: send the rest of the old one, then follow
    /// the new one from its start. If it cannot be opened (yet), stay.
    fn switch(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        let Ok(file) = File::open(&self.path) else {
            return Ok(());
        };
        let Ok(meta) = file.metadata() else {
            return Ok(());
        };
        if !meta.is_file() {
            return Ok(());
        }
        if let Ok(old) = self.file.metadata() {
            if old.len() > self.pos {
                self.send_to(old.len(), sink)?;
            }
        }
        self.file = file;
        self.id = (meta.dev(), meta.ino());
        self.pos = 0;
        Ok(())
    }

    /// Send the bytes from `pos` up to `end` (fewer if the file is shorter).
    fn send_to(&mut self, end: u64, sink: &mut Sink<'_>) -> io::Result<()> {
        while self.pos < end {
            // At most STREAM_MAX_CHUNK, so this fits.
            let want = (end - self.pos).min(STREAM_MAX_CHUNK) as usize;
            self.buf.resize(want, 0);
            let n = match self.file.read_at(&mut self.buf[..want], self.pos) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            sink.send(&self.buf[..n])?;
            self.pos += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logtail_paths() {
        let p = |namespec: &str, stderr| {
            Some(LogRequest::Process {
                namespec: namespec.to_string(),
                stderr,
            })
        };
        assert_eq!(parse_logtail("/logtail/foo"), p("foo", false));
        assert_eq!(
            parse_logtail("/logtail/grp:foo/stdout"),
            p("grp:foo", false)
        );
        assert_eq!(parse_logtail("/logtail/foo/stderr"), p("foo", true));
        assert_eq!(parse_logtail("//logtail/foo"), p("foo", false));
        assert_eq!(parse_logtail("/logtail/foo/other"), None);
        assert_eq!(parse_logtail("/logtail/foo/stdout/x"), None);
        assert_eq!(parse_logtail("/logtail/"), None);
        assert_eq!(parse_logtail("/logtail"), None);
    }
}
