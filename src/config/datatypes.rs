//! Value datatypes of the config file (spec config.md §4).
//!
//! Each function takes the raw (already `%`-expanded) text and returns the
//! typed value or Supervisor's error text (the part shown after `Error: `,
//! before any ` in section …` suffix). The texts match Python's, because users
//! search the web for them.

use std::path::{Path, PathBuf};

use crate::pyrepr::repr;

/// `autorestart=`: when a process that reached RUNNING is restarted after it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// Log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Blather,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    /// Every level, most severe first.
    pub const ALL: [LogLevel; 7] = [
        LogLevel::Critical,
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
        LogLevel::Blather,
    ];

    /// The lowercase name accepted in the config.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Blather => "blather",
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Critical => "critical",
        }
    }
}

/// Where a child's stdout or stderr goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `NONE`, `OFF` or empty: the output is read and dropped.
    None,
    /// `AUTO`: a file in `childlogdir` named after the process.
    Auto,
    /// `syslog` (deprecated form of `*_syslog=true`).
    Syslog,
    /// A file path (`~` expanded); its directory existed at load time.
    Path(PathBuf),
}

/// A user from the passwd database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Python's `int()`: surrounding whitespace, an optional sign and `_` between digits.
/// Python's ints have no bounds; ours stop at `i64`'s, with an error that
/// says so rather than calling the number an invalid literal.
pub fn integer(s: &str) -> Result<i64, String> {
    match checked_int(s, 10) {
        Ok(n) => Ok(n),
        Err(IntError::Invalid) => Err(format!(
            "invalid literal for int() with base 10: {}",
            repr(s)
        )),
        Err(IntError::Range) => Err(format!(
            "value {} is out of range: integers here go from {} to {}",
            repr(s),
            i64::MIN,
            i64::MAX
        )),
    }
}

/// Why a text is not an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntError {
    /// Python would reject it too.
    Invalid,
    /// Python would take it, but it is beyond `i64`.
    Range,
}

/// `int(s, radix)` as Python parses it. `None` for anything Python rejects
/// (and for values beyond `i64`, which no option can use).
fn parse_int(s: &str, radix: u32) -> Option<i64> {
    checked_int(s, radix).ok()
}

fn checked_int(s: &str, radix: u32) -> Result<i64, IntError> {
    let t = s.trim();
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let body = if radix == 8 {
        body.strip_prefix("0o")
            .or_else(|| body.strip_prefix("0O"))
            // Python allows `0o_7` (an underscore right after the prefix).
            .map(|rest| rest.strip_prefix('_').unwrap_or(rest))
            .unwrap_or(body)
    } else {
        body
    };
    // Underscores only between digits: not first, not last, never doubled.
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return Err(IntError::Invalid);
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(IntError::Invalid);
    }
    // Python rejects leading zeros in decimal (`010`), except for zero itself.
    if radix == 10
        && digits.len() > 1
        && digits.starts_with('0')
        && digits.chars().any(|c| c != '0')
    {
        return Err(IntError::Invalid);
    }
    // The sign goes on before the range check, so i64::MIN is accepted.
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits
    };
    i64::from_str_radix(&signed, radix).map_err(|_| IntError::Range)
}

const TRUTHY: [&str; 4] = ["yes", "true", "on", "1"];
const FALSY: [&str; 4] = ["no", "false", "off", "0"];

/// `true, yes, on, 1` / `false, no, off, 0`, any case.
pub fn boolean(s: &str) -> Result<bool, String> {
    let lower = s.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(true)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(false)
    } else {
        Err(format!("not a valid boolean value: {}", repr(s)))
    }
}

/// A byte size: an int, optionally with a `kb`, `mb` or `gb` suffix (any case).
pub fn byte_size(s: &str) -> Result<i64, String> {
    let lower = s.to_lowercase();
    for (suffix, factor) in [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(number) = lower.strip_suffix(suffix) {
            return integer(number)?.checked_mul(factor).ok_or_else(|| {
                format!(
                    "{s} is too large a byte size (at most {}{})",
                    i64::MAX / factor,
                    suffix.to_uppercase()
                )
            });
        }
    }
    integer(&lower)
}

/// An octal number (`022`, `22`, `0o22`) as used for umask and chmod.
pub fn octal(s: &str) -> Result<u32, String> {
    parse_int(s, 8)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{s} can not be converted to an octal type"))
}

