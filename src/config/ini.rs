//! The INI dialect of Supervisor's config files (Python `RawConfigParser` with
//! `inline_comment_prefixes=(';','#')`, `strict=False`, no interpolation).
//!
//! [`Document::read`] follows Python 3.11's `RawConfigParser._read` line by
//! line, so a config file means the same thing here as under Supervisor:
//! `=` or `:` delimiters (the first one splits), lowercased keys, section
//! names kept exactly, `;`/`#` comments (inline only at the start of the line
//! or after whitespace), continuation lines indented deeper than their key
//! line, and sections repeated within or across files merged with the last
//! key winning. Errors carry Python's exact texts.
//!
//! Differences from Python 3.11: a UTF-8 byte order mark is ignored (Python
//! reports no section headers); bytes that are not UTF-8 are an error only
//! outside comments (Python fails on any of them with a traceback); and an
//! inline comment always starts at the earliest qualifying `;` or `#` (see
//! `comment_start` for the rare line where 3.11 differs).

use std::collections::HashMap;
use std::rc::Rc;

use super::limits::MAX_LISTED_BAD_LINES;
use crate::pyrepr::repr;

/// One `key = value` line (with its continuation lines joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lowercased, whitespace-trimmed key.
    pub key: String,
    /// The value: stripped, continuation lines joined with `\n`, trailing blank lines dropped.
    pub value: String,
    /// Display name of the file the line came from (as given to [`Document::read`]),
    /// shared by all entries of that file.
    pub file: Rc<str>,
    /// 1-based line number of the key line.
    pub line: usize,
}

/// A section: every file's keys for that name merged (a later key replaces an earlier one in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between `[` and `]`, kept exactly (case and spaces).
    pub name: String,
    /// Display name of the file that first introduced this section.
    pub file: Rc<str>,
    /// 1-based line number of the header in that file.
    pub line: usize,
    entries: Entries,
}

impl Section {
    /// The entry for `key` (already lowercase), not looking at `[DEFAULT]`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Entries in the order their keys first appeared.
    pub fn entries(&self) -> &[Entry] {
        &self.entries.list
    }
}

/// Entries in first-appearance order, indexed by key: a section with many
/// keys (or a file repeating one key many times) is read in linear time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entries {
    list: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Entries {
    fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&at| &self.list[at])
    }

    /// Store `entry`, replacing an entry with the same key in place (Python's
    /// dict keeps a key's first position). Returns the entry's index.
    fn set(&mut self, entry: Entry) -> usize {
        match self.index.get(&entry.key) {
            Some(&at) => {
                self.list[at] = entry;
                at
            }
            None => {
                self.index.insert(entry.key.clone(), self.list.len());
                self.list.push(entry);
                self.list.len() - 1
            }
        }
    }
}

/// A parse error, displayed exactly as Supervisor prints it (after `Error: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniError {
    /// A key line before any section header. `text` is the raw line with its `\n`
    /// (none if it was the last line and had no newline).
    NoSectionHeaders {
        file: String,
        line: usize,
        text: String,
    },
    /// Lines that are neither header, option, comment nor continuation: (line number, raw line with its `\n`).
    /// Only the first [`MAX_LISTED_BAD_LINES`] are kept; `more` counts the rest (our addition).
    Parsing {
        file: String,
        lines: Vec<(usize, String)>,
        more: usize,
    },
    /// Bytes that are not UTF-8 in a part of a line that is not a comment (our addition).
    Encoding { file: String, line: usize },
}

