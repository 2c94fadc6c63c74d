//! Client side: reading a `methodResponse` tolerantly.
//!
//! A real Python supervisord puts raw control characters (ANSI colour
//! escapes from program logs) inside `<string>`, which makes the document
//! invalid XML that any conforming parser, xml-rs included, refuses. So the
//! client reads responses with this small lexer instead: it accepts the
//! subset of XML that XML-RPC servers write (declaration, elements without
//! meaningful attributes, text, entity and character references, CDATA,
//! comments) and passes every other character through unchanged, so colour
//! escapes in `tail` output survive. Invalid UTF-8 is decoded lossily.

use std::borrow::Cow;

use super::build::{Builder, Document, Root};
use super::{Fault, Limits, Value};

/// Parse a response body: `Ok(Ok(value))` for a result, `Ok(Err(fault))`
/// for a fault, `Err(message)` when the body is not an XML-RPC response.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, Fault>, String> {
    // The server is trusted with size, but the nesting stays limited: values
    // are dropped recursively and a deep enough one would overflow the stack.
    let limits = Limits {
        max_body: usize::MAX,
        max_depth: 512,
        max_elements: usize::MAX,
    };
    // Valid UTF-8 is the rule; the lossy decoder is several times slower
    // per byte, so it only runs on a reply that needs it.
    let text = match std::str::from_utf8(body) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(body),
    };
    let mut lexer = Lexer::new(&text);
    let mut builder = Builder::new(Root::Response, limits);
    while let Some(token) = lexer.next_token()? {
        match token {
            Token::Start { name, empty } => {
                builder.start(name)?;
                if empty {
                    builder.end()?;
                }
            }
            Token::End => builder.end()?,
            // Most text is indentation between structural elements, which
            // the builder ignores: decode only what it keeps.
            Token::Text(raw) if builder.keeps_text() => builder.text(&decode_text(raw)),
            Token::Cdata(text) => builder.text(text),
            Token::Text(_) => {}
        }
    }
    match builder.finish()? {
        Document::Response(response) => Ok(response),
        Document::Call(_) => Err("not a methodResponse".into()),
    }
}

enum Token<'a> {
    /// `<name …>`, or `<name …/>` when `empty`.
    Start { name: &'a str, empty: bool },
    /// An end tag matching the innermost open element.
    End,
    /// Character data as it stands in the document, references undecoded.
    Text(&'a str),
    /// The content of a CDATA section, taken literally.
    Cdata(&'a str),
}

struct Lexer<'a> {
    rest: &'a str,
    /// Names of the open elements, to check end tags.
    open: Vec<&'a str>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            open: Vec::new(),
        }
    }

    fn next_token(&mut self) -> Result<Option<Token<'a>>, String> {
        loop {
            let rest = self.rest;
            if rest.is_empty() {
                return if self.open.is_empty() {
                    Ok(None)
                } else {
                    Err("truncated response".into())
                };
            }
            if let Some(after) = rest.strip_prefix("<?") {
                self.rest = split_at(after, "?>")?.1;
            } else if let Some(after) = rest.strip_prefix("<!--") {
                self.rest = split_at(after, "-->")?.1;
            } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let (content, rest) = split_at(after, "]]>")?;
                self.rest = rest;
                return Ok(Some(Token::Cdata(content)));
            } else if rest.starts_with("<!") {
                return Err("DOCTYPE or other markup declarations are not supported".into());
            } else if let Some(after) = rest.strip_prefix("</") {
                let (inner, rest) = split_at_close(after)?;
                self.rest = rest;
                let name = inner.trim_end();
                return match self.open.pop() {
                    Some(open) if open == name => Ok(Some(Token::End)),
                    _ => Err(format!("unexpected end tag </{name}>")),
                };
            } else if let Some(after) = rest.strip_prefix('<') {
                let (inner, rest) = split_at_close(after)?;
                self.rest = rest;
                let (inner, empty) = match inner.strip_suffix('/') {
                    Some(inner) => (inner, true),
                    None => (inner, false),
                };
                // Attributes, if any, follow the name and are ignored.
                let name = match inner.find(|c: char| c.is_ascii_whitespace()) {
                    Some(end) => &inner[..end],
                    None => inner,
                };
                if name.is_empty() {
                    return Err("malformed tag".into());
                }
                if !empty {
                    self.open.push(name);
                }
                return Ok(Some(Token::Start { name, empty }));
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let (raw, rest) = rest.split_at(end);
                self.rest = rest;
                return Ok(Some(Token::Text(raw)));
            }
        }
    }
}