/// Signal names Python's `signal` module knows on Linux, with their numbers.
/// `_DFL`/`_IGN` are there because Supervisor looks names up with `getattr`.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
    ("_DFL", 0),
    ("_IGN", 1),
];

/// A signal as a number or a name with or without `SIG`, any case.
pub fn signal(s: &str) -> Result<i32, String> {
    let number = match parse_int(s, 10) {
        Some(n) => n,
        None => {
            let upper = s.trim().to_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            match SIGNALS.iter().find(|(n, _)| *n == name) {
                Some(&(_, number)) => i64::from(number),
                None => return Err(format!("value {} is not a valid signal name", repr(s))),
            }
        }
    };
    match SIGNALS.iter().find(|&&(_, n)| i64::from(n) == number) {
        Some(&(_, n)) => Ok(n),
        None => Err(format!("value {} is not a valid signal number", repr(s))),
    }
}

/// The conventional name of a signal number, without `SIG` (`TERM`), for messages.
pub fn signal_name(number: i32) -> String {
    SIGNALS
        .iter()
        .find(|&&(name, n)| n == number && !name.starts_with('_'))
        .map(|&(name, _)| name.to_string())
        .unwrap_or_else(|| number.to_string())
}

/// A comma-separated list of exit codes 0–255. Empty is an empty list.
pub fn exit_codes(s: &str) -> Result<Vec<i32>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|item| match parse_int(item, 10) {
            Some(code @ 0..=255) => Ok(code as i32),
            _ => Err(format!("not a valid list of exit codes: {}", repr(s))),
        })
        .collect()
}

/// A comma-separated list; items trimmed, empty items kept. Empty is an empty list.
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|item| item.trim().to_string()).collect()
}

/// `unexpected`, or a boolean word (true means always, false never).
pub fn autorestart(s: &str) -> Result<AutoRestart, String> {
    let lower = s.to_lowercase();
    if lower == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else if TRUTHY.contains(&lower.as_str()) {
        Ok(AutoRestart::Always)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(AutoRestart::Never)
    } else {
        Err(format!("invalid 'autorestart' value {}", repr(&lower)))
    }
}

/// `critical, error, warn, info, debug, trace, blather`, any case.
pub fn log_level(s: &str) -> Result<LogLevel, String> {
    let lower = s.to_lowercase();
    LogLevel::ALL
        .into_iter()
        .find(|level| level.name() == lower)
        .ok_or_else(|| format!("bad logging level name {}", repr(s)))
}

/// A child log file: `NONE`/`OFF`/empty, `AUTO`, `syslog`, or a path whose directory exists.
pub fn child_logfile(s: &str) -> Result<LogTarget, String> {
    match s.to_lowercase().as_str() {
        "" | "none" | "off" => Ok(LogTarget::None),
        "auto" => Ok(LogTarget::Auto),
        "syslog" => Ok(LogTarget::Syslog),
        _ => existing_dirpath(s).map(LogTarget::Path),
    }
}

/// `~` and `~user` at the start of a path, as Python's `os.path.expanduser`.
pub fn expand_user(path: &str) -> PathBuf {
    let Some(rest) = path.strip_prefix('~') else {
        return PathBuf::from(path);
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        std::env::var("HOME").ok().or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.dir.to_string_lossy().into_owned())
        })
    } else {
        nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .map(|u| u.dir.to_string_lossy().into_owned())
    };
    match home {
        // Python strips one trailing slash of HOME before joining.
        Some(home) => PathBuf::from(format!("{}{tail}", home.trim_end_matches('/'))),
        None => PathBuf::from(path),
    }
}

/// A directory that exists now (`~` expanded).
pub fn existing_directory(s: &str) -> Result<PathBuf, String> {
    let path = expand_user(s);
    if path.is_dir() {
        Ok(path)
    } else {
        Err(format!("{s} is not an existing directory"))
    }
}

/// A file path whose directory exists now (`~` expanded). A bare file name is
/// always accepted: it lives in the current directory.
pub fn existing_dirpath(s: &str) -> Result<PathBuf, String> {
    let path = expand_user(s);
    let parent = path.parent().unwrap_or(Path::new(""));
    if parent.as_os_str().is_empty() || parent.is_dir() {
        Ok(path)
    } else {
        Err(format!(
            "The directory named as part of the path {s} does not exist"
        ))
    }
}

