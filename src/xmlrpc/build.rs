//! Turning a stream of start tags, end tags and text into a call or a
//! response. Both parsers (xml-rs for requests, the tolerant lexer for
//! responses) feed this builder, so the unmarshalling rules of spec
//! xmlrpc.md §2.2 live in one place.
//!
//! The builder keeps an explicit stack instead of recursing, and checks the
//! depth and element limits as each start tag arrives, so hostile input can
//! neither overflow the stack nor make us build more than the limits allow.

use std::collections::HashMap;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::{Call, Fault, Limits, Value};

/// Which document element is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Call,
    Response,
}

/// A complete document.
pub(crate) enum Document {
    Call(Call),
    Response(Result<Value, Fault>),
}

/// The typed child of a `<value>` that holds text.
#[derive(Debug, Clone, Copy)]
enum Scalar {
    Int,
    Boolean,
    String,
    Double,
    DateTime,
    Base64,
    Nil,
    /// Any other tag (`<i8>`, `<ex:i8>`): supervisord takes its text as a
    /// string, because its unmarshaller only knows the tags above.
    Other,
}

impl Scalar {
    fn of(tag: &str) -> Scalar {
        match tag {
            "int" | "i4" => Scalar::Int,
            "boolean" => Scalar::Boolean,
            "string" => Scalar::String,
            "double" => Scalar::Double,
            "dateTime.iso8601" => Scalar::DateTime,
            "base64" => Scalar::Base64,
            "nil" => Scalar::Nil,
            _ => Scalar::Other,
        }
    }

    fn convert(self, text: String) -> Result<Value, String> {
        Ok(match self {
            Scalar::Int => Value::Int(parse_int(&text).ok_or("invalid <int>")?),
            // Python compares the raw text with "1": `true` is false.
            Scalar::Boolean => Value::Bool(text == "1"),
            Scalar::String | Scalar::Other => Value::String(text),
            Scalar::Double => Value::Double(text.trim().parse().map_err(|_| "invalid <double>")?),
            Scalar::DateTime => Value::DateTime(text),
            Scalar::Base64 => Value::String(decode_base64(&text).ok_or("invalid <base64>")?),
            Scalar::Nil => Value::Nil,
        })
    }
}

/// Python's `int()` on the text: surrounding whitespace and a sign are
/// allowed. Values beyond 64 bits saturate rather than fail, since every
/// parameter that takes an int is range-checked later anyway.
fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if negative { i64::MIN } else { i64::MAX })
}

/// Python's lenient `base64.decodebytes`: characters outside the alphabet
/// (whitespace, line breaks) are skipped. The bytes are then read as UTF-8,
/// lossily (supervisord would fail on invalid UTF-8).
fn decode_base64(text: &str) -> Option<String> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let filtered: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let bytes = LENIENT.decode(filtered).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// An element being read.
enum Frame {
    MethodCall {
        name: Option<String>,
        params: Option<Vec<Value>>,
    },
    MethodResponse {
        params: Option<Vec<Value>>,
        fault: Option<Value>,
    },
    MethodName(String),
    Params(Vec<Value>),
    Param(Option<Value>),
    Fault(Option<Value>),
    /// Text is kept in case no typed child follows (`<value>text</value>`).
    Value {
        text: String,
        typed: Option<Value>,
    },
    Scalar {
        kind: Scalar,
        text: String,
    },
    Array(Option<Vec<Value>>),
    Data(Vec<Value>),
    Struct(Vec<(String, Value)>),
    Member {
        name: Option<String>,
        value: Option<Value>,
    },
    Name(String),
}

/// What a finished element hands to its parent.
enum Done {
    Text(String),
    Value(Value),
    Values(Vec<Value>),
    Member(String, Value),
    Fault(Value),
    Document(Document),
}

pub(crate) struct Builder {
    root: Root,
    limits: Limits,
    stack: Vec<Frame>,
    elements: usize,
    document: Option<Document>,
}

impl Builder {
    pub(crate) fn new(root: Root, limits: Limits) -> Builder {
        Builder {
            root,
            limits,
            stack: Vec::new(),
            elements: 0,
            document: None,
        }
    }