impl std::fmt::Display for IniError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IniError::NoSectionHeaders { file, line, text } => write!(
                f,
                "File contains no section headers.\nfile: {}, line: {}\n{}",
                repr(file),
                line,
                repr(text)
            ),
            IniError::Parsing { file, lines, more } => {
                write!(f, "Source contains parsing errors: {}", repr(file))?;
                for (line, text) in lines {
                    // Python's `[line %2d]`.
                    write!(f, "\n\t[line {line:2}]: {}", repr(text))?;
                }
                if *more > 0 {
                    write!(f, "\n\t... and {more} more lines that cannot be parsed")?;
                }
                Ok(())
            }
            IniError::Encoding { file, line } => write!(
                f,
                "{}, line {line}: the text is not valid UTF-8; save the file as UTF-8",
                repr(file)
            ),
        }
    }
}

impl std::error::Error for IniError {}

/// All files read so far, merged as Python's `RawConfigParser` merges them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    sections: Vec<Section>,
    /// Position of each section in `sections`, by name.
    index: HashMap<String, usize>,
    defaults: Entries,
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse `text`, the contents of the file shown to users as `file`, and merge it in.
    /// When `here` is given, every literal `%(here)s` in this file's values is replaced with it.
    pub fn read(&mut self, file: &str, text: &[u8], here: Option<&str>) -> Result<(), IniError> {
        // Windows editors like to add a byte order mark; Python would take it
        // as part of the first line and find no section header.
        let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
        let mut reading = FileRead {
            file,
            shared: Rc::from(file),
            here,
            section: None,
            option: None,
            indent_level: 0,
            errors: BadLines::default(),
        };
        for (index, line) in split_lines(text).enumerate() {
            reading.line(self, index + 1, &line)?;
        }
        self.finish_value(reading.section, reading.option, here);

        if reading.errors.lines.is_empty() {
            Ok(())
        } else {
            Err(IniError::Parsing {
                file: file.to_string(),
                lines: reading.errors.lines,
                more: reading.errors.more,
            })
        }
    }

    /// Sections in the order they first appeared (`[DEFAULT]` is not among them).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&at| &self.sections[at])
    }

    /// The `[DEFAULT]` section's entries: defaults for every section.
    pub fn defaults(&self) -> &[Entry] {
        &self.defaults.list
    }

    /// `key` in `section`, falling back to `[DEFAULT]` as Python does.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)
            .and_then(|s| s.entry(key))
            .or_else(|| self.defaults.get(key))
    }

    fn entries_mut(&mut self, target: Target) -> &mut Entries {
        match target {
            Target::Defaults => &mut self.defaults,
            Target::Section(at) => &mut self.sections[at].entries,
        }
    }

    /// The section `name`, created unless an earlier header (in this file or
    /// an earlier one) introduced it: repeated sections are merged.
    fn open_section(&mut self, name: &str, file: &Rc<str>, line: usize) -> Target {
        if name == DEFAULT_SECTION {
            return Target::Defaults;
        }
        if let Some(&at) = self.index.get(name) {
            return Target::Section(at);
        }
        self.index.insert(name.to_string(), self.sections.len());
        self.sections.push(Section {
            name: name.to_string(),
            file: Rc::clone(file),
            line,
            entries: Entries::default(),
        });
        Target::Section(self.sections.len() - 1)
    }

    /// Done with the current option: no later line can add to it, so drop its
    /// trailing blank lines and fill in `%(here)s`.
    fn finish_value(&mut self, section: Option<Target>, option: Option<usize>, here: Option<&str>) {
        let (Some(target), Some(at)) = (section, option) else {
            return;
        };
        let entry = &mut self.entries_mut(target).list[at];
        let trimmed = entry.value.trim_end_matches(is_py_space).len();
        entry.value.truncate(trimmed);
        if let Some(dir) = here {
            if entry.value.contains(HERE) {
                entry.value = entry.value.replace(HERE, dir);
            }
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Python's `default_section`.
const DEFAULT_SECTION: &str = "DEFAULT";
const HERE: &str = "%(here)s";

/// The state of [`Document::read`] within one file. Like Python, the current
/// section and option start afresh in every file: a file cannot continue a
/// value begun in another one.
struct FileRead<'a> {
    file: &'a str,
    shared: Rc<str>,
    here: Option<&'a str>,
    section: Option<Target>,
    /// The entry the next deeper-indented line continues.
    option: Option<usize>,
    /// Indentation (in characters) of the last header or key line.
    indent_level: usize,
    errors: BadLines,
}

impl FileRead<'_> {
    /// Read one line into `doc`: a blank line, a continuation, a header or a key.
    fn line(&mut self, doc: &mut Document, lineno: usize, line: &Line) -> Result<(), IniError> {
        let comment = comment_start(&line.text);
        let kept = &line.text[..comment.unwrap_or(line.text.len())];
        // Bad bytes in a comment are harmless since it is thrown away; in
        // kept text they would silently become U+FFFD.
        if line.invalid.iter().any(|&at| at < kept.len()) {
            return Err(IniError::Encoding {
                file: self.file.to_string(),
                line: lineno,
            });
        }
        let value = kept.trim_matches(is_py_space);

        if value.is_empty() {
            // A blank line may sit inside a multi-line value; trailing
            // ones are dropped when the value is finished. A line that
            // is only a comment is not part of any value.
            if comment.is_none() {
                if let (Some(target), Some(at)) = (self.section, self.option) {
                    doc.entries_mut(target).list[at].value.push('\n');
                }
            }
            return Ok(());
        }

        let indent = line.text.chars().take_while(|&c| is_py_space(c)).count();
        if let (Some(target), Some(at), true) =
            (self.section, self.option, indent > self.indent_level)
        {
            let entry = &mut doc.entries_mut(target).list[at];
            entry.value.push('\n');
            entry.value.push_str(value);
            return Ok(());
        }
        self.indent_level = indent;
        self.header_or_key(doc, lineno, line, value)
    }

    /// A line at the current indentation or less: a section header or a new key.
    fn header_or_key(
        &mut self,
        doc: &mut Document,
        lineno: usize,
        line: &Line,
        value: &str,
    ) -> Result<(), IniError> {
        if let Some(name) = section_header(value) {
            doc.finish_value(self.section, self.option, self.here);
            self.option = None;
            self.section = Some(doc.open_section(name, &self.shared, lineno));
            return Ok(());
        }
        let Some(target) = self.section else {
            return Err(IniError::NoSectionHeaders {
                file: self.file.to_string(),
                line: lineno,
                text: line.raw(),
            });
        };
        match split_option(value) {
            Some((key, val)) if !key.is_empty() => {
                doc.finish_value(self.section, self.option, self.here);
                let entry = Entry {
                    key: key.to_lowercase(),
                    value: val.to_string(),
                    file: Rc::clone(&self.shared),
                    line: lineno,
                };
                self.option = Some(doc.entries_mut(target).set(entry));
            }
            Some(_) => {
                // Python stores the value under an empty key, which no
                // lookup can reach, and no later line can continue it.
                self.errors.push(lineno, line);
                doc.finish_value(self.section, self.option, self.here);
                self.option = None;
            }
            // Python keeps the current option here, so a deeper line that
            // follows still continues it.
            None => self.errors.push(lineno, line),
        }
        Ok(())
    }
}

