//! `%(name)s` expansion: Python's `str % dict` as Supervisor applies it to config values.
//!
//! Users copy format specs such as `%(process_num)02d` from Supervisor's
//! documentation, so every spec Python accepts gives Python's text, and every
//! spec Python rejects gives Python's error message. One deliberate difference:
//! a conversion without a name (`%s`) is an error here, where Python would
//! insert the repr of the whole dictionary, environment variables included.
//!
//! Expanded text is not scanned again, so a value containing `%` is safe.
//!
//! Our one addition: `%(NAME:-default)s` gives the value of NAME, or
//! `default` (taken literally) when NAME is unknown or empty, as the shell's
//! `${NAME:-default}` does. Python rejects such a name as unknown, so no
//! config that works with Supervisor changes meaning; `${…}` itself is left
//! alone because commands pass it to their shell.

use super::limits::MAX_VALUE_BYTES;
use crate::pyrepr;

/// A value a name expands to: Supervisor's names are strings, except
/// `process_num` and `numprocs`, which are integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}

pub use super::names::Names;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `%(name)…` with a name not in the dictionary.
    UnknownName(String),
    /// Any other formatting problem; the text is Python's reason, e.g. `incomplete format`.
    BadFormat(String),
    /// The result would be longer than the limit given (our addition).
    TooLong(usize),
}

/// Widths and numeric precisions above this are refused, so a typo in a
/// config file cannot make us allocate gigabytes (Python would try).
const MAX_PADDING: u64 = 1 << 20;

/// Expand every `%(name)<spec>` and `%%` in `template`, up to
/// [`MAX_VALUE_BYTES`] of result.
pub fn expand(template: &str, names: &Names) -> Result<String, ExpandError> {
    expand_within(template, names, MAX_VALUE_BYTES)
}

/// Like [`expand`], failing with [`ExpandError::TooLong`] as soon as the
/// result grows past `limit` bytes, so no template can make it allocate much
/// more than that (one field adds at most its width, itself bounded).
pub fn expand_within(template: &str, names: &Names, limit: usize) -> Result<String, ExpandError> {
    let with_defaults;
    let names = match super::names::with_defaults(template, names) {
        Some(extended) => {
            with_defaults = extended;
            &with_defaults
        }
        None => names,
    };
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len());
    let mut pos = 0;
    // Python hands the whole dictionary to unnamed conversions only until a
    // name has been looked up; after that they find nothing left.
    let mut named_seen = false;
    while let Some(&c) = chars.get(pos) {
        pos += 1;
        if c != '%' {
            out.push(c);
        } else if chars.get(pos) == Some(&'%') {
            pos += 1;
            out.push('%');
        } else {
            let mut spec = Spec::parse(&chars, pos - 1, names, named_seen)?;
            named_seen |= spec.named;
            pos = spec.end;
            out.push_str(&spec.format(&chars)?);
        }
        if out.len() > limit {
            return Err(ExpandError::TooLong(limit));
        }
    }
    Ok(out)
}

fn bad(text: impl Into<String>) -> ExpandError {
    ExpandError::BadFormat(text.into())
}

fn incomplete() -> ExpandError {
    bad("incomplete format")
}

/// What Python's formatter would hand to the next conversion (or `*`).
#[derive(Clone, Copy)]
enum Arg<'a> {
    /// No `(name)` was given, so Python would use the whole dictionary.
    Dict,
    Value(&'a Value),
    /// Already taken, by a `*` or an earlier named conversion: Python has
    /// nothing left to give.
    Used,
}

impl<'a> Arg<'a> {
    /// Python's `getnextarg`: each argument can be taken once.
    fn take(&mut self) -> Result<Arg<'a>, ExpandError> {
        match std::mem::replace(self, Arg::Used) {
            Arg::Used => Err(bad("not enough arguments for format string")),
            arg => Ok(arg),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Arg::Value(Value::Str(_)) => "str",
            Arg::Value(Value::Int(_)) => "int",
            Arg::Dict | Arg::Used => "dict",
        }
    }
}

/// Where the parser of one conversion is in the template.
struct Cursor<'c> {
    chars: &'c [char],
    pos: usize,
}

impl Cursor<'_> {
    /// The next character; running out is Python's "incomplete format".
    fn next(&mut self) -> Result<char, ExpandError> {
        let c = self.chars.get(self.pos).copied();
        self.pos += 1;
        c.ok_or_else(incomplete)
    }
}

