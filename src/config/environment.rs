//! `environment=KEY=val,KEY2="v a l"`: Supervisor's key/value list.
//!
//! Supervisor splits the value with Python's `shlex` in non-POSIX mode and
//! reads the tokens four at a time: `KEY`, `=`, `VALUE`, separator. Every form
//! that works there works the same here, and the errors Supervisor reports
//! keep its text. Where Supervisor silently keeps only part of a value
//! (`A=$HOME` gives `$`, `A="x"y` gives `x`, `A=1#x` gives `1`) we report an
//! error that says how to write it instead.
//!
//! Also, any non-ASCII letter or digit is part of a word, so `A=日本` or
//! `A=café` stays whole (Python cut them at the first such character).

use std::collections::HashMap;

use crate::pyrepr;

/// Parse an `environment=` value into ordered pairs (a repeated key keeps its
/// first position and takes the last value). Errors are the text after `Error: `.
pub fn parse(raw: &str) -> Result<Vec<(String, String)>, String> {
    // Supervisor tokenizes the whole value first, then checks the structure
    // of the whole token list, so any input it rejects is rejected with its
    // message. The tokens are not kept: a long list is read twice instead,
    // the first time only to check it.
    let mut well_formed = true;
    for step in steps(raw) {
        let step = step?;
        well_formed &= step.len() >= 3 && step[1].is_punct('=');
    }
    if !well_formed {
        return Err(format!(
            "Unexpected end of key/value pairs in value '{raw}'"
        ));
    }

    let mut pairs: Vec<(String, String)> = Vec::new();
    // Where each key is in `pairs`, so a long list is read in linear time.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for step in steps(raw) {
        let step = step?;
        let (key, value, separator) = (&step[0], &step[2], step.get(3));
        if let Some(separator) = separator {
            check_separator(raw, key, value, separator)?;
        }
        let text = value.text.trim_matches(['\'', '"']).to_string();
        match index.get(key.text) {
            Some(&at) => pairs[at].1 = text,
            None => {
                index.insert(key.text, pairs.len());
                pairs.push((key.text.to_string(), text));
            }
        }
    }
    Ok(pairs)
}

/// `base` with `own` on top: a key of `own` replaces the same key of `base`
/// in place, new keys follow in their order. Linear in both.
pub fn merge(base: &[(String, String)], own: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut merged = base.to_vec();
    if own.is_empty() {
        return merged;
    }
    let mut index: HashMap<String, usize> = HashMap::with_capacity(merged.len());
    for (at, (k, _)) in merged.iter().enumerate() {
        // A repeated key (impossible from the parser) keeps its first position.
        index.entry(k.clone()).or_insert(at);
    }
    for (k, v) in own {
        match index.get(&k) {
            Some(&at) => merged[at].1 = v,
            None => {
                index.insert(k.clone(), merged.len());
                merged.push((k, v));
            }
        }
    }
    merged
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A run of word characters (quote characters may follow inside it).
    Word,
    /// `"…"` or `'…'`, quotes included.
    Quoted,
    /// Any other single character.
    Punct,
}

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Byte offset in the raw value.
    start: usize,
}

impl Token<'_> {
    fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.starts_with(c)
    }

    fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_quote(c: char) -> bool {
    c == '"' || c == '\''
}

/// shlex's word characters plus Supervisor's `/.+-():`, and (our addition)
/// any non-ASCII letter or digit.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_/.+-():".contains(c) || (!c.is_ascii() && c.is_alphanumeric())
}

/// Non-POSIX shlex: whitespace separates, quoted tokens keep their quotes and
/// have no escapes, a word runs over word and quote characters, and anything
/// else is a token of its own. `#` would start a comment there, silently
/// dropping the rest of the line, so it is an error here.
fn tokenize(raw: &str) -> impl Iterator<Item = Result<Token<'_>, String>> {
    let mut pos = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let token = next_token(raw, &mut pos);
        failed = matches!(token, Some(Err(_)));
        token
    })
}