/// A user name or numeric uid that exists in the passwd database.
pub fn user(s: &str) -> Result<User, String> {
    use nix::unistd::{Uid, User as PwUser};
    // The user we already are needs no lookup: a `FROM scratch` image has
    // no /etc/passwd, and `user=root` there must still work.
    let me = Uid::current().as_raw();
    let is_me = match parse_int(s, 10) {
        Some(uid) => uid == i64::from(me),
        None => s == "root" && me == 0,
    };
    if is_me {
        if let Ok(None) | Err(_) = PwUser::from_uid(Uid::from_raw(me)) {
            return Ok(User {
                name: if me == 0 {
                    "root".into()
                } else {
                    me.to_string()
                },
                uid: me,
                gid: nix::unistd::Gid::current().as_raw(),
            });
        }
    }
    let found = match parse_int(s, 10) {
        Some(uid) => u32::try_from(uid)
            .ok()
            .and_then(|uid| PwUser::from_uid(Uid::from_raw(uid)).ok().flatten())
            .ok_or_else(|| format!("Invalid user id {s}"))?,
        None => PwUser::from_name(s)
            .ok()
            .flatten()
            .ok_or_else(|| format!("Invalid user name {s}"))?,
    };
    Ok(User {
        name: found.name,
        uid: found.uid.as_raw(),
        gid: found.gid.as_raw(),
    })
}

/// A group name or numeric gid that exists in the group database.
fn group_id(s: &str) -> Option<u32> {
    use nix::unistd::{Gid, Group};
    match parse_int(s, 10) {
        Some(gid) => u32::try_from(gid)
            .ok()
            .filter(|&gid| matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_)))),
        None => Group::from_name(s).ok().flatten().map(|g| g.gid.as_raw()),
    }
}

/// `user` or `user:group` (names or ids) for socket ownership. `None` as the
/// group means "leave it". The caller words the error for its section.
pub fn user_group(s: &str) -> Option<(u32, Option<u32>)> {
    match s.split_once(':') {
        None => user(s).ok().map(|u| (u.uid, None)),
        Some((u, g)) => Some((user(u).ok()?.uid, Some(group_id(g)?))),
    }
}

/// `[inet_http_server] port=`: `PORT`, `:PORT`, `*:PORT` or `HOST:PORT`.
/// Returns the host (empty for every interface, lowercased) and the port.
pub fn port_spec(s: &str) -> Result<(String, u16), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", repr(port)));
            }
            // A number beyond i64 is just as far out of range as 70000.
            if checked_int(port, 10) == Err(IntError::Range) {
                return Err(out_of_port_range(port));
            }
            (host.to_lowercase(), integer(port)?)
        }
        None => {
            let port = checked_int(s, 10).map_err(|e| match e {
                IntError::Range => out_of_port_range(s),
                IntError::Invalid => format!("not a valid port number: {}", repr(s)),
            })?;
            (String::new(), port)
        }
    };
    // Supervisor range-checks only the HOST:PORT form; a bare `0` or `70000`
    // failed later at bind time. We check both forms, with the same message.
    if port < 1 {
        return Err(format!("{port} is below lower bound (1)"));
    }
    if port > 65535 {
        return Err(format!("{port} is above upper bound (65535)"));
    }
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port as u16))
}

/// The range error for a port number beyond even `i64`.
fn out_of_port_range(text: &str) -> String {
    let text = text.trim();
    if text.starts_with('-') {
        format!("{text} is below lower bound (1)")
    } else {
        format!("{text} is above upper bound (65535)")
    }
}

/// A URL: a scheme plus something after `:` (Python's `urlparse` rules, loosely).
pub fn url(s: &str) -> Result<String, String> {
    let valid = match s.split_once(':') {
        Some((scheme, rest)) => {
            let scheme_ok = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            // urlparse puts `?query` and `#fragment` aside: they are neither netloc nor path.
            let rest = rest.split(['?', '#']).next().unwrap_or("");
            // `//` only introduces the netloc; something must follow it.
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            scheme_ok && !rest.is_empty()
        }
        None => false,
    };
    if valid {
        Ok(s.to_string())
    } else {
        Err(format!("value {} is not a URL", repr(s)))
    }
}

