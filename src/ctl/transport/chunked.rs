//! Chunked transfer coding: chunk-size lines, and an incremental decoder
//! for streams that hands data over as soon as it arrives.

use super::response::{excerpt, read_error, ReadError, MAX_LINE};
use super::TransportError;

/// A chunk-size line: hex digits, then optional `;extensions`. None: a blank
/// line (tolerated).
pub(super) fn parse_chunk_size(line: &[u8]) -> Result<Option<u64>, ReadError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or(&[])
        .trim_ascii();
    if digits.is_empty() {
        return Ok(None);
    }
    let bad = || ReadError::Protocol(format!("bad chunk size {}", excerpt(line)));
    let significant = &digits[digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len())..];
    if significant.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let mut size = 0u64;
    for &b in significant {
        let digit = char::from(b).to_digit(16).ok_or_else(bad)?;
        size = size * 16 + u64::from(digit);
    }
    Ok(Some(size))
}

/// Incremental decoder of a chunked body: data is handed over as soon as
/// it arrives, even part of a chunk.
#[derive(Debug)]
pub(super) enum ChunkDecoder {
    /// Reading a chunk-size line (bytes so far).
    Size(Vec<u8>),
    /// Inside a chunk's data: bytes left.
    Data(u64),
    /// After a chunk's data, up to the newline (bytes skipped so far).
    DataEnd(usize),
    /// The last chunk was seen.
    Done,
}

impl Default for ChunkDecoder {
    fn default() -> ChunkDecoder {
        ChunkDecoder::Size(Vec::new())
    }
}

impl ChunkDecoder {
    /// Decode `input`, handing data to `on_data`. Ok(false): `on_data`
    /// asked to stop, or the body ended.
    pub(super) fn feed(
        &mut self,
        mut input: &[u8],
        on_data: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<bool, TransportError> {
        let protocol = |e: ReadError| read_error(e, false);
        while !input.is_empty() {
            match self {
                ChunkDecoder::Size(line) => {
                    let newline = input.iter().position(|&b| b == b'\n');
                    line.extend_from_slice(&input[..newline.unwrap_or(input.len())]);
                    if line.len() > MAX_LINE {
                        return Err(TransportError::Protocol("chunk size line too long".into()));
                    }
                    let Some(i) = newline else {
                        return Ok(true);
                    };
                    input = &input[i + 1..];
                    *self = match parse_chunk_size(line).map_err(protocol)? {
                        None => ChunkDecoder::Size(Vec::new()),
                        Some(0) => ChunkDecoder::Done,
                        Some(size) => ChunkDecoder::Data(size),
                    };
                }
                ChunkDecoder::Data(left) => {
                    let take = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (data, rest) = input.split_at(take);
                    input = rest;
                    *left -= take as u64;
                    if *left == 0 {
                        *self = ChunkDecoder::DataEnd(0);
                    }
                    if !on_data(data) {
                        return Ok(false);
                    }
                }
                ChunkDecoder::DataEnd(skipped) => match input.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        input = &input[i + 1..];
                        *self = ChunkDecoder::Size(Vec::new());
                    }
                    None => {
                        *skipped += input.len();
                        if *skipped > MAX_LINE {
                            return Err(TransportError::Protocol(
                                "no line end after chunk data".into(),
                            ));
                        }
                        return Ok(true);
                    }
                },
                ChunkDecoder::Done => return Ok(false),
            }
        }
        Ok(!matches!(self, ChunkDecoder::Done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_decoder_byte_by_byte() {
        let input = b"5;x=y\r\nhello\r\n\r\n1\nX\n00\r\nafter";
        let mut decoder = ChunkDecoder::default();
        let mut out = Vec::new();
        let mut ended_at = None;
        for (i, byte) in input.iter().enumerate() {
            let more = decoder
                .feed(std::slice::from_ref(byte), &mut |d| {
                    out.extend_from_slice(d);
                    true
                })
                .unwrap();
            if !more {
                ended_at = Some(i);
                break;
            }
        }
        assert_eq!(out, b"helloX");
        assert_eq!(ended_at, Some(input.len() - "after".len() - 1));
    }
}