/// One parsed `%…` conversion.
struct Spec<'a> {
    /// Char index of the `%`.
    start: usize,
    /// Char index just past the conversion character.
    end: usize,
    /// Whether a `(name)` was given.
    named: bool,
    arg: Arg<'a>,
    left: bool,
    plus: bool,
    blank: bool,
    alt: bool,
    zero: bool,
    width: u64,
    /// `None` when no `.` was given.
    precision: Option<u64>,
    conversion: char,
}

impl<'a> Spec<'a> {
    /// Parse the spec starting at the `%` at `start`, in Python's order: the
    /// name is looked up as soon as it is read, and a `*` takes its argument
    /// before the next character is looked at, so errors come out as Python's.
    fn parse(
        chars: &[char],
        start: usize,
        names: &'a Names,
        named_seen: bool,
    ) -> Result<Self, ExpandError> {
        let mut at = Cursor {
            chars,
            pos: start + 1,
        };
        let mut spec = Spec {
            start,
            end: 0,
            named: false,
            arg: if named_seen { Arg::Used } else { Arg::Dict },
            left: false,
            plus: false,
            blank: false,
            alt: false,
            zero: false,
            width: 0,
            precision: None,
            conversion: '\0',
        };
        let mut c = at.next()?;
        if c == '(' {
            spec.name(&mut at, names)?;
            c = at.next()?;
        }
        c = spec.flags(c, &mut at)?;
        c = spec.width(c, &mut at)?;
        c = spec.precision(c, &mut at)?;
        // One length modifier is accepted and ignored, as in C.
        if matches!(c, 'h' | 'l' | 'L') {
            c = at.next()?;
        }
        spec.conversion = c;
        spec.end = at.pos;
        Ok(spec)
    }

