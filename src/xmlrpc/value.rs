//! The XML-RPC value model shared by the daemon and the client.

/// One XML-RPC value.
///
/// `Int` holds an `i64` so arithmetic on timestamps and sizes needs no
/// casts; the writer clamps it to the 32-bit range XML-RPC `<int>` allows.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    /// The raw `YYYYMMDDTHH:MM:SS` text, uninterpreted: no method uses dates.
    DateTime(String),
    Array(Vec<Value>),
    /// Members in insertion order (supervisord's replies list them in a
    /// fixed order and tests compare bytes).
    Struct(Vec<(String, Value)>),
    Nil,
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A struct value from `(name, value)` pairs, in the given order.
    pub fn structure<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_struct(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// The member `key` of a struct (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_struct()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Python's truthiness, which supervisord applies to flags such as
    /// `wait`: `0`, `false`, `""`, `0.0`, empty arrays and structs and nil
    /// are false, so `"0"` (a non-empty string) is true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Int(n) => *n != 0,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            Value::Double(d) => *d != 0.0,
            Value::DateTime(_) => true,
            Value::Array(items) => !items.is_empty(),
            Value::Struct(members) => !members.is_empty(),
            Value::Nil => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Int(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let v = Value::structure([("name", Value::str("foo")), ("pid", Value::Int(5))]);
        assert_eq!(v.get("name").and_then(Value::as_str), Some("foo"));
        assert_eq!(v.get("pid").and_then(Value::as_int), Some(5));
        assert_eq!(v.get("nosuch"), None);
        assert_eq!(Value::Int(1).get("x"), None);
        assert_eq!(Value::Bool(true).as_bool(), Some(true));
        assert_eq!(Value::Int(1).as_bool(), None);
        assert_eq!(Value::str("1").as_int(), None);
        let a = Value::from(vec![Value::from(1), Value::from("x")]);
        assert_eq!(a.as_array().map(<[Value]>::len), Some(2));
        assert_eq!(Value::from(true), Value::Bool(true));
        assert_eq!(Value::from(String::from("s")), Value::str("s"));
        assert_eq!(Value::from(7i64), Value::Int(7));
    }

    #[test]
    fn truthiness_is_pythons() {
        for falsy in [
            Value::Int(0),
            Value::Bool(false),
            Value::str(""),
            Value::Double(0.0),
            Value::Array(vec![]),
            Value::Struct(vec![]),
            Value::Nil,
        ] {
            assert!(!falsy.truthy(), "{falsy:?}");
        }
        for truthy in [
            Value::Int(-1),
            Value::Bool(true),
            Value::str("0"),
            Value::str("false"),
            Value::Double(0.5),
            Value::DateTime(String::new()),
            Value::Array(vec![Value::Nil]),
            Value::structure([("a", Value::Nil)]),
        ] {
            assert!(truthy.truthy(), "{truthy:?}");
        }
    }
}
