//! Capture mode (logging.md §1.6): output between `<!--XSUPERVISOR:BEGIN-->`
//! and `<!--XSUPERVISOR:END-->` becomes a PROCESS_COMMUNICATION event
//! instead of log text, with tokens found across reads.

use std::collections::VecDeque;

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// What capture mode makes of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Ordinary output, for the log.
    Normal(Vec<u8>),
    /// Output between the tokens: kept for the event, logged nowhere.
    Captured(Vec<u8>),
    /// An END token closed a capture: the PROCESS_COMMUNICATION payload.
    Communication(Vec<u8>),
}

/// Capture mode (logging.md §1.7), with the improvements the spec suggests:
/// the capture buffer keeps exactly the last `maxbytes` bytes, and what is
/// held back waiting for a token is flushed at EOF instead of lost.
#[derive(Debug)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    pending: Vec<u8>,
    captured: VecDeque<u8>,
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            pending: Vec::new(),
            captured: VecDeque::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8], pieces: &mut Vec<Piece>) {
        self.pending.extend_from_slice(data);
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if self.pending.len() <= token.len() {
                return;
            }
            match find(&self.pending, token) {
                Some(at) => {
                    let before: Vec<u8> = self.pending[..at].to_vec();
                    self.pending.drain(..at + token.len());
                    self.emit(before, pieces);
                    if self.capturing {
                        let payload: Vec<u8> = self.captured.drain(..).collect();
                        pieces.push(Piece::Communication(payload));
                    }
                    self.capturing = !self.capturing;
                }
                None => {
                    let keep = longest_token_prefix_at_end(&self.pending, token);
                    let ready: Vec<u8> = self.pending.drain(..self.pending.len() - keep).collect();
                    self.emit(ready, pieces);
                    return;
                }
            }
        }
    }

    /// End of output: nothing held back is lost.
    pub fn finish(&mut self, pieces: &mut Vec<Piece>) {
        let rest = std::mem::take(&mut self.pending);
        self.emit(rest, pieces);
    }

    fn emit(&mut self, bytes: Vec<u8>, pieces: &mut Vec<Piece>) {
        if bytes.is_empty() {
            return;
        }
        if self.capturing {
            self.captured.extend(&bytes);
            let excess = self.captured.len().saturating_sub(self.maxbytes);
            self.captured.drain(..excess);
            pieces.push(Piece::Captured(bytes));
        } else {
            pieces.push(Piece::Normal(bytes));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How many bytes at the end of `data` could begin `token`.
fn longest_token_prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    (1..token.len().min(data.len() + 1))
        .rev()
        .find(|&n| data.ends_with(&token[..n]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_all(maxbytes: usize, chunks: &[&[u8]]) -> Vec<Piece> {
        let mut capture = Capture::new(maxbytes);
        let mut pieces = Vec::new();
        for chunk in chunks {
            capture.feed(chunk, &mut pieces);
        }
        capture.finish(&mut pieces);
        pieces
    }

    fn normal_text(pieces: &[Piece]) -> Vec<u8> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Normal(b) => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn capture_between_tokens_becomes_a_communication() {
        let pieces = capture_all(
            100,
            &[b"pre\n<!--XSUPERVISOR:BEGIN-->payload<!--XSUPERVISOR:END-->post\n"],
        );
        assert_eq!(normal_text(&pieces), b"pre\npost\n");
        assert!(pieces.contains(&Piece::Communication(b"payload".to_vec())));
    }

    #[test]
    fn tokens_split_across_reads_are_found() {
        let pieces = capture_all(
            100,
            &[
                b"a<!--XSUPER",
                b"VISOR:BEGIN-->x",
                b"y<!--XSUPERVISOR:E",
                b"ND-->b",
            ],
        );
        assert_eq!(normal_text(&pieces), b"ab");
        assert!(pieces.contains(&Piece::Communication(b"xy".to_vec())));
    }

    #[test]
    fn a_short_tail_is_not_lost_at_eof() {
        // Supervisor loses `post\n` here (it is shorter than the token).
        let pieces = capture_all(
            100,
            &[b"<!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->post\n"],
        );
        assert_eq!(normal_text(&pieces), b"post\n");
    }

    #[test]
    fn the_capture_buffer_keeps_exactly_the_last_maxbytes() {
        let pieces = capture_all(
            4,
            &[b"<!--XSUPERVISOR:BEGIN-->abcdef<!--XSUPERVISOR:END-->"],
        );
        assert!(
            pieces.contains(&Piece::Communication(b"cdef".to_vec())),
            "{pieces:?}"
        );
    }
}
