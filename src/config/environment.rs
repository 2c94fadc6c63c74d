//! `environment=KEY=val,KEY2="v a l"`: Supervisor's key/value list.
//!
//! STUB: interface only; being written.

/// Parse an `environment=` value into ordered pairs (a repeated key keeps its
/// first position and takes the last value). Errors are the text after `Error: `.
pub fn parse(raw: &str) -> Result<Vec<(String, String)>, String> {
    let _ = raw;
    todo!()
}
