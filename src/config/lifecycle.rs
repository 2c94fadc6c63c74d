//! The container lifecycle keys (our extension; none is in Supervisor):
//! `essential`, `depends_on`, `healthcheck*`, `restart_when_unhealthy`,
//! `backoff`, `backoff_max`, `startretries=infinite`, `fatal_retry_after`,
//! and in `[supervisord]` `exit_when_done` and `shutdown_timeout`. Parsing
//! of their values, and the checks across programs (unknown names, cycles,
//! order against priorities).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// The longest duration a lifecycle key accepts (a day), so that deadline
/// arithmetic can never overflow.
pub const MAX_SECONDS: f64 = 86_400.0;

/// What a dependent waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The dependency reached RUNNING (it stayed up for `startsecs`).
    Running,
    /// Its health check passes.
    Healthy,
    /// It exited with an expected exit code (a one-shot).
    Completed,
}

impl Condition {
    pub fn name(self) -> &'static str {
        match self {
            Condition::Running => "running",
            Condition::Healthy => "healthy",
            Condition::Completed => "completed",
        }
    }
}

/// One `depends_on` entry: a program or group name and its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub condition: Condition,
}

/// `depends_on = NAME[:CONDITION] …`, separated by spaces or commas.
pub fn parse_depends_on(value: &str) -> Result<Vec<Dependency>, String> {
    let mut deps: Vec<Dependency> = Vec::new();
    for item in value
        .split([' ', ',', '\t', '\n'])
        .filter(|s| !s.is_empty())
    {
        let (name, condition) = match item.split_once(':') {
            None => (item, Condition::Running),
            Some((name, "running")) => (name, Condition::Running),
            Some((name, "healthy")) => (name, Condition::Healthy),
            Some((name, "completed")) => (name, Condition::Completed),
            Some((_, other)) => {
                return Err(format!(
                    "unknown condition {other:?} in {item:?}: use running, healthy or completed"
                ))
            }
        };
        if name.is_empty() {
            return Err(format!("no program or group name in {item:?}"));
        }
        if deps.iter().any(|d| d.name == name) {
            return Err(format!("{name:?} is listed twice"));
        }
        deps.push(Dependency {
            name: name.to_string(),
            condition,
        });
    }
    Ok(deps)
}

/// How a health check probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckTarget {
    /// A command line, split and looked up like `command=`; healthy when it
    /// exits 0.
    Command(String),
    /// `http://HOST:PORT/PATH`: healthy on a 2xx or 3xx answer.
    Http {
        addr: SocketAddr,
        host: String,
        path: String,
    },
    /// `tcp://HOST:PORT`: healthy when a connection opens.
    Tcp { addr: SocketAddr },
}

/// `healthcheck=` and its timing keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub target: CheckTarget,
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures before unhealthy.
    pub retries: u32,
    /// Failures during this time after a start do not count.
    pub start_period: Duration,
}

/// `healthcheck=`: a URL of the two schemes we probe ourselves, else a
/// command line. A host name is resolved here, once, at load time: the
/// event loop never waits for a name lookup.
pub fn parse_check_target(value: &str) -> Result<CheckTarget, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("is empty: give a command, http://HOST:PORT/PATH or tcp://HOST:PORT".into());
    }
    if let Some(rest) = value.strip_prefix("tcp://") {
        let (addr, _) = resolve(rest.trim_end_matches('/'))?;
        return Ok(CheckTarget::Tcp { addr });
    }
    if let Some(rest) = value.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(format!(
                "the path of {value:?} has spaces or control characters"
            ));
        }
        let (addr, host) = resolve(authority)?;
        return Ok(CheckTarget::Http {
            addr,
            host,
            path: path.to_string(),
        });
    }
    if value.starts_with("https://") {
        return Err(
            "https:// checks are not supported: use a command (e.g. curl) or tcp://".into(),
        );
    }
    Ok(CheckTarget::Command(value.to_string()))
}

/// `HOST:PORT` (`[v6]:PORT` too) to an address, and the host as written.
fn resolve(authority: &str) -> Result<(SocketAddr, String), String> {
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| format!("{authority:?} has no :PORT"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{port:?} is not a port number"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok((SocketAddr::new(ip, port), host.to_string()));
    }
    let addr = (bare, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("cannot resolve the host {bare:?}; use an IP address"))?;
    Ok((addr, host.to_string()))
}

/// A number of seconds, fractions allowed (`0.5`), from 0 to [`MAX_SECONDS`].
pub fn seconds(value: &str) -> Result<Duration, String> {
    let n: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("{value:?} is not a number of seconds"));
    }
    if n > MAX_SECONDS {
        return Err(format!(
            "{value:?} is more than a day ({MAX_SECONDS} seconds)"
        ));
    }
    Ok(Duration::from_secs_f64(n))
}

