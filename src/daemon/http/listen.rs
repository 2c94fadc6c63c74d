//! Binding the listening sockets (spec `http.md` §1) and the startup error
//! messages Supervisor prints for them.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::unistd::{Gid, Uid, User};

use crate::config::model::{InetHttpServer, UnixHttpServer};

/// The message for a port or socket that another server is using.
pub(super) const IN_USE: &str = "Another program is already listening on a port that one of \
     our HTTP servers is configured to use.  Shut this program down first before starting \
     supervisord.";

const CANNOT_OPEN: &str = "Cannot open an HTTP server: socket.error reported";

/// How many times a stale socket file is unlinked before giving up (Python
/// retries forever; a file we cannot remove would spin). There is no pause
/// between attempts (Python sleeps 0.3 s): the path is free the moment it is
/// unlinked, and binding must never stall the event loop, which rebinds
/// after a restart that changed the server sections.
const STALE_ATTEMPTS: usize = 5;

/// A listening socket of either kind.
pub(super) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// The socket file a unix server created, removed again on stop unless the
/// path names another file by then.
pub(super) struct UnixSocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl UnixSocketFile {
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn remove(&self) {
        if let Ok(meta) = fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.id {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// Supervisor's text for a failed socket operation:
/// `Cannot open an HTTP server: socket.error reported errno.ENOENT (2)`, or the
/// "Another program…" message for EADDRINUSE.
pub(super) fn socket_error_message(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) if code == Errno::EADDRINUSE as i32 => IN_USE.to_string(),
        Some(code) => match Errno::from_raw(code) {
            Errno::UnknownErrno => format!("{CANNOT_OPEN} {code}"),
            errno => format!("{CANNOT_OPEN} errno.{errno:?} ({code})"),
        },
        None => format!("{CANNOT_OPEN} {e}"),
    }
}

/// Bind an `[inet_http_server]`: empty host (or `*`) is every IPv4 interface;
/// a name is resolved to its first IPv4 address (Python binds AF_INET only);
/// `[::1]` binds that IPv6 address (an extension, `http.md` §6.6).
pub(super) fn bind_tcp(section: &InetHttpServer) -> Result<TcpListener, String> {
    let addr = resolve(&section.host, section.port)?;
    // std sets SO_REUSEADDR on Unix, as Supervisor does.
    let listener = tcp_listener(addr).map_err(|e| {
        let message = socket_error_message(&e);
        if denied(&e) {
            format!(
                "{message} binding {addr}: ports below 1024 need root (or CAP_NET_BIND_SERVICE); \
                 choose another port in [inet_http_server] port="
            )
        } else {
            message
        }
    })?;
    Ok(listener)
}

/// A listening TCP socket with `SO_REUSEADDR` (as Supervisor sets it) and
/// the largest backlog the system allows, like the unix sockets get: std's
/// `TcpListener::bind` listens with 128, so a burst of clients beyond that
/// waits for a SYN retry (a second or more) instead of the accept loop.
fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    use nix::sys::socket::{
        bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
        SockaddrIn, SockaddrIn6,
    };
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    match addr {
        SocketAddr::V4(v4) => bind(raw, &SockaddrIn::from(v4))?,
        SocketAddr::V6(v6) => bind(raw, &SockaddrIn6::from(v6))?,
    }
    listen(&fd, Backlog::MAXALLOWABLE)?;
    Ok(TcpListener::from(fd))
}

/// Permission errors are the ones a user fixes by choosing another place:
/// they get told which place (Python only prints the errno).
fn denied(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EACCES | Errno::EPERM | Errno::EROFS)
    )
}

/// The bind error of a unix socket, naming the path when it is a permission
/// problem.
fn unix_socket_error(e: &io::Error, file: &Path) -> String {
    let message = socket_error_message(e);
    if denied(e) {
        format!(
            "{message} creating {}: the user supervisord runs as may not write there; \
             choose a writable directory in [unix_http_server] file=",
            file.display()
        )
    } else {
        message
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if host.is_empty() || host == "*" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(SocketAddr::new(IpAddr::V6(ip), port)),
            // Python's gaierror EAI_NONAME.
            Err(_) => Err(format!("{CANNOT_OPEN} -2")),
        };
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(SocketAddr::new(IpAddr::V4(ip), port));
    }
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.find(SocketAddr::is_ipv4))
        .ok_or_else(|| format!("{CANNOT_OPEN} -2"))
}