/// The lines of one file that could not be parsed.
#[derive(Default)]
struct BadLines {
    lines: Vec<(usize, String)>,
    more: usize,
}

impl BadLines {
    fn push(&mut self, lineno: usize, line: &Line) {
        if self.lines.len() < MAX_LISTED_BAD_LINES {
            self.lines.push((lineno, line.raw()));
        } else {
            self.more += 1;
        }
    }
}

/// Where the current option lives while a file is read.
#[derive(Debug, Clone, Copy)]
enum Target {
    Defaults,
    Section(usize),
}

/// One line of the file, decoded.
struct Line {
    /// The text without its line terminator.
    text: String,
    /// Byte offsets in `text` of the U+FFFD standing for bytes that were not UTF-8.
    invalid: Vec<usize>,
    /// Whether a line terminator followed (the last line may lack one).
    newline: bool,
}

impl Line {
    /// The line as Python's error messages show it: its terminator read as `\n`.
    fn raw(&self) -> String {
        let mut raw = self.text.clone();
        if self.newline {
            raw.push('\n');
        }
        raw
    }
}

/// Split into lines the way Python's text files do (universal newlines):
/// `\n`, `\r\n` and a lone `\r` all end a line. One line at a time, so a
/// file of millions of short lines is never held as millions of strings.
fn split_lines(text: &[u8]) -> impl Iterator<Item = Line> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (content, after) = match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(end) => {
                let terminator = if rest[end..].starts_with(b"\r\n") {
                    2
                } else {
                    1
                };
                (&rest[..end], Some(&rest[end + terminator..]))
            }
            None => (rest, None),
        };
        let mut line = decode(content);
        line.newline = after.is_some();
        rest = after.unwrap_or_default();
        Some(line)
    })
}

