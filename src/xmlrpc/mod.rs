//! XML-RPC: values, faults, the request parser and the response writer,
//! shared by the daemon and the client (spec xmlrpc.md §2).
//!
//! * Server side: [`parse_call`] reads a request with xml-rs under
//!   [`Limits`]; [`write_response`] / [`write_fault`] produce the exact bytes
//!   Python's `xmlrpc.client.dumps` would.
//! * Client side: [`write_call`] builds a request as Python's `ServerProxy`
//!   does; [`parse_response`] reads responses tolerantly, because a real
//!   supervisord sends control characters that make its XML invalid.
//!
//! Where we differ from Supervisor (spec §10): characters XML 1.0 forbids
//! are written as U+FFFD, ints are clamped to 32 bits on output, `<base64>`
//! and response text are decoded as UTF-8 lossily.

mod build;
mod fault;
pub mod json;
mod request;
mod response;
mod value;
mod write;

pub use fault::{faults, Fault};
pub use request::{parse_call, Call, Limits, RequestError};
pub use response::parse_response;
pub use value::Value;
pub use write::{write_call, write_fault, write_response};

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers (xorshift), so failures repeat.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Both parsers on many damaged versions of valid documents: they may
    /// refuse them, but must neither panic nor hang.
    #[test]
    fn damaged_documents_never_panic() {
        let value = Value::structure([
            ("name", Value::str("a&b<c>")),
            (
                "list",
                Value::Array(vec![Value::Int(-3), Value::Bool(true)]),
            ),
            ("more", Value::Array(vec![Value::Double(1.5), Value::Nil])),
        ]);
        let seeds = [
            write_call("system.multicall", &[value.clone(), Value::str("x")]),
            write_response(&value),
            write_fault(&Fault::named(faults::FAILED, Some("x"))),
            b"<methodCall><methodName>a</methodName><params><param><value><base64>Zm9v</base64>\
              </value></param><param><value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601>\
              </value></param></params></methodCall>"
                .to_vec(),
        ];
        let pieces: [&[u8]; 10] = [
            b"<",
            b">",
            b"/",
            b"&",
            b"&#",
            b";",
            b"<![CDATA[",
            b"\xff",
            b"\x1b",
            b"<value>",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..20_000 {
            let mut body = seeds[round % seeds.len()].clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(body.len() + 1);
                match rng.below(4) {
                    0 if at < body.len() => body[at] = rng.next() as u8,
                    1 if at < body.len() => {
                        body.remove(at);
                    }
                    2 => body.truncate(at),
                    _ => {
                        let piece = pieces[rng.below(pieces.len())];
                        body.splice(at..at, piece.iter().copied());
                    }
                }
            }
            let _ = parse_call(&body, &Limits::default());
            let _ = parse_response(&body);
        }
    }
}