/// A process or group name: trimmed, without space, `:` or `/`.
pub fn name(s: &str) -> Result<String, String> {
    let trimmed = s.trim();
    for bad in [' ', ':', '/'] {
        if trimmed.contains(bad) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                repr(s),
                repr(&bad.to_string())
            ));
        }
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_accepts_what_python_int_accepts() {
        assert_eq!(integer("42"), Ok(42));
        assert_eq!(integer(" 42 "), Ok(42));
        assert_eq!(integer("-3"), Ok(-3));
        assert_eq!(integer("+3"), Ok(3));
        assert_eq!(integer("1_000"), Ok(1000));
        assert_eq!(integer("0"), Ok(0));
        assert_eq!(integer("000"), Ok(0));
    }

    #[test]
    fn integer_rejects_floats_hex_and_bad_underscores() {
        for bad in ["abc", "1.5", "0x10", "", "_1", "1_", "1__0", "010", "1 0"] {
            assert_eq!(
                integer(bad),
                Err(format!(
                    "invalid literal for int() with base 10: {}",
                    repr(bad)
                )),
                "{bad:?}"
            );
        }
        assert_eq!(
            integer("abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn integer_beyond_i64_is_out_of_range_not_an_invalid_literal() {
        assert_eq!(integer("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(integer("-9223372036854775808"), Ok(i64::MIN));
        for big in [
            "9223372036854775808",
            "-9223372036854775809",
            "1_000_000_000_000_000_000_000",
        ] {
            assert_eq!(
                integer(big),
                Err(format!(
                    "value {} is out of range: integers here go from -9223372036854775808 to \
                     9223372036854775807",
                    repr(big)
                )),
            );
        }
        // Octal values beyond u32 stay the octal error.
        assert_eq!(
            octal("7777777777777777777777777").unwrap_err(),
            "7777777777777777777777777 can not be converted to an octal type"
        );
    }

    #[test]
    fn byte_size_overflow_names_the_largest_value() {
        assert_eq!(
            byte_size("99999999999GB").unwrap_err(),
            "99999999999GB is too large a byte size (at most 8589934591GB)"
        );
        assert_eq!(byte_size("8589934591gb"), Ok(8589934591 << 30));
        assert!(byte_size("9999999999999999kb").is_err());
        assert!(byte_size("99999999999999999999").is_err());
    }

    #[test]
    fn boolean_words_in_any_case() {
        for t in ["true", "TRUE", "Yes", "on", "1"] {
            assert_eq!(boolean(t), Ok(true), "{t}");
        }
        for f in ["false", "No", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false), "{f}");
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
        assert_eq!(boolean("").unwrap_err(), "not a valid boolean value: ''");
    }

    #[test]
    fn byte_sizes_with_and_without_suffix() {
        assert_eq!(byte_size("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("50mb"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size(" 50 MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("1KB"), Ok(1024));
        assert_eq!(byte_size("2gb"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(byte_size("-1"), Ok(-1));
        assert_eq!(byte_size("1234"), Ok(1234));
    }

    #[test]
    fn byte_size_errors_show_the_lowercased_text() {
        assert_eq!(
            byte_size("50M").unwrap_err(),
            "invalid literal for int() with base 10: '50m'"
        );
        assert_eq!(
            byte_size("1.5MB").unwrap_err(),
            "invalid literal for int() with base 10: '1.5'"
        );
        assert_eq!(
            byte_size("1kb ").unwrap_err(),
            "invalid literal for int() with base 10: '1kb '"
        );
        assert!(byte_size("50B").is_err());
        assert!(byte_size("1TB").is_err());
        assert!(byte_size("").is_err());
    }

    #[test]
    fn octal_forms() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("22"), Ok(0o22));
        assert_eq!(octal("0o22"), Ok(0o22));
        assert_eq!(octal("0777"), Ok(0o777));
        assert_eq!(
            octal("999").unwrap_err(),
            "999 can not be converted to an octal type"
        );
        assert_eq!(
            octal("abc").unwrap_err(),
            "abc can not be converted to an octal type"
        );
    }

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(signal("TERM"), Ok(15));
        assert_eq!(signal("sigterm"), Ok(15));
        assert_eq!(signal("SIGKILL"), Ok(9));
        assert_eq!(signal(" hup "), Ok(1));
        assert_eq!(signal("RTMIN"), Ok(34));
        assert_eq!(signal("CLD"), Ok(17));
        assert_eq!(signal("IOT"), Ok(6));
        assert_eq!(signal("9"), Ok(9));
        assert_eq!(signal("64"), Ok(64));
        assert_eq!(signal("0"), Ok(0));
        assert_eq!(signal("_DFL"), Ok(0));
    }

    #[test]
    fn signal_errors() {
        assert_eq!(
            signal("FOO").unwrap_err(),
            "value 'FOO' is not a valid signal name"
        );
        assert_eq!(
            signal("RTMIN+1").unwrap_err(),
            "value 'RTMIN+1' is not a valid signal name"
        );
        assert_eq!(
            signal("65").unwrap_err(),
            "value '65' is not a valid signal number"
        );
        assert_eq!(
            signal("35").unwrap_err(),
            "value '35' is not a valid signal number"
        );
        assert_eq!(
            signal("63").unwrap_err(),
            "value '63' is not a valid signal number"
        );
    }

    #[test]
    fn signal_names_for_display() {
        assert_eq!(signal_name(15), "TERM");
        assert_eq!(signal_name(6), "ABRT");
        assert_eq!(signal_name(17), "CHLD");
        assert_eq!(signal_name(0), "0");
    }

    #[test]
    fn exit_code_lists() {
        assert_eq!(exit_codes("0"), Ok(vec![0]));
        assert_eq!(exit_codes("0,2"), Ok(vec![0, 2]));
        assert_eq!(exit_codes(" 0 , 2 "), Ok(vec![0, 2]));
        assert_eq!(exit_codes(""), Ok(vec![]));
        assert_eq!(exit_codes("255"), Ok(vec![255]));
        for bad in ["256", "0,,1", "0,", "-1", "a"] {
            assert_eq!(
                exit_codes(bad),
                Err(format!("not a valid list of exit codes: {}", repr(bad)))
            );
        }
    }

    #[test]
    fn string_lists_keep_empty_items() {
        assert_eq!(list_of_strings("a, b ,c"), vec!["a", "b", "c"]);
        assert_eq!(list_of_strings("a,,b"), vec!["a", "", "b"]);
        assert!(list_of_strings("").is_empty());
    }

    #[test]
    fn autorestart_values() {
        assert_eq!(autorestart("unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(autorestart("UNEXPECTED"), Ok(AutoRestart::Unexpected));
        assert_eq!(autorestart("true"), Ok(AutoRestart::Always));
        assert_eq!(autorestart("1"), Ok(AutoRestart::Always));
        assert_eq!(autorestart("false"), Ok(AutoRestart::Never));
        assert_eq!(
            autorestart("Always").unwrap_err(),
            "invalid 'autorestart' value 'always'"
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level("INFO"), Ok(LogLevel::Info));
        assert_eq!(log_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(log_level("warn"), Ok(LogLevel::Warn));
        assert_eq!(
            log_level("warning").unwrap_err(),
            "bad logging level name 'warning'"
        );
        assert_eq!(
            log_level("verbose").unwrap_err(),
            "bad logging level name 'verbose'"
        );
        assert!(LogLevel::Debug < LogLevel::Info && LogLevel::Info < LogLevel::Critical);
    }

    #[test]
    fn child_logfile_special_words_and_paths() {
        assert_eq!(child_logfile("NONE"), Ok(LogTarget::None));
        assert_eq!(child_logfile("off"), Ok(LogTarget::None));
        assert_eq!(child_logfile(""), Ok(LogTarget::None));
        assert_eq!(child_logfile("Auto"), Ok(LogTarget::Auto));
        assert_eq!(child_logfile("syslog"), Ok(LogTarget::Syslog));
        assert_eq!(child_logfile("x.log"), Ok(LogTarget::Path("x.log".into())));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        assert_eq!(
            child_logfile(path.to_str().unwrap()),
            Ok(LogTarget::Path(path.clone()))
        );
        assert_eq!(
            child_logfile("/nonexistent-dir/y.log").unwrap_err(),
            "The directory named as part of the path /nonexistent-dir/y.log does not exist"
        );
    }

    #[test]
    fn existing_directory_checks_now() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().to_str().unwrap();
        assert_eq!(existing_directory(s), Ok(dir.path().to_path_buf()));
        assert_eq!(
            existing_directory("/nonexistent-dir").unwrap_err(),
            "/nonexistent-dir is not an existing directory"
        );
    }

    #[test]
    fn tilde_expands_to_home() {
        let home = std::env::var("HOME").unwrap_or_default();
        if !home.is_empty() && home != "/" {
            assert_eq!(
                expand_user("~/x.log"),
                PathBuf::from(format!("{}/x.log", home.trim_end_matches('/')))
            );
        }
        assert_eq!(expand_user("/a/~b"), PathBuf::from("/a/~b"));
        assert_eq!(expand_user("~root/x"), PathBuf::from("/root/x"));
    }

    #[test]
    fn users_by_name_and_id() {
        assert_eq!(user("root").map(|u| u.uid), Ok(0));
        assert_eq!(user("0").map(|u| u.name), Ok("root".to_string()));
        assert_eq!(
            user("nosuchuser").unwrap_err(),
            "Invalid user name nosuchuser"
        );
        assert_eq!(user("4000000").unwrap_err(), "Invalid user id 4000000");
    }

    #[test]
    fn user_group_forms() {
        assert_eq!(user_group("root"), Some((0, None)));
        assert_eq!(user_group("root:root"), Some((0, Some(0))));
        assert_eq!(user_group("0:0"), Some((0, Some(0))));
        assert_eq!(user_group("root:"), None);
        assert_eq!(user_group(":root"), None);
        assert_eq!(user_group("nosuchuser"), None);
        assert_eq!(user_group("root:nosuchgroup"), None);
    }

    #[test]
    fn port_spec_forms() {
        assert_eq!(port_spec("9001"), Ok((String::new(), 9001)));
        assert_eq!(port_spec(":9001"), Ok((String::new(), 9001)));
        assert_eq!(port_spec("*:9001"), Ok((String::new(), 9001)));
        assert_eq!(port_spec("127.0.0.1:9001"), Ok(("127.0.0.1".into(), 9001)));
        assert_eq!(port_spec("LocalHost:9001"), Ok(("localhost".into(), 9001)));
        assert_eq!(port_spec("[::1]:9001"), Ok(("[::1]".into(), 9001)));
    }

    #[test]
    fn port_spec_beyond_i64_is_out_of_range() {
        assert_eq!(
            port_spec("h:99999999999999999999").unwrap_err(),
            "99999999999999999999 is above upper bound (65535)"
        );
        assert_eq!(
            port_spec("99999999999999999999").unwrap_err(),
            "99999999999999999999 is above upper bound (65535)"
        );
        assert_eq!(
            port_spec(":-99999999999999999999").unwrap_err(),
            "-99999999999999999999 is below lower bound (1)"
        );
    }

    #[test]
    fn port_spec_errors() {
        assert_eq!(
            port_spec("abc").unwrap_err(),
            "not a valid port number: 'abc'"
        );
        assert_eq!(
            port_spec("host:").unwrap_err(),
            "no port number specified in ''"
        );
        assert_eq!(
            port_spec("host:abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            port_spec("host:0").unwrap_err(),
            "0 is below lower bound (1)"
        );
        assert_eq!(
            port_spec("host:65536").unwrap_err(),
            "65536 is above upper bound (65535)"
        );
        assert_eq!(port_spec("0").unwrap_err(), "0 is below lower bound (1)");
    }

    #[test]
    fn urls_need_a_scheme_and_more() {
        assert!(url("unix:///tmp/supervisor.sock").is_ok());
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("http://127.0.0.1").is_ok());
        assert_eq!(url("/x").unwrap_err(), "value '/x' is not a URL");
        assert_eq!(url("foo").unwrap_err(), "value 'foo' is not a URL");
        assert_eq!(url("http:").unwrap_err(), "value 'http:' is not a URL");
    }

    #[test]
    fn names_refuse_space_colon_slash() {
        assert_eq!(name(" web "), Ok("web".to_string()));
        assert_eq!(name(""), Ok(String::new()));
        assert_eq!(
            name("a b").unwrap_err(),
            "Invalid name: 'a b' because of character: ' '"
        );
        assert_eq!(
            name("a:b").unwrap_err(),
            "Invalid name: 'a:b' because of character: ':'"
        );
        assert_eq!(
            name("a/b").unwrap_err(),
            "Invalid name: 'a/b' because of character: '/'"
        );
    }
}
