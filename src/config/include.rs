//! `[include] files=`: globs relative to the main file's directory, read in
//! sorted order per pattern, each file's `%(here)s` meaning its own directory.
//!
//! Like Supervisor, a match that cannot be read (a directory, no permission)
//! is skipped and a parse error in one is fatal. Unlike Supervisor, a match
//! that is a FIFO, a device or a socket, or one over the size limits, is an
//! error: reading it could block forever or never end.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::expand::{Names, Value};
use super::ini::Document;
use super::limits::{self, Budget, ReadError, MAX_FILE_BYTES, MAX_INCLUDES, MAX_TOTAL_BYTES};
use super::load::{ConfigError, Host, SectionCtx};
use super::model::Messages;
use crate::pyrepr::repr;

type Result<T> = std::result::Result<T, ConfigError>;

/// What reading the includes needs to know.
pub(super) struct Includes<'a> {
    /// The main file's directory, which patterns are relative to.
    pub here: &'a Path,
    pub here_str: &'a str,
    pub host: &'a Host,
    pub budget: &'a Budget,
    /// Bytes read so far (the main file).
    pub read: u64,
}

impl Includes<'_> {
    /// Merge every included file into `doc`.
    pub fn read(
        mut self,
        doc: &mut Document,
        env_names: &Names,
        messages: &mut Messages,
    ) -> Result<()> {
        let Some((files, site)) = self.files_setting(doc, env_names)? else {
            return Ok(());
        };
        let patterns: Vec<&str> = files.split_whitespace().collect();
        if patterns.len() > MAX_INCLUDES {
            return Err(site.fail(format!(
                "files= lists {} patterns, more than {MAX_INCLUDES}; use fewer patterns, \
                 with wildcards",
                patterns.len()
            )));
        }
        let mut matched = 0usize;
        for pattern in patterns {
            for path in self.matches(pattern, &mut matched, &site, messages)? {
                self.merge(&path, doc, &site, messages)?;
            }
        }
        Ok(())
    }

    /// The expanded `files=` of the main file's `[include]` and where it is
    /// written; `None` when there is no `[include]`.
    fn files_setting(&self, doc: &Document, env_names: &Names) -> Result<Option<(String, Site)>> {
        let Some(include) = doc.section("include") else {
            return Ok(None);
        };
        let ctx = SectionCtx::new(doc, "include", &include.file, self.budget);
        let Some(entry) = ctx.entry("files") else {
            return Err(ctx.error(
                None,
                ".ini file has [include] section, but no files setting",
            ));
        };
        let mut names = env_names.clone();
        names.insert("here".into(), Value::Str(self.here_str.to_string()));
        names.insert(
            "host_node_name".into(),
            Value::Str(self.host.node_name.clone()),
        );
        let files = ctx.expand_entry(entry, &names, "include.files")?;
        // Only the main file's [include] counts: read the list before any
        // include can merge more keys into that section.
        let site = Site {
            file: include.file.clone(),
            line: entry.line,
        };
        Ok(Some((files, site)))
    }

    /// The files one pattern matches, in Python's order; `matched` counts the
    /// matches of all patterns so far, against [`MAX_INCLUDES`].
    fn matches(
        &self,
        pattern: &str,
        matched: &mut usize,
        site: &Site,
        messages: &mut Messages,
    ) -> Result<Vec<PathBuf>> {
        // Hidden names are filtered by `python_visible`: the glob crate's
        // `require_literal_leading_dot` drops them even for a `.*` pattern, and
        // panics on a directory entry whose name is not UTF-8.
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let joined = self.here.join(pattern).to_string_lossy().into_owned();
        let mut matches: Vec<PathBuf> = match glob::glob_with(&joined, options) {
            Ok(paths) => paths
                .filter_map(|p| p.ok())
                .filter(|p| python_visible(Path::new(&joined), p))
                .take(MAX_INCLUDES - *matched + 1)
                .collect(),
            Err(e) => {
                return Err(site.fail(format!(
                    "invalid include pattern {}: {}",
                    repr(pattern),
                    e.msg
                )))
            }
        };
        *matched += matches.len();
        if *matched > MAX_INCLUDES {
            return Err(site.fail(format!(
                "the patterns match more than {MAX_INCLUDES} files; include fewer files"
            )));
        }
        if matches.is_empty() {
            messages
                .warnings
                .push(format!("No file matches via include \"{joined}\""));
        }
        // Python sorts the paths as strings ("a-b/x" before "a/x"), not by component.
        matches.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        Ok(matches)
    }

    /// Read one included file into `doc`, within the size limits.
    fn merge(
        &mut self,
        path: &Path,
        doc: &mut Document,
        site: &Site,
        messages: &mut Messages,
    ) -> Result<()> {
        let shown = path.to_string_lossy().into_owned();
        messages
            .infos
            .push(format!("Included extra file \"{shown}\" during parsing"));
        let text = match limits::read_config_file(path, MAX_FILE_BYTES) {
            Ok(text) => text,
            // Supervisor skips these silently.
            Err(ReadError::Missing | ReadError::Directory | ReadError::Io(_)) => return Ok(()),
            Err(e) => {
                return Err(site.fail(format!(
                    "cannot include {}: {}",
                    repr(&shown),
                    e.explain(
                        MAX_FILE_BYTES,
                        "make the [include] patterns match config files only"
                    )
                )))
            }
        };
        self.read += text.len() as u64;
        if self.read > MAX_TOTAL_BYTES {
            return Err(site.fail(format!(
                "cannot include {}: the config files together would be larger than {}, \
                 the most supervisord reads; include fewer or smaller files",
                repr(&shown),
                limits::size_text(MAX_TOTAL_BYTES)
            )));
        }
        let dir = path
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        doc.read(&shown, &text, Some(&dir))
            .map_err(|e| ConfigError(e.to_string()))
    }
}

/// Where the main file's `files=` is written, for errors about it.
struct Site {
    file: Rc<str>,
    line: usize,
}

impl Site {
    fn fail(&self, message: String) -> ConfigError {
        ConfigError(format!(
            "{message} in section 'include' (file: {}, line {}, key 'files')",
            repr(&self.file),
            self.line
        ))
    }
}

/// Python's glob rule for hidden names: a name starting with `.` matches a
/// wildcard pattern component only if that component starts with `.` too.
fn python_visible(pattern: &Path, path: &Path) -> bool {
    let pattern: Vec<_> = pattern.components().collect();
    path.components().enumerate().all(|(i, part)| {
        if !part.as_os_str().as_encoded_bytes().starts_with(b".") {
            return true;
        }
        match pattern.get(i).map(|p| p.as_os_str().to_string_lossy()) {
            Some(p) if !p.contains(['*', '?', '[']) => true,
            Some(p) => p.starts_with('.'),
            // Only a recursive `**` yields more components than the pattern has.
            None => false,
        }
    })
}
