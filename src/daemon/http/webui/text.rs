//! Text that goes into or comes out of the web UI: form fields, URL quoting,
//! HTML and JSON escaping. Everything here treats its input as hostile: no
//! panics, no unbounded output beyond the input's own size.

use super::super::head::percent_decode;

/// At most this many fields are kept from a query string or form body;
/// the UI never sends more than a handful.
const MAX_FIELDS: usize = 32;

/// Fields of a query string and/or an `application/x-www-form-urlencoded`
/// body, with Supervisor's precedence (`http.md` §5.2): body fields override
/// query fields, a repeated query field keeps its first value, a repeated
/// body field its last.
#[derive(Debug, Default)]
pub(super) struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    pub(super) fn new(query: &str, body: Option<&[u8]>) -> Form {
        let mut form = Form::default();
        for (name, value) in pairs(query) {
            if form.get(&name).is_none() {
                form.push(name, value);
            }
        }
        if let Some(body) = body {
            let body = String::from_utf8_lossy(body);
            for (name, value) in pairs(&body) {
                form.fields.retain(|(n, _)| *n != name);
                form.push(name, value);
            }
        }
        form
    }

    fn push(&mut self, name: String, value: String) {
        if self.fields.len() < MAX_FIELDS {
            self.fields.push((name, value));
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field that is present and not empty.
    pub(super) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// `a=1&b=x+y` → decoded pairs (`+` is a space; no `=` gives an empty value).
fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split(['&', ';']).filter(|p| !p.is_empty()).map(|p| {
        let (name, value) = p.split_once('=').unwrap_or((p, ""));
        (decode(name), decode(value))
    })
}

fn decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

/// The query string of a request target (after `?`, before `#`).
pub(super) fn query_of(target: &str) -> &str {
    let rest = target.split_once('?').map_or("", |(_, q)| q);
    rest.split('#').next().unwrap_or("")
}

/// Percent-quote as Python's `urllib.parse.quote` does with `/` safe:
/// `grp:web` → `grp%3Aweb`, a space → `%20`.
pub(super) fn quote(text: &str) -> String {
    crate::common::percent_encode(text, b"_.-~/")
}

/// Escape for HTML text and attribute values.
pub(super) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal (shared with `status --json`).
pub(super) use crate::xmlrpc::json::write_str as json_str;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_precedence_follows_supervisor() {
        let form = Form::new("action=stop&action=start&processname=a", None);
        assert_eq!(form.get("action"), Some("stop"), "first query value wins");
        let form = Form::new(
            "action=stop&processname=a",
            Some(b"action=start&action=restart&x=1+2%3A3"),
        );
        assert_eq!(form.get("action"), Some("restart"), "last body value wins");
        assert_eq!(form.get("processname"), Some("a"));
        assert_eq!(form.get("x"), Some("1 2:3"));
        assert_eq!(form.non_empty("y"), None);
    }

    #[test]
    fn form_is_bounded() {
        let query =
            "a=1&".repeat(1000) + &(0..1000).map(|i| format!("f{i}=x&")).collect::<String>();
        let form = Form::new(&query, None);
        assert!(form.fields.len() <= MAX_FIELDS);
        assert_eq!(form.get("a"), Some("1"));
    }

    #[test]
    fn quoting_and_escaping() {
        assert_eq!(quote("grp:web 1/x"), "grp%3Aweb%201/x");
        assert_eq!(quote("é"), "%C3%A9");
        assert_eq!(
            html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        let mut out = String::new();
        json_str(&mut out, "a\"b\\\n\u{1}</");
        assert_eq!(out, r#""a\"b\\\n\u0001\u003c/""#);
        assert_eq!(query_of("/index.html?a=1#frag"), "a=1");
        assert_eq!(query_of("/index.html"), "");
    }
}