    /// `(name)`, the `(` already read: looked up at once, as Python does.
    fn name(&mut self, at: &mut Cursor, names: &'a Names) -> Result<(), ExpandError> {
        // Python allows balanced parentheses inside the name.
        let mut depth = 1;
        let mut name = String::new();
        loop {
            let k = at.next().map_err(|_| bad("incomplete format key"))?;
            match k {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            name.push(k);
        }
        match names.get(&name) {
            Some(value) => {
                self.named = true;
                self.arg = Arg::Value(value);
                Ok(())
            }
            None => Err(ExpandError::UnknownName(name)),
        }
    }

    /// The flags `-+ #0` from `c` on; the first character after them.
    fn flags(&mut self, mut c: char, at: &mut Cursor) -> Result<char, ExpandError> {
        loop {
            match c {
                '-' => self.left = true,
                '+' => self.plus = true,
                ' ' => self.blank = true,
                '#' => self.alt = true,
                '0' => self.zero = true,
                _ => return Ok(c),
            }
            c = at.next()?;
        }
    }

    /// A width (digits, or `*` taking the argument) from `c` on.
    fn width(&mut self, mut c: char, at: &mut Cursor) -> Result<char, ExpandError> {
        if c == '*' {
            let n = star_value(self.arg.take()?)?;
            if n < 0 {
                self.left = true;
            }
            self.width = n.unsigned_abs();
            return at.next();
        }
        let mut width: i64 = 0;
        while let Some(d) = c.to_digit(10) {
            width = width
                .checked_mul(10)
                .and_then(|w| w.checked_add(i64::from(d)))
                .ok_or_else(|| bad("width too big"))?;
            c = at.next()?;
        }
        self.width = width.unsigned_abs();
        Ok(c)
    }

    /// `.` and a precision (digits, or `*`), if `c` is the `.`.
    fn precision(&mut self, c: char, at: &mut Cursor) -> Result<char, ExpandError> {
        if c != '.' {
            return Ok(c);
        }
        let mut c = at.next()?;
        if c == '*' {
            let n = star_value(self.arg.take()?)?;
            let n =
                i32::try_from(n).map_err(|_| bad("Python int too large to convert to C int"))?;
            self.precision = Some(n.max(0).unsigned_abs().into());
            return at.next();
        }
        let mut precision: i32 = 0;
        while let Some(d) = c.to_digit(10) {
            precision = precision
                .checked_mul(10)
                .and_then(|p| p.checked_add(d as i32))
                .ok_or_else(|| bad("precision too big"))?;
            c = at.next()?;
        }
        self.precision = Some(precision.unsigned_abs().into());
        Ok(c)
    }

    /// The text this spec produces.
    fn format(&mut self, chars: &[char]) -> Result<String, ExpandError> {
        let conv = self.conversion;
        if !self.named && matches!(conv, 's' | 'r' | 'a') {
            // Python would print the repr of the whole dictionary, environment
            // included (or fail, after a named conversion); never what the
            // user meant.
            let written: String = chars[self.start..self.end].iter().collect();
            let suggested: String = chars[self.start + 1..self.end].iter().collect();
            return Err(bad(format!(
                "'{written}' has no name; write %(name){suggested}"
            )));
        }
        let arg = self.arg.take()?;
        let (body, numeric) = match conv {
            's' | 'r' | 'a' => (self.text(arg), false),
            'd' | 'i' | 'u' | 'o' | 'x' | 'X' => (self.integer(arg)?, true),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => (self.float(arg)?, true),
            'c' => (character(arg)?.to_string(), false),
            _ => {
                let shown = if (31..=126).contains(&u32::from(conv)) {
                    conv
                } else {
                    '?'
                };
                return Err(bad(format!(
                    "unsupported format character '{shown}' (0x{:x}) at index {}",
                    u32::from(conv),
                    self.end - 1
                )));
            }
        };
        self.pad(body, numeric)
    }

    /// `%s`, `%r`, `%a`.
    fn text(&self, arg: Arg) -> String {
        match (arg, self.conversion) {
            (Arg::Value(Value::Int(n)), _) => n.to_string(),
            (Arg::Value(Value::Str(s)), 's') => s.clone(),
            (Arg::Value(Value::Str(s)), 'r') => pyrepr::repr(s),
            (Arg::Value(Value::Str(s)), _) => ascii(&pyrepr::repr(s)),
            // Unnamed text conversions were refused in `format`.
            (Arg::Dict | Arg::Used, _) => String::new(),
        }
    }

    /// `%d %i %u %o %x %X`: digits padded to the precision, then Python's
    /// `0o`/`0x`/`0X` prefix for the alternate form, then the sign.
    fn integer(&self, arg: Arg) -> Result<String, ExpandError> {
        let conv = self.conversion;
        let n = match arg {
            Arg::Value(Value::Int(n)) => *n,
            other => {
                let required = if matches!(conv, 'o' | 'x' | 'X') {
                    "an integer"
                } else {
                    "a real number"
                };
                return Err(bad(format!(
                    "%{conv} format: {required} is required, not {}",
                    other.type_name()
                )));
            }
        };
        let magnitude = n.unsigned_abs();
        let digits = match conv {
            'o' => format!("{magnitude:o}"),
            'x' => format!("{magnitude:x}"),
            'X' => format!("{magnitude:X}"),
            _ => magnitude.to_string(),
        };
        let min_digits = self.numeric_precision()?.unwrap_or(0);
        let mut body = String::new();
        if n < 0 {
            body.push('-');
        }
        if self.alt {
            body.push_str(alt_prefix(conv));
        }
        body.push_str(&"0".repeat(min_digits.saturating_sub(digits.len())));
        body.push_str(&digits);
        Ok(body)
    }

    /// `%e %E %f %F %g %G`: the integer converted to a float, as Python does.
    fn float(&self, arg: Arg) -> Result<String, ExpandError> {
        let x = match arg {
            Arg::Value(Value::Int(n)) => *n as f64,
            other => {
                return Err(bad(format!(
                    "must be real number, not {}",
                    other.type_name()
                )))
            }
        };
        let precision = self.numeric_precision()?.unwrap_or(6);
        let body = match self.conversion.to_ascii_lowercase() {
            'f' => fixed(x, precision, self.alt),
            'e' => exponent(x, precision, self.alt),
            _ => general(x, precision, self.alt),
        };
        Ok(if self.conversion.is_ascii_uppercase() {
            body.to_ascii_uppercase()
        } else {
            body
        })
    }

    /// The precision of a numeric conversion, which becomes output length.
    fn numeric_precision(&self) -> Result<Option<usize>, ExpandError> {
        match self.precision {
            Some(p) if p > MAX_PADDING => Err(bad("precision too big")),
            Some(p) => Ok(Some(p as usize)),
            None => Ok(None),
        }
    }

    /// Apply precision (truncation for text), sign flags and width, the way
    /// Python's `unicode_format_arg_output` does: zero padding only for
    /// numbers, and it goes between the sign/prefix and the digits.
    fn pad(&self, body: String, numeric: bool) -> Result<String, ExpandError> {
        if self.width > MAX_PADDING {
            return Err(bad("width too big"));
        }
        let mut body = body;
        if let (Some(p), 's' | 'r' | 'a') = (self.precision, self.conversion) {
            if let Some((cut, _)) = body.char_indices().nth(p.try_into().unwrap_or(usize::MAX)) {
                body.truncate(cut);
            }
        }

        let mut head = String::new();
        let mut rest = body.as_str();
        if numeric {
            if let Some(r) = rest.strip_prefix('-') {
                head.push('-');
                rest = r;
            } else if self.plus {
                head.push('+');
            } else if self.blank {
                head.push(' ');
            }
            let prefix = alt_prefix(self.conversion);
            if let Some(r) = rest.strip_prefix(prefix).filter(|_| self.alt) {
                head.push_str(prefix);
                rest = r;
            }
        }

        let len = head.chars().count() + rest.chars().count();
        let fill = (self.width as usize).saturating_sub(len);
        let mut out = String::with_capacity(body.len() + fill);
        if self.left {
            out.push_str(&head);
            out.push_str(rest);
            out.push_str(&" ".repeat(fill));
        } else if numeric && self.zero {
            out.push_str(&head);
            out.push_str(&"0".repeat(fill));
            out.push_str(rest);
        } else {
            out.push_str(&" ".repeat(fill));
            out.push_str(&head);
            out.push_str(rest);
        }
        Ok(out)
    }
}

/// Python's alternate-form prefix (`%#x` gives `0xff`).
fn alt_prefix(conversion: char) -> &'static str {
    match conversion {
        'o' => "0o",
        'x' => "0x",
        'X' => "0X",
        _ => "",
    }
}

