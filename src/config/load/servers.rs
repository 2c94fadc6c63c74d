//! The HTTP servers, `[rpcinterface:x]` and `[supervisorctl]`.

use super::*;

impl<'a> Loader<'a> {
    pub(super) fn rpcinterfaces(
        &self,
        env_names: &Names,
        messages: &mut Messages,
    ) -> Result<Vec<RpcInterface>> {
        let mut out = Vec::new();
        for section in self.doc.sections() {
            let Some(name) = section.name.strip_prefix("rpcinterface:") else {
                continue;
            };
            let s = self.section(&section.name);
            let Some(factory) = s.optional(RPC_FACTORY_KEY, env_names)? else {
                return Err(s.error(
                    None,
                    &format!(
                        "section [{}] does not specify a {RPC_FACTORY_KEY}",
                        section.name
                    ),
                ));
            };
            if factory.trim() != MAIN_RPC_FACTORY {
                // A third-party Python plugin: Supervisor would import it; we
                // cannot, and refusing the whole config over it helps nobody.
                messages.warnings.push(format!(
                    "[{}] names the Python plugin {factory}, which this supervisord cannot \
                     load; the section is ignored (file: {})",
                    section.name,
                    repr(&section.file)
                ));
                continue;
            }
            let mut options = Vec::new();
            for e in section.entries() {
                if e.key != RPC_FACTORY_KEY {
                    let v = s.expand_entry(e, env_names, &format!("{}.{}", section.name, e.key))?;
                    options.push((e.key.clone(), v));
                }
            }
            out.push(RpcInterface {
                name: name.to_string(),
                options,
            });
        }
        Ok(out)
    }

    pub(super) fn servers(
        &self,
        env_names: &Names,
    ) -> Result<(Vec<InetHttpServer>, Vec<UnixHttpServer>)> {
        let mut inet = Vec::new();
        let mut unix = Vec::new();
        for section in self.doc.sections() {
            let name = section.name.as_str();
            if name.starts_with("inet_http_server") {
                let s = self.section(name);
                let auth = s.credentials(env_names)?;
                let Some(port) = s.optional("port", env_names)? else {
                    return Err(s.error(None, &format!("section [{name}] has no port value")));
                };
                let (host, port) =
                    dt::port_spec(&port).map_err(|m| s.error(s.entry("port"), &m))?;
                let refuse_get_actions =
                    s.typed("refuse_get_actions", "false", env_names, dt::boolean)?;
                inet.push(InetHttpServer {
                    section: name.to_string(),
                    host,
                    port,
                    auth,
                    refuse_get_actions,
                });
            }
        }
        let file_names = self.with_here(env_names);
        for section in self.doc.sections() {
            let name = section.name.as_str();
            if name.starts_with("unix_http_server") {
                let s = self.section(name);
                let Some(file) = s.optional("file", &file_names)? else {
                    return Err(s.error(None, &format!("section [{name}] has no file value")));
                };
                let file = absolute(&self.host.cwd, &dt::expand_user(file.trim()));
                let auth = s.credentials(env_names)?;
                let chown = match s.optional("chown", env_names)? {
                    Some(v) => Some(dt::user_group(&v).ok_or_else(|| {
                        s.error(s.entry("chown"), &format!("Invalid sockchown value {v}"))
                    })?),
                    None => None,
                };
                let chmod = match s.optional("chmod", env_names)? {
                    Some(v) => dt::octal(&v).map_err(|_| {
                        s.error(s.entry("chmod"), &format!("Invalid chmod value {v}"))
                    })?,
                    None => 0o700,
                };
                let refuse_get_actions =
                    s.typed("refuse_get_actions", "false", env_names, dt::boolean)?;
                unix.push(UnixHttpServer {
                    section: name.to_string(),
                    file,
                    chmod,
                    chown,
                    auth,
                    refuse_get_actions,
                });
            }
        }
        Ok((inet, unix))
    }

    pub(super) fn ctl(&self, env_names: &Names) -> Result<Ctl> {
        if self.doc.section("supervisorctl").is_none() {
            return Err(ConfigError(
                ".ini file does not include supervisorctl section".into(),
            ));
        }
        let s = self.section("supervisorctl");
        let with_here = self.with_here(env_names);
        let defaults = Ctl::default();
        let mut serverurl = s.string("serverurl", &defaults.serverurl, &with_here)?;
        if let Some(path) = serverurl.strip_prefix("unix://") {
            let path = absolute(&self.host.cwd, &dt::expand_user(path));
            serverurl = format!("unix://{}", path.display());
        }
        let history_file = s
            .optional("history_file", &with_here)?
            .filter(|h| !h.is_empty())
            .map(|h| absolute(&self.host.cwd, &dt::expand_user(&h)));
        Ok(Ctl {
            serverurl,
            username: s.optional("username", env_names)?,
            password: s.optional("password", env_names)?,
            prompt: s.string("prompt", &defaults.prompt, env_names)?,
            history_file,
        })
    }
}
