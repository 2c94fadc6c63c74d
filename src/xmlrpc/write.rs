//! Serialising values byte-for-byte as Python's `xmlrpc.client.dumps` does
//! (spec xmlrpc.md §2.1), so responses and requests match the reference.

use super::{Fault, Value};

const XML_HEADER: &str = "<?xml version='1.0'?>\n";

/// The body of a successful response carrying `value`.
pub fn write_response(value: &Value) -> Vec<u8> {
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out.into_bytes()
}

/// The body of a fault response.
pub fn write_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodResponse>\n<fault>\n");
    write_value(&mut out, &fault.to_value());
    out.push_str("</fault>\n</methodResponse>\n");
    out.into_bytes()
}

/// The body of a request, as Python's `ServerProxy` sends it.
pub fn write_call(method: &str, params: &[Value]) -> Vec<u8> {
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodCall>\n<methodName>");
    // Python does not escape the method name; we do, so a name containing
    // `<` or `&` cannot produce a broken document (no effect on real names).
    push_text(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out.into_bytes()
}

/// One `<value>…</value>` followed by a newline, as Python's `Marshaller`.
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(n) => {
            // XML-RPC ints are 32-bit; Python fails the whole call on larger
            // ones (HTTP 500), we clamp instead (spec §10.4).
            let n = (*n).clamp(i32::MIN.into(), i32::MAX.into());
            out.push_str(&format!("<value><int>{n}</int></value>\n"));
        }
        Value::Bool(b) => {
            out.push_str(if *b {
                "<value><boolean>1</boolean></value>\n"
            } else {
                "<value><boolean>0</boolean></value>\n"
            });
        }
        Value::String(s) => {
            out.push_str("<value><string>");
            push_text(out, s);
            out.push_str("</string></value>\n");
        }
        Value::Double(d) => {
            out.push_str("<value><double>");
            out.push_str(&python_float_repr(*d));
            out.push_str("</double></value>\n");
        }
        Value::DateTime(text) => {
            out.push_str("<value><dateTime.iso8601>");
            push_text(out, text);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                push_text(out, name);
                out.push_str("</name>\n");
                write_value(out, member);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
        // Python's `dump_nil` writes no newline after this one.
        Value::Nil => out.push_str("<value><nil/></value>"),
    }
}

/// Escape text as Python's `xmlrpc.client.escape` (only `&`, `<`, `>`), and
/// replace characters XML 1.0 forbids with U+FFFD. Python sends them raw,
/// which makes the document unreadable for every conforming client (§10.2).
fn push_text(out: &mut String, text: &str) {
    // Runs of plain text are copied whole: status answers are mostly such
    // text, and a push per character was most of encoding a big one.
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            c if is_xml_char(c) => continue,
            _ => "\u{FFFD}",
        };
        out.push_str(&text[plain..i]);
        out.push_str(replacement);
        plain = i + c.len_utf8();
    }
    out.push_str(&text[plain..]);
}

