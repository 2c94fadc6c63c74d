//! `env_files=`: environment variables from files of `KEY=VALUE` lines, in
//! `[supervisord]` and in program sections (an extension; Docker's
//! `--env-file` and systemd's `EnvironmentFile=` read the same files).
//!
//! The value lists one or more paths, separated by spaces or commas. A path
//! starting with `-` may be missing. A relative path is taken from the
//! directory of the config file that names it, so a reload after
//! `directory=` still finds it. In a file, blank lines and lines starting
//! with `#` are skipped, `export ` before a key is allowed, and a value in
//! matching single or double quotes loses them; nothing is expanded.
//!
//! The files are read when the config is loaded, so `reread` sees a changed
//! file as a changed program.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most one env file may hold: a typo naming a log file must not make
/// the loader read gigabytes.
pub const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// The pairs of every file listed in `value`, in order (a later file's key
/// replaces an earlier one's value in place). `base` is the directory of the
/// config file. Errors name the file (and line) and say what to do.
pub fn read_all(value: &str, base: &Path) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for item in value.split(|c: char| c == ',' || c.is_whitespace()) {
        if item.is_empty() {
            continue;
        }
        let (optional, path) = match item.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        let path = base.join(path);
        let Some(text) = read_text(&path, optional)? else {
            continue;
        };
        let file_pairs = parse(&text).map_err(|(line, why)| {
            format!(
                "env file {}, line {line}: {why}; write one KEY=VALUE per line",
                path.display()
            )
        })?;
        pairs = super::environment::merge(&pairs, file_pairs);
    }
    Ok(pairs)
}

/// The file's text; `None` for a missing optional file.
fn read_text(path: &PathBuf, optional: bool) -> Result<Option<String>, String> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot read env file {}: {e} (prefix it with '-' if it may be missing)",
                path.display()
            ))
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_ENV_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read env file {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(format!(
            "env file {} is larger than {MAX_ENV_FILE_BYTES} bytes, the most we read",
            path.display()
        ));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| format!("env file {} is not UTF-8 text", path.display()))
}

/// `KEY=VALUE` lines; the error is the 1-based line and what is wrong.
fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut pairs = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else {
            return Err((index + 1, format!("no '=' in {line:?}")));
        };
        let key = key.trim_end();
        if key.is_empty() || key.contains(char::is_whitespace) || key.contains('\0') {
            return Err((index + 1, format!("{key:?} is not a variable name")));
        }
        pairs.push((key.to_string(), unquote(value.trim()).to_string()));
    }
    Ok(pairs)
}

/// `"v a l"` or `'v a l'` → `v a l`; anything else as it is.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_export_and_quotes() {
        let pairs = parse(
            "# a comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\n\
             D='single'\nE=\nF=a=b\n",
        )
        .unwrap();
        let expected = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "quoted # not a comment"),
            ("D", "single"),
            ("E", ""),
            ("F", "a=b"),
        ];
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn a_line_without_equals_names_its_line() {
        assert_eq!(parse("A=1\nnonsense\n").unwrap_err().0, 2);
        assert_eq!(parse("=value\n").unwrap_err().0, 1);
        assert_eq!(parse("TWO WORDS=x\n").unwrap_err().0, 1);
    }

    #[test]
    fn files_in_order_relative_to_the_config_and_optional_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "A=1\nB=1\n").unwrap();
        std::fs::write(dir.path().join("b.env"), "B=2\nC=2\n").unwrap();
        let pairs = read_all("a.env, b.env -missing.env", dir.path()).unwrap();
        assert_eq!(
            pairs,
            [("A", "1"), ("B", "2"), ("C", "2")].map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let err = read_all("missing.env", dir.path()).unwrap_err();
        assert!(err.contains("missing.env"), "{err}");
        assert!(err.contains("prefix it with '-'"), "{err}");
    }

    #[test]
    fn an_oversized_file_is_refused_before_it_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.env");
        let file = File::create(&big).unwrap();
        file.set_len(MAX_ENV_FILE_BYTES + 10).unwrap();
        let err = read_all("big.env", dir.path()).unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }
}
