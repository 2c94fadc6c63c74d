//! Process groups: `[group:x]`, `[program:x]` on its own and
//! `[eventlistener:x]` pools, and the checks across them.

use super::*;
use crate::config::ini::Section;
use crate::config::lifecycle;
use crate::config::EventType;

/// What every section's processes are built from.
#[derive(Clone, Copy)]
struct Build<'b> {
    env_names: &'b Names,
    supervisord: &'b Supervisord,
}

impl<'a> Loader<'a> {
    pub(super) fn process_groups(
        &self,
        env_names: &Names,
        supervisord: &Supervisord,
        messages: &mut Messages,
    ) -> Result<Vec<ProcessGroup>> {
        let sections = self.doc.sections();
        let mut groups = Vec::new();
        // Which [group:x] claimed each program section, to refuse a second claim.
        let mut claimed: HashMap<String, String> = HashMap::new();
        let build = Build {
            env_names,
            supervisord,
        };
        for section in sections {
            if let Some(raw_name) = section.name.strip_prefix("group:") {
                let group =
                    self.group_section(section, raw_name, &build, &mut claimed, messages)?;
                groups.push(group);
            }
        }
        for section in sections {
            if let Some(raw_name) = section.name.strip_prefix("program:") {
                if !claimed.contains_key(&section.name) {
                    groups.push(self.program_section(section, raw_name, &build, messages)?);
                }
            }
        }
        for section in sections {
            if let Some(raw_name) = section.name.strip_prefix("eventlistener:") {
                groups.push(self.listener_section(section, raw_name, &build, messages)?);
            }
        }
        if let Some(section) = sections
            .iter()
            .find(|s| s.name.starts_with("fcgi-program:"))
        {
            let s = self.section(&section.name);
            return Err(s.error(
                None,
                &format!(
                    "[{}]: FastCGI programs are not supported by this supervisord; run the \
                     FastCGI server as a [program:x] that opens its own socket",
                    section.name
                ),
            ));
        }

        refuse_name_collisions(self.doc, &groups)?;
        for group in &groups {
            if group.processes.is_empty() && group.kind == GroupKind::Programs {
                if let Some(section) = self.doc.section(&format!("program:{}", group.name)) {
                    messages.warnings.push(format!(
                        "[{}] has numprocs below 1, so it runs no process (file: {})",
                        section.name,
                        repr(&section.file)
                    ));
                }
            }
            if group.name.is_empty() {
                messages
                    .warnings
                    .push("A section has an empty name ([program:] or similar)".into());
            }
        }
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(groups)
    }

    /// `[group:x]`: the programs it lists, each claimed by this group only.
    fn group_section(
        &self,
        section: &'a Section,
        raw_name: &str,
        build: &Build<'_>,
        claimed: &mut HashMap<String, String>,
        messages: &mut Messages,
    ) -> Result<ProcessGroup> {
        let Build {
            env_names,
            supervisord,
        } = *build;
        let group_names = self.with_here(env_names);
        let has = |name: &str| self.doc.section(name).is_some();
        let s = self.section(&section.name);
        let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
        let programs = dt::list_of_strings(&s.string("programs", "", &group_names)?);
        let priority = s.typed("priority", "999", &group_names, dt::integer)?;
        let mut processes = Vec::new();
        for program in programs {
            let program_section = format!("program:{program}");
            let fcgi_section = format!("fcgi-program:{program}");
            let member = match (has(&program_section), has(&fcgi_section)) {
                (true, true) => {
                    return Err(s.error(
                        s.entry("programs"),
                        &format!(
                            "[{}] name {program} is ambiguous (exists as program and \
                             fcgi-program)",
                            section.name
                        ),
                    ))
                }
                (true, false) => program_section,
                (false, true) => fcgi_section,
                (false, false) => {
                    return Err(s.error(
                        s.entry("programs"),
                        &format!(
                            "[{}] names unknown program or fcgi-program {program}",
                            section.name
                        ),
                    ))
                }
            };
            // Supervisor runs such a program twice, once per group; almost
            // always a copy-paste slip, so we refuse it.
            if let Some(first) = claimed.insert(member.clone(), section.name.clone()) {
                return Err(s.error(
                    s.entry("programs"),
                    &format!(
                        "[{member}] is listed in both [{first}] and [{}]; a program can \
                         belong to one group only",
                        section.name
                    ),
                ));
            }
            processes.extend(self.processes(&member, &name, env_names, supervisord, messages)?);
        }
        Ok(ProcessGroup {
            name,
            section: section.name.clone(),
            priority,
            kind: GroupKind::Programs,
            processes,
        })
    }

    /// `[program:x]` not claimed by a `[group:x]`: a group of its own.
    fn program_section(
        &self,
        section: &'a Section,
        raw_name: &str,
        build: &Build<'_>,
        messages: &mut Messages,
    ) -> Result<ProcessGroup> {
        let Build {
            env_names,
            supervisord,
        } = *build;
        let group_names = self.with_here(env_names);
        let s = self.section(&section.name);
        let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
        let priority = s.typed("priority", "999", &group_names, dt::integer)?;
        let processes = self.processes(&section.name, &name, env_names, supervisord, messages)?;
        Ok(ProcessGroup {
            name,
            section: section.name.clone(),
            priority,
            kind: GroupKind::Programs,
            processes,
        })
    }

