//! AUTO log files: created private and empty for each process at startup,
//! named as Supervisor names them, and those of earlier runs cleaned up.

use std::io;
use std::path::{Path, PathBuf};

/// A fresh AUTO log file name: `<name>-<channel>---<identifier>-<8 random>.log`,
/// created empty with mode 0600 so the name is ours.
pub fn create_auto_file(
    dir: &Path,
    process: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    for _ in 0..100 {
        let path = dir.join(format!(
            "{process}-{channel}---{identifier}-{}.log",
            random_suffix()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free AUTO log name",
    ))
}

/// Eight characters of `[a-z0-9_]`, as Python's mkstemp uses. The bits come
/// from std's `RandomState`: seeded from the kernel once per thread, each
/// new one has different secret keys, so this costs no system call (reading
/// /dev/urandom for each name was three per AUTO log, 600 for 100 programs).
/// The name only has to be hard to guess and free: `create_new` checks that.
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let base = ALPHABET.len() as u64;
    (0..8)
        .map(|_| {
            let c = ALPHABET[(bits % base) as usize] as char;
            bits /= base;
            c
        })
        .collect()
}

/// Whether `name` is an AUTO log (or a rotated backup of one) of the
/// instance `identifier`: Supervisor's prefix match of
/// `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}`.
pub fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    name.match_indices(&marker).any(|(at, _)| {
        at >= 1 && {
            let rest = &name[at + marker.len()..];
            // `\S+\.log`: at least one non-space byte, then `.log`, all
            // without whitespace in between.
            rest.match_indices(".log")
                .any(|(end, _)| end >= 1 && !rest[..end].contains(char::is_whitespace))
        }
    })
}

/// Delete old AUTO logs of this instance in `dir` (unless `nocleanup`).
/// Returns the warnings Supervisor logs for what could not be removed.
pub fn clean_auto_logs(dir: &Path, identifier: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec!["Could not clear childlog dir".to_string()];
    };
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if is_auto_log_name(name, identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                warnings.push(format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_suffixes_are_eight_of_mkstemps_characters_and_differ() {
        let suffixes: std::collections::HashSet<String> =
            (0..1000).map(|_| random_suffix()).collect();
        assert_eq!(suffixes.len(), 1000, "a suffix repeated in 1,000");
        for suffix in &suffixes {
            assert_eq!(suffix.len(), 8, "{suffix}");
            assert!(
                suffix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{suffix}"
            );
        }
    }

    #[test]
    fn auto_log_names_match_supervisors_cleanup_pattern() {
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_xyz.log",
            "supervisor"
        ));
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12_xyz.log.3",
            "supervisor"
        ));
        assert!(!is_auto_log_name("---supervisor-x.log", "supervisor"));
        assert!(!is_auto_log_name(
            "web-stdout---other-ab12.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "web-stdout---supervisor-.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name(
            "web-stdout---supervisor-a b.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name("notes.txt", "supervisor"));
    }

    #[test]
    fn auto_files_are_created_empty_private_and_cleaned() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = create_auto_file(dir.path(), "web", "stdout", "supervisor").unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("web-stdout---supervisor-") && name.ends_with(".log"),
            "{name}"
        );
        assert_eq!(name.len(), "web-stdout---supervisor-".len() + 8 + 4);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (0, 0o600));
        std::fs::write(dir.path().join("keep.log"), "").unwrap();
        std::fs::write(dir.path().join(format!("{name}.1")), "").unwrap();
        assert!(clean_auto_logs(dir.path(), "supervisor").is_empty());
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["keep.log".to_string()]);
    }
}
