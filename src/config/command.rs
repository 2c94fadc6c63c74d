//! `command=`: POSIX shell-like splitting and program lookup.
//!
//! STUB: interface only; being written.

use std::path::PathBuf;

/// Split like Python's `shlex.split` (POSIX mode, `#` literal). Errors are
/// shlex's texts: `No closing quotation`, `No escaped character`.
pub fn split(command: &str) -> Result<Vec<String>, String> {
    let _ = command;
    todo!()
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

/// Find the file to exec for `argv0`: as given when it contains `/`, otherwise
/// the first entry of `path` (a `PATH` value) where the name exists.
pub fn resolve(argv0: &str, path: &str) -> Result<PathBuf, ResolveError> {
    let _ = (argv0, path);
    todo!()
}