/// Decode lossily, remembering where the replacement characters went so that
/// bad bytes can be forgiven inside comments.
fn decode(bytes: &[u8]) -> Line {
    let mut text = String::with_capacity(bytes.len());
    let mut invalid = Vec::new();
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            invalid.push(text.len());
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    Line {
        text,
        invalid,
        newline: false,
    }
}

/// Python's `str.isspace`, which its `strip()` and regex `\s` use: Unicode
/// White_Space plus the ASCII separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Byte offset where the line's comment starts: the first `;` or `#` at the
/// start of the line or right after whitespace. This covers full-line comments
/// too, since their first non-blank character is such a one.
///
/// Python 3.11 scans the n-th `;` and the n-th `#` together and stops at the
/// first round with a match, so `a=x#y #c ;d` keeps `x#y #c` there. We take
/// the earliest comment start, as the documentation describes and as Python
/// 3.13 does.
fn comment_start(line: &str) -> Option<usize> {
    let mut after_space = true;
    for (at, c) in line.char_indices() {
        if (c == ';' || c == '#') && after_space {
            return Some(at);
        }
        after_space = is_py_space(c);
    }
    None
}

/// The name of a `[name]` header: from the first `[` to the last `]`, with
/// anything after that ignored (Python's `SECTCRE.match`). `[]` is no header.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let name = &rest[..rest.rfind(']')?];
    (!name.is_empty()).then_some(name)
}

