//! Property tests of the request head parser: whatever arrives, however it
//! is split into reads, the parser never panics, never lets a head past the
//! limits, and reads a valid head back exactly.
//!
//! Each property runs proptest's default number of cases (256), which keeps
//! CI fast. For a long fuzzing run, raise it with the environment, e.g.
//! `PROPTEST_CASES=100000 cargo test --lib head_props` (hours-long runs:
//! `PROPTEST_CASES=10000000`); failures are minimized and printed, and
//! proptest keeps their seeds in `proptest-regressions/` for the next run.

use proptest::prelude::*;

use super::head::{parse_head, read_head, Bad, Head, Scanner};
use super::limits::{MAX_HEAD, MAX_HEADERS};

/// The checks every outcome must pass, valid input or not.
fn check_outcome(input: &[u8], outcome: &Result<Option<(Head, usize)>, Bad>) {
    match outcome {
        Ok(Some((head, end))) => {
            assert!(*end <= input.len() && *end <= MAX_HEAD, "head end {end}");
            assert!(head.headers().count() <= MAX_HEADERS);
            assert!(head.minor <= 1);
            assert!(!head.method().is_empty() && !head.target().is_empty());
            assert!(head
                .headers()
                .all(|(name, _)| !name.is_empty() && name == name.to_ascii_lowercase()));
        }
        // Incomplete: only possible while within the limit.
        Ok(None) => assert!(input.len() <= MAX_HEAD),
        Err(Bad(status)) => assert!(matches!(status, 400 | 431 | 505), "status {status}"),
    }
}

/// Feed `input` to a scanner in the pieces `cuts` makes, as reads would,
/// then parse: the same outcome as all at once.
fn read_in_pieces(
    input: &[u8],
    cuts: &[prop::sample::Index],
) -> Result<Option<(Head, usize)>, Bad> {
    let mut ends: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut scanner = Scanner::default();
    for end in ends {
        if let Some(head_end) = scanner.scan(&input[..end])? {
            return parse_head(&input[..head_end]).map(|head| Some((head, head_end)));
        }
    }
    Ok(None)
}

/// A valid head: its bytes, and what it must parse to.
fn valid_head() -> impl Strategy<Value = (Vec<u8>, Head)> {
    let header = ("[A-Za-z0-9-]{1,20}", "[!-~]([ -~]{0,40}[!-~])?", 0..3usize);
    (
        "[A-Z]{1,10}",
        "/[!-~]{0,60}",
        0..2u8,
        prop::collection::vec(header, 0..20),
        0..3usize,
        any::<bool>(),
    )
        .prop_map(|(method, target, minor, headers, blank_lines, crlf)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = eol.repeat(blank_lines);
            text.push_str(&format!("{method} {target} HTTP/1.{minor}{eol}"));
            for (name, value, spaces) in &headers {
                text.push_str(&format!("{name}:{}{value}{eol}", " ".repeat(*spaces)));
            }
            text.push_str(eol);
            let head = Head::new(
                &method,
                &target,
                minor,
                headers
                    .iter()
                    .map(|(name, value, _)| (name.as_str(), value.as_str())),
            );
            (text.into_bytes(), head)
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_nor_pass_the_limits(
        input in prop::collection::vec(any::<u8>(), 0..4096),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let outcome = read_head(&input);
        check_outcome(&input, &outcome);
        prop_assert_eq!(read_in_pieces(&input, &cuts), outcome);
    }

    #[test]
    fn head_like_text_never_panics_nor_passes_the_limits(
        lines in prop::collection::vec("[ -~\t]{0,80}", 0..200),
        crlf in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let input = format!("GET / HTTP/1.1{eol}{}{eol}", lines.join(eol)).into_bytes();
        let outcome = read_head(&input);
        check_outcome(&input, &outcome);
        prop_assert_eq!(read_in_pieces(&input, &cuts), outcome);
    }

    #[test]
    fn valid_heads_round_trip(
        (bytes, expected) in valid_head(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        // Whatever follows the head (a body, the next request) is not its.
        let mut input = bytes.clone();
        input.extend_from_slice(&body);
        let outcome = read_in_pieces(&input, &cuts);
        prop_assert_eq!(outcome, Ok(Some((expected, bytes.len()))));
    }

    #[test]
    fn mutated_heads_never_panic_nor_pass_the_limits(
        (bytes, _) in valid_head(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..16),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut input = bytes;
        for (at, op, byte) in edits {
            let i = at.index(input.len() + 1);
            match op {
                0 => input.insert(i, byte),
                1 if i < input.len() => { input.remove(i); }
                _ if i < input.len() => input[i] = byte,
                _ => input.push(byte),
            }
        }
        let outcome = read_head(&input);
        check_outcome(&input, &outcome);
        prop_assert_eq!(read_in_pieces(&input, &cuts), outcome);
    }

    #[test]
    fn oversized_heads_are_refused(
        (bytes, _) in valid_head(),
        filler in 0..2 * MAX_HEAD,
        many in any::<bool>(),
    ) {
        // Grow a valid head past one limit or the other.
        let text = String::from_utf8(bytes).unwrap();
        let text = text.trim_start_matches(['\r', '\n']);
        // After the request line.
        let split = text.find('\n').unwrap() + 1;
        let extra = if many {
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        } else {
            format!("X: {}\r\n", "a".repeat(MAX_HEAD + filler % MAX_HEAD))
        };
        let input = format!("{}{extra}{}", &text[..split], &text[split..]).into_bytes();
        prop_assert_eq!(read_head(&input), Err(Bad(431)));
    }
}