/// How the delay between restarts grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backoff {
    /// Supervisor's: 1, 2, 3 … seconds.
    #[default]
    Linear,
    /// 1, 2, 4, 8 … seconds, capped by `backoff_max`.
    Exponential,
}

pub fn backoff(value: &str) -> Result<Backoff, String> {
    match value.trim() {
        "linear" => Ok(Backoff::Linear),
        "exponential" => Ok(Backoff::Exponential),
        other => Err(format!("{other:?} is not linear or exponential")),
    }
}

/// Restart behaviour beyond Supervisor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestartPolicy {
    pub backoff: Backoff,
    /// Caps the delay; also how long a process must stay up before its
    /// count of quick failures starts again (60 s when unset).
    pub backoff_max: Option<Duration>,
    /// `startretries=infinite`: never FATAL for too many quick failures.
    pub infinite_retries: bool,
    /// Start a FATAL process again after this long.
    pub fatal_retry_after: Option<Duration>,
}

impl RestartPolicy {
    /// How long a run must last to count as a success for the backoff.
    pub fn reset_after(&self) -> Duration {
        self.backoff_max.unwrap_or(Duration::from_secs(60))
    }

    /// The delay before retry number `tries` (1 for the first retry).
    pub fn delay(&self, tries: u32) -> Duration {
        let tries = tries.max(1);
        let delay = match self.backoff {
            Backoff::Linear => Duration::from_secs(u64::from(tries)),
            Backoff::Exponential => Duration::from_secs(1u64 << (tries - 1).min(20)),
        };
        match self.backoff_max {
            Some(max) => delay.min(max),
            None if self.backoff == Backoff::Exponential => delay.min(Duration::from_secs(60)),
            None => delay,
        }
    }
}

/// A program as the cross-program checks see it.
pub struct Node<'a> {
    pub program: &'a str,
    pub group: &'a str,
    pub priority: i64,
    pub depends_on: &'a [Dependency],
    pub has_healthcheck: bool,
}

/// What a `depends_on` name stands for: the programs of that name, or of the
/// group of that name.
fn targets<'a>(nodes: &'a [Node<'a>], name: &str) -> Vec<usize> {
    (0..nodes.len())
        .filter(|&i| nodes[i].program == name || nodes[i].group == name)
        .collect()
}