/// The text before `marker` and the text after it.
fn split_at<'a>(text: &'a str, marker: &str) -> Result<(&'a str, &'a str), String> {
    let at = text.find(marker).ok_or("truncated response")?;
    Ok((&text[..at], &text[at + marker.len()..]))
}

/// The text before the `>` that closes a tag and the text after it. A
/// single-character search: a reply has a tag every few bytes, and the
/// general substring search costs several times more per call. (A
/// `split_at` that picks the byte search for one-byte markers at run time
/// made `status` 7% more instructions: this stays a function of its own.)
fn split_at_close(text: &str) -> Result<(&str, &str), String> {
    let at = text.find('>').ok_or("truncated response")?;
    Ok((&text[..at], &text[at + 1..]))
}

/// Character data as an XML parser reports it: line ends normalised to
/// `\n`, entity and character references replaced. A `&` that starts no
/// known reference is kept as is instead of failing the whole response.
fn decode_text(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['&', '\r']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(['&', '\r']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix('\r') {
            out.push('\n');
            rest = after.strip_prefix('\n').unwrap_or(after);
            continue;
        }
        let after_amp = &tail[1..];
        let reference = after_amp
            .find(';')
            .filter(|&len| len <= 10)
            .and_then(|len| Some((reference(&after_amp[..len])?, len)));
        match reference {
            Some((c, len)) => {
                out.push(c);
                rest = &after_amp[len + 1..];
            }
            None => {
                out.push('&');
                rest = after_amp;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character an entity or character reference (without `&` and `;`)
/// stands for. Character references to code points that cannot be in a
/// string give U+FFFD.
fn reference(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16).ok()?,
            Some(dec) => dec.parse().ok()?,
            None => return None,
        },
    };
    Some(
        char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}'),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::{faults, write_fault, write_response};

    fn ok(body: &str) -> Value {
        match parse_response(body.as_bytes()) {
            Ok(Ok(value)) => value,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    fn garbage(body: &[u8]) -> String {
        match parse_response(body) {
            Err(why) => why,
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(body)),
        }
    }

    fn round_trip(value: Value) {
        assert_eq!(parse_response(&write_response(&value)), Ok(Ok(value)));
    }

    #[test]
    fn round_trips_every_value_type() {
        round_trip(Value::Int(0));
        round_trip(Value::Int(-2_147_483_648));
        round_trip(Value::Int(2_147_483_647));
        round_trip(Value::Bool(true));
        round_trip(Value::Bool(false));
        round_trip(Value::str(""));
        round_trip(Value::str("  a&b<c>d\"e'f\n\tg é 日本 🦀 ]]> &amp; "));
        round_trip(Value::Double(1.5));
        round_trip(Value::Double(-1e-7));
        round_trip(Value::Double(1e300));
        round_trip(Value::DateTime("20240102T03:04:05".into()));
        round_trip(Value::Nil);
        round_trip(Value::Array(vec![]));
        round_trip(Value::Struct(vec![]));
        round_trip(Value::Array(vec![
            Value::Nil,
            Value::Int(1),
            Value::Array(vec![Value::Nil, Value::str("x")]),
            Value::structure([("k&<>", Value::Array(vec![]))]),
        ]));
        round_trip(Value::structure([
            ("name", Value::str("bar_0")),
            ("pid", Value::Int(5975)),
            ("inner", Value::structure([("a", Value::Bool(true))])),
            ("empty", Value::str("")),
        ]));
    }

    #[test]
    fn clamped_ints_read_back_clamped() {
        let sent = Value::Int(3 * 1024 * 1024 * 1024);
        assert_eq!(
            parse_response(&write_response(&sent)),
            Ok(Ok(Value::Int(i32::MAX.into())))
        );
    }

    #[test]
    fn faults() {
        let fault = Fault::named(faults::BAD_NAME, Some("nosuch"));
        assert_eq!(parse_response(&write_fault(&fault)), Ok(Err(fault)));
        // Python's (and Apache's) i4 spelling.
        let body = "<?xml version='1.0'?><methodResponse><fault><value><struct>\
            <member><name>faultString</name><value>FAILED: x</value></member>\
            <member><name>faultCode</name><value><i4>30</i4></value></member>\
            </struct></value></fault></methodResponse>";
        assert_eq!(
            parse_response(body.as_bytes()),
            Ok(Err(Fault::new(30, "FAILED: x")))
        );
        let no_code = "<methodResponse><fault><value><struct>\
            <member><name>faultString</name><value>x</value></member>\
            </struct></value></fault></methodResponse>";
        garbage(no_code.as_bytes());
        garbage(
            b"<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
        );
    }

    #[test]
    fn multicall_results() {
        // Bare results and fault structs side by side (spec §6.1, §9 C).
        let sent = Value::Array(vec![
            Value::str("3.0"),
            Fault::named(faults::BAD_NAME, Some("nosuch")).to_value(),
            Value::Bool(true),
        ]);
        round_trip(sent);
    }

    #[test]
    fn raw_control_characters_from_python_are_kept() {
        // What Python supervisord sends for a log with colour escapes.
        let body = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n\
            <value><string>\x1b[31mred\x1b[0m \x01\x00 done\n</string></value>\n\
            </param>\n</params>\n</methodResponse>\n";
        assert_eq!(
            parse_response(body),
            Ok(Ok(Value::str("\u{1b}[31mred\u{1b}[0m \u{1}\u{0} done\n")))
        );
    }

    #[test]
    fn our_own_replacements_read_back() {
        let sent = Value::str("\u{1b}[1mbold");
        assert_eq!(
            parse_response(&write_response(&sent)),
            Ok(Ok(Value::str("\u{FFFD}[1mbold")))
        );
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let body = b"<methodResponse><params><param><value><string>a\xffb</string></value></param></params></methodResponse>";
        assert_eq!(parse_response(body), Ok(Ok(Value::str("a\u{FFFD}b"))));
    }

    #[test]
    fn text_decoding() {
        assert_eq!(decode_text("a&amp;b&lt;&gt;&quot;&apos;"), "a&b<>\"'");
        assert_eq!(decode_text("fo&#111;&#x41;&#X42;"), "fooAB");
        assert_eq!(decode_text("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(decode_text("&#13;"), "\r");
        // Lenient: unknown or broken references are kept literally.
        assert_eq!(
            decode_text("a & b &nbsp; &; &#xZZ; &"),
            "a & b &nbsp; &; &#xZZ; &"
        );
        assert_eq!(
            decode_text("&#0;&#xD800;&#1114112;"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(decode_text("&#27;"), "\u{1b}");
    }

    #[test]
    fn xml_features_servers_may_use() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- c -->\
            <methodResponse xmlns:ex=\"urn:x\"><params><param><value >\
            <string><![CDATA[<a>&amp;]]>&amp;</string></value></param></params>\
            </methodResponse >\n";
        assert_eq!(ok(body), Value::str("<a>&amp;&"));
        assert_eq!(
            ok("<methodResponse><params><param><value>untyped</value></param></params></methodResponse>"),
            Value::str("untyped")
        );
    }

    #[test]
    fn garbage_is_an_error() {
        garbage(b"");
        garbage(b"hello");
        garbage(b"<html><body>500 Internal Server Error</body></html>");
        garbage(b"<methodCall><methodName>a.b</methodName></methodCall>");
        garbage(
            b"<methodResponse><params><param><value><string>x</string></value></param></params>",
        );
        garbage(b"<methodResponse><params><param><value><string>x</value></string></param></params></methodResponse>");
        garbage(b"<methodResponse><params></params></methodResponse>");
        garbage(b"<methodResponse></methodResponse>");
        garbage(b"<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>");
        garbage(b"<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>");
        garbage(b"<methodResponse><params><param><value><string>x");
        garbage(b"<methodResponse><params><param><value><str");
        garbage(b"<methodResponse><!-- x");
        garbage(b"<!DOCTYPE x><methodResponse/>");
        garbage(b"< methodResponse/>");
        garbage(b"</methodResponse>");
        let full = write_response(&Value::structure([("a", Value::Int(1))]));
        for len in 0..full.len() - 1 {
            garbage(&full[..len]);
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let deep = format!(
            "<methodResponse><params><param>{}</param></params></methodResponse>",
            "<value><array><data>".repeat(100_000)
        );
        assert_eq!(garbage(deep.as_bytes()), "too deeply nested");
    }

    #[test]
    fn large_responses_are_fine() {
        let many: Vec<Value> = (0..50_000).map(Value::Int).collect();
        round_trip(Value::Array(many));
    }
}
