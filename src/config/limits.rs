//! Bounds on what a config file can make the loader read, build and allocate.
//!
//! Supervisor has none of these: `-c /dev/zero` grows until memory runs out,
//! a FIFO blocks it forever, `numprocs=1000000000` builds a billion process
//! configs. Each limit here is far above any configuration we have seen, so a
//! working Supervisor config keeps working; past it the loader stops with an
//! error that names the file (and the section and key) and says what to do.

use std::cell::Cell;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest config file (main or included) we read: 16 MiB. A real one
/// is a few kilobytes; 10,000 programs take about half a megabyte.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most the main file and all its includes may hold together: 64 MiB.
/// Bounds the reading when `[include]` matches many big files (or names one
/// file many times).
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// The most patterns `[include] files=` may list, and separately the most
/// files they may match: 100,000 each.
pub const MAX_INCLUDES: usize = 100_000;

/// The most processes one program-like section may ask for with `numprocs`:
/// 10,000. Supervisor has no limit (and takes seconds per 10,000 copies);
/// each process needs a pid and three pipes, so more is never a real setup.
pub const MAX_NUMPROCS: i64 = 10_000;

/// The most processes a whole configuration may define: 100,000 (for
/// example 10,000 programs of 10 copies each).
pub const MAX_PROCESSES: usize = 100_000;

/// The most rotated backups a log may keep (`*logfile_backups`): 10,000.
/// Rotation renames every backup in turn, so a huge count would stall the
/// daemon at each rotation.
pub const MAX_LOGFILE_BACKUPS: i64 = 10_000;

/// The longest one value may become through `%(name)s` expansion: 16 MiB,
/// as long as a whole config file, so any value that can be written fits.
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// The most text all expanded values of one configuration may add up to,
/// counting each process's copy of its values and of the inherited
/// `[supervisord] environment=`: 128 MiB. Keeps `numprocs`, many programs and
/// wide `%(x)1000000s` fields from multiplying a small file into gigabytes.
/// 10,000 processes with a dozen options and 1 KiB of environment each use
/// about 12 MiB of it.
pub const MAX_EXPANDED_BYTES: usize = 128 * 1024 * 1024;

/// The most lines a "Source contains parsing errors" message lists (100);
/// the rest are counted. Python lists them all, and a file that is not a
/// config file at all (a log, a binary) has millions.
pub const MAX_LISTED_BAD_LINES: usize = 100;

/// The most "unknown key" / "unknown section" warnings listed one by one
/// (100); the rest are counted in one closing warning.
pub const MAX_UNKNOWN_WARNINGS: usize = 100;

/// `n` bytes in the unit the limits above are written in.
pub fn size_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Why a config file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at the path as far as we can see (a dangling symlink included).
    Missing,
    /// It is a directory.
    Directory,
    /// A FIFO, device or socket (after following symlinks): reading it could
    /// block forever or never end. The text names the kind.
    NotRegular(&'static str),
    /// Larger than the limit it was read with.
    TooLarge,
    /// Permission denied or another error from the system.
    Io(io::Error),
}

impl ReadError {
    /// What is wrong, then `fix` (what to do) where the user can act.
    pub fn explain(&self, limit: u64, fix: &str) -> String {
        match self {
            ReadError::Missing => "it does not exist".to_string(),
            ReadError::Directory => format!("it is a directory; {fix}"),
            ReadError::NotRegular(kind) => {
                format!("it is {kind}, not a regular file, and reading it might never end; {fix}")
            }
            ReadError::TooLarge => format!(
                "it is larger than {}, the most a config file may hold; check that it is the \
                 right file, or split it into smaller files joined with [include]",
                size_text(limit)
            ),
            ReadError::Io(e) => e.to_string(),
        }
    }
}

/// Read the regular file at `path` (symlinks followed), refusing anything
/// else and anything over `limit` bytes before reading more than that.
pub fn read_config_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Look before opening: opening a FIFO waits for a writer, and opening a
    // device can have effects of its own.
    // Like Python's `os.path.exists`, any failure to look (a parent that
    // cannot be searched, a symlink loop) counts as missing.
    let meta = std::fs::metadata(path).map_err(|_| ReadError::Missing)?;
    check_kind(&meta, limit)?;
    // Never block, never become our controlling terminal, even if the path
    // was swapped for something else since we looked.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    check_kind(&meta, limit)?;
    read_at_most(file, limit, meta.len())
}

fn check_kind(meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(ReadError::Directory);
    }
    if !kind.is_file() {
        return Err(ReadError::NotRegular(if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a special file"
        }));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(())
}

/// Read to the end, but stop one byte past `limit`: a file may grow while
/// it is read, and some (under /proc) report a size of 0.
/// `size` (what the file held when looked at, at most `limit`) sizes the
/// buffer: reading through `take` loses std's size hint, and growing from
/// nothing costs a read and a reallocation per doubling.
fn read_at_most(file: File, limit: u64, size: u64) -> Result<Vec<u8>, ReadError> {
    let mut text = Vec::with_capacity(size.min(limit).saturating_add(1) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut text)
        .map_err(ReadError::Io)?;
    if text.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(text)
}

