//! XML-RPC values as JSON, for `status --json`: structs become objects
//! (members in the server's order), arrays arrays, strings strings, and
//! numbers numbers. A date is its raw text; nil is `null`.

use std::fmt::Write as _;

use crate::xmlrpc::Value;

/// One line of JSON for `value`.
pub fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // JSON has no NaN or infinity.
        Value::Double(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        Value::Double(_) | Value::Nil => out.push_str("null"),
        Value::String(s) | Value::DateTime(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Struct(members) => {
            out.push('{');
            for (i, (name, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
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
            ("name".into(), Value::str("a\"b\\c\n\u{1}é")),
            ("pid".into(), Value::Int(-3)),
            ("ok".into(), Value::Bool(true)),
            ("x".into(), Value::Double(1.5)),
            ("nan".into(), Value::Double(f64::NAN)),
            ("none".into(), Value::Nil),
            ("empty".into(), Value::Array(vec![])),
        ])]);
        assert_eq!(
            to_json(&value),
            r#"[{"name":"a\"b\\c\n\u0001é","pid":-3,"ok":true,"x":1.5,"nan":null,"none":null,"empty":[]}]"#
        );
    }
}