/// The value of a `*` width or precision: Python takes it from the argument.
fn star_value(arg: Arg) -> Result<i64, ExpandError> {
    match arg {
        Arg::Value(Value::Int(n)) => Ok(*n),
        _ => Err(bad("* wants int")),
    }
}

/// `%c`: a code point, or a string of exactly one character.
fn character(arg: Arg) -> Result<char, ExpandError> {
    match arg {
        Arg::Value(Value::Int(n)) => {
            if !(0..0x110000).contains(n) {
                return Err(bad("%c arg not in range(0x110000)"));
            }
            // Python would produce a lone surrogate, which no config value can hold.
            char::from_u32(*n as u32)
                .ok_or_else(|| bad(format!("%c arg 0x{n:x} is a surrogate, not a character")))
        }
        Arg::Value(Value::Str(s)) => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(c),
                _ => Err(bad("%c requires int or char")),
            }
        }
        Arg::Dict | Arg::Used => Err(bad("%c requires int or char")),
    }
}

/// Python's `ascii()` given its `repr()`: escape what is not ASCII.
fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        let n = u32::from(c);
        if c.is_ascii() {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    out
}

/// `%f`: the alternate form keeps the point even without decimals.
fn fixed(x: f64, precision: usize, alt: bool) -> String {
    let mut s = format!("{x:.precision$}");
    if alt && precision == 0 {
        s.push('.');
    }
    s
}

