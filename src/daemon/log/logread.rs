//! Reading log slices for `readLog`, `readProcess*Log` and `tail*Log`
//! (xmlrpc.md §6.5). Runs on the HTTP thread that asked, never on the
//! reactor, so a big slice cannot stall the event loop.
//!
//! Every offset and length comes from the wire: they are clamped to what the
//! file holds and to [`MAX_LOG_READ`] before anything is allocated (a length
//! of 99,999,999,999 once aborted the daemon on a failed allocation).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::xmlrpc::{faults, Fault, Value};

/// The most bytes one read answers. Longer slices are cut: a read from an
/// offset gets the first `MAX_LOG_READ` bytes (page on with a larger
/// offset), a read of the end of a log gets its last `MAX_LOG_READ` bytes.
/// Python's Supervisor has no limit and reads the whole slice into memory.
pub const MAX_LOG_READ: u64 = 16 * 1024 * 1024;

pub type Answer = Result<Value, Fault>;

/// `readLog(offset, length)`: `offset < 0` reads the last `-offset` bytes
/// (then `length` must be 0); otherwise `length` bytes from `offset`, or to
/// the end when `length` is 0. Decoded lossily (Supervisor failed with HTTP
/// 500 on a slice that splits a UTF-8 character).
pub fn read_log(path: &Path, offset: i64, length: i64) -> Answer {
    if (offset < 0 && length != 0) || (offset >= 0 && length < 0) {
        return Err(Fault::named(faults::BAD_ARGUMENTS, None));
    }
    let failed = || Fault::named(faults::FAILED, Some(&path.display().to_string()));
    let mut file = File::open(path)
        .map_err(|_| Fault::named(faults::NO_FILE, Some(&path.display().to_string())))?;
    let size = file.metadata().map_err(|_| failed())?.len();
    let (start, end) = if offset < 0 {
        let back = offset.unsigned_abs().min(MAX_LOG_READ);
        (size.saturating_sub(back), size)
    } else {
        let start = (offset as u64).min(size);
        let wanted = if length == 0 {
            size - start
        } else {
            length as u64
        };
        (start, start + wanted.min(size - start).min(MAX_LOG_READ))
    };
    let data = read_span(&mut file, start, end).map_err(|_| failed())?;
    Ok(Value::String(String::from_utf8_lossy(&data).into_owned()))
}

/// `tail*Log(offset, length)`: `(bytes, new offset = size, overflow)` with
/// Supervisor's algorithm; `None` when the file is missing.
pub fn tail_log(path: &Path, offset: i64, length: i64) -> Option<(String, i64, bool)> {
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len().min(i64::MAX as u64) as i64;
    let mut length = length.min(MAX_LOG_READ as i64);
    let mut offset = offset;
    let mut overflow = false;
    if size > offset.saturating_add(length) {
        overflow = true;
        offset = size - 1;
    }
    if offset.saturating_add(length) > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size.saturating_sub(length);
    }
    let start = offset.clamp(0, size) as u64;
    let end = start.saturating_add(length.max(0) as u64).min(size as u64);
    let data = read_span(&mut file, start, end).ok()?;
    Some((String::from_utf8_lossy(&data).into_owned(), size, overflow))
}

/// The bytes in `start..end`, or fewer if the file shrank meanwhile. The
/// buffer grows with what is read, never with what was asked for.
fn read_span(file: &mut File, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
    let wanted = end.saturating_sub(start);
    let mut data = Vec::with_capacity(wanted.min(64 * 1024) as usize);
    file.seek(SeekFrom::Start(start))?;
    file.take(wanted).read_to_end(&mut data)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn text(answer: Answer) -> String {
        match answer.unwrap() {
            Value::String(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_log_offsets_and_lengths() {
        let (_dir, path) = file_with(b"0123456789");
        assert_eq!(text(read_log(&path, 0, 0)), "0123456789");
        assert_eq!(text(read_log(&path, 3, 0)), "3456789");
        assert_eq!(text(read_log(&path, 3, 2)), "34");
        assert_eq!(text(read_log(&path, 20, 2)), "");
        assert_eq!(text(read_log(&path, -4, 0)), "6789");
        assert_eq!(text(read_log(&path, -40, 0)), "0123456789");
        assert_eq!(
            read_log(&path, -4, 2).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        assert_eq!(
            read_log(&path, 4, -2).unwrap_err().code,
            faults::BAD_ARGUMENTS
        );
        let missing = path.with_file_name("nope");
        assert_eq!(read_log(&missing, 0, 0).unwrap_err().code, faults::NO_FILE);
    }

    #[test]
    fn read_log_splitting_a_character_is_lossy_not_an_error() {
        let (_dir, path) = file_with("é".as_bytes());
        assert_eq!(text(read_log(&path, -1, 0)), "\u{fffd}");
    }

    #[test]
    fn read_log_extreme_offsets_and_lengths_are_clamped() {
        let (_dir, path) = file_with(b"0123456789");
        assert_eq!(text(read_log(&path, 0, i64::MAX)), "0123456789");
        assert_eq!(text(read_log(&path, 2, 99_999_999_999)), "23456789");
        assert_eq!(text(read_log(&path, i64::MAX, 0)), "");
        assert_eq!(text(read_log(&path, i64::MIN, 0)), "0123456789");
        assert_eq!(text(read_log(&path, i64::MAX, i64::MAX)), "");
    }

    #[test]
    fn tail_log_follows_supervisors_algorithm() {
        let content: Vec<u8> = (0..1180).map(|i| b'a' + (i % 26) as u8).collect();
        let (_d, path) = file_with(&content);
        let (data, size, overflow) = tail_log(&path, 0, 20).unwrap();
        assert_eq!(
            (data.as_bytes(), size, overflow),
            (&content[1160..], 1180, true)
        );
        let (data, size, overflow) = tail_log(&path, 1180, 20).unwrap();
        assert_eq!((data.as_str(), size, overflow), ("", 1180, false));
        let (data, _, overflow) = tail_log(&path, 1170, 20).unwrap();
        assert_eq!((data.as_bytes(), overflow), (&content[1160..], false));
        assert!(tail_log(&path.with_file_name("nope"), 0, 10).is_none());
    }

    #[test]
    fn tail_log_extreme_offsets_and_lengths_are_clamped() {
        let (_dir, path) = file_with(b"0123456789");
        for (offset, length) in [
            (0, 99_999_999_999),
            (0, i64::MAX),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MAX),
            (i64::MIN, i64::MIN),
            (-5, 3),
            (5, -3),
        ] {
            let (data, size, _) = tail_log(&path, offset, length).unwrap();
            assert_eq!(size, 10);
            assert!(data.len() <= 10, "{offset} {length}: {data:?}");
        }
        assert_eq!(tail_log(&path, 0, 99_999_999_999).unwrap().0, "0123456789");
    }

    #[test]
    fn tail_log_of_an_empty_file() {
        let (_dir, path) = file_with(b"");
        assert_eq!(tail_log(&path, 0, 1600).unwrap(), (String::new(), 0, false));
    }
}
