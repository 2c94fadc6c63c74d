//! The INI dialect of Supervisor's config files (Python `RawConfigParser` with
//! `inline_comment_prefixes=(';','#')`, `strict=False`, no interpolation).
//!
//! STUB: interface only; being written.

/// One `key = value` line (with its continuation lines joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lowercased, whitespace-trimmed key.
    pub key: String,
    /// The value: stripped, continuation lines joined with `\n`, trailing blank lines dropped.
    pub value: String,
    /// Display name of the file the line came from (as given to [`Document::read`]).
    pub file: String,
    /// 1-based line number of the key line.
    pub line: usize,
}

/// A section: every file's keys for that name merged (a later key replaces an earlier one in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between `[` and `]`, kept exactly (case and spaces).
    pub name: String,
    /// Display name of the file that first introduced this section.
    pub file: String,
    /// 1-based line number of the header in that file.
    pub line: usize,
    /// Entries in the order their keys first appeared.
    pub entries: Vec<Entry>,
}

impl Section {
    /// The entry for `key` (already lowercase), not looking at `[DEFAULT]`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// A parse error, displayed exactly as Supervisor prints it (after `Error: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniError {
    /// A key line before any section header.
    NoSectionHeaders { file: String, line: usize, text: String },
    /// Lines that are neither header, option, comment nor continuation: (line number, raw line with its `\n`).
    Parsing { file: String, lines: Vec<(usize, String)> },
    /// Bytes that are not UTF-8 in a part of a line that is not a comment (our addition).
    Encoding { file: String, line: usize },
}

impl std::fmt::Display for IniError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// All files read so far, merged as Python's `RawConfigParser` merges them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    sections: Vec<Section>,
    defaults: Vec<Entry>,
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse `text`, the contents of the file shown to users as `file`, and merge it in.
    /// When `here` is given, every literal `%(here)s` in this file's values is replaced with it.
    pub fn read(&mut self, file: &str, text: &[u8], here: Option<&str>) -> Result<(), IniError> {
        let _ = (file, text, here);
        todo!()
    }

    /// Sections in the order they first appeared (`[DEFAULT]` is not among them).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The `[DEFAULT]` section's entries: defaults for every section.
    pub fn defaults(&self) -> &[Entry] {
        &self.defaults
    }

    /// `key` in `section`, falling back to `[DEFAULT]` as Python does.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)
            .and_then(|s| s.entry(key))
            .or_else(|| self.defaults.iter().find(|e| e.key == key))
    }
}
