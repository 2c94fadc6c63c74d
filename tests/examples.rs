//! The examples and the image's configuration: every configuration passes
//! `supervisord --check-config` without a warning about its keys, the
//! Kubernetes manifests and the compose file parse as YAML (with PyYAML) and
//! have the structure they promise, and their grace periods fit the longest
//! stop of the programs they run.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::BIN;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------- configurations

/// `supervisord --check-config -c conf` with `env` added: its stdout. Fails
/// on a non-zero exit or on any warning except a command that is not on
/// this machine (the programs run in an image, not here) and an empty
/// conf.d (the image alone).
fn check_config(conf: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new(BIN)
        .arg("--check-config")
        .arg("-c")
        .arg(conf)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{}: check-config failed:\n{stdout}{stderr}",
        conf.display()
    );
    for line in stderr.lines() {
        assert!(
            line.contains("can't find command") || line.contains("No file matches via include"),
            "{}: unexpected warning: {line}",
            conf.display()
        );
    }
    assert!(stdout.contains(": valid ("), "{stdout}");
    stdout
}

/// The image's /etc/supervisord.conf with its conf.d holding `files`
/// (name, text), checked as the image would load it.
fn check_image_config(files: &[(String, String)], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let conf_d = dir.path().join("conf.d");
    fs::create_dir(&conf_d).unwrap();
    for (name, text) in files {
        fs::write(conf_d.join(name), text).unwrap();
    }
    let image_conf = fs::read_to_string(root().join("container/supervisord.conf")).unwrap();
    assert!(
        image_conf.contains("files=/etc/supervisor/conf.d/*.conf"),
        "{image_conf}"
    );
    let conf = dir.path().join("supervisord.conf");
    fs::write(
        &conf,
        image_conf.replace("/etc/supervisor/conf.d", conf_d.to_str().unwrap()),
    )
    .unwrap();
    check_config(&conf, env)
}

/// `(name, text)` of every `*.conf` in `dir`, sorted.
fn conf_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// `section -> key -> value` of an INI text, values without their inline
/// comment (` ;` or ` #`). Enough for the examples' own files.
fn ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with(';') || line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            out.entry(section.clone()).or_default();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = [" ;", " #", "\t;", "\t#"]
            .iter()
            .filter_map(|c| value.find(c))
            .min()
            .map_or(value, |at| &value[..at]);
        out.entry(section.clone())
            .or_default()
            .insert(key.trim().to_string(), value.trim().to_string());
    }
    out
}

/// The longest orderly stop of the programs in `files`, in seconds: the
/// priority waves one after the other, each as long as its largest
/// `stopwaitsecs`, then up to 5 s for leftovers (supervisord as PID 1).
fn longest_stop(files: &[(String, String)]) -> u64 {
    let mut waves: BTreeMap<i64, u64> = BTreeMap::new();
    for (_, text) in files {
        for (section, keys) in ini(text) {
            if !section.starts_with("program:") {
                continue;
            }
            let priority = keys.get("priority").map_or(999, |p| p.parse().unwrap());
            let wait = keys.get("stopwaitsecs").map_or(10, |w| w.parse().unwrap());
            let wave = waves.entry(priority).or_default();
            *wave = (*wave).max(wait);
        }
    }
    assert!(!waves.is_empty(), "no programs");
    waves.values().sum::<u64>() + 5
}

/// The value of a `key=N` line in `text`.
fn key_number(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        l.trim()
            .strip_prefix(key)?
            .strip_prefix('=')?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

#[test]
fn every_example_configuration_is_valid() {
    let mut checked = 0;
    for entry in fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "conf") {
            check_config(&path, &[]);
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} configurations in examples/");
}

