//! `%(name)s` expansion: Python's `str % dict` as Supervisor applies it to config values.
//!
//! STUB: interface only; being written.

use std::collections::BTreeMap;

/// A value a name expands to: Supervisor's names are strings, except
/// `process_num` and `numprocs`, which are integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}

/// The names available to one option. Sorted, as the "Available names" list is.
pub type Names = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `%(name)…` with a name not in the dictionary.
    UnknownName(String),
    /// Any other formatting problem; the text is Python's reason, e.g. `incomplete format`.
    BadFormat(String),
}

/// Expand every `%(name)<spec>` and `%%` in `template`.
pub fn expand(template: &str, names: &Names) -> Result<String, ExpandError> {
    let _ = (template, names);
    todo!()
}