/// Unknown names and cycles are errors (the cycle is named: `a -> b -> a`);
/// a dependency that starts after its dependent by priority is a warning,
/// returned for the caller to log.
pub fn check_dependencies(nodes: &[Node<'_>]) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for node in nodes {
        for dep in node.depends_on {
            let found = targets(nodes, &dep.name);
            if found.is_empty() {
                return Err(format!(
                    "program {:?} depends on {:?}, which is not a program or group",
                    node.program, dep.name
                ));
            }
            if found.iter().any(|&i| nodes[i].program == node.program) {
                return Err(format!("program {:?} depends on itself", node.program));
            }
            for &i in &found {
                if dep.condition == Condition::Healthy && !nodes[i].has_healthcheck {
                    warnings.push(format!(
                        "program {:?} depends on {:?} being healthy, but it has no \
                         healthcheck: it counts as healthy once it is running",
                        node.program, nodes[i].program
                    ));
                }
                if nodes[i].priority > node.priority {
                    warnings.push(format!(
                        "program {:?} depends on {:?}, whose priority ({}) makes it start \
                         later and stop earlier; the dependency wins: it starts first and \
                         stops last",
                        node.program, nodes[i].program, nodes[i].priority
                    ));
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(nodes) {
        return Err(format!("depends_on makes a cycle: {}", cycle.join(" -> ")));
    }
    warnings.dedup();
    Ok(warnings)
}

/// A cycle among programs, by depth-first search (white/grey/black).
fn find_cycle(nodes: &[Node<'_>]) -> Option<Vec<String>> {
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            let mut out: Vec<usize> = n
                .depends_on
                .iter()
                .flat_map(|d| targets(nodes, &d.name))
                .collect();
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut color = vec![0u8; nodes.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..nodes.len() {
        if color[start] != 0 {
            continue;
        }
        // An explicit stack of (node, next edge): no recursion on input.
        let mut stack = vec![(start, 0usize)];
        color[start] = 1;
        path.push(start);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match color[to] {
                    0 => {
                        color[to] = 1;
                        path.push(to);
                        stack.push((to, 0));
                    }
                    1 => {
                        let from = path.iter().position(|&n| n == to).unwrap_or(0);
                        let mut cycle: Vec<String> = path[from..]
                            .iter()
                            .map(|&n| nodes[n].program.to_string())
                            .collect();
                        cycle.push(nodes[to].program.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                color[node] = 2;
                path.pop();
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, condition: Condition) -> Dependency {
        Dependency {
            name: name.into(),
            condition,
        }
    }

    #[test]
    fn depends_on_lists() {
        assert_eq!(
            parse_depends_on("db:healthy, migrate:completed cache").unwrap(),
            vec![
                dep("db", Condition::Healthy),
                dep("migrate", Condition::Completed),
                dep("cache", Condition::Running)
            ]
        );
        assert_eq!(parse_depends_on("  ").unwrap(), vec![]);
        assert!(parse_depends_on("db:ready")
            .unwrap_err()
            .contains("running, healthy"));
        assert!(parse_depends_on(":healthy").is_err());
        assert!(parse_depends_on("db db:healthy")
            .unwrap_err()
            .contains("twice"));
    }

    #[test]
    fn check_targets() {
        assert_eq!(
            parse_check_target("tcp://127.0.0.1:5432").unwrap(),
            CheckTarget::Tcp {
                addr: "127.0.0.1:5432".parse().unwrap()
            }
        );
        assert_eq!(
            parse_check_target("http://127.0.0.1:8080/health?x=1").unwrap(),
            CheckTarget::Http {
                addr: "127.0.0.1:8080".parse().unwrap(),
                host: "127.0.0.1".into(),
                path: "/health?x=1".into()
            }
        );
        assert!(matches!(
            parse_check_target("http://[::1]:80").unwrap(),
            CheckTarget::Http { path, .. } if path == "/"
        ));
        assert!(matches!(
            parse_check_target("http://localhost:80/").unwrap(),
            CheckTarget::Http { host, .. } if host == "localhost"
        ));
        assert_eq!(
            parse_check_target("pg_isready -q").unwrap(),
            CheckTarget::Command("pg_isready -q".into())
        );
        assert!(parse_check_target("tcp://127.0.0.1").is_err());
        assert!(parse_check_target("tcp://127.0.0.1:0").is_err());
        assert!(parse_check_target("https://x:1/").is_err());
        assert!(parse_check_target("").is_err());
    }

    #[test]
    fn seconds_take_fractions_within_a_day() {
        assert_eq!(seconds("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(seconds("10").unwrap(), Duration::from_secs(10));
        for bad in ["-1", "x", "inf", "NaN", "100000"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_delays() {
        let linear = RestartPolicy::default();
        let d: Vec<u64> = (1..=5).map(|t| linear.delay(t).as_secs()).collect();
        assert_eq!(d, [1, 2, 3, 4, 5]);
        let exp = RestartPolicy {
            backoff: Backoff::Exponential,
            backoff_max: Some(Duration::from_secs(5)),
            ..Default::default()
        };
        let d: Vec<u64> = (1..=6).map(|t| exp.delay(t).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5, 5]);
        let uncapped = RestartPolicy {
            backoff: Backoff::Exponential,
            ..Default::default()
        };
        assert_eq!(uncapped.delay(64), Duration::from_secs(60));
        assert_eq!(uncapped.reset_after(), Duration::from_secs(60));
    }

    fn node<'a>(program: &'a str, priority: i64, deps: &'a [Dependency]) -> Node<'a> {
        Node {
            program,
            group: program,
            priority,
            depends_on: deps,
            has_healthcheck: false,
        }
    }

    #[test]
    fn dependency_checks() {
        let on_b = [dep("b", Condition::Running)];
        let on_a = [dep("a", Condition::Running)];
        let on_c = [dep("c", Condition::Running)];
        let on_x = [dep("x", Condition::Running)];
        let cycle = check_dependencies(&[
            node("a", 1, &on_b),
            node("b", 1, &on_c),
            node("c", 1, &on_a),
        ])
        .unwrap_err();
        assert_eq!(cycle, "depends_on makes a cycle: a -> b -> c -> a");
        assert!(check_dependencies(&[node("a", 1, &on_x)])
            .unwrap_err()
            .contains("\"x\", which is not a program or group"));
        assert!(check_dependencies(&[node("a", 1, &on_a)])
            .unwrap_err()
            .contains("depends on itself"));
        assert_eq!(
            check_dependencies(&[node("a", 10, &on_b), node("b", 1, &[])]).unwrap(),
            Vec::<String>::new()
        );
        let warnings = check_dependencies(&[node("a", 1, &on_b), node("b", 10, &[])]).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
}
