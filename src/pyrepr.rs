//! Python's `repr()` of a string.
//!
//! Supervisor's messages show paths, lines and values as Python string literals
//! (`'/etc/x.conf'`, `'foo\n'`). Scripts and users match on those texts, so we
//! produce the same quoting.

/// Quote `s` the way Python's `repr(str)` does.
///
/// Single quotes are used unless the text contains a single quote and no
/// double quote. Backslashes, the chosen quote, and characters Python does not
/// consider printable are escaped.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Quote `bytes` the way Python's `repr(bytes)` does: `b'...'`, with the
/// same choice of quote as for strings and `\xNN` for every byte outside
/// printable ASCII.
pub fn repr_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b == quote => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(char::from(quote));
    out
}

/// Python's `str.isprintable()` for one character, close enough for messages:
/// control characters, separators other than the space, and the common
/// invisible format characters are not printable.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() {
        return false;
    }
    !matches!(
        c,
        '\u{a0}'
            | '\u{ad}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200f}'
            | '\u{2028}'..='\u{202f}'
            | '\u{205f}'..='\u{2064}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// Program output as Supervisor shows it in text (events, the debug log):
/// UTF-8 as it is, anything else as `Undecodable: b'...'`.
pub fn output_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => format!("Undecodable: {}", repr_bytes(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::{repr, repr_bytes};

    #[test]
    fn bytes_repr_escapes_like_python() {
        // Python: repr(b"bad\xff\n") == "b'bad\\xff\\n'"
        assert_eq!(repr_bytes(b"bad\xff\n"), r"b'bad\xff\n'");
        assert_eq!(repr_bytes(b"it's"), r#"b"it's""#);
        assert_eq!(repr_bytes(b"'\"\\"), r#"b'\'"\\'"#);
    }

    #[test]
    fn plain_text_gets_single_quotes() {
        assert_eq!(repr("/etc/supervisord.conf"), "'/etc/supervisord.conf'");
    }

    #[test]
    fn newline_and_tab_are_escaped() {
        assert_eq!(repr("foo\n"), "'foo\\n'");
        assert_eq!(repr("a\tb"), "'a\\tb'");
    }

    #[test]
    fn single_quote_switches_to_double_quotes() {
        assert_eq!(repr("it's"), "\"it's\"");
    }

    #[test]
    fn both_quotes_escape_the_single_one() {
        assert_eq!(repr("a'b\"c"), "'a\\'b\"c'");
    }

    #[test]
    fn backslash_is_doubled() {
        assert_eq!(repr("a\\b"), "'a\\\\b'");
    }

    #[test]
    fn non_ascii_printable_is_kept_and_controls_are_hex() {
        assert_eq!(repr("日本語"), "'日本語'");
        assert_eq!(repr("\u{1b}[0m"), "'\\x1b[0m'");
        assert_eq!(repr("\u{a0}"), "'\\xa0'");
        assert_eq!(repr("\u{feff}"), "'\\ufeff'");
    }
}
