//! Property tests of the XML-RPC parsers: the request parser reads
//! whatever any client sends, the response parser whatever a server
//! answers supervisorctl. Arbitrary and mutated bodies never panic and
//! never get past the limits, and everything our writers produce parses
//! back to the same values.
//!
//! Each property runs PROPTEST_CASES cases (256 by default, a few seconds
//! in CI). For a long local run:
//! `PROPTEST_CASES=1000000 cargo test --release --test fuzz_xmlrpc`.

use proptest::prelude::*;
use supervisord::xmlrpc::{
    parse_call, parse_response, write_call, write_response, Limits, RequestError, Value,
};

fn limits() -> Limits {
    Limits {
        max_body: 64 * 1024,
        max_depth: 32,
        max_elements: 2_000,
    }
}

/// Strings XML 1.0 can carry (no control characters other than tab and
/// newline; no lone carriage return, which XML turns into a newline).
fn text() -> impl Strategy<Value = String> {
    "[\\t\\n\\x20-\\x7e\u{a0}-\u{2fff}&<>\"']{0,40}"
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (i32::MIN as i64..=i32::MAX as i64).prop_map(Value::Int),
        any::<bool>().prop_map(Value::Bool),
        text().prop_map(Value::String),
        (-1e12f64..1e12).prop_map(Value::Double),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            // Member names are unique, as in a Python dict.
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|members| Value::Struct(members.into_iter().collect())),
        ]
    })
}

/// A valid call, then some bytes changed, inserted or cut.
fn mutated_call() -> impl Strategy<Value = Vec<u8>> {
    (
        "[a-zA-Z.]{1,30}",
        proptest::collection::vec(value(), 0..4),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(method, params, edits)| {
            let mut body = write_call(&method, &params);
            for (at, byte, how) in edits {
                if body.is_empty() {
                    break;
                }
                let i = at.index(body.len());
                match how {
                    0 => body[i] = byte,
                    1 => body.insert(i, byte),
                    _ => body.truncate(i),
                }
            }
            body
        })
}

/// Markup that nests deeply or repeats: what a hostile client sends.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    (0usize..200, 0usize..3_000, "[a-z]{1,8}").prop_map(|(depth, repeat, tag)| {
        let mut body = String::from(
            "<?xml version='1.0'?><methodCall><methodName>m</methodName><params><param>",
        );
        for _ in 0..depth {
            body.push_str("<value><array><data>");
        }
        for _ in 0..repeat {
            body.push_str(&format!("<value><{tag}>1</{tag}></value>"));
        }
        body.into_bytes()
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = parse_call(&body, &limits());
    }

    #[test]
    fn mutated_calls_never_panic(body in mutated_call()) {
        let _ = parse_call(&body, &limits());
    }

    #[test]
    fn hostile_nesting_and_repetition_stop_at_the_limits(body in hostile()) {
        match parse_call(&body, &limits()) {
            Ok(call) => prop_assert!(call.params.len() <= 1),
            Err(RequestError::TooLarge) | Err(RequestError::Malformed(_)) => {}
        }
    }

    #[test]
    fn arbitrary_and_mutated_responses_never_panic(
        noise in proptest::collection::vec(any::<u8>(), 0..2_000),
        body in mutated_call(),
    ) {
        let _ = parse_response(&noise);
        let _ = parse_response(&body);
        let response = String::from_utf8_lossy(&body).replace("methodCall", "methodResponse");
        let _ = parse_response(response.as_bytes());
    }

    #[test]
    fn every_response_we_write_parses_back(value in value()) {
        let parsed = parse_response(&write_response(&value)).expect("our own response parses");
        prop_assert_eq!(parsed, Ok(value));
    }

    #[test]
    fn every_call_we_write_parses_back(
        method in "[a-zA-Z][a-zA-Z0-9_.]{0,30}",
        params in proptest::collection::vec(value(), 0..5),
    ) {
        let body = write_call(&method, &params);
        let call = parse_call(&body, &Limits::default()).expect("our own call parses");
        prop_assert_eq!(call.method, method);
        prop_assert_eq!(call.params, params);
    }
}

#[test]
fn a_body_over_the_limit_is_refused_before_parsing() {
    let body = vec![b' '; limits().max_body + 1];
    assert!(matches!(
        parse_call(&body, &limits()),
        Err(RequestError::TooLarge)
    ));
}
