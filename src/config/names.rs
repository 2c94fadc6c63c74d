//! The names a `%(name)s` expansion may use, in two layers so that copying
//! them for each program and each process copy does not copy the
//! environment: every `ENV_*` name (thousands, with a long
//! `[supervisord] environment=`) lives in a shared base, and the handful of
//! names added per section or per process lives in a small layer on top.
//! Also the names a template's `%(NAME:-default)` fields add (expand.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::expand::Value;

/// The names available to one option. Cloning is cheap: the base is shared.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Shared between clones; written only while this is its only owner.
    base: Rc<BTreeMap<String, Value>>,
    /// Added after the base was shared; hides a base name of the same key.
    top: BTreeMap<String, Value>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    /// Add or replace `name`. Into the shared base while no clone exists
    /// (so build the common names before copying), else on top.
    pub fn insert(&mut self, name: String, value: Value) {
        if self.top.is_empty() {
            if let Some(base) = Rc::get_mut(&mut self.base) {
                base.insert(name, value);
                return;
            }
        }
        self.top.insert(name, value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.top.get(name).or_else(|| self.base.get(name))
    }

    /// Every name, sorted, each once (as "Available names" lists them).
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        let all: BTreeSet<&String> = self.base.keys().chain(self.top.keys()).collect();
        all.into_iter()
    }
}

impl FromIterator<(String, Value)> for Names {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Names {
        Names {
            base: Rc::new(iter.into_iter().collect()),
            top: BTreeMap::new(),
        }
    }
}

/// For every `%(NAME:-default)` in `template`, the name `NAME:-default`
/// bound to NAME's value or to `default`; `None` when there is none (the
/// usual case, which then costs one scan for `:-`).
pub(super) fn with_defaults(template: &str, names: &Names) -> Option<Names> {
    if !template.contains(":-") {
        return None;
    }
    let mut extended: Option<Names> = None;
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('%') {
            rest = after;
            continue;
        }
        let Some(inside) = rest.strip_prefix('(') else {
            continue;
        };
        let Some(name) = balanced_name(inside) else {
            break;
        };
        rest = &inside[name.len()..];
        let Some((key, default)) = name.split_once(":-") else {
            continue;
        };
        if names.get(name).is_some() {
            continue;
        }
        let value = match names.get(key) {
            Some(Value::Str(s)) if s.is_empty() => Value::Str(default.to_string()),
            Some(value) => value.clone(),
            None => Value::Str(default.to_string()),
        };
        extended
            .get_or_insert_with(|| names.clone())
            .insert(name.to_string(), value);
    }
    extended
}

/// The name before the `)` that closes an opening `(` (Python allows
/// balanced parentheses inside), or `None` when it is never closed.
fn balanced_name(inside: &str) -> Option<&str> {
    let mut depth = 1;
    for (at, c) in inside.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&inside[..at]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    #[test]
    fn clones_share_the_base_and_keep_their_own_additions() {
        let mut base: Names = [("ENV_A".to_string(), s("1"))].into_iter().collect();
        base.insert("ENV_B".into(), s("2"));
        let mut copy = base.clone();
        copy.insert("ENV_A".into(), s("own"));
        copy.insert("here".into(), s("/etc"));
        assert_eq!(copy.get("ENV_A"), Some(&s("own")));
        assert_eq!(copy.get("ENV_B"), Some(&s("2")));
        assert_eq!(base.get("ENV_A"), Some(&s("1")));
        assert_eq!(base.get("here"), None);
        let keys: Vec<&String> = copy.keys().collect();
        assert_eq!(keys, ["ENV_A", "ENV_B", "here"]);
        // The original, still sharing its base, puts new names on top.
        base.insert("ENV_C".into(), s("3"));
        assert_eq!(base.get("ENV_C"), Some(&s("3")));
        assert_eq!(copy.get("ENV_C"), None);
    }
}
