//! The syslog(3) client Python's `syslog.syslog` amounts to: facility USER,
//! priority INFO, ident `supervisord`, one datagram per line. Used by the
//! main log (`logfile=syslog`) and by `stdout_syslog`/`stderr_syslog`.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

/// Where syslog(3) sends its messages.
pub const SOCKET: &str = "/dev/log";

pub struct Syslog {
    path: PathBuf,
    /// The connection, or why there is none (retried on each message).
    pub socket: io::Result<UnixDatagram>,
}

impl Syslog {
    pub fn connect(path: &Path) -> Syslog {
        let mut syslog = Syslog {
            path: path.to_path_buf(),
            socket: Err(io::ErrorKind::NotConnected.into()),
        };
        syslog.reconnect();
        syslog
    }

    pub fn reconnect(&mut self) {
        self.socket = UnixDatagram::unbound().and_then(|socket| {
            socket.connect(&self.path)?;
            Ok(socket)
        });
    }

    /// Send one message per line of `text` (a trailing newline is dropped),
    /// each with the header glibc and musl syslog(3) put in front
    /// (`<14>Mmm dd hh:mm:ss supervisord: `), which syslog daemons parse.
    pub fn send_lines(
        &mut self,
        now: NaiveDateTime,
        text: &str,
        format: impl Fn(&str) -> String,
    ) -> io::Result<()> {
        let header = format!(
            "<14>{} supervisord: ",
            crate::daemon::timefmt::syslog_stamp(&now)
        );
        for line in text.trim_end_matches('\n').split('\n') {
            let datagram = header.clone() + &format(line);
            self.send_datagram(datagram.as_bytes()).map_err(|e| {
                io::Error::new(e.kind(), format!("syslog at {}: {e}", self.path.display()))
            })?;
        }
        Ok(())
    }

    fn send_datagram(&mut self, datagram: &[u8]) -> io::Result<()> {
        if let Ok(socket) = &self.socket {
            if socket.send(datagram).is_ok() {
                return Ok(());
            }
        }
        // The syslog daemon may have restarted (or appeared) since: one retry.
        self.reconnect();
        match &self.socket {
            Ok(socket) => socket.send(datagram).map(drop),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }
}
