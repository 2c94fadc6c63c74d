//! Namespecs (xmlrpc.md §3): how a process or a group is named on the wire
//! and on supervisorctl's command line. One parser and one formatter for
//! the daemon and the client.
//!
//! | text | names |
//! |---|---|
//! | `web` | process `web` of group `web` |
//! | `grp:web` | process `web` of group `grp` |
//! | `grp:*`, `grp:` | every process of group `grp` |

/// What a namespec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespec<'a> {
    /// One process; a bare name is a process in the group of the same name.
    Process { group: &'a str, name: &'a str },
    /// Every process of a group (`g:*` or `g:`).
    Group(&'a str),
}

impl<'a> Namespec<'a> {
    pub fn parse(text: &'a str) -> Namespec<'a> {
        match text.split_once(':') {
            Some((group, "" | "*")) => Namespec::Group(group),
            Some((group, name)) => Namespec::Process { group, name },
            None => Namespec::Process {
                group: text,
                name: text,
            },
        }
    }

    /// The group named (a process's own group).
    pub fn group(&self) -> &'a str {
        match *self {
            Namespec::Process { group, .. } | Namespec::Group(group) => group,
        }
    }
}

/// How a process is named: `name` alone when its group has the same
/// name, else `group:name`.
pub fn format(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let process = |group, name| Namespec::Process { group, name };
        assert_eq!(Namespec::parse("web"), process("web", "web"));
        assert_eq!(Namespec::parse("grp:web"), process("grp", "web"));
        assert_eq!(Namespec::parse("grp:*"), Namespec::Group("grp"));
        assert_eq!(Namespec::parse("grp:"), Namespec::Group("grp"));
        // Only the first colon separates; the rest is the process name.
        assert_eq!(Namespec::parse("a:b:c"), process("a", "b:c"));
        assert_eq!(Namespec::parse(":x"), process("", "x"));
        assert_eq!(Namespec::parse(""), process("", ""));
        assert_eq!(Namespec::parse("grp:*").group(), "grp");
    }

    #[test]
    fn formats_as_supervisor_does() {
        assert_eq!(format("web", "web"), "web");
        assert_eq!(format("grp", "web"), "grp:web");
    }
}