    /// A start tag. Tags in a namespace must arrive in a form that matches
    /// none of the XML-RPC names (e.g. `ex:i8`), as in Python, where
    /// `{uri}i8` is not `i8`.
    pub(crate) fn start(&mut self, tag: &str) -> Result<(), String> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err("too many elements".into());
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err("too deeply nested".into());
        }
        let frame = match (self.stack.last(), tag) {
            (None, _) if self.document.is_some() => {
                return Err("content after the document element".into())
            }
            (None, "methodCall") if self.root == Root::Call => Frame::MethodCall {
                name: None,
                params: None,
            },
            (None, "methodResponse") if self.root == Root::Response => Frame::MethodResponse {
                params: None,
                fault: None,
            },
            (None, _) => return Err(format!("unexpected document element <{tag}>")),
            (Some(Frame::MethodCall { .. }), "methodName") => Frame::MethodName(String::new()),
            (Some(Frame::MethodCall { .. } | Frame::MethodResponse { .. }), "params") => {
                Frame::Params(Vec::new())
            }
            (Some(Frame::MethodResponse { .. }), "fault") => Frame::Fault(None),
            (Some(Frame::Params(_)), "param") => Frame::Param(None),
            (
                Some(Frame::Param(_) | Frame::Fault(_) | Frame::Data(_) | Frame::Member { .. }),
                "value",
            ) => Frame::Value {
                text: String::new(),
                typed: None,
            },
            (Some(Frame::Value { .. }), "array") => Frame::Array(None),
            (Some(Frame::Value { .. }), "struct") => Frame::Struct(Vec::new()),
            (Some(Frame::Value { .. }), _) => Frame::Scalar {
                kind: Scalar::of(tag),
                text: String::new(),
            },
            (Some(Frame::Array(_)), "data") => Frame::Data(Vec::new()),
            (Some(Frame::Struct(_)), "member") => Frame::Member {
                name: None,
                value: None,
            },
            (Some(Frame::Member { .. }), "name") => Frame::Name(String::new()),
            (Some(_), _) => return Err(format!("unexpected element <{tag}>")),
        };
        self.stack.push(frame);
        Ok(())
    }

    /// Whether character data arriving now would be kept (see `text`).
    pub(crate) fn keeps_text(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(
                Frame::MethodName(_)
                    | Frame::Name(_)
                    | Frame::Scalar { .. }
                    | Frame::Value { typed: None, .. }
            )
        )
    }

    /// Character data. Text between structural elements (indentation) is
    /// ignored, as Python's unmarshaller ignores it.
    pub(crate) fn text(&mut self, text: &str) {
        if let Some(
            Frame::MethodName(buf)
            | Frame::Name(buf)
            | Frame::Scalar { text: buf, .. }
            | Frame::Value {
                text: buf,
                typed: None,
            },
        ) = self.stack.last_mut()
        {
            buf.push_str(text);
        }
    }

    /// The end tag of the innermost open element.
    pub(crate) fn end(&mut self) -> Result<(), String> {
        let frame = self.stack.pop().ok_or("unbalanced end tag")?;
        let done = finish(frame)?;
        match self.stack.last_mut() {
            Some(parent) => deliver(parent, done),
            None => match done {
                Done::Document(document) => {
                    self.document = Some(document);
                    Ok(())
                }
                _ => Err("unbalanced end tag".into()),
            },
        }
    }

    /// The document, once its element is closed.
    pub(crate) fn finish(self) -> Result<Document, String> {
        self.document.ok_or_else(|| "incomplete document".into())
    }
}

fn finish(frame: Frame) -> Result<Done, String> {
    Ok(match frame {
        Frame::MethodCall { name, params } => {
            // supervisord answers HTTP 400 when the name is absent or empty.
            let method = name.filter(|n| !n.is_empty()).ok_or("no methodName")?;
            Done::Document(Document::Call(Call {
                method,
                params: params.unwrap_or_default(),
            }))
        }
        Frame::MethodResponse { params, fault } => {
            Done::Document(Document::Response(match (params, fault) {
                (Some(mut params), None) if params.len() == 1 => Ok(params.remove(0)),
                (Some(_), None) => return Err("response must hold exactly one value".into()),
                (None, Some(fault)) => Err(Fault::from_value(&fault)?),
                (None, None) => return Err("empty methodResponse".into()),
                (Some(_), Some(_)) => return Err("response has both params and a fault".into()),
            }))
        }
        Frame::MethodName(text) | Frame::Name(text) => Done::Text(text),
        Frame::Params(values) | Frame::Data(values) => Done::Values(values),
        Frame::Param(value) => Done::Value(value.ok_or("<param> without <value>")?),
        Frame::Fault(value) => Done::Fault(value.ok_or("<fault> without <value>")?),
        Frame::Value { text, typed } => Done::Value(typed.unwrap_or(Value::String(text))),
        Frame::Scalar { kind, text } => Done::Value(kind.convert(text)?),
        Frame::Array(data) => Done::Value(Value::Array(data.ok_or("<array> without <data>")?)),
        Frame::Struct(members) => Done::Value(Value::Struct(dedupe(members))),
        Frame::Member { name, value } => Done::Member(
            name.ok_or("<member> without <name>")?,
            value.ok_or("<member> without <value>")?,
        ),
    })
}

