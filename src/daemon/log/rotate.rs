//! A log file with Supervisor's size-based rotation (spec logging.md §1.6),
//! shared by the main log and the child logs.
//!
//! Where we differ (logging.md "Where we differ", §1.10): a target that is
//! not a regular file (`/dev/stdout` on a pipe, a tty, `/dev/null`, a FIFO) or
//! that is only an alias of an inherited descriptor (`/dev/stdout`,
//! `/dev/fd/N`) is never rotated. Supervisor tries, fails with "Illegal seek"
//! and stops logging (or crashes, for the main log); renaming `/dev/stdout`
//! itself would be worse still.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// An append-mode log file that rotates itself after a write takes it to
/// `maxbytes` or beyond.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    /// 0: never rotate.
    maxbytes: u64,
    backups: u64,
    /// Bytes in the active file: its length at open plus what we wrote since.
    /// Counting saves an fstat per write and never seeks.
    size: u64,
    /// Why this target is never rotated; `None` for a plain log file.
    no_rotation: Option<&'static str>,
}

impl RotatingFile {
    /// Open (creating if needed, mode 0666 minus umask) `path` for appending.
    /// `maxbytes <= 0` disables rotation; `backups <= 0` means rotation
    /// truncates. Errors name the path.
    /// Errors are the system's own (their errno tells a spawn error what
    /// to say); callers add the path where they show the error.
    pub fn open(path: &Path, maxbytes: i64, backups: i64) -> io::Result<RotatingFile> {
        let file = open_target(path)?;
        let (size, no_rotation) = examine(path, &file)?;
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            maxbytes: maxbytes.max(0) as u64,
            backups: backups.max(0) as u64,
            size,
            no_rotation,
        })
    }

    /// The path this log was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the target is something we never rotate (not a regular file, or
    /// an inherited descriptor such as `/dev/stdout`), whatever `maxbytes` says.
    pub fn rotation_disabled(&self) -> bool {
        self.no_rotation.is_some()
    }

    /// The warning to log once when rotation was asked for (`maxbytes > 0`)
    /// but is off because of what the target is.
    pub fn rotation_warning(&self) -> Option<String> {
        let reason = self.no_rotation?;
        (self.maxbytes > 0).then(|| {
            format!(
                "{} {reason}; rotation is disabled for it (set its maxbytes to 0 to silence this)",
                self.path.display()
            )
        })
    }

    /// The open file's metadata (to tell whether it is the same file as another).
    pub fn metadata(&self) -> io::Result<fs::Metadata> {
        self.file.metadata()
    }

    /// Write all of `data` straight to the file, then rotate if the file has
    /// reached `maxbytes`. On error the data may be partly written; rotation
    /// is still attempted (it may free space, e.g. on a full disk), and the
    /// first error is returned.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self.write_some(data) {
            (_, Some(e)) => Err(e),
            (_, None) => Ok(()),
        }
    }

    /// Like [`write`](Self::write), but says how much was written before an
    /// error, so the caller can keep the rest and retry (a full disk, or
    /// `WouldBlock` from a pipe or terminal nobody is reading).
    pub fn write_some(&mut self, data: &[u8]) -> (usize, Option<io::Error>) {
        let (written, result) = write_counting(&mut self.file, data);
        self.size += written as u64;
        let error = result.err().map(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                e
            } else {
                context(e, "cannot write to", &self.path)
            }
        });
        let rotated = if self.should_rotate() {
            self.rotate().err()
        } else {
            None
        };
        (written, error.or(rotated))
    }

    /// Close and open the same path again (SIGUSR2, e.g. after logrotate moved
    /// the file away: a new file is created). On failure the old file stays
    /// in use, so nothing is lost.
    pub fn reopen(&mut self) -> io::Result<()> {
        let file = open_target(&self.path).and_then(|file| {
            let (size, no_rotation) = examine(&self.path, &file)?;
            Ok((file, size, no_rotation))
        });
        let (file, size, no_rotation) =
            file.map_err(|e| context(e, "cannot reopen", &self.path))?;
        self.file = file;
        self.size = size;
        self.no_rotation = no_rotation;
        Ok(())
    }

    fn should_rotate(&self) -> bool {
        self.maxbytes > 0 && self.no_rotation.is_none() && self.size >= self.maxbytes
    }

    /// Supervisor's doRollover: shift `.1`… up by one (dropping the
    /// `.backups` one), move the active file to `.1`, start an empty one.
    /// On failure the current file stays open and the next write retries.
    fn rotate(&mut self) -> io::Result<()> {
        self.shift_backups()
            .and_then(|()| self.start_empty())
            .map_err(|e| context(e, "cannot rotate", &self.path))
    }

    fn shift_backups(&self) -> io::Result<()> {
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                rename_if_exists(&self.numbered(i), &self.numbered(i + 1))?;
            }
            rename_if_exists(&self.path, &self.numbered(1))?;
        }
        Ok(())
    }

    fn start_empty(&mut self) -> io::Result<()> {
        let file = open_target(&self.path)?;
        let (mut size, no_rotation) = examine(&self.path, &file)?;
        if no_rotation.is_none() && size > 0 {
            // With backups=0 this empties the file we were writing; otherwise
            // the file is new, unless something recreated it meanwhile. Only
            // truncate what is not empty: on ext4 a truncation marks the file
            // to be flushed to disk when it is closed, which at the next
            // rotation would stall us writing out the whole file.
            file.set_len(0)?;
            size = 0;
        }
        self.file = file;
        self.size = size;
        self.no_rotation = no_rotation;
        Ok(())
    }

    /// `<path>.<n>`
    fn numbered(&self, n: u64) -> PathBuf {
        let mut name = OsString::from(self.path.as_os_str());
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }
}