/// The bytes of expanded text a configuration may still produce
/// ([`MAX_EXPANDED_BYTES`] in all).
#[derive(Debug)]
pub struct Budget {
    left: Cell<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_EXPANDED_BYTES)
    }
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        Budget {
            left: Cell::new(bytes),
        }
    }

    /// What is left.
    pub fn left(&self) -> usize {
        self.left.get()
    }

    /// Take `bytes`; `false` (and nothing taken) when that is more than is left.
    pub fn take(&self, bytes: usize) -> bool {
        match self.left.get().checked_sub(bytes) {
            Some(rest) => {
                self.left.set(rest);
                true
            }
            None => false,
        }
    }
}

/// The error text when the expansion budget runs out.
pub fn budget_exhausted() -> String {
    format!(
        "the configuration expands to more than {} of values (counting each process's copy of \
         its options and environment); lower numprocs, or shorten the values, the environment \
         or the widths of %(name) fields",
        size_text(MAX_EXPANDED_BYTES as u64)
    )
}

/// The process numbers of a program: `numprocs` of them from `start`, or why
/// not, with the key the problem is about. `numprocs` below 1 gives none,
/// as in Supervisor.
pub fn process_numbers(
    numprocs: i64,
    start: i64,
) -> Result<Option<(i64, i64)>, (&'static str, String)> {
    if numprocs > MAX_NUMPROCS {
        return Err((
            "numprocs",
            format!(
                "numprocs={numprocs} is more than {MAX_NUMPROCS}, the most processes one \
                 program may run; lower numprocs"
            ),
        ));
    }
    if numprocs < 1 {
        return Ok(None);
    }
    match start.checked_add(numprocs - 1) {
        Some(last) => Ok(Some((start, last))),
        None => Err((
            "numprocs_start",
            format!(
                "numprocs_start={start} with numprocs={numprocs} would number processes past \
                 {}, the largest process number; lower numprocs_start",
                i64::MAX
            ),
        )),
    }
}

/// `*logfile_backups`: an integer of at most [`MAX_LOGFILE_BACKUPS`].
pub fn logfile_backups(value: i64) -> Result<i64, String> {
    if value > MAX_LOGFILE_BACKUPS {
        Err(format!(
            "{value} is more than {MAX_LOGFILE_BACKUPS}, the most backups a log may keep; \
             lower it"
        ))
    } else {
        Ok(value)
    }
}

/// The start of `text` for a message, when all of it would be too much.
pub fn preview(text: &str) -> String {
    const SHOWN: usize = 60;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_mib() {
        assert_eq!(size_text(MAX_FILE_BYTES), "16 MiB");
        assert_eq!(size_text(MAX_EXPANDED_BYTES as u64), "128 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }

    #[test]
    fn regular_files_are_read_and_others_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.conf");
        std::fs::write(&file, "[a]\n").unwrap();
        assert_eq!(read_config_file(&file, 100).unwrap(), b"[a]\n");
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_config_file(&link, 100).unwrap(), b"[a]\n");

        assert!(matches!(
            read_config_file(&file, 3),
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read_config_file(dir.path(), 100),
            Err(ReadError::Directory)
        ));
        assert!(matches!(
            read_config_file(&dir.path().join("none"), 100),
            Err(ReadError::Missing)
        ));
        assert!(matches!(
            read_config_file(Path::new("/dev/zero"), 100),
            Err(ReadError::NotRegular("a character device"))
        ));
        let zero = dir.path().join("zero.conf");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_config_file(&zero, 100),
            Err(ReadError::NotRegular("a character device"))
        ));
        let fifo = dir.path().join("fifo.conf");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(matches!(
            read_config_file(&fifo, 100),
            Err(ReadError::NotRegular("a FIFO"))
        ));
    }

    #[test]
    fn a_file_reporting_no_size_is_still_cut_at_the_limit() {
        // /proc files report a size of 0 whatever they hold.
        let path = Path::new("/proc/self/maps");
        if path.exists() {
            assert!(matches!(
                read_config_file(path, 10),
                Err(ReadError::TooLarge)
            ));
        }
    }

    #[test]
    fn budget_takes_until_empty() {
        let budget = Budget::new(10);
        assert!(budget.take(4));
        assert!(!budget.take(7));
        assert_eq!(budget.left(), 6);
        assert!(budget.take(6));
        assert!(!budget.take(1));
    }

    #[test]
    fn process_numbers_are_checked() {
        assert_eq!(process_numbers(3, 5), Ok(Some((5, 7))));
        assert_eq!(process_numbers(0, 5), Ok(None));
        assert_eq!(process_numbers(-4, i64::MAX), Ok(None));
        assert_eq!(process_numbers(1, i64::MAX), Ok(Some((i64::MAX, i64::MAX))));
        assert_eq!(
            process_numbers(2, i64::MAX).unwrap_err().0,
            "numprocs_start"
        );
        assert_eq!(
            process_numbers(MAX_NUMPROCS, i64::MIN),
            Ok(Some((i64::MIN, i64::MIN + MAX_NUMPROCS - 1)))
        );
        assert_eq!(
            process_numbers(MAX_NUMPROCS + 1, 0).unwrap_err().0,
            "numprocs"
        );
    }

    #[test]
    fn previews_are_cut_on_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(preview(&long), format!("{}...", "é".repeat(60)));
    }
}
