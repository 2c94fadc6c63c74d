//! Server side: reading a `methodCall` with xml-rs under size limits.

use std::fmt;

use xml::name::OwnedName;
use xml::reader::{ParserConfig, XmlEvent};
use xml::Encoding;

use super::build::{Builder, Document, Root};
use super::Value;

/// A parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// Limits a request must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body in bytes.
    pub max_body: usize,
    /// Deepest element nesting, counting `<methodCall>` as 1. A multicall
    /// of struct arguments needs 14; 32 leaves room without allowing abuse.
    pub max_depth: usize,
    /// Most elements in the whole document.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 1024 * 1024,
            max_depth: 32,
            max_elements: 100_000,
        }
    }
}

/// Why a request body was refused (the HTTP layer answers 413 / 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The body exceeds `Limits::max_body`.
    TooLarge,
    /// Not XML, not UTF-8, not a `methodCall`, no or empty `methodName`,
    /// a value that cannot be read, or a depth/element limit exceeded.
    Malformed(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::TooLarge => f.write_str("request body too large"),
            RequestError::Malformed(why) => write!(f, "malformed XML-RPC request: {why}"),
        }
    }
}

impl std::error::Error for RequestError {}

/// Parse a request body.
///
/// The body must be UTF-8 whatever its declaration says (supervisord
/// decodes it as UTF-8 too, and closes the connection when it cannot; we
/// report it so the caller can answer 400). Documents with a DOCTYPE are
/// refused: XML-RPC has no use for one, and refusing it rules out entity
/// expansion tricks before xml-rs sees them.
pub fn parse_call(body: &[u8], limits: &Limits) -> Result<Call, RequestError> {
    let malformed = |why: &str| RequestError::Malformed(why.to_owned());
    if body.len() > limits.max_body {
        return Err(RequestError::TooLarge);
    }
    let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
    if text.contains("<!DOCTYPE") {
        return Err(malformed("DOCTYPE is not allowed"));
    }
    // xml-rs skips a byte order mark only when it detects the encoding
    // itself, which `override_encoding` below turns off.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let reader = ParserConfig::new()
        .whitespace_to_characters(true)
        .cdata_to_characters(true)
        .ignore_comments(true)
        .coalesce_characters(true)
        // Always UTF-8: a conflicting declaration is not an error.
        .override_encoding(Some(Encoding::Utf8))
        .ignore_invalid_encoding_declarations(true)
        .allow_multiple_root_elements(false)
        .create_reader(text.as_bytes());

    let mut builder = Builder::new(Root::Call, *limits);
    for event in reader {
        let event = event.map_err(|e| RequestError::Malformed(e.to_string()))?;
        let step = match event {
            XmlEvent::StartElement { name, .. } => builder.start(&tag(&name)),
            XmlEvent::EndElement { .. } => builder.end(),
            XmlEvent::Characters(text) | XmlEvent::Whitespace(text) | XmlEvent::CData(text) => {
                builder.text(&text);
                Ok(())
            }
            _ => Ok(()),
        };
        step.map_err(RequestError::Malformed)?;
    }
    match builder.finish().map_err(RequestError::Malformed)? {
        Document::Call(call) => Ok(call),
        Document::Response(_) => Err(malformed("not a methodCall")),
    }
}