/// Split `key = value` at the first `=` or `:`; `None` when there is neither.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let (key, val) = value.split_once(['=', ':'])?;
    Some((
        key.trim_end_matches(is_py_space),
        val.trim_matches(is_py_space),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below come from Python 3.11's
    // `RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)`.

    fn parse(text: &str) -> Document {
        let mut doc = Document::new();
        doc.read("t.conf", text.as_bytes(), None).expect("parses");
        doc
    }

    fn error(text: &[u8]) -> IniError {
        let mut doc = Document::new();
        doc.read("t.conf", text, None).expect_err("fails")
    }

    fn keys(doc: &Document, section: &str) -> Vec<(String, String)> {
        doc.section(section)
            .expect("section exists")
            .entries()
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn value<'a>(doc: &'a Document, section: &str, key: &str) -> &'a str {
        &doc.get(section, key).expect("key exists").value
    }

    #[test]
    fn empty_file() {
        let doc = parse("");
        assert!(doc.sections().is_empty());
        assert!(doc.defaults().is_empty());
    }

    #[test]
    fn full_line_comments_at_start_and_indented() {
        let doc = parse("; c\n# c\n[a]\n  ; c\n\t# c\nk=1\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "1")]));
    }

    #[test]
    fn inline_comments_need_whitespace_before() {
        let doc = parse(
            "[a]\na=b ;c\nb=b;c\nc=b #c\nd=b#c\ne= ;c\n\
             command=bash -c 'foo ; bar'\nf=x\t;tab\n",
        );
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[
                ("a", "b"),
                ("b", "b;c"),
                ("c", "b"),
                ("d", "b#c"),
                ("e", ""),
                ("command", "bash -c 'foo"),
                ("f", "x"),
            ])
        );
    }

    #[test]
    fn inline_comment_earliest_start_wins() {
        // The spec's rule; Python 3.11 would keep `x#y #w` here.
        let doc = parse("[a]\nk=x#y #w ;q\nj=x;y ;w #q\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "x#y"), ("j", "x;y")]));
    }

    #[test]
    fn header_with_inline_comment_and_trailing_text() {
        let doc = parse("[c] ;x\n[d]junk\n[e];x\n");
        let names: Vec<_> = doc.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["c", "d", "e"]);
    }

    #[test]
    fn first_delimiter_splits() {
        let doc = parse("[a]\na=b:c\nurl: http://x\nB = c=d\nk  =  \n");
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[("a", "b:c"), ("url", "http://x"), ("b", "c=d"), ("k", "")])
        );
    }

    #[test]
    fn keys_lowercased_and_trimmed_values_keep_quotes() {
        let doc = parse("[a]\n  KEY  Two   =  v  \nÄ=2\nq=\"x y\"\nr='z'\n");
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[
                ("key  two", "v"),
                ("ä", "2"),
                ("q", "\"x y\""),
                ("r", "'z'")
            ])
        );
    }

    #[test]
    fn python_whitespace_is_stripped() {
        // U+001C and U+00A0 are whitespace to Python's `strip()`.
        let doc = parse("[a]\nk=1\u{1c}\nj=\u{a0}x\u{a0}\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "1"), ("j", "x")]));
    }

    #[test]
    fn continuation_lines() {
        let doc = parse("[a]\nk=1\n  x\n  ;c\n\n  y\n\n\n[b]\nk=\n  x\n[c]\nk=1\n   \n  x\n");
        assert_eq!(value(&doc, "a", "k"), "1\nx\n\ny");
        assert_eq!(value(&doc, "b", "k"), "\nx");
        assert_eq!(value(&doc, "c", "k"), "1\n\nx");
    }

    #[test]
    fn continuation_drops_inline_comment_and_trailing_blanks() {
        let doc = parse("[a]\nk=1\n  x ;c\n\n\n  \n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "1\nx")]));
    }

    #[test]
    fn continuation_can_look_like_anything() {
        let doc = parse("[a]\nk=1\n  x\n  [b]\nj=2\n  [c]\n");
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[("k", "1\nx\n[b]"), ("j", "2\n[c]")])
        );
        assert_eq!(doc.sections().len(), 1);
    }

    #[test]
    fn indentation_counts_characters() {
        // A tab is one character of indentation, as is U+3000.
        let doc = parse("[a]\nk=1\n\tx\n[b]\n\u{3000}k=1\n  x\n");
        assert_eq!(value(&doc, "a", "k"), "1\nx");
        assert_eq!(value(&doc, "b", "k"), "1\nx");
        let err = error(b"[a]\n k=1\n\tx\n");
        assert_eq!(
            err,
            IniError::Parsing {
                file: "t.conf".into(),
                lines: vec![(3, "\tx\n".into())],
                more: 0,
            }
        );
    }

    #[test]
    fn indented_line_after_header_is_a_key_line() {
        let doc = parse("[a]\n  k=1\n    x\n  j=2\n[b]\n  x=2\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "1\nx"), ("j", "2")]));
        assert_eq!(keys(&doc, "b"), pairs(&[("x", "2")]));

        let err = error(b"[a]\nk=1\n[b]\n  x\n");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\t[line  4]: '  x\\n'"
        );
    }

    #[test]
    fn section_names_kept_exactly() {
        let doc = parse("[ program:a ]\nk=1\n[Program:A]\nk=2\n[a]b]\nk=3\n[]]\nk=4\n");
        let names: Vec<_> = doc.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [" program:a ", "Program:A", "a]b", "]"]);
        assert!(doc.section("program:a").is_none());
        assert!(doc.section("program:A").is_none());
        assert_eq!(value(&doc, "a]b", "k"), "3");
    }

    #[test]
    fn empty_brackets_are_not_a_header() {
        let err = error(b"[a]\n[]\n");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\t[line  2]: '[]\\n'"
        );
        let err = error(b"[]\n");
        assert!(matches!(err, IniError::NoSectionHeaders { line: 1, .. }));
    }

    #[test]
    fn duplicate_sections_merge_within_a_file() {
        let doc = parse("[a]\nk=1\nj=2\n[b]\nz=0\n[a]\nk=3\nm=4\n");
        let names: Vec<_> = doc.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[("k", "3"), ("j", "2"), ("m", "4")])
        );
        let a = doc.section("a").expect("a");
        assert_eq!(a.line, 1);
        assert_eq!(a.entry("k").expect("k").line, 7);
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_position() {
        let doc = parse("[a]\nk=1\nj=2\nK=3\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "3"), ("j", "2")]));
    }

    #[test]
    fn files_merge_and_record_origins() {
        let mut doc = Document::new();
        doc.read("main.conf", b"[a]\nk=1\nj=2\n[DEFAULT]\nd=0\n", None)
            .expect("main parses");
        doc.read(
            "inc.conf",
            b"[a]\nk=9\nn=3\n[b]\nx=1\n[DEFAULT]\nd=5\ne=6\n",
            None,
        )
        .expect("include parses");

        assert_eq!(
            keys(&doc, "a"),
            pairs(&[("k", "9"), ("j", "2"), ("n", "3")])
        );
        assert_eq!(keys(&doc, "b"), pairs(&[("x", "1")]));
        let defaults: Vec<_> = doc
            .defaults()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(defaults, [("d", "5"), ("e", "6")]);

        let a = doc.section("a").expect("a");
        assert_eq!((&*a.file, a.line), ("main.conf", 1));
        let b = doc.section("b").expect("b");
        assert_eq!((&*b.file, b.line), ("inc.conf", 4));
        let k = a.entry("k").expect("k");
        assert_eq!((&*k.file, k.line), ("inc.conf", 2));
        let j = a.entry("j").expect("j");
        assert_eq!((&*j.file, j.line), ("main.conf", 3));
    }

    #[test]
    fn a_file_cannot_continue_the_previous_files_value() {
        let mut doc = Document::new();
        doc.read("main.conf", b"[a]\nk=1\n", None)
            .expect("main parses");
        let err = doc.read("inc.conf", b"  x\n", None).expect_err("no header");
        assert_eq!(
            err.to_string(),
            "File contains no section headers.\nfile: 'inc.conf', line: 1\n'  x\\n'"
        );
    }

    #[test]
    fn defaults_section() {
        let doc = parse("[DEFAULT]\nd=1\n[DEFAULT]\ne=2\n[a]\nd=3\n[b]\n");
        assert!(doc.section("DEFAULT").is_none());
        assert_eq!(doc.sections().len(), 2);
        assert_eq!(doc.defaults().len(), 2);
        assert_eq!(value(&doc, "a", "d"), "3");
        assert_eq!(value(&doc, "a", "e"), "2");
        assert_eq!(value(&doc, "b", "d"), "1");
        assert!(doc.get("b", "x").is_none());
        assert!(doc.section("b").expect("b").entry("d").is_none());
    }

    #[test]
    fn no_section_headers_message() {
        let err = error(b"k=v\n[a]\n");
        assert_eq!(
            err.to_string(),
            "File contains no section headers.\nfile: 't.conf', line: 1\n'k=v\\n'"
        );
        // Blank and comment lines come first; the last line has no newline.
        let err = error(b"\n; c\nk=v");
        assert_eq!(
            err.to_string(),
            "File contains no section headers.\nfile: 't.conf', line: 3\n'k=v'"
        );
    }

    #[test]
    fn parsing_errors_listed_with_python_layout() {
        let err = error(b"[a]\ngarbage\nk=1\n  x\n=v\n  y\n\n\n\n\n\n\nbad\n[]\n");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\
             \t[line  2]: 'garbage\\n'\n\
             \t[line  5]: '=v\\n'\n\
             \t[line  6]: '  y\\n'\n\
             \t[line 13]: 'bad\\n'\n\
             \t[line 14]: '[]\\n'"
        );
    }

    #[test]
    fn parsing_errors_beyond_the_first_hundred_are_counted() {
        let text = format!("[a]\n{}", "bad\n".repeat(MAX_LISTED_BAD_LINES + 5));
        let err = error(text.as_bytes());
        let shown = err.to_string();
        assert_eq!(shown.lines().count(), 1 + MAX_LISTED_BAD_LINES + 1);
        assert!(shown.contains("\t[line 101]: 'bad\\n'"), "{shown}");
        assert!(!shown.contains("[line 102]"), "{shown}");
        assert!(
            shown.ends_with("\n\t... and 5 more lines that cannot be parsed"),
            "{shown}"
        );
    }

    #[test]
    fn parsing_error_line_shown_with_python_quotes() {
        let err = error(b"[a]\nk=\"it's\"\nit's\nbad");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\t[line  3]: \"it's\\n\"\n\t[line  4]: 'bad'"
        );
    }

    #[test]
    fn bad_line_keeps_the_current_option() {
        // Python leaves the option open, so the deeper line still continues it.
        let mut doc = Document::new();
        let err = doc
            .read("t.conf", b"[a]\nk=1\ngarbage\n  x\n", None)
            .expect_err("fails");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\t[line  3]: 'garbage\\n'"
        );
        assert_eq!(value(&doc, "a", "k"), "1\nx");
    }

    #[test]
    fn empty_key_is_an_error_and_not_stored() {
        let mut doc = Document::new();
        let err = doc
            .read("t.conf", b"[a]\n=v\n  y\n : w\n", None)
            .expect_err("fails");
        assert_eq!(
            err,
            IniError::Parsing {
                file: "t.conf".into(),
                lines: vec![
                    (2, "=v\n".into()),
                    (3, "  y\n".into()),
                    (4, " : w\n".into())
                ],
                more: 0,
            }
        );
        assert!(doc.section("a").expect("a").entries().is_empty());
    }

    #[test]
    fn non_ascii_text() {
        let doc = parse("[a]\n; 中文注释\nk=值 ; 注释\nname=café\n# コメント\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "值"), ("name", "café")]));
    }

    #[test]
    fn line_endings() {
        let doc = parse("[a]\r\nk=1\r\n  x\r\nj=2\rm=3\r\n\r\n");
        assert_eq!(
            keys(&doc, "a"),
            pairs(&[("k", "1\nx"), ("j", "2"), ("m", "3")])
        );
        // Errors show the line with `\n`, as Python's universal newlines do.
        let err = error(b"[a]\r\nk=1\r\nbad\r\nworse\r");
        assert_eq!(
            err.to_string(),
            "Source contains parsing errors: 't.conf'\n\t[line  3]: 'bad\\n'\n\t[line  4]: 'worse\\n'"
        );
    }

    #[test]
    fn byte_order_mark_ignored() {
        let mut doc = Document::new();
        doc.read("t.conf", b"\xEF\xBB\xBF[a]\nk=1\n", None)
            .expect("parses");
        assert_eq!(value(&doc, "a", "k"), "1");
        // Only at the very start: elsewhere it is an ordinary character.
        let doc = parse("[a]\n\u{feff}k=1\n");
        assert_eq!(keys(&doc, "a"), pairs(&[("\u{feff}k", "1")]));
    }

    #[test]
    fn invalid_utf8_in_comments_is_fine() {
        let mut doc = Document::new();
        doc.read(
            "t.conf",
            b"# caf\xe9\n[a]\nk=1 ; caf\xe9\n  ;\xff\xfe\n",
            None,
        )
        .expect("parses");
        assert_eq!(keys(&doc, "a"), pairs(&[("k", "1")]));
    }

    #[test]
    fn invalid_utf8_outside_comments_is_an_error() {
        let err = error(b"[a]\nk=1\nname=caf\xe9\n");
        assert_eq!(
            err,
            IniError::Encoding {
                file: "t.conf".into(),
                line: 3,
            }
        );
        assert_eq!(
            err.to_string(),
            "'t.conf', line 3: the text is not valid UTF-8; save the file as UTF-8"
        );
        // Not preceded by whitespace, so the `;` does not start a comment.
        let err = error(b"[a]\nk=a\xff;c\n");
        assert_eq!(
            err,
            IniError::Encoding {
                file: "t.conf".into(),
                line: 2
            }
        );
        // Reported even before a section header would be required.
        let err = error(b"\xff\n");
        assert_eq!(
            err,
            IniError::Encoding {
                file: "t.conf".into(),
                line: 1
            }
        );
    }

    #[test]
    fn literal_replacement_character_is_fine() {
        let doc = parse("[a]\nk=\u{fffd}\n");
        assert_eq!(value(&doc, "a", "k"), "\u{fffd}");
    }

    #[test]
    fn here_replaced_only_in_values_of_that_file() {
        let mut doc = Document::new();
        doc.read(
            "main.conf",
            b"[DEFAULT]\nd=%(here)s/d\n[a]\nk=%(here)s/x\n  %(here)s/y\nkeep=%(here)s\n[%(here)s]\nz=%(here)\n",
            Some("/etc/sv"),
        )
        .expect("main parses");
        doc.read("one.conf", b"[b]\nk=%(here)s\n", None)
            .expect("one parses");
        doc.read("two.conf", b"[a]\nkeep=%(here)s/2\n", Some("/inc"))
            .expect("two parses");

        assert_eq!(value(&doc, "a", "d"), "/etc/sv/d");
        assert_eq!(value(&doc, "a", "k"), "/etc/sv/x\n/etc/sv/y");
        assert_eq!(value(&doc, "a", "keep"), "/inc/2");
        assert_eq!(value(&doc, "b", "k"), "%(here)s");
        // Only values: section names and near misses are left alone.
        assert_eq!(value(&doc, "%(here)s", "z"), "%(here)");
    }

    #[test]
    fn here_replaced_after_trailing_blanks_dropped() {
        let mut doc = Document::new();
        doc.read("t.conf", b"[a]\nk=%(here)s\n\n", Some("/d "))
            .expect("parses");
        assert_eq!(value(&doc, "a", "k"), "/d ");
    }

    #[test]
    fn never_panics() {
        // Every short string over an alphabet of the characters that matter.
        let alphabet: &[&[u8]] = &[
            b"[",
            b"]",
            b"=",
            b":",
            b";",
            b"#",
            b" ",
            b"\n",
            b"\r",
            b"a",
            b"\xff",
            b"\xe4\xb8",
        ];
        let n = alphabet.len();
        for len in 0..=4u32 {
            for mut code in 0..n.pow(len) {
                let mut text = Vec::new();
                for _ in 0..len {
                    text.extend_from_slice(alphabet[code % n]);
                    code /= n;
                }
                let mut doc = Document::new();
                let _ = doc.read("t.conf", b"[s]\nk=v\n", None);
                let result = doc.read("t.conf", &text, Some("/h"));
                if let Err(err) = result {
                    let _ = err.to_string();
                }
            }
        }
    }
}