/// The size of a freshly opened file, and why it must never be rotated
/// (`None` for a plain log file).
fn examine(path: &Path, file: &File) -> io::Result<(u64, Option<&'static str>)> {
    let meta = file.metadata()?;
    let no_rotation = if !meta.file_type().is_file() {
        Some("is not a regular file")
    } else if aliased_fd(path).is_some() {
        Some("is an inherited file descriptor")
    } else {
        None
    };
    Ok((meta.len(), no_rotation))
}

/// Open for appending. `/dev/stdout` and `/dev/stderr` cannot be opened when
/// the descriptor is a socket (ENXIO, e.g. under systemd); then write to a
/// duplicate of our own descriptor instead.
fn open_target(path: &Path) -> io::Result<File> {
    // A pipe or terminal opened by path is our own open file description,
    // so making it non-blocking affects nobody else: a reader that stalls
    // then costs us buffered bytes, never a blocked event loop.
    let opened = OpenOptions::new().append(true).create(true).open(path);
    if let (Ok(file), Some(fd @ (1 | 2))) = (&opened, aliased_fd(path)) {
        if file.metadata().is_ok_and(|m| m.file_type().is_file()) {
            // Our stdout/stderr is a regular file (`supervisord > out.log`).
            // A description of our own would have its own offset, and our
            // log lines written through the inherited one (opened without
            // O_APPEND) would overwrite the programs' output: share it.
            let own = if fd == 1 {
                io::stdout().as_fd().try_clone_to_owned()?
            } else {
                io::stderr().as_fd().try_clone_to_owned()?
            };
            return Ok(File::from(own));
        }
    }
    if let Ok(file) = &opened {
        if file.metadata().is_ok_and(|m| !m.file_type().is_file()) {
            let fd = file.as_raw_fd();
            if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
                let _ = fcntl(
                    fd,
                    FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
                );
            }
        }
    }
    match opened {
        Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => {
            let fd = match aliased_fd(path) {
                Some(1) => io::stdout().as_fd().try_clone_to_owned()?,
                Some(2) => io::stderr().as_fd().try_clone_to_owned()?,
                _ => return Err(e),
            };
            Ok(File::from(fd))
        }
        other => other,
    }
}

