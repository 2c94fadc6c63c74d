//! XML-RPC faults and supervisord's fault codes (spec xmlrpc.md §5).

use std::fmt;

use super::Value;

/// Supervisor's fault codes (`supervisor.xmlrpc.Faults`).
pub mod faults {
    pub const UNKNOWN_METHOD: i32 = 1;
    pub const INCORRECT_PARAMETERS: i32 = 2;
    pub const BAD_ARGUMENTS: i32 = 3;
    pub const SIGNATURE_UNSUPPORTED: i32 = 4;
    pub const SHUTDOWN_STATE: i32 = 6;
    pub const BAD_NAME: i32 = 10;
    pub const BAD_SIGNAL: i32 = 11;
    pub const NO_FILE: i32 = 20;
    pub const NOT_EXECUTABLE: i32 = 21;
    pub const FAILED: i32 = 30;
    pub const ABNORMAL_TERMINATION: i32 = 40;
    pub const SPAWN_ERROR: i32 = 50;
    pub const ALREADY_STARTED: i32 = 60;
    pub const NOT_RUNNING: i32 = 70;
    pub const SUCCESS: i32 = 80;
    pub const ALREADY_ADDED: i32 = 90;
    pub const STILL_RUNNING: i32 = 91;
    pub const CANT_REREAD: i32 = 92;

    const NAMES: [(i32, &str); 18] = [
        (UNKNOWN_METHOD, "UNKNOWN_METHOD"),
        (INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS"),
        (BAD_ARGUMENTS, "BAD_ARGUMENTS"),
        (SIGNATURE_UNSUPPORTED, "SIGNATURE_UNSUPPORTED"),
        (SHUTDOWN_STATE, "SHUTDOWN_STATE"),
        (BAD_NAME, "BAD_NAME"),
        (BAD_SIGNAL, "BAD_SIGNAL"),
        (NO_FILE, "NO_FILE"),
        (NOT_EXECUTABLE, "NOT_EXECUTABLE"),
        (FAILED, "FAILED"),
        (ABNORMAL_TERMINATION, "ABNORMAL_TERMINATION"),
        (SPAWN_ERROR, "SPAWN_ERROR"),
        (ALREADY_STARTED, "ALREADY_STARTED"),
        (NOT_RUNNING, "NOT_RUNNING"),
        (SUCCESS, "SUCCESS"),
        (ALREADY_ADDED, "ALREADY_ADDED"),
        (STILL_RUNNING, "STILL_RUNNING"),
        (CANT_REREAD, "CANT_REREAD"),
    ];

    /// The name of a fault code, `"UNKNOWN"` for codes Supervisor does not
    /// define (as `supervisor.xmlrpc.getFaultDescription` answers).
    pub fn name(code: i32) -> &'static str {
        NAMES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("UNKNOWN", |(_, n)| n)
    }
}

/// An XML-RPC fault: `faultCode` and `faultString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub string: String,
}

impl Fault {
    pub fn new(code: i32, string: impl Into<String>) -> Fault {
        Fault {
            code,
            string: string.into(),
        }
    }

    /// A fault whose string is the code's name, or `NAME: extra` — the form
    /// of every fault supervisord raises (`RPCError(code, extra)`).
    pub fn named(code: i32, extra: Option<&str>) -> Fault {
        let name = faults::name(code);
        let string = match extra {
            Some(extra) => format!("{name}: {extra}"),
            None => name.to_owned(),
        };
        Fault { code, string }
    }

    /// The `{faultCode, faultString}` struct, as a fault appears inside
    /// `system.multicall` results.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("faultCode", Value::Int(self.code.into())),
            ("faultString", Value::str(self.string.clone())),
        ])
    }

    /// A fault from its `{faultCode, faultString}` struct (a fault response,
    /// or an entry of `system.multicall` results); the reason when `value`
    /// is not one. Codes beyond 32 bits are clamped.
    pub fn from_value(value: &Value) -> Result<Fault, String> {
        let code = value
            .get("faultCode")
            .and_then(Value::as_int)
            .ok_or("fault without an int faultCode")?;
        let string = value
            .get("faultString")
            .and_then(Value::as_str)
            .ok_or("fault without a string faultString")?;
        let code = code.clamp(i32::MIN.into(), i32::MAX.into()) as i32;
        Ok(Fault::new(code, string))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.string)
    }
}

impl std::error::Error for Fault {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_faults() {
        assert_eq!(
            Fault::named(faults::BAD_NAME, Some("grp:nosuch")),
            Fault::new(10, "BAD_NAME: grp:nosuch")
        );
        assert_eq!(
            Fault::named(faults::INCORRECT_PARAMETERS, None).string,
            "INCORRECT_PARAMETERS"
        );
        assert_eq!(Fault::named(12345, Some("x")).string, "UNKNOWN: x");
    }

    #[test]
    fn every_code_has_its_name() {
        let all = [
            (1, "UNKNOWN_METHOD"),
            (2, "INCORRECT_PARAMETERS"),
            (3, "BAD_ARGUMENTS"),
            (4, "SIGNATURE_UNSUPPORTED"),
            (6, "SHUTDOWN_STATE"),
            (10, "BAD_NAME"),
            (11, "BAD_SIGNAL"),
            (20, "NO_FILE"),
            (21, "NOT_EXECUTABLE"),
            (30, "FAILED"),
            (40, "ABNORMAL_TERMINATION"),
            (50, "SPAWN_ERROR"),
            (60, "ALREADY_STARTED"),
            (70, "NOT_RUNNING"),
            (80, "SUCCESS"),
            (90, "ALREADY_ADDED"),
            (91, "STILL_RUNNING"),
            (92, "CANT_REREAD"),
        ];
        for (code, name) in all {
            assert_eq!(faults::name(code), name);
        }
        assert_eq!(faults::name(5), "UNKNOWN");
    }

    #[test]
    fn fault_as_value() {
        let v = Fault::named(faults::ALREADY_STARTED, Some("foo")).to_value();
        assert_eq!(
            v,
            Value::structure([
                ("faultCode", Value::Int(60)),
                ("faultString", Value::str("ALREADY_STARTED: foo")),
            ])
        );
    }
}