#[test]
fn image_configuration_is_valid_alone_and_for_the_container() {
    let out = check_image_config(&[], &[]);
    assert!(out.contains("valid (0 groups, 0 processes)"), "{out}");
    let conf = ini(&fs::read_to_string(root().join("container/supervisord.conf")).unwrap());
    let main = &conf["supervisord"];
    assert_eq!(main["nodaemon"], "true");
    assert_eq!(main["logfile"], "/dev/stdout");
    assert_eq!(main["logfile_maxbytes"], "0");
    assert_eq!(main["console_prefix"], "true");
    // Socket and pid file where a tmpfs makes a read-only root work.
    assert!(main["pidfile"].starts_with("/run/"), "{main:?}");
    let socket = &conf["unix_http_server"]["file"];
    assert!(socket.starts_with("/run/"), "{socket}");
    assert_eq!(
        conf["supervisorctl"]["serverurl"],
        format!("unix://{socket}")
    );
}

#[test]
fn docker_example_is_valid_in_the_image_and_stops_within_its_grace_period() {
    let files = conf_files(&root().join("examples/docker/conf.d"));
    let out = check_image_config(&files, &[]);
    assert!(out.contains("valid (2 groups, 2 processes)"), "{out}");
    for (name, text) in &files {
        for (section, keys) in ini(text) {
            if section.starts_with("program:") {
                assert_eq!(keys["stdout_logfile"], "/dev/stdout", "{name}");
                assert_eq!(keys["stdout_logfile_maxbytes"], "0", "{name}");
            }
        }
    }
    // The README's sum: 3 s + 5 s + 5 s; a shutdown_timeout below Docker's
    // default `docker stop -t 10`.
    assert_eq!(longest_stop(&files), 13);
    let shutdown = files.iter().find(|(n, _)| n == "shutdown.conf").unwrap();
    let timeout = key_number(&shutdown.1, "shutdown_timeout").expect("shutdown_timeout");
    assert!(timeout < 10, "{timeout}");
    let readme = fs::read_to_string(root().join("examples/docker/README.md")).unwrap();
    assert!(readme.contains("= 13 s"), "README's sum");
    assert!(readme.contains(&format!("shutdown_timeout={timeout}")));
    let dockerfile = fs::read_to_string(root().join("examples/docker/Dockerfile")).unwrap();
    assert!(dockerfile.lines().any(|l| l == "FROM supervisord"));
    assert!(dockerfile.contains("COPY conf.d/ /etc/supervisor/conf.d/"));
}

// ----------------------------------------------------------------- YAML

/// One YAML document, flattened: `path -> value as JSON`, with paths like
/// `spec.template.spec.containers[0].name`.
struct Doc {
    file: String,
    values: BTreeMap<String, String>,
}

impl Doc {
    fn raw(&self, path: &str) -> Option<&str> {
        self.values.get(path).map(String::as_str)
    }

    /// The string at `path`; fails if it is absent or not a string.
    fn str(&self, path: &str) -> String {
        let raw = self
            .raw(path)
            .unwrap_or_else(|| panic!("{}: no {path}", self.file));
        json_string(raw).unwrap_or_else(|| panic!("{}: {path} is {raw}, not a string", self.file))
    }

    /// The integer at `path`.
    fn int(&self, path: &str) -> i64 {
        let raw = self
            .raw(path)
            .unwrap_or_else(|| panic!("{}: no {path}", self.file));
        raw.parse()
            .unwrap_or_else(|_| panic!("{}: {path} is {raw}, not an integer", self.file))
    }

    fn kind(&self) -> String {
        self.str("kind")
    }

    fn name(&self) -> String {
        self.str("metadata.name")
    }

    /// How many items the list at `path` has.
    fn len(&self, path: &str) -> usize {
        let prefix = format!("{path}[");
        (0..)
            .take_while(|i| {
                let item = format!("{prefix}{i}]");
                self.values
                    .keys()
                    .any(|k| k == &item || k.starts_with(&format!("{item}.")))
            })
            .count()
    }