/// The descriptor number when `path` names one of our own descriptors:
/// `/dev/stdin|stdout|stderr`, `/dev/fd/N`, `/proc/self/fd/N`,
/// `/proc/thread-self/fd/N`. Such a path is a symlink into `/proc`;
/// renaming it would break it for everyone else in the container.
fn aliased_fd(path: &Path) -> Option<u32> {
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::RootDir => Some("/"),
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        ["/", "dev", "stdin"] => Some(0),
        ["/", "dev", "stdout"] => Some(1),
        ["/", "dev", "stderr"] => Some(2),
        ["/", "dev", "fd", n] | ["/", "proc", "self" | "thread-self", "fd", n] => n.parse().ok(),
        _ => None,
    }
}

/// `rename` replaces an existing target atomically, which covers
/// Supervisor's remove-then-rename; a missing source is not an error.
fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// `write_all` that also says how much got written before an error, so the
/// size stays right.
fn write_counting(file: &mut File, mut data: &[u8]) -> (usize, io::Result<()>) {
    let mut total = 0;
    while !data.is_empty() {
        match file.write(data) {
            Ok(0) => return (total, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                total += n;
                data = &data[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (total, Err(e)),
        }
    }
    (total, Ok(()))
}

fn context(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn len(path: &Path) -> u64 {
        fs::metadata(path).unwrap().len()
    }

    fn numbered(path: &Path, n: u32) -> PathBuf {
        PathBuf::from(format!("{}.{n}", path.display()))
    }

    #[test]
    fn rotates_after_the_write_that_crosses_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 100, 3).unwrap();
        assert!(!log.rotation_disabled());
        log.write(&[b'a'; 60]).unwrap();
        assert_eq!(len(&path), 60);
        assert!(!numbered(&path, 1).exists());
        // 120 >= 100: this chunk stays whole in the backup.
        log.write(&[b'b'; 60]).unwrap();
        assert_eq!(len(&numbered(&path, 1)), 120);
        assert_eq!(len(&path), 0);
        log.write(b"next").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"next");
    }

    #[test]
    fn exactly_maxbytes_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 10, 1).unwrap();
        log.write(&[b'a'; 10]).unwrap();
        assert_eq!(len(&numbered(&path, 1)), 10);
        assert_eq!(len(&path), 0);
    }

    #[test]
    fn newest_backup_is_one_and_at_most_backups_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 5, 2).unwrap();
        for chunk in [b"first", b"secnd", b"third", b"forth"] {
            log.write(chunk).unwrap();
        }
        assert_eq!(fs::read(numbered(&path, 1)).unwrap(), b"forth");
        assert_eq!(fs::read(numbered(&path, 2)).unwrap(), b"third");
        assert!(!numbered(&path, 3).exists());
        assert_eq!(len(&path), 0);
    }

    #[test]
    fn higher_numbered_leftovers_are_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        fs::write(numbered(&path, 3), "old3").unwrap();
        fs::write(numbered(&path, 7), "old7").unwrap();
        let mut log = RotatingFile::open(&path, 5, 2).unwrap();
        for chunk in [b"aaaaa", b"bbbbb", b"ccccc"] {
            log.write(chunk).unwrap();
        }
        assert_eq!(fs::read(numbered(&path, 1)).unwrap(), b"ccccc");
        assert_eq!(fs::read(numbered(&path, 2)).unwrap(), b"bbbbb");
        assert_eq!(fs::read(numbered(&path, 3)).unwrap(), b"old3");
        assert_eq!(fs::read(numbered(&path, 7)).unwrap(), b"old7");
    }

    #[test]
    fn zero_backups_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 5, 0).unwrap();
        log.write(b"123456").unwrap();
        assert_eq!(len(&path), 0);
        assert!(!numbered(&path, 1).exists());
        log.write(b"abc").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"abc");
    }

    #[test]
    fn zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 0, 5).unwrap();
        for _ in 0..100 {
            log.write(&[b'z'; 100]).unwrap();
        }
        assert_eq!(len(&path), 10_000);
        assert!(!numbered(&path, 1).exists());
        assert!(log.rotation_warning().is_none());
    }

    #[test]
    fn appends_to_existing_content_and_an_oversize_file_rotates_on_first_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        fs::write(&path, [b'o'; 50]).unwrap();
        let mut log = RotatingFile::open(&path, 20, 1).unwrap();
        log.write(b"!").unwrap();
        let backup = fs::read(numbered(&path, 1)).unwrap();
        assert_eq!(backup.len(), 51);
        assert!(backup.ends_with(b"o!"));
        assert_eq!(len(&path), 0);
    }

    #[test]
    fn missing_intermediate_backups_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        fs::write(numbered(&path, 2), "two").unwrap();
        let mut log = RotatingFile::open(&path, 3, 4).unwrap();
        log.write(b"new").unwrap();
        assert_eq!(fs::read(numbered(&path, 1)).unwrap(), b"new");
        assert!(!numbered(&path, 2).exists());
        assert_eq!(fs::read(numbered(&path, 3)).unwrap(), b"two");
        // The active file vanished behind our back: no error, the shift goes
        // on and a new active file appears.
        fs::remove_file(&path).unwrap();
        log.write(b"abc").unwrap();
        assert!(!numbered(&path, 1).exists());
        assert_eq!(fs::read(numbered(&path, 2)).unwrap(), b"new");
        assert_eq!(fs::read(numbered(&path, 4)).unwrap(), b"two");
        assert_eq!(len(&path), 0);
    }

    #[test]
    fn reopen_after_the_file_was_moved_away_creates_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let moved = dir.path().join("moved.log");
        let mut log = RotatingFile::open(&path, 1000, 1).unwrap();
        log.write(b"before\n").unwrap();
        fs::rename(&path, &moved).unwrap();
        log.write(b"still old\n").unwrap();
        log.reopen().unwrap();
        log.write(b"after\n").unwrap();
        assert_eq!(fs::read(&moved).unwrap(), b"before\nstill old\n");
        assert_eq!(fs::read(&path).unwrap(), b"after\n");
    }

    #[test]
    fn reopen_picks_up_the_new_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut log = RotatingFile::open(&path, 10, 1).unwrap();
        log.write(b"12345").unwrap();
        fs::write(&path, "").unwrap();
        log.reopen().unwrap();
        log.write(b"12345").unwrap();
        assert!(!numbered(&path, 1).exists());
    }

    #[test]
    fn a_char_device_is_never_rotated() {
        let mut log = RotatingFile::open(Path::new("/dev/null"), 1, 3).unwrap();
        assert!(log.rotation_disabled());
        let warning = log.rotation_warning().unwrap();
        assert!(
            warning.starts_with("/dev/null is not a regular file"),
            "{warning}"
        );
        for _ in 0..3 {
            log.write(b"hello\n").unwrap();
        }
        log.reopen().unwrap();
        log.write(b"again\n").unwrap();
        let quiet = RotatingFile::open(Path::new("/dev/null"), 0, 3).unwrap();
        assert!(quiet.rotation_disabled());
        assert!(quiet.rotation_warning().is_none());
    }

    #[test]
    fn a_fifo_is_never_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // Keep a reader open so opening for writing does not block.
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut log = RotatingFile::open(&path, 1, 1).unwrap();
        assert!(log.rotation_disabled());
        log.write(b"through the pipe").unwrap();
        assert!(!numbered(&path, 1).exists());
        drop(reader);
    }

    #[test]
    fn inherited_descriptor_aliases() {
        assert_eq!(aliased_fd(Path::new("/dev/stdout")), Some(1));
        assert_eq!(aliased_fd(Path::new("/dev/stderr")), Some(2));
        assert_eq!(aliased_fd(Path::new("/dev/fd/7")), Some(7));
        assert_eq!(aliased_fd(Path::new("/proc/self/fd/1")), Some(1));
        assert_eq!(aliased_fd(Path::new("/dev/null")), None);
        assert_eq!(aliased_fd(Path::new("/var/log/stdout")), None);
        assert_eq!(aliased_fd(Path::new("dev/stdout")), None);
    }
}