/// The tag as the builder matches it: the bare name, or `{uri}name` for an
/// element in a namespace (Python's spelling), which matches no XML-RPC tag.
fn tag(name: &OwnedName) -> String {
    match &name.namespace {
        Some(uri) if !uri.is_empty() => format!("{{{uri}}}{}", name.local_name),
        _ => name.local_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::write_call;

    fn parse(body: &str) -> Result<Call, RequestError> {
        parse_call(body.as_bytes(), &Limits::default())
    }

    /// The parameters of a call whose `<params>` section is `params`.
    fn params(params: &str) -> Vec<Value> {
        let body = format!(
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>m.x</methodName>\n\
             <params>{params}</params>\n</methodCall>\n"
        );
        match parse(&body) {
            Ok(call) => call.params,
            Err(e) => panic!("{body}: {e}"),
        }
    }

    /// The single parameter `<value>` `value`.
    fn param(value: &str) -> Value {
        let mut all = params(&format!("<param>{value}</param>"));
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn malformed(body: &str) -> String {
        match parse(body) {
            Err(RequestError::Malformed(why)) => why,
            other => panic!("{body:?} gave {other:?}"),
        }
    }

    #[test]
    fn python_client_request() {
        let call = parse(
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion</methodName>\n\
             <params>\n</params>\n</methodCall>\n",
        )
        .unwrap();
        assert_eq!(
            call,
            Call {
                method: "supervisor.getVersion".into(),
                params: vec![]
            }
        );
    }

    #[test]
    fn round_trip_through_write_call() {
        let sent = vec![
            Value::str("grp:foo"),
            Value::str(""),
            Value::str("  spaced  \n lines\n"),
            Value::str("a&b<c>d\"e'f é 日本"),
            Value::Int(-1600),
            Value::Int(0),
            Value::Bool(true),
            Value::Bool(false),
            Value::Double(-2.5),
            Value::DateTime("20240102T03:04:05".into()),
            Value::Nil,
            Value::Array(vec![]),
            Value::Array(vec![Value::Int(1), Value::Array(vec![Value::str("x")])]),
            Value::Struct(vec![]),
            Value::structure([
                ("methodName", Value::str("supervisor.getPID")),
                ("params", Value::Array(vec![Value::Int(5)])),
            ]),
        ];
        let call = parse_call(&write_call("system.multicall", &sent), &Limits::default()).unwrap();
        assert_eq!(call.method, "system.multicall");
        assert_eq!(call.params, sent);
    }

    #[test]
    fn ints() {
        assert_eq!(param("<value><int>-1600</int></value>"), Value::Int(-1600));
        assert_eq!(param("<value><i4>7</i4></value>"), Value::Int(7));
        assert_eq!(param("<value><int> 12 </int></value>"), Value::Int(12));
        assert_eq!(
            param("<value><int>5000000000</int></value>"),
            Value::Int(5_000_000_000)
        );
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><int>x</int></value></param></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><int/></value></param></params></methodCall>");
    }

    #[test]
    fn other_type_tags_are_strings() {
        assert_eq!(param("<value><i8>-20</i8></value>"), Value::str("-20"));
        assert_eq!(
            param("<value><ex:i8 xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\">5</ex:i8></value>"),
            Value::str("5")
        );
        assert_eq!(param("<value><foo>bar</foo></value>"), Value::str("bar"));
        // A namespaced `int` is not `int`, as in Python.
        assert_eq!(
            param("<value><x:int xmlns:x=\"urn:x\">3</x:int></value>"),
            Value::str("3")
        );
    }

    #[test]
    fn booleans_are_true_only_for_1() {
        assert_eq!(
            param("<value><boolean>1</boolean></value>"),
            Value::Bool(true)
        );
        for text in ["0", "true", " 1", "1 ", "", "yes"] {
            assert_eq!(
                param(&format!("<value><boolean>{text}</boolean></value>")),
                Value::Bool(false),
                "{text:?}"
            );
        }
        assert_eq!(param("<value><boolean/></value>"), Value::Bool(false));
    }

    #[test]
    fn strings() {
        assert_eq!(
            param("<value><string>foo</string></value>"),
            Value::str("foo")
        );
        assert_eq!(param("<value><string></string></value>"), Value::str(""));
        assert_eq!(param("<value><string/></value>"), Value::str(""));
        assert_eq!(
            param("<value><string> a\tb\n </string></value>"),
            Value::str(" a\tb\n ")
        );
        assert_eq!(
            param("<value><string><![CDATA[<raw> & ]]>x</string></value>"),
            Value::str("<raw> & x")
        );
    }

    #[test]
    fn untyped_values_are_verbatim_strings() {
        assert_eq!(param("<value>foo</value>"), Value::str("foo"));
        assert_eq!(
            param("<value>  foo bar \n</value>"),
            Value::str("  foo bar \n")
        );
        assert_eq!(param("<value></value>"), Value::str(""));
        assert_eq!(param("<value/>"), Value::str(""));
    }

    #[test]
    fn whitespace_around_the_type_is_ignored() {
        assert_eq!(
            param("<value>\n  <string>x</string>\n</value>"),
            Value::str("x")
        );
        assert_eq!(param("<value> <int>3</int> </value>"), Value::Int(3));
    }

    #[test]
    fn doubles() {
        assert_eq!(
            param("<value><double>1.5</double></value>"),
            Value::Double(1.5)
        );
        assert_eq!(
            param("<value><double> -2 </double></value>"),
            Value::Double(-2.0)
        );
        assert_eq!(
            param("<value><double>1e3</double></value>"),
            Value::Double(1000.0)
        );
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><double>x</double></value></param></params></methodCall>");
    }

    #[test]
    fn datetimes_keep_their_text() {
        assert_eq!(
            param("<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>"),
            Value::DateTime("20240102T03:04:05".into())
        );
    }

    #[test]
    fn base64_becomes_a_string() {
        // So `Zm9v` works as a process name (spec §2.2).
        assert_eq!(
            param("<value><base64>Zm9v</base64></value>"),
            Value::str("foo")
        );
        assert_eq!(
            param("<value><base64>\nZm9v\nYmFy\n</base64></value>"),
            Value::str("foobar")
        );
        assert_eq!(param("<value><base64/></value>"), Value::str(""));
        let why = malformed("<methodCall><methodName>a.b</methodName><params><param><value><base64>Zm9vY</base64></value></param></params></methodCall>");
        assert!(why.contains("base64"), "{why}");
    }

    #[test]
    fn nil() {
        assert_eq!(param("<value><nil/></value>"), Value::Nil);
    }

    #[test]
    fn arrays_and_structs() {
        assert_eq!(
            param(
                "<value><array><data>\n<value><int>1</int></value>\n<value>two</value>\n\
                 <value><array><data></data></array></value>\n</data></array></value>"
            ),
            Value::Array(vec![Value::Int(1), Value::str("two"), Value::Array(vec![])])
        );
        assert_eq!(
            param("<value><array><data/></array></value>"),
            Value::Array(vec![])
        );
        assert_eq!(
            param(
                "<value><struct>\n<member>\n<name>methodName</name>\n\
                 <value><string>supervisor.getPID</string></value>\n</member>\n\
                 <member><name>params</name><value><array><data/></array></value></member>\n\
                 </struct></value>"
            ),
            Value::structure([
                ("methodName", Value::str("supervisor.getPID")),
                ("params", Value::Array(vec![])),
            ])
        );
        assert_eq!(param("<value><struct/></value>"), Value::Struct(vec![]));
        // Member order inside <member> does not matter; an empty name is "".
        assert_eq!(
            param("<value><struct><member><value>v</value><name/></member></struct></value>"),
            Value::structure([("", Value::str("v"))])
        );
    }

    #[test]
    fn params_missing_or_empty() {
        for body in [
            "<methodCall><methodName>a.b</methodName></methodCall>",
            "<methodCall><methodName>a.b</methodName><params/></methodCall>",
            "<methodCall><methodName>a.b</methodName><params></params></methodCall>",
            "<methodCall><params/><methodName>a.b</methodName></methodCall>",
        ] {
            let call = parse(body).unwrap();
            assert_eq!(call.method, "a.b");
            assert!(call.params.is_empty(), "{body}");
        }
    }

    #[test]
    fn several_params_in_order() {
        assert_eq!(
            params(
                "\n<param>\n<value><string>foo</string></value>\n</param>\n\
                 <param>\n<value><int>-1600</int></value>\n</param>\n\
                 <param>\n<value><boolean>1</boolean></value>\n</param>\n"
            ),
            vec![Value::str("foo"), Value::Int(-1600), Value::Bool(true)]
        );
    }

    #[test]
    fn character_references_and_declared_encoding() {
        let call = parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>supervisor.st&#97;rtProcess</methodName>\
             <params><param><value><string>fo&#111;&#x20;&amp;&lt;&gt;&quot;&apos;é</string></value></param></params></methodCall>",
        )
        .unwrap();
        assert_eq!(call.method, "supervisor.startProcess");
        assert_eq!(call.params, vec![Value::str("foo &<>\"'é")]);
        // A declaration naming another encoding does not change how the
        // (UTF-8) bytes are read.
        let call = parse(
            "<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>é.x</methodName></methodCall>",
        )
        .unwrap();
        assert_eq!(call.method, "é.x");
        // A UTF-8 byte order mark is fine.
        let call = parse("\u{feff}<methodCall><methodName>a.b</methodName></methodCall>").unwrap();
        assert_eq!(call.method, "a.b");
    }

    #[test]
    fn comments_are_ignored() {
        let call = parse(
            "<!-- hi --><methodCall><!-- x --><methodName>a<!-- y -->.b</methodName></methodCall>",
        )
        .unwrap();
        assert_eq!(call.method, "a.b");
    }

    #[test]
    fn method_name_is_verbatim() {
        assert_eq!(
            parse("<methodCall><methodName> a.b </methodName></methodCall>")
                .unwrap()
                .method,
            " a.b "
        );
    }

    #[test]
    fn not_xml() {
        malformed("");
        malformed("hello");
        malformed("GET / HTTP/1.0\r\n\r\n");
        malformed("{\"method\": \"a.b\"}");
    }

    #[test]
    fn truncated() {
        let full = String::from_utf8(write_call("a.b", &[Value::str("x")])).unwrap();
        for len in [10, 30, 60, full.len() - 2] {
            malformed(&full[..len]);
        }
    }

    #[test]
    fn no_or_empty_method_name() {
        assert!(malformed("<methodCall><params/></methodCall>").contains("methodName"));
        assert!(
            malformed("<methodCall><methodName></methodName></methodCall>").contains("methodName")
        );
        assert!(malformed("<methodCall><methodName/></methodCall>").contains("methodName"));
        malformed(
            "<methodCall><methodName>a.b</methodName><methodName>c.d</methodName></methodCall>",
        );
    }

    #[test]
    fn wrong_structure() {
        malformed("<methodResponse><params/></methodResponse>");
        malformed("<foo><methodName>a.b</methodName></foo>");
        malformed("<methodCall><methodName>a.b</methodName></methodCall><methodCall/>");
        malformed("<methodCall><methodName>a.b</methodName><params><value>x</value></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param/></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><string>x</string><int>1</int></value></param></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><string><b>x</b></string></value></param></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><array/></value></param></params></methodCall>");
        malformed("<methodCall><methodName>a.b</methodName><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>");
        malformed("<methodCall><methodName>a<b/></methodName></methodCall>");
    }

    #[test]
    fn doctype_is_refused() {
        let why = malformed(
            "<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\">]>\
             <methodCall><methodName>&a;</methodName></methodCall>",
        );
        assert!(why.contains("DOCTYPE"), "{why}");
        malformed(
            "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><methodCall><methodName>a.b</methodName></methodCall>",
        );
        // Undeclared entities are errors.
        malformed("<methodCall><methodName>&nbsp;</methodName></methodCall>");
    }

    #[test]
    fn invalid_utf8() {
        let mut body = b"<methodCall><methodName>a.b</methodName><params><param><value>".to_vec();
        body.extend_from_slice(b"\xff\xfe");
        body.extend_from_slice(b"</value></param></params></methodCall>");
        assert_eq!(
            parse_call(&body, &Limits::default()),
            Err(RequestError::Malformed("body is not UTF-8".into()))
        );
        let latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>\xe9</methodName></methodCall>";
        assert!(matches!(
            parse_call(latin1, &Limits::default()),
            Err(RequestError::Malformed(_))
        ));
    }

    #[test]
    fn control_characters_are_not_xml() {
        malformed("<methodCall><methodName>a\u{1b}b</methodName></methodCall>");
        malformed("<methodCall><methodName>a&#0;b</methodName></methodCall>");
    }

    #[test]
    fn body_size_limit() {
        let mut body = b"<methodCall><methodName>a.b</methodName><params><param><value>".to_vec();
        body.resize(10 * 1024 * 1024, b'x');
        assert_eq!(
            parse_call(&body, &Limits::default()),
            Err(RequestError::TooLarge)
        );
        let limits = Limits {
            max_body: 20,
            ..Limits::default()
        };
        let small = b"<methodCall><methodName>a.b</methodName></methodCall>";
        assert_eq!(parse_call(small, &limits), Err(RequestError::TooLarge));
        let limits = Limits {
            max_body: small.len(),
            ..Limits::default()
        };
        assert!(parse_call(small, &limits).is_ok());
    }

    #[test]
    fn depth_limit() {
        let nested = |depth: usize| {
            format!(
                "<methodCall><methodName>a.b</methodName><params><param>{}x{}</param></params></methodCall>",
                "<value><array><data>".repeat(depth) + "<value>",
                "</value>".to_owned() + &"</data></array></value>".repeat(depth)
            )
        };
        // methodCall, params, param, then 3 per array level, then value.
        assert!(parse(&nested(9)).is_ok());
        assert_eq!(malformed(&nested(10)), "too deeply nested");
        assert_eq!(malformed(&nested(100)), "too deeply nested");
        // Deep enough to overflow a recursive parser, small enough for the
        // body limit.
        let deep = nested(20_000);
        assert!(deep.len() < Limits::default().max_body);
        assert_eq!(malformed(&deep), "too deeply nested");
        let limits = Limits {
            max_depth: 4,
            ..Limits::default()
        };
        let flat = "<methodCall><methodName>a.b</methodName><params><param><value>x</value></param></params></methodCall>";
        assert!(parse_call(flat.as_bytes(), &limits).is_ok());
        let limits = Limits {
            max_depth: 3,
            ..limits
        };
        assert!(matches!(
            parse_call(flat.as_bytes(), &limits),
            Err(RequestError::Malformed(_))
        ));
    }

    #[test]
    fn element_limit() {
        let many = |n: usize| {
            format!(
                "<methodCall><methodName>a.b</methodName><params><param><value><array><data>{}</data></array></value></param></params></methodCall>",
                "<value/>".repeat(n)
            )
        };
        // 7 elements around the items.
        assert_eq!(params_len(&many(100_000 - 7)), Ok(1));
        assert_eq!(malformed(&many(100_000 - 6)), "too many elements");
        // Still under the body limit: the element count is what stops it.
        let huge = many(130_000);
        assert!(huge.len() < Limits::default().max_body);
        assert_eq!(malformed(&huge), "too many elements");
    }

    fn params_len(body: &str) -> Result<usize, RequestError> {
        parse(body).map(|call| call.params.len())
    }

    #[test]
    fn errors_display() {
        assert_eq!(RequestError::TooLarge.to_string(), "request body too large");
        assert_eq!(
            RequestError::Malformed("no methodName".into()).to_string(),
            "malformed XML-RPC request: no methodName"
        );
    }
}
