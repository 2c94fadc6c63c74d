//! One section being read: keys with the `[DEFAULT]` fallback, expansion
//! under the size budget, typed values, and errors that name the file, the
//! section, the line and the key.

use super::*;

/// One section being read: finds keys (with `[DEFAULT]` fallback) and words errors.
pub(in crate::config) struct SectionCtx<'a> {
    doc: &'a Document,
    name: &'a str,
    file: &'a str,
    /// What expanded values may still add up to.
    budget: &'a Budget,
}

impl<'a> SectionCtx<'a> {
    pub(in crate::config) fn new(
        doc: &'a Document,
        name: &'a str,
        file: &'a str,
        budget: &'a Budget,
    ) -> Self {
        SectionCtx {
            doc,
            name,
            file,
            budget,
        }
    }

    pub(in crate::config) fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.doc.get(self.name, key)
    }

    /// An error about this section; with the entry, also its file, line and key.
    pub(in crate::config) fn error(&self, entry: Option<&Entry>, message: &str) -> ConfigError {
        ConfigError(match entry {
            Some(e) => format!(
                "{message} in section {} (file: {}, line {}, key {})",
                repr(self.name),
                repr(&e.file),
                e.line,
                repr(&e.key)
            ),
            None => format!(
                "{message} in section {} (file: {})",
                repr(self.name),
                repr(self.file)
            ),
        })
    }

    pub(in crate::config) fn expand_entry(
        &self,
        entry: &Entry,
        names: &Names,
        option: &str,
    ) -> Result<String> {
        self.expand_text(&entry.value, Some(entry), names, option)
    }

    pub(in crate::config) fn expand_text(
        &self,
        text: &str,
        entry: Option<&Entry>,
        names: &Names,
        option: &str,
    ) -> Result<String> {
        let limit = limits::MAX_VALUE_BYTES.min(self.budget.left());
        let expanded = expand::expand_within(text, names, limit).map_err(|e| {
            let message = match e {
                ExpandError::TooLong(_) if limit < limits::MAX_VALUE_BYTES => {
                    limits::budget_exhausted()
                }
                ExpandError::TooLong(limit) => format!(
                    "Format string {} for {} expands to more than {}, the most one value may \
                     hold; shorten it or the widths of its %(name) fields",
                    repr(&limits::preview(text)),
                    repr(option),
                    limits::size_text(limit as u64)
                ),
                ExpandError::UnknownName(name) => format!(
                    "Format string {} for {} contains names ({}) which cannot be expanded. \
                     Available names: {}",
                    repr(text),
                    repr(option),
                    repr(&name),
                    names.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                ExpandError::BadFormat(reason) => format!(
                    "Format string {} for {} is badly formatted: {reason}",
                    repr(text),
                    repr(option)
                ),
            };
            self.error(entry, &message)
        })?;
        // Within the limit, so there is enough left.
        self.budget.take(expanded.len());
        Ok(expanded)
    }

    /// The pairs of the files `env_files=` lists (our extension), relative
    /// paths taken from the directory of the file the key is in.
    pub(in crate::config) fn env_files(
        &self,
        names: &Names,
        cwd: &Path,
    ) -> Result<Vec<(String, String)>> {
        let Some(e) = self.entry("env_files") else {
            return Ok(Vec::new());
        };
        let value = self.expand_entry(e, names, &format!("{}.env_files", self.name))?;
        let file = absolute(cwd, Path::new(&*e.file));
        let dir = file.parent().unwrap_or(cwd);
        let pairs =
            crate::config::env_file::read_all(&value, dir).map_err(|m| self.error(Some(e), &m))?;
        self.charge(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum())?;
        Ok(pairs)
    }

    /// Count `bytes` more of this section's values against the budget.
    pub(in crate::config) fn charge(&self, bytes: usize) -> Result<()> {
        if self.budget.take(bytes) {
            Ok(())
        } else {
            Err(self.error(None, &limits::budget_exhausted()))
        }
    }

    /// The expanded value of `key`, or of `default` when the key is absent.
    pub(in crate::config) fn string(
        &self,
        key: &str,
        default: &str,
        names: &Names,
    ) -> Result<String> {
        Ok(self
            .optional(key, names)?
            .unwrap_or_else(|| default.to_string()))
    }

    /// The expanded value of `key`, if present.
    pub(in crate::config) fn optional(&self, key: &str, names: &Names) -> Result<Option<String>> {
        match self.entry(key) {
            Some(e) => self
                .expand_entry(e, names, &format!("{}.{key}", self.name))
                .map(Some),
            None => Ok(None),
        }
    }

    /// `key` expanded and converted with `parse`; `default` goes through `parse` too.
    pub(in crate::config) fn typed<T>(
        &self,
        key: &str,
        default: &str,
        names: &Names,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let value = self.string(key, default, names)?;
        parse(&value).map_err(|msg| self.error(self.entry(key), &msg))
    }

    /// Like [`typed`](Self::typed) for keys without a default.
    pub(in crate::config) fn typed_optional<T>(
        &self,
        key: &str,
        names: &Names,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        match self.optional(key, names)? {
            Some(value) => parse(&value)
                .map(Some)
                .map_err(|msg| self.error(self.entry(key), &msg)),
            None => Ok(None),
        }
    }

    /// `username`/`password`: both or neither.
    pub(in crate::config) fn credentials(&self, names: &Names) -> Result<Option<Credentials>> {
        let username = self.optional("username", names)?;
        let password = self.optional("password", names)?;
        let readonly = self.readonly_credentials(names)?;
        match (username, password) {
            (Some(username), Some(password)) => Ok(Some(Credentials {
                username,
                password,
                open_probes: self.typed("probes_without_auth", "false", names, dt::boolean)?,
                readonly,
            })),
            (None, None) if readonly.is_some() => Err(self.error(
                self.entry("readonly_username"),
                &format!(
                    "Section [{}] has a read-only login but no username and password: \
                     without them everyone may do everything",
                    self.name
                ),
            )),
            (None, None) => Ok(None),
            _ => Err(self.error(
                self.entry("username").or_else(|| self.entry("password")),
                &format!(
                    "Section [{}] contains incomplete authentication: If a username or a \
                     password is specified, both the username and password must be specified",
                    self.name
                ),
            )),
        }
    }

    /// `readonly_username` and `readonly_password`: both or neither.
    fn readonly_credentials(&self, names: &Names) -> Result<Option<(String, String)>> {
        let username = self.optional("readonly_username", names)?;
        let password = self.optional("readonly_password", names)?;
        match (username, password) {
            (Some(u), Some(p)) => Ok(Some((u, p))),
            (None, None) => Ok(None),
            _ => Err(self.error(
                self.entry("readonly_username")
                    .or_else(|| self.entry("readonly_password")),
                &format!(
                    "Section [{}] contains an incomplete read-only login: both \
                     readonly_username and readonly_password must be specified",
                    self.name
                ),
            )),
        }
    }
}
