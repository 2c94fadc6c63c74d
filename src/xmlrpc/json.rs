//! XML-RPC values as JSON, for `supervisorctl status --json` and the web
//! UI's JSON view: structs become objects (members in the server's order),
//! arrays arrays, strings strings, numbers numbers; a date is its raw text;
//! nil, NaN and infinities are `null`. Nesting deeper than [`MAX_DEPTH`]
//! becomes `null` too (no answer of ours nests that deep).

use std::fmt::Write as _;

use super::Value;

/// Deeper values are written as `null`.
const MAX_DEPTH: usize = 8;

/// One line of JSON for `value`.
pub fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, |_| false);
    out
}

/// Append `value` as JSON, leaving out struct members for which `skip`
/// says so (the web UI drops what it never shows).
pub fn write_value(out: &mut String, value: &Value, skip: fn(&str) -> bool) {
    write_at(out, value, skip, 0);
}

fn write_at(out: &mut String, value: &Value, skip: fn(&str) -> bool, depth: usize) {
    match value {
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Double(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Value::String(s) | Value::DateTime(s) => write_str(out, s),
        Value::Array(items) if depth < MAX_DEPTH => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_at(out, item, skip, depth + 1);
            }
            out.push(']');
        }
        Value::Struct(members) if depth < MAX_DEPTH => {
            out.push('{');
            let mut first = true;
            for (name, item) in members.iter().filter(|(name, _)| !skip(name)) {
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(out, name);
                out.push(':');
                write_at(out, item, skip, depth + 1);
            }
            out.push('}');
        }
        _ => out.push_str("null"),
    }
}

/// A JSON string literal. `<`, U+2028 and U+2029 are escaped too, so the
/// text can never close a tag or break a script even if a browser were to
/// read it as HTML or JavaScript.
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_escapes_and_order() {
        let value = Value::Array(vec![Value::Struct(vec![
            ("name".into(), Value::str("a\"b\\c\n\u{1}é</")),
            ("pid".into(), Value::Int(-3)),
            ("ok".into(), Value::Bool(true)),
            ("x".into(), Value::Double(1.5)),
            ("nan".into(), Value::Double(f64::NAN)),
            ("none".into(), Value::Nil),
            ("empty".into(), Value::Array(vec![])),
        ])]);
        assert_eq!(
            to_json(&value),
            r#"[{"name":"a\"b\\c\n\u0001é\u003c/","pid":-3,"ok":true,"x":1.5,"nan":null,"none":null,"empty":[]}]"#
        );
    }

    #[test]
    fn skipped_members_and_depth() {
        let value = Value::Struct(vec![
            ("logfile".into(), Value::str("/x")),
            ("pid".into(), Value::Int(7)),
        ]);
        let mut out = String::new();
        write_value(&mut out, &value, |name| name == "logfile");
        assert_eq!(out, r#"{"pid":7}"#);
        let mut deep = Value::Int(1);
        for _ in 0..10 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(to_json(&deep), "[[[[[[[[null]]]]]]]]");
    }
}