    /// `[eventlistener:x]`: a pool of listeners.
    fn listener_section(
        &self,
        section: &'a Section,
        raw_name: &str,
        build: &Build<'_>,
        messages: &mut Messages,
    ) -> Result<ProcessGroup> {
        let Build {
            env_names,
            supervisord,
        } = *build;
        let group_names = self.with_here(env_names);
        let s = self.section(&section.name);
        let name = dt::name(raw_name).map_err(|m| s.error(None, &m))?;
        let priority = s.typed("priority", "-1", &group_names, dt::integer)?;
        let buffer_size = s.typed("buffer_size", "10", &group_names, dt::integer)?;
        if buffer_size < 1 {
            return Err(s.error(
                s.entry("buffer_size"),
                &format!(
                    "[{}] section sets invalid buffer_size ({buffer_size})",
                    section.name
                ),
            ));
        }
        let handler = s.string("result_handler", DEFAULT_RESULT_HANDLER, &group_names)?;
        if handler.trim() != DEFAULT_RESULT_HANDLER {
            return Err(s.error(
                s.entry("result_handler"),
                &format!(
                    "{handler} cannot be resolved within [{}] (only \
                     {DEFAULT_RESULT_HANDLER} is built in)",
                    section.name
                ),
            ));
        }
        let listed = dt::list_of_strings(&s.string("events", "", &group_names)?);
        if listed.is_empty() {
            return Err(s.error(
                s.entry("events"),
                &format!("[{}] section requires an \"events\" line", section.name),
            ));
        }
        // Every name is checked before duplicates collapse, so the list
        // kept is at most the known types, however long the line.
        let mut events: Vec<EventType> = Vec::new();
        for event in listed {
            let event = event.to_uppercase();
            let Some(known) = EventType::parse(&event) else {
                return Err(s.error(
                    s.entry("events"),
                    &format!("Unknown event type {event} in [{}] events", section.name),
                ));
            };
            if !events.contains(&known) {
                events.push(known);
            }
        }
        if s.typed("redirect_stderr", "false", &group_names, dt::boolean)? {
            return Err(s.error(
                s.entry("redirect_stderr"),
                &format!(
                    "[{}] section sets redirect_stderr=true but this is not allowed \
                     because it will interfere with the eventlistener protocol",
                    section.name
                ),
            ));
        }
        let processes = self.processes(&section.name, &name, env_names, supervisord, messages)?;
        Ok(ProcessGroup {
            name,
            section: section.name.clone(),
            priority,
            kind: GroupKind::EventListenerPool(ListenerPool {
                events,
                buffer_size,
            }),
            processes,
        })
    }
}

/// Supervisor keys groups by name and silently drops all but the first of a
/// name; we refuse, naming both sections.
fn refuse_name_collisions(doc: &Document, groups: &[ProcessGroup]) -> Result<()> {
    let mut seen: BTreeMap<&str, &ProcessGroup> = BTreeMap::new();
    for group in groups {
        if let Some(first) = seen.insert(group.name.as_str(), group) {
            let file = doc
                .section(&group.section)
                .map(|s| &*s.file)
                .unwrap_or_default();
            // Worded like every other error: the usual section/file suffix.
            return Err(
                SectionCtx::new(doc, &group.section, file, &Budget::default()).error(
                    None,
                    &format!(
                        "[{}] and [{}] both define a process group named {}, and Supervisor \
                     would silently drop one of them; rename one",
                        first.section,
                        group.section,
                        repr(&group.name)
                    ),
                ),
            );
        }
    }
    Ok(())
}

impl Loader<'_> {
    /// `depends_on` across programs: unknown names and cycles are errors
    /// naming the section and key; a dependency that priorities would start
    /// later is a warning.
    pub(super) fn check_dependencies(
        &self,
        groups: &[ProcessGroup],
        messages: &mut Messages,
    ) -> Result<()> {
        let processes: Vec<&ProcessConfig> = groups.iter().flat_map(|g| &g.processes).collect();
        let nodes: Vec<lifecycle::Node> = processes
            .iter()
            .map(|p| lifecycle::Node {
                program: p.section.split_once(':').map_or("", |(_, n)| n),
                group: &p.group,
                priority: p.priority,
                depends_on: &p.lifecycle.depends_on,
                has_healthcheck: p.lifecycle.healthcheck.is_some(),
            })
            .collect();
        match lifecycle::check_dependencies(&nodes) {
            Ok(warnings) => {
                messages.warnings.extend(warnings);
                Ok(())
            }
            Err(message) => {
                // Name the first program whose depends_on is involved.
                let culprit = processes
                    .iter()
                    .find(|p| {
                        let program = p.section.split_once(':').map_or("", |(_, n)| n);
                        message.contains(&format!("{program:?}"))
                            || message.contains(&format!(": {program} ->"))
                    })
                    .or_else(|| {
                        processes
                            .iter()
                            .find(|p| !p.lifecycle.depends_on.is_empty())
                    });
                Err(match culprit {
                    Some(p) => {
                        let s = self.section(&p.section);
                        s.error(s.entry("depends_on"), &message)
                    }
                    None => ConfigError(message),
                })
            }
        }
    }
}