/// Whether XML 1.0 allows `c` in a document (surrogates cannot occur in a
/// Rust string, so only the control characters and U+FFFE/U+FFFF remain).
fn is_xml_char(c: char) -> bool {
    !matches!(c, '\0'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Python's `repr(float)`: the shortest text that reads back as the same
/// number, in positional notation for exponents -4..16 (with `.0` added to
/// whole numbers) and as `1e+16` / `1e-05` outside that range.
fn python_float_repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` also prints the shortest round-trip digits.
    let sci = format!("{d:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let mut fixed = format!("{d}");
        if !fixed.contains('.') {
            fixed.push_str(".0");
        }
        fixed
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn nested_struct_and_array_response_is_pythons_layout() {
        // python3: xmlrpc.client.dumps(({'a': [1, 'b']},), methodresponse=True)
        let v = Value::structure([("a", Value::Array(vec![Value::Int(1), Value::str("b")]))]);
        assert_eq!(
            text(write_response(&v)),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
             <value><struct>\n<member>\n<name>a</name>\n<value><array><data>\n\
             <value><int>1</int></value>\n<value><string>b</string></value>\n\
             </data></array></value>\n</member>\n</struct></value>\n\
             </param>\n</params>\n</methodResponse>\n"
        );
    }

    #[test]
    fn fault_response_is_pythons_layout() {
        let body = write_fault(&Fault::new(10, "BAD_NAME: nosuch"));
        // Content-Length 272 in the captured exchange (spec §9 B).
        assert_eq!(body.len(), 272);
        assert_eq!(
            text(body),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n\
             <member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n\
             <member>\n<name>faultString</name>\n<value><string>BAD_NAME: nosuch</string></value>\n</member>\n\
             </struct></value>\n</fault>\n</methodResponse>\n"
        );
    }

    #[test]
    fn scalars_and_empty_containers() {
        let v = Value::Array(vec![
            Value::Bool(true),
            Value::Bool(false),
            Value::str(""),
            Value::Array(vec![]),
            Value::Struct(vec![]),
            Value::DateTime("20240102T03:04:05".into()),
            Value::Double(1.5),
            Value::Nil,
        ]);
        assert_eq!(
            text(write_response(&v)),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
             <value><array><data>\n\
             <value><boolean>1</boolean></value>\n\
             <value><boolean>0</boolean></value>\n\
             <value><string></string></value>\n\
             <value><array><data>\n</data></array></value>\n\
             <value><struct>\n</struct></value>\n\
             <value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n\
             <value><double>1.5</double></value>\n\
             <value><nil/></value>\
             </data></array></value>\n</param>\n</params>\n</methodResponse>\n"
        );
    }

    #[test]
    fn call_is_pythons_layout() {
        // python3: xmlrpc.client.dumps((), 'supervisor.getVersion'), 115 bytes
        // as in the captured request (spec §2.2).
        let body = write_call("supervisor.getVersion", &[]);
        assert_eq!(body.len(), 115);
        assert_eq!(
            text(body),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion</methodName>\n\
             <params>\n</params>\n</methodCall>\n"
        );
        let body = write_call(
            "supervisor.readLog",
            &[Value::str("foo"), Value::Int(-1600), Value::Bool(true)],
        );
        assert_eq!(
            text(body),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.readLog</methodName>\n\
             <params>\n<param>\n<value><string>foo</string></value>\n</param>\n\
             <param>\n<value><int>-1600</int></value>\n</param>\n\
             <param>\n<value><boolean>1</boolean></value>\n</param>\n\
             </params>\n</methodCall>\n"
        );
    }

    #[test]
    fn escapes_only_amp_lt_gt() {
        let v = Value::structure([("k<&>", Value::str("a&<>\"'é"))]);
        let body = text(write_response(&v));
        assert!(body.contains("<name>k&lt;&amp;&gt;</name>"), "{body}");
        assert!(
            body.contains("<string>a&amp;&lt;&gt;\"'é</string>"),
            "{body}"
        );
        let call = text(write_call("a<b", &[]));
        assert!(call.contains("<methodName>a&lt;b</methodName>"), "{call}");
    }

    #[test]
    fn xml_illegal_characters_become_replacement_characters() {
        let v = Value::str("\u{1b}[31mred\u{1b}[0m\u{0}\u{1}\t\n\r\u{7f}\u{fffe}\u{ffff}");
        let body = text(write_response(&v));
        assert!(
            body.contains("<string>\u{FFFD}[31mred\u{FFFD}[0m\u{FFFD}\u{FFFD}\t\n\r\u{7f}\u{FFFD}\u{FFFD}</string>"),
            "{body:?}"
        );
        let v = Value::structure([("\u{2}", Value::Nil)]);
        assert!(text(write_response(&v)).contains("<name>\u{FFFD}</name>"));
    }

    #[test]
    fn ints_are_clamped_to_32_bits() {
        let v = Value::Array(vec![
            Value::Int(3 * 1024 * 1024 * 1024),
            Value::Int(i64::MIN),
            Value::Int(i32::MAX.into()),
            Value::Int(i32::MIN.into()),
        ]);
        let body = text(write_response(&v));
        assert!(body.contains(
            "<value><int>2147483647</int></value>\n<value><int>-2147483648</int></value>\n\
             <value><int>2147483647</int></value>\n<value><int>-2147483648</int></value>\n"
        ));
    }

    #[test]
    fn doubles_use_pythons_repr() {
        // python3: [repr(f) for f in ...]
        let cases = [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (2.0, "2.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1.5e300, "1.5e+300"),
            (123.456, "123.456"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (d, repr) in cases {
            assert_eq!(python_float_repr(d), repr, "{d:?}");
        }
    }
}