/// Hand a finished child to its parent. `start` only opens children their
/// parent accepts, so the fallback arm is never taken; it is an error
/// rather than a panic all the same.
fn deliver(parent: &mut Frame, done: Done) -> Result<(), String> {
    match (parent, done) {
        (Frame::MethodCall { name, .. }, Done::Text(text)) => set_once(name, text, "methodName"),
        (
            Frame::MethodCall { params, .. } | Frame::MethodResponse { params, .. },
            Done::Values(v),
        ) => set_once(params, v, "params"),
        (Frame::MethodResponse { fault, .. }, Done::Fault(v)) => set_once(fault, v, "fault"),
        (Frame::Params(values) | Frame::Data(values), Done::Value(v)) => {
            values.push(v);
            Ok(())
        }
        (Frame::Param(slot) | Frame::Fault(slot), Done::Value(v)) => set_once(slot, v, "value"),
        (Frame::Value { typed, .. }, Done::Value(v)) => set_once(typed, v, "type in <value>"),
        (Frame::Array(data), Done::Values(v)) => set_once(data, v, "data"),
        (Frame::Struct(members), Done::Member(name, v)) => {
            members.push((name, v));
            Ok(())
        }
        (Frame::Member { name, .. }, Done::Text(text)) => set_once(name, text, "name"),
        (Frame::Member { value, .. }, Done::Value(v)) => set_once(value, v, "value"),
        _ => Err("unexpected element".into()),
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("more than one {what}"));
    }
    *slot = Some(value);
    Ok(())
}

/// Python builds a dict from the members: a repeated name keeps its first
/// position and takes the last value. Done once per struct with an index,
/// so a struct with many members stays linear; a struct as small as
/// supervisord's process infos is checked pairwise, which costs less than
/// building the index (a status reply is mostly such structs).
fn dedupe(members: Vec<(String, Value)>) -> Vec<(String, Value)> {
    const SMALL: usize = 32;
    if members.len() <= SMALL {
        let unique = members
            .iter()
            .enumerate()
            .all(|(i, (name, _))| members[..i].iter().all(|(seen, _)| seen != name));
        if unique {
            return members;
        }
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, Value)> = Vec::with_capacity(members.len());
    for (name, value) in members {
        match index.get(&name).and_then(|&i| out.get_mut(i)) {
            Some(existing) => existing.1 = value,
            None => {
                index.insert(name.clone(), out.len());
                out.push((name, value));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_pythons_int() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int(" -7\n"), Some(-7));
        assert_eq!(parse_int("+3"), Some(3));
        assert_eq!(parse_int("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(parse_int("-99999999999999999999999"), Some(i64::MIN));
        for bad in ["", " ", "1.5", "abc", "-", "0x10", "1 2"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn base64_like_pythons_decodebytes() {
        assert_eq!(decode_base64("Zm9v").as_deref(), Some("foo"));
        assert_eq!(decode_base64(" Zm9v\nYmFy\n").as_deref(), Some("foobar"));
        assert_eq!(decode_base64("Zm8=").as_deref(), Some("fo"));
        assert_eq!(decode_base64("").as_deref(), Some(""));
        // Not UTF-8: decoded lossily.
        assert_eq!(decode_base64("/w==").as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode_base64("Zm9vY"), None);
    }

    #[test]
    fn repeated_struct_members_keep_first_position_and_last_value() {
        let members = vec![
            ("a".to_owned(), Value::Int(1)),
            ("b".to_owned(), Value::Int(2)),
            ("a".to_owned(), Value::Int(3)),
        ];
        assert_eq!(
            dedupe(members),
            vec![
                ("a".to_owned(), Value::Int(3)),
                ("b".to_owned(), Value::Int(2))
            ]
        );
    }
}