    /// Index of the item of the list at `path` whose `key` is `value`.
    fn find(&self, path: &str, key: &str, value: &str) -> Option<usize> {
        (0..self.len(path)).find(|i| {
            self.raw(&format!("{path}[{i}].{key}"))
                .and_then(json_string)
                .is_some_and(|v| v == value)
        })
    }
}

/// Decode a JSON string literal (what the flattener prints for strings).
fn json_string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// PyYAML in the test virtualenv, installed on first use.
fn python_with_yaml() -> PathBuf {
    let venv = common::python_venv();
    let python = venv.join("bin/python");
    let has_yaml = || {
        Command::new(&python)
            .args(["-c", "import yaml"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_yaml() {
        let lock = fs::File::create(root().join("target/interop-venv.lock")).unwrap();
        let _guard = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .unwrap();
        if !has_yaml() {
            let ok = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "PyYAML==6.0.3"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "could not install PyYAML into {}", venv.display());
        }
    }
    python
}

/// Prints every document of the YAML file argv[1], flattened, one
/// `document<TAB>path<TAB>JSON value` line per scalar; fails on bad YAML.
const FLATTEN: &str = r#"
import json, sys, yaml
def walk(path, value):
    if isinstance(value, dict):
        if not value:
            yield path, "{}"
        for key, item in value.items():
            yield from walk(f"{path}.{key}" if path else str(key), item)
    elif isinstance(value, list):
        if not value:
            yield path, "[]"
        for i, item in enumerate(value):
            yield from walk(f"{path}[{i}]", item)
    else:
        yield path, json.dumps(value)
with open(sys.argv[1]) as f:
    docs = [d for d in yaml.safe_load_all(f) if d is not None]
for n, doc in enumerate(docs):
    if not isinstance(doc, dict):
        sys.exit(f"document {n} is not a mapping")
    for path, value in walk("", doc):
        print(f"{n}\t{path}\t{value}")
"#;

/// The documents of a YAML file, parsed by PyYAML.
fn load_yaml(path: &Path) -> Vec<Doc> {
    let out = Command::new(python_with_yaml())
        .args(["-c", FLATTEN])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} does not parse as YAML: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut docs: Vec<Doc> = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut fields = line.splitn(3, '\t');
        let (n, key, value) = (
            fields.next().unwrap().parse::<usize>().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        while docs.len() <= n {
            docs.push(Doc {
                file: path.display().to_string(),
                values: BTreeMap::new(),
            });
        }
        docs[n].values.insert(key.to_string(), value.to_string());
    }
    assert!(!docs.is_empty(), "{}: no documents", path.display());
    docs
}

fn manifest(name: &str) -> Vec<Doc> {
    load_yaml(&root().join("examples/kubernetes").join(name))
}

fn one<'a>(docs: &'a [Doc], kind: &str) -> &'a Doc {
    let found: Vec<&Doc> = docs.iter().filter(|d| d.kind() == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

/// The `.conf` entries of a ConfigMap: (key, text).
fn configmap_confs(map: &Doc) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = map
        .values
        .keys()
        .filter_map(|k| k.strip_prefix("data."))
        .filter(|k| k.ends_with(".conf"))
        .map(|k| (k.to_string(), map.str(&format!("data.{k}"))))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "ConfigMap {} has no .conf", map.name());
    out
}

/// Checks every manifest shares: each document names its API and itself,
/// a Deployment's selector matches its pods' labels, and every ConfigMap
/// a volume names is in the same file.
fn check_manifest(docs: &[Doc]) {
    for doc in docs {
        assert!(doc.raw("apiVersion").is_some(), "{}: apiVersion", doc.file);
        assert!(!doc.name().is_empty());
        if doc.kind() == "Deployment" {
            assert_eq!(doc.str("apiVersion"), "apps/v1");
            assert_eq!(
                doc.str("spec.selector.matchLabels.app"),
                doc.str("spec.template.metadata.labels.app")
            );
            let volumes = "spec.template.spec.volumes";
            for i in 0..doc.len(volumes) {
                if let Some(map) = doc.raw(&format!("{volumes}[{i}].configMap.name")) {
                    let map = json_string(map).unwrap();
                    assert!(
                        docs.iter()
                            .any(|d| d.kind() == "ConfigMap" && d.name() == map),
                        "{}: ConfigMap {map} is not in the file",
                        doc.file
                    );
                }
            }
        }
    }
}

