//! The parameters of one XML-RPC call, checked as they are taken; shared
//! by the methods run on the reactor and those answered from the snapshot.

use crate::xmlrpc::{faults, Fault, Value};

pub(super) fn bad_params() -> Fault {
    Fault::named(faults::INCORRECT_PARAMETERS, None)
}

/// The parameters of one call, checked as they are taken.
pub(super) struct Params<'a>(pub(super) &'a [Value]);

impl Params<'_> {
    pub(super) fn string(&self, i: usize) -> Result<&str, Fault> {
        self.0.get(i).and_then(Value::as_str).ok_or_else(bad_params)
    }

    /// Offsets and lengths: Supervisor applies `int()`, so numeric strings work.
    pub(super) fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| bad_params()),
            _ => Err(bad_params()),
        }
    }

    /// An optional `wait` flag: Python truthiness, true when omitted.
    pub(super) fn wait(&self, i: usize) -> bool {
        self.0.get(i).is_none_or(Value::truthy)
    }
}