/// `%e`: mantissa and a signed exponent of at least two digits (`1.5e+03`).
fn exponent(x: f64, precision: usize, alt: bool) -> String {
    let (mut mantissa, exp) = split_exponent(x, precision);
    if alt && precision == 0 {
        mantissa.push('.');
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Rust's `{:e}` gives `1.5e3`; split it into mantissa and exponent.
fn split_exponent(x: f64, precision: usize) -> (String, i32) {
    let s = format!("{x:.precision$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => (mantissa.to_string(), exp.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// `%g`: C's rule. `precision` significant digits; fixed notation when the
/// exponent is in [-4, precision), otherwise exponent notation; trailing
/// zeros dropped unless the alternate form is asked for.
fn general(x: f64, precision: usize, alt: bool) -> String {
    let p = precision.max(1);
    let (_, exp) = split_exponent(x, p - 1);
    let exp = i64::from(exp);
    let mut s = if -4 <= exp && exp < p as i64 {
        let decimals = usize::try_from(p as i64 - 1 - exp).unwrap_or(0);
        fixed(x, decimals, alt)
    } else {
        exponent(x, p - 1, alt)
    };
    if !alt {
        let (number, suffix) = match s.find('e') {
            Some(i) => s.split_at(i),
            None => (s.as_str(), ""),
        };
        if number.contains('.') {
            let number = number.trim_end_matches('0').trim_end_matches('.');
            s = format!("{number}{suffix}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, Value)]) -> Names {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    /// Expand with `a` bound to `value`.
    fn with_a(template: &str, value: Value) -> Result<String, ExpandError> {
        expand(template, &names(&[("a", value)]))
    }

    fn ok(template: &str, value: Value) -> String {
        with_a(template, value).unwrap()
    }

    fn err(template: &str, value: Value) -> String {
        match with_a(template, value) {
            Err(ExpandError::BadFormat(text)) => text,
            other => panic!("{template:?}: expected BadFormat, got {other:?}"),
        }
    }

    #[test]
    fn defaults_apply_to_unknown_or_empty_names_only() {
        let names = names(&[
            ("ENV_SET", s("on")),
            ("ENV_EMPTY", s("")),
            ("process_num", Value::Int(3)),
        ]);
        let run = |t: &str| expand(t, &names);
        assert_eq!(run("%(ENV_SET:-off)s").unwrap(), "on");
        assert_eq!(run("%(ENV_EMPTY:-fallback)s").unwrap(), "fallback");
        assert_eq!(run("%(ENV_UNSET:-8080)s").unwrap(), "8080");
        assert_eq!(run("%(ENV_UNSET:-)s|").unwrap(), "|");
        assert_eq!(run("port=%(ENV_UNSET:-a b:-c)s").unwrap(), "port=a b:-c");
        // The value keeps its type, so numeric formats still work.
        assert_eq!(run("%(process_num:-0)02d").unwrap(), "03");
        // `%%(` is a literal and the default is never expanded again.
        assert_eq!(run("%%(ENV_UNSET:-x)s").unwrap(), "%(ENV_UNSET:-x)s");
        assert_eq!(run("%(ENV_UNSET:-%(ENV_SET)s)s").unwrap(), "%(ENV_SET)s");
        // Without `:-`, an unknown name is still an error.
        assert_eq!(
            run("%(ENV_UNSET)s"),
            Err(ExpandError::UnknownName("ENV_UNSET".into()))
        );
    }

    #[test]
    fn plain_text_and_percent_percent() {
        let n = Names::new();
        assert_eq!(expand("", &n).unwrap(), "");
        assert_eq!(expand("/bin/cat", &n).unwrap(), "/bin/cat");
        assert_eq!(expand("50%%", &n).unwrap(), "50%");
        assert_eq!(expand("%%(a)s", &n).unwrap(), "%(a)s");
        assert_eq!(expand("日本%%語", &n).unwrap(), "日本%語");
    }

    #[test]
    fn names_expand_without_recursion() {
        let n = names(&[
            ("here", s("/etc")),
            ("program_name", s("%(here)s")),
            ("process_num", Value::Int(3)),
        ]);
        assert_eq!(
            expand("%(here)s/x %(program_name)s %(process_num)s", &n).unwrap(),
            "/etc/x %(here)s 3"
        );
        assert_eq!(expand("%(here)s%(here)s", &n).unwrap(), "/etc/etc");
    }

    #[test]
    fn unknown_name() {
        let n = names(&[("a", Value::Int(1))]);
        assert_eq!(
            expand("x %(nope)s", &n),
            Err(ExpandError::UnknownName("nope".into()))
        );
        // Python looks the name up before reading the rest of the spec.
        assert_eq!(
            expand("%(nope)", &n),
            Err(ExpandError::UnknownName("nope".into()))
        );
        assert_eq!(
            expand("%(nope)q", &n),
            Err(ExpandError::UnknownName("nope".into()))
        );
    }

    #[test]
    fn names_may_hold_balanced_parentheses_or_be_empty() {
        let n = names(&[("a(b)", s("X")), ("", s("E"))]);
        assert_eq!(expand("%(a(b))s", &n).unwrap(), "X");
        assert_eq!(expand("%()s", &n).unwrap(), "E");
    }

    #[test]
    fn incomplete_formats() {
        let n = names(&[("a", Value::Int(5))]);
        // "50% " too: the space is a flag, so the spec runs off the end.
        for t in [
            "%", "abc%", "50% ", "%(a)", "%(a)-", "%(a)5", "%(a)5.", "%(a)l", "%(a)s %",
        ] {
            assert_eq!(
                expand(t, &n),
                Err(ExpandError::BadFormat("incomplete format".into())),
                "{t:?}"
            );
        }
        assert_eq!(
            expand("%(a", &n),
            Err(ExpandError::BadFormat("incomplete format key".into()))
        );
        assert_eq!(
            expand("%(a(b)s", &n),
            Err(ExpandError::BadFormat("incomplete format key".into()))
        );
    }

    #[test]
    fn unsupported_characters() {
        assert_eq!(
            err("%(a)q", Value::Int(1)),
            "unsupported format character 'q' (0x71) at index 4"
        );
        assert_eq!(
            err("%q", Value::Int(1)),
            "unsupported format character 'q' (0x71) at index 1"
        );
        assert_eq!(
            err("%5%", Value::Int(1)),
            "unsupported format character '%' (0x25) at index 2"
        );
        assert_eq!(
            err("%(a)%", Value::Int(1)),
            "unsupported format character '%' (0x25) at index 4"
        );
        assert_eq!(
            err("%(a)hhd", Value::Int(5)),
            "unsupported format character 'h' (0x68) at index 5"
        );
        assert_eq!(
            err("%(a)\u{1}", Value::Int(5)),
            "unsupported format character '?' (0x1) at index 4"
        );
        assert_eq!(
            err("%(a)\u{7f}", Value::Int(5)),
            "unsupported format character '?' (0x7f) at index 4"
        );
        // The index counts characters, not bytes.
        assert_eq!(
            err("é%(a)é", Value::Int(5)),
            "unsupported format character '?' (0xe9) at index 5"
        );
    }

    #[test]
    fn unnamed_conversions_are_errors() {
        let v = Value::Int(1);
        assert_eq!(
            err("/bin/echo %s", v.clone()),
            "'%s' has no name; write %(name)s"
        );
        assert_eq!(err("%5s", v.clone()), "'%5s' has no name; write %(name)5s");
        assert_eq!(err("%r", v.clone()), "'%r' has no name; write %(name)r");
        assert_eq!(
            err("%d", v.clone()),
            "%d format: a real number is required, not dict"
        );
        assert_eq!(
            err("%i", v.clone()),
            "%i format: a real number is required, not dict"
        );
        assert_eq!(
            err("%u", v.clone()),
            "%u format: a real number is required, not dict"
        );
        assert_eq!(
            err("%x", v.clone()),
            "%x format: an integer is required, not dict"
        );
        assert_eq!(
            err("%X", v.clone()),
            "%X format: an integer is required, not dict"
        );
        assert_eq!(
            err("%o", v.clone()),
            "%o format: an integer is required, not dict"
        );
        assert_eq!(err("%e", v.clone()), "must be real number, not dict");
        assert_eq!(err("%g", v.clone()), "must be real number, not dict");
        assert_eq!(err("%c", v.clone()), "%c requires int or char");
        assert_eq!(err("%*d", v), "* wants int");
    }

    #[test]
    fn unnamed_after_named_finds_nothing_left() {
        let v = Value::Int(255);
        assert_eq!(
            err("%(a)i%x5", v.clone()),
            "not enough arguments for format string"
        );
        assert_eq!(
            err("%(a)s%\u{e9}", v.clone()),
            "not enough arguments for format string"
        );
        assert_eq!(err("%(a)s %s", v), "'%s' has no name; write %(name)s");
    }

    #[test]
    fn star_width_and_precision() {
        assert_eq!(err("%(a)*d", s("x")), "* wants int");
        assert_eq!(err("%(a).*d", s("x")), "* wants int");
        // The int is taken by `*`, leaving nothing for the conversion.
        assert_eq!(
            err("%(a)*d", Value::Int(3)),
            "not enough arguments for format string"
        );
        assert_eq!(
            err("%(a)*d", Value::Int(-3)),
            "not enough arguments for format string"
        );
        assert_eq!(
            err("%(a).*d", Value::Int(3)),
            "not enough arguments for format string"
        );
        assert_eq!(
            err("%(a)*.*d", Value::Int(3)),
            "not enough arguments for format string"
        );
        assert_eq!(
            err("%(a).*d", Value::Int(1 << 40)),
            "Python int too large to convert to C int"
        );
        assert_eq!(err("%(a)*", Value::Int(3)), "incomplete format");
    }

    #[test]
    fn wrong_value_types() {
        assert_eq!(
            err("%(a)d", s("s")),
            "%d format: a real number is required, not str"
        );
        assert_eq!(
            err("%(a)x", s("s")),
            "%x format: an integer is required, not str"
        );
        assert_eq!(err("%(a)f", s("s")), "must be real number, not str");
        assert_eq!(err("%(a)c", s("ss")), "%c requires int or char");
        assert_eq!(err("%(a)c", s("")), "%c requires int or char");
        assert_eq!(
            err("%(a)c", Value::Int(-1)),
            "%c arg not in range(0x110000)"
        );
        assert_eq!(
            err("%(a)c", Value::Int(0x110000)),
            "%c arg not in range(0x110000)"
        );
        assert!(with_a("%(a)c", Value::Int(0xd800)).is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(ok("%(a)s", s("x")), "x");
        assert_eq!(ok("%(a)05s", s("ab")), "   ab");
        assert_eq!(ok("%(a)-5s|", s("ab")), "ab   |");
        assert_eq!(ok("%(a).3s", s("abcdef")), "abc");
        assert_eq!(ok("%(a)010.4s|", s("abcdefg")), "      abcd|");
        assert_eq!(ok("%(a) -+#0s", s("x")), "x");
        assert_eq!(ok("%(a).99999999s", s("x")), "x");
        assert_eq!(ok("%(a)3s", s("日本")), " 日本");
        assert_eq!(ok("%(a).1s", s("日本")), "日");
    }

    #[test]
    fn reprs() {
        assert_eq!(ok("%(a)r", s("x")), "'x'");
        assert_eq!(ok("%(a).3r", s("abcdef")), "'ab");
        assert_eq!(ok("%(a)r", s("é")), "'é'");
        assert_eq!(ok("%(a)r", s("it's")), "\"it's\"");
        assert_eq!(ok("%(a)a", s("é日\u{1f600}")), "'\\xe9\\u65e5\\U0001f600'");
        assert_eq!(ok("%(a)r", Value::Int(-3)), "-3");
        assert_eq!(ok("%(a)a", Value::Int(7)), "7");
    }

    #[test]
    fn ints_as_strings() {
        assert_eq!(ok("%(a)s", Value::Int(5)), "5");
        assert_eq!(ok("%(a)5s|", Value::Int(-3)), "   -3|");
        assert_eq!(ok("%(a)05s|", Value::Int(-3)), "   -3|");
        assert_eq!(ok("%(a)+s", Value::Int(3)), "3");
        assert_eq!(ok("%(a)#s", Value::Int(5)), "5");
    }

    #[test]
    fn decimal_integers() {
        assert_eq!(ok("%(a)d", Value::Int(5)), "5");
        assert_eq!(ok("%(a)02d", Value::Int(3)), "03");
        assert_eq!(ok("%(a)05d", Value::Int(3)), "00003");
        assert_eq!(ok("%(a)02d", Value::Int(123)), "123");
        assert_eq!(ok("%(a)i", Value::Int(-7)), "-7");
        assert_eq!(ok("%(a)u", Value::Int(7)), "7");
        assert_eq!(ok("%(a)ld", Value::Int(5)), "5");
        assert_eq!(ok("%(a)-05d", Value::Int(3)), "3    ");
        assert_eq!(ok("%(a)08.3d", Value::Int(5)), "00000005");
        assert_eq!(ok("%(a)8.3d|", Value::Int(5)), "     005|");
        assert_eq!(ok("%(a)+ d", Value::Int(5)), "+5");
        assert_eq!(ok("%(a) 5d", Value::Int(5)), "    5");
        assert_eq!(ok("%(a) d", Value::Int(-5)), "-5");
        assert_eq!(ok("%(a)+05d", Value::Int(-5)), "-0005");
        assert_eq!(ok("%(a)-+8d|", Value::Int(3)), "+3      |");
        assert_eq!(ok("%(a)#d", Value::Int(5)), "5");
        assert_eq!(ok("%(a)d", Value::Int(i64::MIN)), "-9223372036854775808");
    }

    #[test]
    fn octal_and_hex() {
        assert_eq!(ok("%(a)x", Value::Int(255)), "ff");
        assert_eq!(ok("%(a)X", Value::Int(255)), "FF");
        assert_eq!(ok("%(a)o", Value::Int(8)), "10");
        assert_eq!(ok("%(a)#x", Value::Int(-255)), "-0xff");
        assert_eq!(ok("%(a)#08x", Value::Int(255)), "0x0000ff");
        assert_eq!(ok("%(a)#.5x", Value::Int(255)), "0x000ff");
        assert_eq!(ok("%(a)#8X", Value::Int(255)), "    0XFF");
        assert_eq!(ok("%(a)#o", Value::Int(8)), "0o10");
        assert_eq!(ok("%(a)-#8o|", Value::Int(8)), "0o10    |");
        assert_eq!(ok("%(a)#5.2x", Value::Int(-1)), "-0x01");
        assert_eq!(ok("%(a) x", Value::Int(255)), " ff");
        assert_eq!(ok("%(a)+#X", Value::Int(255)), "+0XFF");
        assert_eq!(ok("%(a)x", Value::Int(i64::MIN)), "-8000000000000000");
    }

    #[test]
    fn floats() {
        assert_eq!(ok("%(a)f", Value::Int(1)), "1.000000");
        assert_eq!(ok("%(a)F", Value::Int(1)), "1.000000");
        assert_eq!(ok("%(a).0f", Value::Int(0)), "0");
        assert_eq!(ok("%(a)#.0f", Value::Int(3)), "3.");
        assert_eq!(ok("%(a)08.3f", Value::Int(-2)), "-002.000");
        assert_eq!(ok("%(a)+08.2f", Value::Int(3)), "+0003.00");
        assert_eq!(
            ok("%(a)f", Value::Int(i64::MAX)),
            "9223372036854775808.000000"
        );
        assert_eq!(ok("%(a)e", Value::Int(125)), "1.250000e+02");
        assert_eq!(ok("%(a)e", Value::Int(0)), "0.000000e+00");
        assert_eq!(ok("%(a).1e", Value::Int(125)), "1.2e+02");
        assert_eq!(ok("%(a).1e", Value::Int(135)), "1.4e+02");
        assert_eq!(ok("%(a).0e", Value::Int(25)), "2e+01");
        assert_eq!(ok("%(a).0e", Value::Int(35)), "4e+01");
        assert_eq!(ok("%(a)#.0e", Value::Int(3)), "3.e+00");
        assert_eq!(ok("%(a)+.2e", Value::Int(0)), "+0.00e+00");
        assert_eq!(ok("%(a)10.3e|", Value::Int(-123456)), "-1.235e+05|");
        assert_eq!(ok("%(a)E", Value::Int(1)), "1.000000E+00");
    }

    #[test]
    fn general_floats() {
        assert_eq!(ok("%(a)g", Value::Int(1234567)), "1.23457e+06");
        assert_eq!(ok("%(a)g", Value::Int(100000)), "100000");
        assert_eq!(ok("%(a)g", Value::Int(1000000)), "1e+06");
        assert_eq!(ok("%(a)g", Value::Int(0)), "0");
        assert_eq!(ok("%(a)g", Value::Int(-123456789)), "-1.23457e+08");
        assert_eq!(ok("%(a)#g", Value::Int(1)), "1.00000");
        assert_eq!(ok("%(a)#g", Value::Int(0)), "0.00000");
        assert_eq!(ok("%(a).0g", Value::Int(15)), "2e+01");
        assert_eq!(ok("%(a).0g", Value::Int(0)), "0");
        assert_eq!(ok("%(a)#.0g", Value::Int(1)), "1.");
        assert_eq!(ok("%(a).3g", Value::Int(1000)), "1e+03");
        assert_eq!(ok("%(a)#.3g", Value::Int(1)), "1.00");
        assert_eq!(ok("%(a).2g", Value::Int(99999)), "1e+05");
        assert_eq!(ok("%(a)-8.3g|", Value::Int(1000)), "1e+03   |");
        assert_eq!(ok("%(a).10g", Value::Int(1 << 62)), "4.611686018e+18");
        assert_eq!(ok("%(a).20g", Value::Int(1 << 62)), "4611686018427387904");
        assert_eq!(ok("%(a)G", Value::Int(i64::MAX)), "9.22337E+18");
    }

    #[test]
    fn characters() {
        assert_eq!(ok("%(a)c", Value::Int(65)), "A");
        assert_eq!(ok("%(a)c", s("x")), "x");
        assert_eq!(ok("%(a)05c", Value::Int(65)), "    A");
        assert_eq!(ok("%(a)+c", Value::Int(65)), "A");
        assert_eq!(ok("%(a) 3c|", Value::Int(65)), "  A|");
        assert_eq!(ok("%(a).2c", s("x")), "x");
    }

    #[test]
    fn oversized_width_and_precision() {
        assert_eq!(err("%(a)99999999999999999999s", s("x")), "width too big");
        assert_eq!(err("%(a).99999999999s", s("x")), "precision too big");
        // Within Python's limits but would allocate gigabytes: refused.
        assert_eq!(err("%(a)999999999s", s("x")), "width too big");
        assert_eq!(err("%(a).999999999d", Value::Int(1)), "precision too big");
        assert_eq!(err("%(a).999999999f", Value::Int(1)), "precision too big");
    }
}