/// The container at `path` runs our image read-only with /run writable.
fn check_supervisord_container(doc: &Doc, path: &str) {
    assert!(
        doc.str(&format!("{path}.image")).starts_with("supervisord"),
        "{path}"
    );
    assert_eq!(
        doc.raw(&format!("{path}.securityContext.readOnlyRootFilesystem")),
        Some("true")
    );
    let mounts = format!("{path}.volumeMounts");
    assert!(
        doc.find(&mounts, "mountPath", "/run").is_some(),
        "{path}: no /run for the socket on a read-only root"
    );
}

#[test]
fn kubernetes_main_container_has_probes_and_a_grace_period_above_shutdown_timeout() {
    let docs = manifest("main-container.yaml");
    check_manifest(&docs);
    let deployment = one(&docs, "Deployment");
    let pod = "spec.template.spec";
    let app = format!("{pod}.containers[0]");
    check_supervisord_container(deployment, &app);

    // Probes on the HTTP server's port, by name.
    assert_eq!(
        deployment.str(&format!("{app}.livenessProbe.httpGet.path")),
        "/healthz"
    );
    assert_eq!(
        deployment.str(&format!("{app}.readinessProbe.httpGet.path")),
        "/readyz"
    );
    let port_name = deployment.str(&format!("{app}.livenessProbe.httpGet.port"));
    assert_eq!(
        deployment.str(&format!("{app}.readinessProbe.httpGet.port")),
        port_name
    );
    let ports = format!("{app}.ports");
    let port = deployment
        .find(&ports, "name", &port_name)
        .expect("the probes' port");
    let number = deployment.int(&format!("{ports}[{port}].containerPort"));

    // The ConfigMap's file, beside the image's programs, is valid; its
    // server listens on that port with the Secret's password.
    let map = one(&docs, "ConfigMap");
    let confs = configmap_confs(map);
    let http = ini(&confs[0].1);
    assert_eq!(http["inet_http_server"]["port"], format!(":{number}"));
    // The kubelet sends no credentials: the probes must be open.
    assert_eq!(http["inet_http_server"]["probes_without_auth"], "true");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert!(
            deployment.int(&format!("{app}.{probe}.timeoutSeconds")) >= 3,
            "{probe}: /healthz may take 2.5 s"
        );
    }
    let env = format!("{app}.env[0]");
    let variable = deployment.str(&format!("{env}.name"));
    assert!(http["inet_http_server"]["password"].contains(&format!("%(ENV_{variable})s")));
    let secret = one(&docs, "Secret");
    assert_eq!(
        deployment.str(&format!("{env}.valueFrom.secretKeyRef.name")),
        secret.name()
    );
    let key = deployment.str(&format!("{env}.valueFrom.secretKeyRef.key"));
    let password = secret.str(&format!("stringData.{key}"));
    let mut files = conf_files(&root().join("examples/docker/conf.d"));
    files.extend(confs.iter().cloned());
    check_image_config(&files, &[(&variable, &password)]);
    let mounts = format!("{app}.volumeMounts");
    let mount = deployment
        .find(&mounts, "subPath", &confs[0].0)
        .expect("the ConfigMap's file is mounted");
    assert_eq!(
        deployment.str(&format!("{mounts}[{mount}].mountPath")),
        format!("/etc/supervisor/conf.d/{}", confs[0].0)
    );

    // shutdown_timeout (commented out until supported) under the grace
    // period, and above the programs' longest stop without the leftovers.
    let grace = deployment.int(&format!("{pod}.terminationGracePeriodSeconds")) as u64;
    let timeout = key_number(&confs[0].1, "shutdown_timeout").expect("shutdown_timeout");
    assert!(timeout < grace, "shutdown_timeout {timeout}, grace {grace}");
    assert!(longest_stop(&files) <= grace);
}