/// The token at or after `pos` (moved past it), or `None` at the end.
fn next_token<'a>(raw: &'a str, pos: &mut usize) -> Option<Result<Token<'a>, String>> {
    while let Some(c) = raw[*pos..].chars().next() {
        let start = *pos;
        *pos += c.len_utf8();
        let kind = if is_space(c) {
            continue;
        } else if c == '#' {
            return Some(Err(comment_error(raw, start)));
        } else if is_quote(c) {
            match raw[*pos..].find(c) {
                Some(len) => *pos += len + 1,
                None => return Some(Err("No closing quotation".to_string())),
            }
            Kind::Quoted
        } else if is_word(c) {
            while let Some(d) = raw[*pos..].chars().next() {
                if !(is_word(d) || is_quote(d)) {
                    break;
                }
                *pos += d.len_utf8();
            }
            Kind::Word
        } else {
            Kind::Punct
        };
        return Some(Ok(Token {
            kind,
            text: &raw[start..*pos],
            start,
        }));
    }
    None
}

/// The tokens of `raw` in steps of four (`KEY`, `=`, `VALUE`, separator);
/// the last step may be shorter.
fn steps(raw: &str) -> impl Iterator<Item = Result<Vec<Token<'_>>, String>> {
    let mut tokens = tokenize(raw);
    std::iter::from_fn(move || {
        let mut step = Vec::with_capacity(4);
        for token in tokens.by_ref() {
            match token {
                Ok(token) => step.push(token),
                Err(e) => return Some(Err(e)),
            }
            if step.len() == 4 {
                break;
            }
        }
        (!step.is_empty()).then_some(Ok(step))
    })
}

/// Supervisor skips the separator token without looking at it. That loses
/// text when the separator is a word or quoted string (`A=1 B`, `A="x"y`),
/// or when it is stuck to the value and is not `,`/`;`, which means shlex cut
/// the value there (`A=$HOME` gives `$`, `A=x*B=2` gives `x`). A lone
/// punctuation value such as `A=*` or `SEP=;` is whole and stays accepted.
fn check_separator(raw: &str, key: &Token, value: &Token, separator: &Token) -> Result<(), String> {
    let key = key.text;
    let stuck = separator.start == value.end();
    let comma = separator.is_punct(',') || separator.is_punct(';');
    if separator.kind == Kind::Punct && (comma || !stuck) {
        return Ok(());
    }
    // A word or string set apart from the value, or anything glued to a
    // quoted value: the value itself is whole, but text after it is dropped.
    if !stuck || value.kind == Kind::Quoted {
        return Err(format!(
            "environment value for {key} is followed by {} without a comma; \
             put a comma between pairs or quote the whole value",
            pyrepr::repr(separator.text)
        ));
    }
    let fix = match quoted_example(key, as_written(raw, value.start)) {
        Some(example) => format!("quote the value: {example}"),
        None => "quote the value".to_string(),
    };
    if value.kind == Kind::Word {
        return Err(format!(
            "environment value for {key} contains {}, where Supervisor would end the value; {fix}",
            pyrepr::repr(separator.text)
        ));
    }
    if value.text == "$" {
        let name_len = separator
            .text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(separator.text.len());
        let hint = match &separator.text[..name_len] {
            "" => String::new(),
            name => format!(" (use %(ENV_{name})s)"),
        };
        return Err(format!(
            "environment value for {key} starts with '$', which Supervisor does not expand{hint} \
             and would cut short; {fix}"
        ));
    }
    Err(format!(
        "environment value for {key} starts with {}, which Supervisor would cut short; {fix}",
        pyrepr::repr(value.text)
    ))
}

/// `#` was found at byte `at`: name the piece of text it is in.
fn comment_error(raw: &str, at: usize) -> String {
    let is_boundary = |c: char| is_space(c) || c == ',' || c == ';';
    let begin = raw[..at].rfind(is_boundary).map_or(0, |i| i + 1);
    let end = raw[at..].find(is_boundary).map_or(raw.len(), |i| at + i);
    let piece = &raw[begin..end];
    let example = piece
        .split_once('=')
        .filter(|(key, _)| !key.is_empty() && !key.contains('#'))
        .and_then(|(key, value)| quoted_example(key, value));
    let fix = match example {
        Some(example) => format!("quote the value: {example}"),
        None => "quote the value that contains it".to_string(),
    };
    format!(
        "'#' in {} starts a comment in an environment list, which would drop the rest of the \
         line; {fix}",
        pyrepr::repr(piece)
    )
}