/// Create a `[unix_http_server]` socket the way Supervisor does (`http.md`
/// §1.2): bind `<file>.<pid>`, chmod it, hard-link it to `<file>`; if `<file>`
/// exists and nobody answers on it, note `Unlinking stale socket <file>` on
/// `notes` (stderr), unlink it and retry; chown if configured; always unlink
/// the temporary name.
pub(super) fn bind_unix(
    section: &UnixHttpServer,
    notes: &mut dyn Write,
) -> Result<(UnixListener, UnixSocketFile), String> {
    let file = &section.file;
    let mut temp = OsString::from(file.as_os_str());
    temp.push(format!(".{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let _ = fs::remove_file(&temp);
    for _ in 0..STALE_ATTEMPTS {
        let listener = UnixListener::bind(&temp).map_err(|e| unix_bind_error(&e, file))?;
        let linked = link_socket(section, &temp);
        let _ = fs::remove_file(&temp);
        match linked? {
            Some(id) => {
                let socket = UnixSocketFile {
                    path: file.clone(),
                    id,
                };
                return Ok((listener, socket));
            }
            None => {
                let _ = writeln!(notes, "Unlinking stale socket {}", file.display());
                let _ = notes.flush();
                let _ = fs::remove_file(file);
            }
        }
    }
    Err(socket_error_message(&io::Error::from_raw_os_error(
        Errno::EEXIST as i32,
    )))
}

/// Steps 1–4 after the bind: `Some((dev, ino))` of the linked socket file,
/// `None` when a stale file is in the way.
fn link_socket(section: &UnixHttpServer, temp: &Path) -> Result<Option<(u64, u64)>, String> {
    let file = &section.file;
    fs::set_permissions(temp, fs::Permissions::from_mode(section.chmod & 0o7777))
        .map_err(|e| socket_error_message(&e))?;
    match fs::hard_link(temp, file) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if probe_alive(file) {
                return Err(IN_USE.to_string());
            }
            return Ok(None);
        }
        // Python probes and unlinks on any error, which loops forever when
        // the link itself is impossible; report it instead.
        Err(e) => return Err(unix_socket_error(&e, file)),
    }
    if let Some((uid, gid)) = section.chown {
        if let Err(message) = chown_socket(file, uid, gid) {
            let _ = fs::remove_file(file);
            return Err(message);
        }
    }
    match fs::symlink_metadata(file) {
        Ok(meta) => Ok(Some((meta.dev(), meta.ino()))),
        Err(e) => Err(socket_error_message(&e)),
    }
}

fn chown_socket(file: &Path, uid: u32, gid: Option<u32>) -> Result<(), String> {
    match nix::unistd::chown(file, Some(Uid::from_raw(uid)), gid.map(Gid::from_raw)) {
        Ok(()) => Ok(()),
        Err(Errno::EPERM) => {
            let euid = nix::unistd::geteuid();
            let me = match User::from_uid(euid) {
                Ok(Some(user)) => user.name,
                _ => euid.to_string(),
            };
            let gid = gid.map_or(-1, i64::from);
            Err(format!(
                "Not permitted to chown {} to uid/gid ({uid}, {gid}); adjust \"sockchown\" value \
                 in config file or on command line to values that the current user ({me}) can \
                 successfully chown",
                file.display()
            ))
        }
        Err(errno) => Err(socket_error_message(&io::Error::from_raw_os_error(
            errno as i32,
        ))),
    }
}

/// Python reports a too-long path with the text of its exception.
fn unix_bind_error(e: &io::Error, file: &Path) -> String {
    if e.raw_os_error().is_none() && e.kind() == io::ErrorKind::InvalidInput {
        return format!("{CANNOT_OPEN} AF_UNIX path too long");
    }
    unix_socket_error(e, file)
}

/// Is a server listening on the socket `path`? Python connects, sends a
/// request and waits for a byte; here the connect alone decides, without
/// blocking: on a unix socket it succeeds (or finds the backlog full) only
/// when something listens. Refused (or no such file) → stale. This never
/// waits, so neither does a rebind from the event loop, even when the
/// listener is alive but stuck.
fn probe_alive(path: &Path) -> bool {
    match mio::net::UnixStream::connect(path) {
        Ok(mut stream) => {
            // Tell a live server what the probe was, as Python does (best
            // effort; nothing is awaited).
            let _ = stream.write(b"GET / HTTP/1.0\r\n\r\n");
            true
        }
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
    }
}