#[test]
fn kubernetes_sidecar_shares_the_process_namespace() {
    let docs = manifest("sidecar.yaml");
    check_manifest(&docs);
    let deployment = one(&docs, "Deployment");
    let pod = "spec.template.spec";
    assert_eq!(
        deployment.raw(&format!("{pod}.shareProcessNamespace")),
        Some("true")
    );
    let containers = format!("{pod}.containers");
    assert_eq!(deployment.len(&containers), 2);
    let sidecar = deployment
        .find(&containers, "name", "supervisord")
        .expect("a supervisord container");
    let sidecar = format!("{containers}[{sidecar}]");
    check_supervisord_container(deployment, &sidecar);
    let mounts = format!("{sidecar}.volumeMounts");
    assert!(deployment
        .find(&mounts, "mountPath", "/etc/supervisor/conf.d")
        .is_some());
    let files = configmap_confs(one(&docs, "ConfigMap"));
    let out = check_image_config(&files, &[]);
    assert!(out.contains("valid (2 groups, 2 processes)"), "{out}");
    let grace = deployment.int(&format!("{pod}.terminationGracePeriodSeconds")) as u64;
    assert!(longest_stop(&files) <= grace);
}

#[test]
fn kubernetes_native_sidecar_is_an_init_container_that_restarts() {
    let docs = manifest("native-sidecar.yaml");
    check_manifest(&docs);
    let deployment = one(&docs, "Deployment");
    let pod = "spec.template.spec";
    let sidecar = format!("{pod}.initContainers[0]");
    assert_eq!(
        deployment.str(&format!("{sidecar}.restartPolicy")),
        "Always"
    );
    check_supervisord_container(deployment, &sidecar);
    assert_eq!(
        deployment.str(&format!("{sidecar}.startupProbe.exec.command[0]")),
        "supervisorctl"
    );
    assert!(deployment.len(&format!("{pod}.containers")) >= 1);
    let files = configmap_confs(one(&docs, "ConfigMap"));
    check_image_config(&files, &[]);
    let grace = deployment.int(&format!("{pod}.terminationGracePeriodSeconds")) as u64;
    let timeout = key_number(&files[0].1, "shutdown_timeout").expect("shutdown_timeout");
    assert!(timeout < grace, "shutdown_timeout {timeout}, grace {grace}");
    assert!(longest_stop(&files) <= grace);
}

#[test]
fn compose_file_builds_the_docker_example_with_a_long_enough_grace_period() {
    let docs = load_yaml(&root().join("examples/compose.yaml"));
    assert_eq!(docs.len(), 1);
    let compose = &docs[0];
    let app = "services.app";
    let build = compose.str(&format!("{app}.build"));
    assert!(
        root()
            .join("examples")
            .join(&build)
            .join("Dockerfile")
            .is_file(),
        "build: {build}"
    );
    assert_eq!(compose.raw(&format!("{app}.read_only")), Some("true"));
    assert!(compose
        .values
        .iter()
        .any(|(k, v)| k.starts_with(&format!("{app}.tmpfs[")) && v == "\"/run\""));
    assert_eq!(
        compose.str(&format!("{app}.healthcheck.test[1]")),
        "supervisorctl"
    );
    let grace = compose.str(&format!("{app}.stop_grace_period"));
    let grace: u64 = grace.strip_suffix('s').unwrap().parse().unwrap();
    let files = conf_files(&root().join("examples/docker/conf.d"));
    assert!(
        longest_stop(&files) <= grace,
        "stop_grace_period {grace}s, longest stop {}s",
        longest_stop(&files)
    );
}