/// The value as the user typed it: from `start` to the next whitespace,
/// `,` or `;` (at least one character).
fn as_written(raw: &str, start: usize) -> &str {
    let rest = &raw[start..];
    let first = rest.chars().next().map_or(0, char::len_utf8);
    let len = rest[first..]
        .find(|c: char| is_space(c) || c == ',' || c == ';')
        .map_or(rest.len(), |i| first + i);
    &rest[..len]
}

/// `KEY="value"`, or with single quotes when the value has double quotes.
/// `None` when no quoting would give the value back unchanged.
fn quoted_example(key: &str, value: &str) -> Option<String> {
    if value.starts_with(is_quote) || value.ends_with(is_quote) {
        None
    } else if !value.contains('"') {
        Some(format!("{key}=\"{value}\""))
    } else if !value.contains('\'') {
        Some(format!("{key}='{value}'"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> Vec<(String, String)> {
        match parse(raw) {
            Ok(pairs) => pairs,
            Err(e) => panic!("{raw:?}: {e}"),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn merge_puts_own_pairs_over_the_base_in_place() {
        let base = pairs(&[("A", "1"), ("B", "2")]);
        assert_eq!(merge(&base, Vec::new()), base);
        assert_eq!(
            merge(&base, pairs(&[("C", "3"), ("A", "own")])),
            pairs(&[("A", "own"), ("B", "2"), ("C", "3")])
        );
    }

    fn err(raw: &str) -> String {
        match parse(raw) {
            Ok(pairs) => panic!("{raw:?}: expected an error, got {pairs:?}"),
            Err(e) => e,
        }
    }

    fn unexpected(raw: &str) -> String {
        format!("Unexpected end of key/value pairs in value '{raw}'")
    }

    // Results below are Supervisor's (Python 3.11 shlex), from config.md §4.

    #[test]
    fn documented_separators() {
        let ab = pairs(&[("A", "1"), ("B", "2")]);
        assert_eq!(ok("A=1,B=2"), ab);
        assert_eq!(ok("A = 1 , B = 2"), ab);
        assert_eq!(ok("A=1;B=2"), ab);
        assert_eq!(ok("A=1 ; B=2"), ab);
        assert_eq!(ok("A=1,\nB=2"), ab);
        assert_eq!(ok("A=1,\n  B=2"), ab);
        assert_eq!(ok("A=1,"), pairs(&[("A", "1")]));
    }

    #[test]
    fn empty_input_gives_no_pairs() {
        assert_eq!(ok(""), pairs(&[]));
        assert_eq!(ok(" \n "), pairs(&[]));
    }

    #[test]
    fn quoted_values() {
        assert_eq!(
            ok("A=\"a b\",B='c,d'"),
            pairs(&[("A", "a b"), ("B", "c,d")])
        );
        assert_eq!(ok("A=\"\""), pairs(&[("A", "")]));
        assert_eq!(ok("A='x\"y'"), pairs(&[("A", "x\"y")]));
        assert_eq!(ok("A=\"$HOME\""), pairs(&[("A", "$HOME")]));
        assert_eq!(ok("A=\"1#x\",B=2"), pairs(&[("A", "1#x"), ("B", "2")]));
        assert_eq!(ok("A=\"a\\b\""), pairs(&[("A", "a\\b")]));
        // Python strips every quote character at either end.
        assert_eq!(ok("A='\"x\"'"), pairs(&[("A", "x")]));
    }

    #[test]
    fn word_characters_are_verbatim() {
        assert_eq!(
            ok("PATH=/usr/bin:/bin"),
            pairs(&[("PATH", "/usr/bin:/bin")])
        );
        assert_eq!(ok("D=a.b/c:d"), pairs(&[("D", "a.b/c:d")]));
        assert_eq!(ok("A=-1"), pairs(&[("A", "-1")]));
        assert_eq!(ok("A=1.5e3"), pairs(&[("A", "1.5e3")]));
        assert_eq!(ok("A=(x)+y"), pairs(&[("A", "(x)+y")]));
        assert_eq!(ok("A=it's"), pairs(&[("A", "it's")]));
    }

    #[test]
    fn quote_characters_inside_words() {
        // A word runs over quote characters, and the trailing one is stripped.
        assert_eq!(ok("A=x\""), pairs(&[("A", "x")]));
        assert_eq!(ok("A=a\"b\",B=2"), pairs(&[("A", "a\"b"), ("B", "2")]));
    }

    #[test]
    fn non_ascii_letters_are_word_characters() {
        // Python gave {A: '日'} and {A: 'caf'} here.
        assert_eq!(ok("A=日本"), pairs(&[("A", "日本")]));
        assert_eq!(ok("A=café,B=2"), pairs(&[("A", "café"), ("B", "2")]));
        assert_eq!(ok("A=é"), pairs(&[("A", "é")]));
    }

    #[test]
    fn keys_are_taken_as_tokens() {
        assert_eq!(ok("\"A\"=1"), pairs(&[("\"A\"", "1")]));
        assert_eq!(ok("$=1"), pairs(&[("$", "1")]));
    }

    #[test]
    fn repeated_key_keeps_first_position_and_last_value() {
        assert_eq!(ok("A=1,B=2,A=3"), pairs(&[("A", "3"), ("B", "2")]));
    }

    #[test]
    fn documented_errors_keep_supervisors_text() {
        for raw in [
            "A=1 B=2",
            "A=1\tB=2",
            "A=",
            "A",
            ",",
            "A=1,B",
            "A=x=y",
            "A=1,,B=2",
            "A=x*y",
            "A=a\\b",
            "A=${HOME}",
            "A=$HOME/bin,B=1",
        ] {
            assert_eq!(err(raw), unexpected(raw), "{raw:?}");
        }
        // Supervisor quotes with '%s', not repr: a newline stays as it is.
        assert_eq!(
            err("A=1,\nB"),
            "Unexpected end of key/value pairs in value 'A=1,\nB'"
        );
    }

    #[test]
    fn unclosed_quote() {
        assert_eq!(err("A=\"x"), "No closing quotation");
        assert_eq!(err("A='x,B=2"), "No closing quotation");
    }

    #[test]
    fn dollar_value_is_refused_with_a_hint() {
        // Supervisor: {A: '$'}.
        assert_eq!(
            err("A=$HOME"),
            "environment value for A starts with '$', which Supervisor does not expand \
             (use %(ENV_HOME)s) and would cut short; quote the value: A=\"$HOME\""
        );
        assert_eq!(
            err("A=$HOME/bin"),
            "environment value for A starts with '$', which Supervisor does not expand \
             (use %(ENV_HOME)s) and would cut short; quote the value: A=\"$HOME/bin\""
        );
        assert_eq!(
            err("A=$$"),
            "environment value for A starts with '$', which Supervisor does not expand \
             and would cut short; quote the value: A=\"$$\""
        );
        assert_eq!(
            err("A = $ HOME"),
            "environment value for A is followed by 'HOME' without a comma; \
             put a comma between pairs or quote the whole value"
        );
    }

    #[test]
    fn other_leading_punctuation_is_refused() {
        // Supervisor: {A: '@'}, {A: '~'}, {A: '='}, {A: '@'}, {A: '@'}.
        assert_eq!(
            err("A=@x"),
            "environment value for A starts with '@', which Supervisor would cut short; \
             quote the value: A=\"@x\""
        );
        assert_eq!(
            err("A=~/x"),
            "environment value for A starts with '~', which Supervisor would cut short; \
             quote the value: A=\"~/x\""
        );
        assert_eq!(
            err("A==x"),
            "environment value for A starts with '=', which Supervisor would cut short; \
             quote the value: A=\"=x\""
        );
        assert_eq!(
            err("A=@x\"y"),
            "environment value for A starts with '@', which Supervisor would cut short; \
             quote the value: A='@x\"y'"
        );
        // Quoting cannot keep a trailing quote: Supervisor strips it.
        assert_eq!(
            err("A=@\"x\""),
            "environment value for A starts with '@', which Supervisor would cut short; \
             quote the value"
        );
    }

    #[test]
    fn whole_punctuation_values_are_kept() {
        // Nothing is lost here, so Supervisor's results stand.
        assert_eq!(ok("ALLOWED_HOSTS=*"), pairs(&[("ALLOWED_HOSTS", "*")]));
        assert_eq!(ok("SEP=;"), pairs(&[("SEP", ";")]));
        assert_eq!(ok("A=,"), pairs(&[("A", ",")]));
        assert_eq!(ok("A=$"), pairs(&[("A", "$")]));
        assert_eq!(ok("A==,B=1"), pairs(&[("A", "="), ("B", "1")]));
        assert_eq!(
            ok("A=@,B=*;C=~"),
            pairs(&[("A", "@"), ("B", "*"), ("C", "~")])
        );
    }

    #[test]
    fn other_separators_set_apart_are_kept() {
        let ab = pairs(&[("A", "1"), ("B", "2")]);
        assert_eq!(ok("A=1 | B=2"), ab);
        assert_eq!(ok("A=1 = B=2"), ab);
    }

    #[test]
    fn text_after_a_value_without_comma_is_refused() {
        // Supervisor: {A: 'x'}, {A: 'a'}, {A: 'x'}, {A: '1'}.
        assert_eq!(
            err("A=\"x\"y"),
            "environment value for A is followed by 'y' without a comma; \
             put a comma between pairs or quote the whole value"
        );
        assert_eq!(
            err("A=\"a\"b\"c\""),
            "environment value for A is followed by 'b\"c\"' without a comma; \
             put a comma between pairs or quote the whole value"
        );
        assert_eq!(
            err("A='x'\"y\""),
            "environment value for A is followed by '\"y\"' without a comma; \
             put a comma between pairs or quote the whole value"
        );
        assert_eq!(
            err("A=1\nB"),
            "environment value for A is followed by 'B' without a comma; \
             put a comma between pairs or quote the whole value"
        );
    }

    #[test]
    fn punctuation_inside_a_value_is_refused() {
        // Supervisor: {A: 'x', B: 'y'}, {A: 'x', B: '2'}.
        assert_eq!(
            err("A=x=B=y"),
            "environment value for A contains '=', where Supervisor would end the value; \
             quote the value: A=\"x=B=y\""
        );
        assert_eq!(
            err("A=x*B=2"),
            "environment value for A contains '*', where Supervisor would end the value; \
             quote the value: A=\"x*B=2\""
        );
        // Supervisor: {A: 'x', B: '1'}.
        assert_eq!(
            err("A=\"x\"*B=1"),
            "environment value for A is followed by '*' without a comma; \
             put a comma between pairs or quote the whole value"
        );
    }

    #[test]
    fn hash_is_refused() {
        // Supervisor: {A: '1'}, dropping B.
        assert_eq!(
            err("A=1#x,B=2"),
            "'#' in 'A=1#x' starts a comment in an environment list, which would drop the \
             rest of the line; quote the value: A=\"1#x\""
        );
        assert_eq!(
            err("A=1,B=x#"),
            "'#' in 'B=x#' starts a comment in an environment list, which would drop the \
             rest of the line; quote the value: B=\"x#\""
        );
        assert_eq!(
            err("A=1 x#y"),
            "'#' in 'x#y' starts a comment in an environment list, which would drop the \
             rest of the line; quote the value that contains it"
        );
        assert_eq!(
            err("#A=1"),
            "'#' in '#A=1' starts a comment in an environment list, which would drop the \
             rest of the line; quote the value that contains it"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for raw in [
            "=",
            "==",
            "\"",
            "'",
            "=\"",
            "A=\u{1}",
            "A=\u{b}x",
            "A=€",
            "日=本",
            "\u{0}",
            "A=1,\u{a0}B=2",
            "#",
            "A=#",
            "A=\"#\"#",
        ] {
            let _ = parse(raw);
        }
    }
}
