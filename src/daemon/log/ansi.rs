//! `strip_ansi`: ANSI escape sequences removed from program output, even
//! when a sequence is split across reads.

/// `strip_ansi` (logging.md §1.8): `ESC [` up to and including the first byte
/// of `HfABCDRsuJKhlpm` is removed. Unlike Supervisor, a sequence split across
/// two reads is still removed whole.
#[derive(Debug, Default)]
pub struct AnsiStripper {
    state: StripState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum StripState {
    #[default]
    Text,
    /// An ESC ended the previous chunk.
    Escape,
    /// Inside `ESC [ …`.
    Sequence,
}

impl AnsiStripper {
    pub fn strip(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &byte in data {
            self.state = match (self.state, byte) {
                (StripState::Text, 0x1b) => StripState::Escape,
                (StripState::Text, b) => {
                    out.push(b);
                    StripState::Text
                }
                (StripState::Escape, b'[') => StripState::Sequence,
                (StripState::Escape, 0x1b) => {
                    out.push(0x1b);
                    StripState::Escape
                }
                (StripState::Escape, b) => {
                    out.extend_from_slice(&[0x1b, b]);
                    StripState::Text
                }
                (StripState::Sequence, b) if b"HfABCDRsuJKhlpm".contains(&b) => StripState::Text,
                (StripState::Sequence, _) => StripState::Sequence,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_all(chunks: &[&[u8]]) -> Vec<u8> {
        let mut stripper = AnsiStripper::default();
        let mut out = Vec::new();
        for chunk in chunks {
            stripper.strip(chunk, &mut out);
        }
        out
    }

    #[test]
    fn ansi_sequences_are_removed_through_their_final_byte() {
        assert_eq!(strip_all(&[b"\x1b[31mred\x1b[0m plain"]), b"red plain");
        assert_eq!(strip_all(&[b"a\x1b[2Kb\x1b[1;1Hc"]), b"abc");
    }

    #[test]
    fn a_sequence_split_across_reads_is_still_removed() {
        assert_eq!(strip_all(&[b"red\x1b", b"[3", b"1mX"]), b"redX");
    }

    #[test]
    fn other_escapes_are_kept() {
        assert_eq!(strip_all(&[b"a\x1b]0;title\x07b"]), b"a\x1b]0;title\x07b");
        assert_eq!(strip_all(&[b"a\x1b", b"Xb"]), b"a\x1bXb");
    }
}
