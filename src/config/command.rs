//! `command=`: POSIX shell-like splitting and program lookup.
//!
//! Supervisor splits a command with Python's `shlex.split` and finds the
//! program itself, before forking, so that a missing or unusable program is a
//! spawn error with a clear message instead of a failed exec in the child.
//! Both steps follow Supervisor exactly, messages included.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use nix::unistd::{access, AccessFlags};

use crate::pyrepr;

/// Split like Python's `shlex.split` (POSIX mode, `#` literal). Errors are
/// shlex's texts: `No closing quotation`, `No escaped character`.
///
/// Single quotes keep everything literally. Inside double quotes a backslash
/// escapes only `\` and `"` and is otherwise kept (unlike sh, `\$` stays
/// `\$`). Outside quotes a backslash escapes any character, a newline
/// included. There is no expansion of any kind.
pub fn split(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = command.chars();
    // The word being built, or `None` between words. Quotes start a word even
    // when they enclose nothing, so `""` is one empty word.
    let mut word: Option<String> = None;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => w.push(q),
                        None => return Err("No closing quotation".to_string()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('\\' | '"')) => w.push(e),
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("No escaped character".to_string()),
                        },
                        Some(q) => w.push(q),
                        None => return Err("No closing quotation".to_string()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(e) => word.get_or_insert_with(String::new).push(e),
                None => return Err("No escaped character".to_string()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Why a program could not be resolved; `Display` gives Supervisor's spawnerr text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// `can't find command '<argv0 or path>'`
    NotFound(String),
    /// `command at '<path>' is a directory`
    IsDirectory(String),
    /// `command at '<path>' is not executable`
    NotExecutable(String),
    /// `no permission to run command '<path>'`
    NoPermission(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound(p) => write!(f, "can't find command {}", pyrepr::repr(p)),
            ResolveError::IsDirectory(p) => {
                write!(f, "command at {} is a directory", pyrepr::repr(p))
            }
            ResolveError::NotExecutable(p) => {
                write!(f, "command at {} is not executable", pyrepr::repr(p))
            }
            ResolveError::NoPermission(p) => {
                write!(f, "no permission to run command {}", pyrepr::repr(p))
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// Find the file to exec for `argv0`: as given when it contains `/`, otherwise
/// the first entry of `path` (a `PATH` value) where the name exists.
///
/// A name that exists but cannot be run stops the search, as in Supervisor:
/// a directory called `python` early in `PATH` hides the real program.
/// Empty `PATH` entries are skipped (Supervisor would look in its current
/// directory, which is rarely intended).
pub fn resolve(argv0: &str, path: &str) -> Result<PathBuf, ResolveError> {
    let found = if argv0.contains('/') {
        std::fs::metadata(argv0)
            .ok()
            .map(|meta| (argv0.to_string(), meta))
    } else {
        path.split(':')
            .filter(|dir| !dir.is_empty())
            .map(|dir| join(dir, argv0))
            .find_map(|file| std::fs::metadata(&file).ok().map(|meta| (file, meta)))
    };
    let Some((file, meta)) = found else {
        return Err(ResolveError::NotFound(argv0.to_string()));
    };
    if meta.is_dir() {
        return Err(ResolveError::IsDirectory(file));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(ResolveError::NotExecutable(file));
    }
    // Some x bit is set, but perhaps not one that applies to us.
    if access(file.as_str(), AccessFlags::X_OK).is_err() {
        return Err(ResolveError::NoPermission(file));
    }
    Ok(PathBuf::from(file))
}

/// Python's `os.path.join(dir, name)` for a relative `name`, so messages
/// show the same path Supervisor's would.
fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn words(list: &[&str]) -> Result<Vec<String>, String> {
        Ok(list.iter().map(|w| w.to_string()).collect())
    }

    fn err(text: &str) -> Result<Vec<String>, String> {
        Err(text.to_string())
    }

    // Expected values are Python 3.11's shlex.split.

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(split("a b"), words(&["a", "b"]));
        assert_eq!(split("  a   b  "), words(&["a", "b"]));
        assert_eq!(split("x\ny\tz\rw"), words(&["x", "y", "z", "w"]));
        assert_eq!(split(""), words(&[]));
        assert_eq!(split("   "), words(&[]));
        // Only these four characters are whitespace.
        assert_eq!(split("a\u{b}b"), words(&["a\u{b}b"]));
        assert_eq!(split("a\u{a0}b"), words(&["a\u{a0}b"]));
        assert_eq!(split("é ü"), words(&["é", "ü"]));
    }

    #[test]
    fn quotes_join_and_can_be_empty() {
        assert_eq!(split("a\"\"b"), words(&["ab"]));
        assert_eq!(split("\"\""), words(&[""]));
        assert_eq!(split("''"), words(&[""]));
        assert_eq!(split("a \"\" b"), words(&["a", "", "b"]));
        assert_eq!(split("a\"b c\"d"), words(&["ab cd"]));
        assert_eq!(split("a'b c'd"), words(&["ab cd"]));
        assert_eq!(split("\"it's\""), words(&["it's"]));
        assert_eq!(split("'say \"hi\"'"), words(&["say \"hi\""]));
        assert_eq!(
            split("bash -c 'echo $HOME; ls'"),
            words(&["bash", "-c", "echo $HOME; ls"])
        );
    }

    #[test]
    fn backslashes_outside_quotes() {
        assert_eq!(split("a\\ b"), words(&["a b"]));
        assert_eq!(split("\\a"), words(&["a"]));
        assert_eq!(split("a\\\"b"), words(&["a\"b"]));
        assert_eq!(split("a\\'"), words(&["a'"]));
        assert_eq!(split("a\\\nb"), words(&["a\nb"]));
    }

    #[test]
    fn backslashes_inside_quotes() {
        assert_eq!(split("'a\\b'"), words(&["a\\b"]));
        assert_eq!(split("\"a\\\\b\""), words(&["a\\b"]));
        assert_eq!(split("\"a\\\"b\""), words(&["a\"b"]));
        assert_eq!(split("\"\\\\\""), words(&["\\"]));
        // Unlike sh, shlex keeps the backslash before anything else.
        assert_eq!(split("\"a\\b\""), words(&["a\\b"]));
        assert_eq!(split("\"a\\$b\""), words(&["a\\$b"]));
        assert_eq!(split("\"a\\`b\""), words(&["a\\`b"]));
        assert_eq!(split("\"a\\\nb\""), words(&["a\\\nb"]));
        assert_eq!(split("\"a\\'\""), words(&["a\\'"]));
    }

    #[test]
    fn hash_is_literal() {
        assert_eq!(split("a#b"), words(&["a#b"]));
        assert_eq!(split("# x"), words(&["#", "x"]));
    }

    #[test]
    fn errors() {
        assert_eq!(split("\"a"), err("No closing quotation"));
        assert_eq!(split("'a"), err("No closing quotation"));
        assert_eq!(split("a \"b c"), err("No closing quotation"));
        assert_eq!(split("\\"), err("No escaped character"));
        assert_eq!(split("a\\"), err("No escaped character"));
        assert_eq!(split("\"\\"), err("No escaped character"));
    }

    fn make_file(dir: &Path, name: &str, mode: u32) -> String {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn dir_str(dir: &tempfile::TempDir) -> String {
        dir.path().to_str().unwrap().to_string()
    }

    #[test]
    fn messages_match_supervisor() {
        assert_eq!(
            ResolveError::NotFound("x".into()).to_string(),
            "can't find command 'x'"
        );
        assert_eq!(
            ResolveError::IsDirectory("/p".into()).to_string(),
            "command at '/p' is a directory"
        );
        assert_eq!(
            ResolveError::NotExecutable("/p".into()).to_string(),
            "command at '/p' is not executable"
        );
        assert_eq!(
            ResolveError::NoPermission("/p".into()).to_string(),
            "no permission to run command '/p'"
        );
        assert_eq!(
            ResolveError::NotFound("it's".into()).to_string(),
            "can't find command \"it's\""
        );
    }

    #[test]
    fn path_with_slash_is_used_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let prog = make_file(dir.path(), "prog", 0o755);
        assert_eq!(resolve(&prog, ""), Ok(PathBuf::from(&prog)));
        let missing = format!("{}/missing", dir_str(&dir));
        assert_eq!(
            resolve(&missing, &dir_str(&dir)),
            Err(ResolveError::NotFound(missing.clone()))
        );
    }

    #[test]
    fn relative_path_with_slash_is_not_searched() {
        let dir = tempfile::tempdir().unwrap();
        make_file(dir.path(), "prog", 0o755);
        // Looked up against the current directory, never PATH.
        let name = "./no-such-program-here";
        assert_eq!(
            resolve(name, &dir_str(&dir)),
            Err(ResolveError::NotFound(name.into()))
        );
    }

    #[test]
    fn path_is_searched_in_order() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let in_second = make_file(second.path(), "prog", 0o755);
        let path = format!("{}::{}/", dir_str(&first), dir_str(&second));
        assert_eq!(resolve("prog", &path), Ok(PathBuf::from(&in_second)));

        let in_first = make_file(first.path(), "prog", 0o755);
        assert_eq!(resolve("prog", &path), Ok(PathBuf::from(in_first)));
    }

    #[test]
    fn not_found_names_the_command() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve("prog", &dir_str(&dir)),
            Err(ResolveError::NotFound("prog".into()))
        );
        assert_eq!(
            resolve("prog", ""),
            Err(ResolveError::NotFound("prog".into()))
        );
        assert_eq!(
            resolve("", &dir_str(&dir)),
            Err(ResolveError::IsDirectory(format!("{}/", dir_str(&dir))))
        );
    }

    #[test]
    fn first_existing_entry_wins_even_if_unusable() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        fs::create_dir(first.path().join("prog")).unwrap();
        make_file(second.path(), "prog", 0o755);
        let path = format!("{}:{}", dir_str(&first), dir_str(&second));
        assert_eq!(
            resolve("prog", &path),
            Err(ResolveError::IsDirectory(format!(
                "{}/prog",
                dir_str(&first)
            )))
        );
    }

    #[test]
    fn directory_and_mode_checks() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(&dir_str(&dir), ""),
            Err(ResolveError::IsDirectory(dir_str(&dir)))
        );
        let plain = make_file(dir.path(), "plain", 0o644);
        assert_eq!(
            resolve(&plain, ""),
            Err(ResolveError::NotExecutable(plain.clone()))
        );
        assert_eq!(
            resolve("plain", &dir_str(&dir)),
            Err(ResolveError::NotExecutable(plain))
        );
    }

    #[test]
    fn x_bit_for_others_only() {
        let dir = tempfile::tempdir().unwrap();
        let prog = make_file(dir.path(), "prog", 0o601);
        let result = resolve(&prog, "");
        if nix::unistd::geteuid().is_root() {
            // root may run anything with some x bit set.
            assert_eq!(result, Ok(PathBuf::from(prog)));
        } else {
            assert_eq!(result, Err(ResolveError::NoPermission(prog)));
        }
    }

    #[test]
    fn dangling_symlink_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", dir.path().join("prog")).unwrap();
        assert_eq!(
            resolve("prog", &dir_str(&dir)),
            Err(ResolveError::NotFound("prog".into()))
        );
    }
}
