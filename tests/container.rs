//! The container image, built and run with podman as a user would run it
//! with Docker: the image from the top-level Dockerfile (`FROM scratch`, the
//! prebuilt static binary), a test image on top of it with busybox and a
//! few programs in conf.d, and the example of `examples/docker/`.
//!
//! Everything lives in a private podman store in a temporary directory under
//! `target/`, removed at the end; every container, pod and image is removed
//! by name, also when a check fails. The scenarios run in parallel inside one
//! test so that the images are built once and removed once; a failing
//! scenario is named in the failure.
//!
//! Figures (image size, start until RUNNING, `podman stop`) are printed on
//! stderr, lines starting with `figure:`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TARGET: &str = "x86_64-unknown-linux-musl";
/// The image built with the command the README gives.
const IMAGE: &str = "supervisord:local";
/// The test image: IMAGE plus busybox and the programs below.
const TEST_IMAGE: &str = "supervisord-test:local";
/// How many orphans the `orphans` program leaves behind.
const ORPHANS: usize = 10;

/// The conf.d file of the test image. `hello` and `ticker` start with the
/// container; `orphans` is started by the reaping scenarios: it leaves
/// ORPHANS subshell children (`sleep 3`) behind and stays up itself.
fn test_programs() -> String {
    format!(
        r#"[program:hello]
command=/bin/sh -c 'echo "hello from hello"; exec sleep 100000'
startsecs=0
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true

[program:ticker]
command=/bin/sh -c 'echo "ticker is up"; exec sleep 100000'
startsecs=0
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true

[program:orphans]
command=/bin/sh -c 'for i in $(seq {ORPHANS}); do (sleep 3 &); done; echo "orphans left"; exec sleep 100000'
autostart=false
autorestart=false
startsecs=0
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
"#
    )
}

/// Programs of the test image that start with the container.
const AUTOSTART: [&str; 2] = ["hello", "ticker"];

// ---------------------------------------------------------------- podman

/// podman on a private store: its own `--root`, `--runroot` and `--tmpdir`
/// and a containers.conf of ours (runc, file logs, ulimits), so the tests
/// never touch a system store or the host's configuration.
struct Podman {
    /// The store and our files, under `target/`.
    dir: tempfile::TempDir,
    /// `--runroot` and `--tmpdir`: podman wants a short runroot (sockets).
    run: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        fs::create_dir_all(&target).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("container-test-")
            .tempdir_in(&target)
            .unwrap();
        // crun fails on hybrid cgroup hosts; runc works everywhere here.
        fs::write(
            dir.path().join("containers.conf"),
            "[containers]\n\
             default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n\
             log_driver = \"k8s-file\"\n\
             [engine]\n\
             runtime = \"runc\"\n\
             cgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\n",
        )
        .unwrap();
        let run = tempfile::Builder::new()
            .prefix("podman-")
            .tempdir()
            .unwrap();
        Podman { dir, run }
    }

    fn command(&self) -> Command {
        let d = self.dir.path();
        let mut command = Command::new("podman");
        command
            .env("CONTAINERS_CONF", d.join("containers.conf"))
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(self.run.path().join("root"))
            .arg("--tmpdir")
            .arg(self.run.path().join("tmp"))
            .stdin(Stdio::null());
        command
    }

    /// Run `podman args…` and return its output, whatever its status.
    fn output(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run podman: {e}"))
    }

    /// Run `podman args…`, fail the test unless it succeeds; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "podman {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Best effort, for clean-up in `Drop`: never panics.
    fn quietly(&self, args: &[&str]) {
        let _ = self
            .command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Images this test built, removed by name at the end.
struct Images<'a> {
    podman: &'a Podman,
    names: Mutex<Vec<String>>,
}

impl<'a> Images<'a> {
    fn new(podman: &'a Podman) -> Self {
        Images {
            podman,
            names: Mutex::new(Vec::new()),
        }
    }

    /// `podman build --network none -t name args…`; the name is removed at the end.
    fn build(&self, name: &str, args: &[&str]) {
        self.names.lock().unwrap().push(name.to_string());
        let mut all = vec!["build", "--network", "none", "-t", name];
        all.extend_from_slice(args);
        self.podman.ok(&all);
    }

    fn tag(&self, image: &str, name: &str) {
        self.names.lock().unwrap().push(name.to_string());
        self.podman.ok(&["tag", image, name]);
    }

    /// An image podman made by itself (a pod's infra image), removed at the end.
    fn adopt(&self, name: &str) {
        self.names.lock().unwrap().push(name.to_string());
    }
}

impl Drop for Images<'_> {
    fn drop(&mut self) {
        for name in self.names.lock().unwrap().iter().rev() {
            self.podman.quietly(&["rmi", "--force", name]);
        }
        // The intermediate images of multi-stage builds (untagged).
        self.podman.quietly(&["image", "prune", "--force"]);
    }
}

/// A container started attached (`podman run` without `-d`), its output
/// read line by line as it comes. Removed (`rm --force`) when dropped.
struct Container<'a> {
    podman: &'a Podman,
    name: String,
    run: Child,
    started: Instant,
    lines: Receiver<String>,
    seen: Mutex<Vec<String>>,
}

impl<'a> Container<'a> {
    /// `podman run --name NAME --network none run_args… image` (a
    /// container in a pod has the pod's network instead).
    fn run(podman: &'a Podman, name: &str, run_args: &[&str], image: &str) -> Container<'a> {
        let network: &[&str] = if run_args.contains(&"--pod") {
            &[]
        } else {
            &["--network", "none"]
        };
        let started = Instant::now();
        let mut run = podman
            .command()
            .args(["run", "--name", name])
            .args(network)
            .args(run_args)
            .arg(image)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("podman run starts");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(run.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(run.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Container {
            podman,
            name: name.to_string(),
            run,
            started,
            lines,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Wait until some line of output satisfies `test`; fail after `limit`.
    /// Returns the time since `podman run` at which the line was read.
    fn wait_line(&self, what: &str, limit: Duration, test: impl Fn(&str) -> bool) -> Duration {
        let deadline = Instant::now() + limit;
        if self.seen.lock().unwrap().iter().any(|l| test(l)) {
            return self.started.elapsed();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = test(&line);
                    self.seen.lock().unwrap().push(line);
                    if hit {
                        return self.started.elapsed();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: timed out waiting for {what}\n{}",
                        self.name,
                        self.output()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: the container ended while waiting for {what}\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// Wait for `success: NAME entered RUNNING` of each of `programs`; the
    /// time from `podman run` until the last of them.
    fn wait_running(&self, programs: &[&str]) -> Duration {
        let mut last = Duration::ZERO;
        for program in programs {
            let needle = format!("success: {program} entered RUNNING state");
            last =
                last.max(self.wait_line(&needle, Duration::from_secs(30), |l| l.contains(&needle)));
        }
        last
    }

    /// Everything the container printed so far.
    fn output(&self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.lock().unwrap().push(line);
        }
        let seen = self.seen.lock().unwrap();
        format!("output of {}:\n{}\n", self.name, seen.join("\n"))
    }

    /// `podman exec NAME args…`: (stdout, exit code).
    fn exec(&self, args: &[&str]) -> (String, i32) {
        let mut all = vec!["exec", self.name.as_str()];
        all.extend_from_slice(args);
        let out = self.podman.output(&all);
        (
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
            out.status.code().unwrap_or(-1),
        )
    }

    /// `podman exec` that must succeed; its output.
    fn exec_ok(&self, args: &[&str]) -> String {
        let (out, code) = self.exec(args);
        assert_eq!(
            code,
            0,
            "{}: exec {args:?}: {out}\n{}",
            self.name,
            self.output()
        );
        out
    }

    /// The host pid of the container's main process (supervisord).
    fn host_pid(&self) -> i32 {
        let pid = self
            .podman
            .ok(&["inspect", "--format", "{{.State.Pid}}", &self.name]);
        pid.trim().parse().expect("a pid")
    }

    /// `podman stop` (timed), then the exit status of `podman run`, which is
    /// the container's.
    fn stop(&mut self) -> (Duration, i32) {
        let start = Instant::now();
        self.podman.ok(&["stop", &self.name]);
        let took = start.elapsed();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.run.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: podman run did not end after podman stop",
                self.name
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let inspected = self
            .podman
            .ok(&["inspect", "--format", "{{.State.ExitCode}}", &self.name]);
        assert_eq!(
            inspected.trim(),
            status.code().unwrap_or(-1).to_string(),
            "{}: podman run's status and the container's exit code differ",
            self.name
        );
        (took, status.code().unwrap_or(-1))
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        self.podman
            .quietly(&["rm", "--force", "--time", "0", &self.name]);
        if let Ok(None) = self.run.try_wait() {
            let _ = self.run.kill();
        }
        let _ = self.run.wait();
    }
}

/// A pod, removed with its containers when dropped.
struct Pod<'a> {
    podman: &'a Podman,
    name: String,
}

impl Drop for Pod<'_> {
    fn drop(&mut self) {
        self.podman
            .quietly(&["pod", "rm", "--force", "--time", "0", &self.name]);
    }
}

// ---------------------------------------------------------------- /proc

/// `(pid, state)` of every child of host process `parent`.
fn children_of(parent: i32) -> Vec<(i32, char)> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Some((state, ppid)) = stat_of(Path::new("/proc"), pid) else {
            continue;
        };
        if ppid == parent {
            out.push((pid, state));
        }
    }
    out
}

/// State and parent of `pid` from `proc/PID/stat`.
fn stat_of(proc: &Path, pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
    // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Zombies in the PID namespace of host process `pid`, read through the
/// container's own /proc.
fn zombies_in_namespace_of(pid: i32) -> Vec<i32> {
    let proc = PathBuf::from(format!("/proc/{pid}/root/proc"));
    let mut out = Vec::new();
    for entry in fs::read_dir(&proc).into_iter().flatten().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some(('Z', _)) = stat_of(&proc, p) {
            out.push(p);
        }
    }
    out
}

/// A line `Key:\tvalue` of `/proc/PID/status`.
fn status_field(pid: i32, key: &str) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
        .trim()
        .to_string()
}

/// Poll `test` until it holds; fail with `what` after `limit`.
fn wait_until(what: &str, limit: Duration, mut test: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !test() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start the `orphans` program in `c` and check that its orphans become
/// supervisord's children (it is PID 1 or a subreaper) and are all reaped:
/// in the end supervisord's only children are its programs, and there is no
/// zombie anywhere in the container's PID namespace.
fn check_orphans_reaped(c: &Container) {
    let supervisord = c.host_pid();
    let before = children_of(supervisord).len();
    assert_eq!(before, AUTOSTART.len(), "{:?}", children_of(supervisord));
    let out = c.exec_ok(&["supervisorctl", "start", "orphans"]);
    assert!(out.contains("orphans: started"), "{out}");
    // The program itself plus its orphans, re-parented to supervisord.
    wait_until(
        "the orphans to be re-parented to supervisord",
        Duration::from_secs(10),
        || children_of(supervisord).len() == before + 1 + ORPHANS,
    );
    // They exit after 3 s; each must be reaped.
    wait_until("the orphans to be reaped", Duration::from_secs(15), || {
        children_of(supervisord).len() == before + 1
    });
    let left = children_of(supervisord);
    assert!(left.iter().all(|&(_, s)| s != 'Z'), "{left:?}");
    assert_eq!(zombies_in_namespace_of(supervisord), Vec::<i32>::new());
}

/// Whether the ELF file at `path` asks for a program interpreter
/// (a PT_INTERP program header): dynamically linked.
fn is_dynamic(path: &Path) -> bool {
    let elf = fs::read(path).unwrap();
    assert!(
        elf.starts_with(b"\x7fELF") && elf[4] == 2,
        "{path:?}: not ELF64"
    );
    let word = |at: usize, n: usize| -> u64 {
        let mut v = 0u64;
        for (i, b) in elf[at..at + n].iter().enumerate() {
            v |= (*b as u64) << (8 * i);
        }
        v
    };
    let (phoff, phentsize, phnum) = (
        word(0x20, 8) as usize,
        word(0x36, 2) as usize,
        word(0x38, 2) as usize,
    );
    (0..phnum).any(|i| word(phoff + i * phentsize, 4) == 3)
}

// ---------------------------------------------------------------- setup

/// The static binary the Dockerfile's `prebuilt` stage copies; built here
/// unless tests/run.sh built it already (then cargo has nothing to do).
fn build_static_binary(root: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--target", TARGET])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build --release --target {TARGET} failed (rustup target add {TARGET})"
    );
    let bin = root.join("target").join(TARGET).join("release/supervisord");
    assert!(bin.is_file(), "{bin:?} missing");
    bin
}

/// Fail clearly when podman cannot run containers here.
fn check_podman(podman: &Podman) {
    let version = Command::new("podman").arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "the container tests need podman, buildah, runc, catatonit and busybox-static \
         (tests/run.sh installs them with apt-get): {version:?}"
    );
    let info = podman.output(&["info", "--format", "{{.Host.OCIRuntime.Name}}"]);
    assert!(
        info.status.success(),
        "podman cannot run here:\n{}",
        String::from_utf8_lossy(&info.stderr)
    );
}

struct Env<'a> {
    podman: &'a Podman,
    images: &'a Images<'a>,
    root: PathBuf,
    /// Unique part of container and pod names.
    id: String,
}

impl Env<'_> {
    fn name(&self, what: &str) -> String {
        format!("sd-{what}-{}", self.id)
    }
}

/// Build the image with the README's command, then the test image and the
/// stand-ins the example needs (`busybox:musl`, `supervisord`).
fn build_images(env: &Env) {
    env.images.build(
        IMAGE,
        &[
            "--build-arg",
            "BINARY_FROM=prebuilt",
            env.root.to_str().unwrap(),
        ],
    );

    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.is_file() && !is_dynamic(busybox),
        "the container tests need a static /bin/busybox (Debian package busybox-static)"
    );
    let ctx = env.podman.dir.path().join("context");
    fs::create_dir_all(&ctx).unwrap();
    fs::copy(busybox, ctx.join("busybox")).unwrap();
    fs::write(ctx.join("programs.conf"), test_programs()).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {IMAGE}\n\
             COPY busybox /bin/busybox\n\
             RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
             COPY programs.conf /etc/supervisor/conf.d/programs.conf\n"
        ),
    )
    .unwrap();
    env.images.build(TEST_IMAGE, &[ctx.to_str().unwrap()]);

    // examples/docker says `FROM busybox:musl` and `FROM supervisord`; with
    // no registry, local images stand in for both.
    let bb = env.podman.dir.path().join("busybox");
    fs::create_dir_all(&bb).unwrap();
    fs::copy(busybox, bb.join("busybox")).unwrap();
    fs::write(
        bb.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\n",
    )
    .unwrap();
    env.images
        .build("docker.io/library/busybox:musl", &[bb.to_str().unwrap()]);
    env.images.tag(IMAGE, "localhost/supervisord:latest");
}

// ------------------------------------------------------------- scenarios

/// The image itself, no programs: its size, its links, its directories,
/// and that it starts on the default configuration and stops with 0.
fn image_alone(env: &Env, bin: &Path) {
    let size: u64 = env
        .podman
        .ok(&["image", "inspect", "--format", "{{.Size}}", IMAGE])
        .trim()
        .parse()
        .unwrap();
    let binary = fs::metadata(bin).unwrap().len();
    eprintln!(
        "figure: image size {size} bytes (the binary {binary} bytes, +{} bytes)",
        size - binary
    );
    assert!(
        size < binary + 64 * 1024,
        "image {size} bytes, binary {binary}"
    );

    // The links dispatch on their name.
    let sample = Container::run(
        env.podman,
        &env.name("sample"),
        &["--entrypoint", "echo_supervisord_conf"],
        IMAGE,
    );
    sample.wait_line("the sample configuration", Duration::from_secs(30), |l| {
        l == "[supervisord]"
    });
    drop(sample);

    let entrypoint = env.podman.ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Entrypoint}}",
        IMAGE,
    ]);
    assert_eq!(
        entrypoint.trim(),
        r#"["supervisord","-c","/etc/supervisord.conf"]"#
    );

    let mut c = Container::run(env.podman, &env.name("alone"), &[], IMAGE);
    c.wait_line("supervisord to start", Duration::from_secs(30), |l| {
        l.contains("supervisord started with pid 1")
    });
    let pid = c.host_pid();
    for (dir, mode) in [
        ("tmp", 0o1777),
        ("run", 0o1777),
        ("etc/supervisor/conf.d", 0o755),
    ] {
        let meta = fs::metadata(format!("/proc/{pid}/root/{dir}")).unwrap();
        assert!(meta.is_dir(), "/{dir}");
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "mode of /{dir}");
    }
    for link in ["supervisorctl", "echo_supervisord_conf"] {
        let target = fs::read_link(format!("/proc/{pid}/root/usr/local/bin/{link}")).unwrap();
        assert_eq!(target, Path::new("supervisord"), "{link}");
    }
    // `supervisorctl` finds /etc/supervisord.conf and its socket in /run.
    assert_eq!(c.exec_ok(&["supervisorctl", "pid"]).trim(), "1");
    let (took, code) = c.stop();
    assert_eq!(code, 0, "{}", c.output());
    assert!(took < Duration::from_secs(5), "podman stop took {took:?}");
}

/// Program output in `podman logs` with its prefix, supervisorctl by both
/// names, a fast `podman stop` with exit status 0.
fn logs_ctl_and_stop(env: &Env) {
    let mut c = Container::run(env.podman, &env.name("main"), &[], TEST_IMAGE);
    let running = c.wait_running(&AUTOSTART);
    eprintln!(
        "figure: podman run to {} programs RUNNING: {} ms",
        AUTOSTART.len(),
        running.as_millis()
    );
    c.wait_line("hello's output", Duration::from_secs(10), |l| {
        l == "hello | hello from hello"
    });

    let logs = env.podman.ok(&["logs", &c.name]);
    assert!(
        logs.lines().any(|l| l == "hello | hello from hello"),
        "podman logs:\n{logs}"
    );
    assert!(
        logs.lines().any(|l| l == "ticker | ticker is up"),
        "podman logs:\n{logs}"
    );
    assert!(
        logs.contains("INFO supervisord started with pid 1"),
        "podman logs:\n{logs}"
    );
    // As PID 1 behind a 0700 socket, root and no password are the norm:
    // no CRIT about either on every start.
    assert!(
        !logs.contains("CRIT"),
        "root_and_no_auth_are_not_critical_as_pid1:\n{logs}"
    );

    for ctl in [&["supervisorctl"][..], &["supervisord", "ctl"][..]] {
        let mut args = ctl.to_vec();
        args.push("status");
        let (out, code) = c.exec(&args);
        // `orphans` is not started (autostart=false): status exits 3.
        assert_eq!(code, 3, "{args:?}: {out}");
        for program in AUTOSTART {
            assert!(
                out.lines()
                    .any(|l| l.starts_with(program) && l.contains("RUNNING")),
                "{args:?}: {out}"
            );
        }
        assert!(
            out.lines()
                .any(|l| l.starts_with("orphans") && l.contains("STOPPED")),
            "{args:?}: {out}"
        );
    }

    let (took, code) = c.stop();
    eprintln!("figure: podman stop: {} ms", took.as_millis());
    assert_eq!(code, 0, "{}", c.output());
    assert!(took < Duration::from_secs(5), "podman stop took {took:?}");
    c.wait_line("hello stopped", Duration::from_secs(5), |l| {
        l.contains("stopped: hello (terminated by SIGTERM)")
    });
}

/// `podman kill -s HUP` restarts supervisord in place: a program added in
/// conf.d meanwhile starts, and the others are restarted.
fn reload_on_hup(env: &Env) {
    let c = Container::run(env.podman, &env.name("hup"), &[], TEST_IMAGE);
    c.wait_running(&AUTOSTART);
    let first = c.exec_ok(&["supervisorctl", "pid", "hello"]);
    c.exec_ok(&[
        "sh",
        "-c",
        "printf '[program:added]\\ncommand=/bin/sh -c \"echo added after reload; \
         exec sleep 100000\"\\nstartsecs=0\\nstdout_logfile=/dev/stdout\\n\
         stdout_logfile_maxbytes=0\\n' > /etc/supervisor/conf.d/added.conf",
    ]);
    env.podman.ok(&["kill", "--signal", "HUP", &c.name]);
    c.wait_line("the reload", Duration::from_secs(10), |l| {
        l.contains("received SIGHUP indicating restart request")
    });
    c.wait_line("the added program's output", Duration::from_secs(20), |l| {
        l == "added | added after reload"
    });
    c.wait_running(&["added"]);
    let status = c.exec(&["supervisorctl", "status"]).0;
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("added") && l.contains("RUNNING")),
        "{status}"
    );
    wait_until("hello to run again", Duration::from_secs(20), || {
        let pid = c.exec(&["supervisorctl", "pid", "hello"]).0;
        pid.trim().parse::<i32>().is_ok_and(|p| p > 0) && pid != first
    });
    assert_eq!(c.exec_ok(&["supervisorctl", "pid"]).trim(), "1");
}

/// As PID 1, supervisord reaps the orphans its programs leave behind.
fn orphans_as_pid1(env: &Env) {
    let c = Container::run(env.podman, &env.name("orphans"), &[], TEST_IMAGE);
    c.wait_running(&AUTOSTART);
    assert_eq!(
        status_field(c.host_pid(), "NSpid")
            .split_whitespace()
            .last(),
        Some("1")
    );
    check_orphans_reaped(&c);
}

/// A read-only root file system and a non-root user, with tmpfs mounts on
/// /run (socket, pid file) and /tmp, as one writes it for Docker.
fn read_only_non_root(env: &Env) {
    let mut c = Container::run(
        env.podman,
        &env.name("readonly"),
        &[
            "--read-only",
            "--read-only-tmpfs=false",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/tmp",
            "--user",
            "1000:1000",
        ],
        TEST_IMAGE,
    );
    c.wait_running(&AUTOSTART);
    c.wait_line("hello's output", Duration::from_secs(10), |l| {
        l == "hello | hello from hello"
    });
    let pid = c.host_pid();
    assert!(
        status_field(pid, "Uid").starts_with("1000\t"),
        "{}",
        status_field(pid, "Uid")
    );
    let status = c.exec(&["supervisorctl", "status", "hello"]).0;
    assert!(status.contains("RUNNING"), "{status}");
    let (out, code) = c.exec(&["touch", "/etc/supervisor/x"]);
    assert_ne!(code, 0, "the root file system is writable: {out}");
    assert!(
        fs::symlink_metadata(format!("/proc/{pid}/root/run/supervisor.sock")).is_ok(),
        "no socket in /run"
    );
    let (_, code) = c.stop();
    assert_eq!(code, 0, "{}", c.output());
}

/// In a pod sharing one PID namespace, supervisord is not PID 1 (the pod's
/// infra process is) and still reaps its programs' orphans, as a subreaper.
fn pod_sharing_pids(env: &Env) {
    let name = env.name("pod");
    env.podman.ok(&[
        "pod",
        "create",
        "--share",
        "pid",
        "--network",
        "none",
        "--name",
        &name,
    ]);
    let pod = Pod {
        podman: env.podman,
        name: name.clone(),
    };
    let infra = env
        .podman
        .ok(&["pod", "inspect", "--format", "{{.InfraContainerID}}", &name]);
    let infra_image = env
        .podman
        .ok(&["inspect", "--format", "{{.ImageName}}", infra.trim()]);
    env.images.adopt(infra_image.trim());

    let c = Container::run(
        env.podman,
        &env.name("in-pod"),
        &["--pod", &name],
        TEST_IMAGE,
    );
    c.wait_running(&AUTOSTART);
    let nspid = status_field(c.host_pid(), "NSpid");
    let inner = nspid.split_whitespace().last().unwrap();
    assert_ne!(inner, "1", "supervisord is PID 1 in the pod: {nspid}");
    check_orphans_reaped(&c);
    drop(c);
    drop(pod);
}

/// The build context the Dockerfile sees (.dockerignore): the sources, the
/// image's files and the prebuilt binary; nothing else of target/.
fn build_context(env: &Env) {
    let dir = env.podman.dir.path().join("list-context");
    fs::create_dir_all(&dir).unwrap();
    let dockerfile = dir.join("Dockerfile");
    fs::write(
        &dockerfile,
        "FROM docker.io/library/busybox:musl\n\
         COPY . /context\n\
         RUN [\"/bin/busybox\", \"find\", \"/context\", \"-type\", \"f\"]\n",
    )
    .unwrap();
    let image = "supervisord-context:local";
    env.images.adopt(image);
    let out = env.podman.ok(&[
        "build",
        "--network",
        "none",
        "--layers=false",
        "-t",
        image,
        "-f",
        dockerfile.to_str().unwrap(),
        env.root.to_str().unwrap(),
    ]);
    let files: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("/context/"))
        .collect();
    let binary = format!("target/{TARGET}/release/supervisord");
    assert!(files.contains(&binary.as_str()), "{files:?}");
    assert!(files.contains(&"container/supervisord.conf"), "{files:?}");
    assert!(files.contains(&"src/main.rs"), "{files:?}");
    for file in &files {
        assert!(
            ["Cargo.toml", "Cargo.lock", "build.rs", binary.as_str()].contains(file)
                || file.starts_with("src/")
                || file.starts_with(".cargo/")
                || file.starts_with("link/")
                || (file.starts_with("container/") && !file.ends_with("/.keep")),
            "{file} is in the build context"
        );
    }
}

/// examples/docker builds on the image, both programs run, the web server
/// answers, and the container stops with 0.
fn example_docker(env: &Env) {
    let image = "supervisord-example:local";
    let dir = env.root.join("examples/docker");
    env.images.build(image, &[dir.to_str().unwrap()]);
    let mut c = Container::run(env.podman, &env.name("example"), &[], image);
    c.wait_running(&["web", "worker"]);
    c.wait_line("the worker's output", Duration::from_secs(10), |l| {
        l.starts_with("worker | working at ")
    });
    let page = c.exec_ok(&["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]);
    assert!(page.contains("supervised by supervisord"), "{page}");
    let (took, code) = c.stop();
    assert_eq!(code, 0, "{}", c.output());
    assert!(took < Duration::from_secs(8), "podman stop took {took:?}");
}

type Scenario<'a> = (&'static str, Box<dyn Fn() + Send + Sync + 'a>);

/// An `essential=true` program that ends for good stops everything, and
/// its exit status becomes the container's.
fn essential_exit_status(env: &Env) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("essential.conf");
    fs::write(
        &conf,
        // `user=root` and `user=0`: the image has no /etc/passwd, and naming
        // the user we already are must not need one (else: exit status 2).
        "[program:job]\ncommand=/bin/sh -c 'echo job done; exit 42'\nstartsecs=0\n\
         autorestart=false\nessential=true\nstdout_logfile=/dev/stdout\n\
         stdout_logfile_maxbytes=0\nuser=root\n\
         [program:by_uid]\ncommand=/bin/sleep 100000\nuser=0\nstartsecs=0\n",
    )
    .unwrap();
    let mount = format!(
        "{}:/etc/supervisor/conf.d/essential.conf:ro",
        conf.display()
    );
    let c = Container::run(
        env.podman,
        &env.name("essential"),
        &["-v", &mount],
        TEST_IMAGE,
    );
    c.wait_line(
        "the essential program's end",
        Duration::from_secs(20),
        |l| l.contains("essential program job ended (exit status 42)"),
    );
    let code = env.podman.ok(&["wait", &c.name]);
    assert_eq!(code.trim(), "42", "{}", c.output());
}

/// Run `scenarios` side by side, each on its own thread; the failures, each
/// naming its scenario.
fn run_scenarios(scenarios: Vec<Scenario>) -> Vec<String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|(name, run)| {
                let handle = s.spawn(move || {
                    let t = Instant::now();
                    run();
                    t.elapsed()
                });
                (*name, handle)
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(name, handle)| match handle.join() {
                Ok(took) => {
                    eprintln!("scenario {name}: ok ({} ms)", took.as_millis());
                    None
                }
                Err(panic) => {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    Some(format!("scenario {name} failed: {msg}"))
                }
            })
            .collect()
    })
}

#[test]
fn container_image() {
    let start = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let podman = Podman::new();
    check_podman(&podman);
    let bin = build_static_binary(&root);
    let images = Images::new(&podman);
    let env = Env {
        podman: &podman,
        images: &images,
        root,
        id: std::process::id().to_string(),
    };
    build_images(&env);
    eprintln!("images built in {} ms", start.elapsed().as_millis());

    let env = &env;
    let bin = &bin;
    // First alone, so that its figures are not measured under the load of
    // the others; then the rest side by side.
    let mut failures = run_scenarios(vec![(
        "logs, ctl and stop",
        Box::new(move || logs_ctl_and_stop(env)),
    )]);
    failures.extend(run_scenarios(vec![
        ("image alone", Box::new(move || image_alone(env, bin))),
        ("reload on HUP", Box::new(move || reload_on_hup(env))),
        ("orphans as PID 1", Box::new(move || orphans_as_pid1(env))),
        (
            "read-only, non-root",
            Box::new(move || read_only_non_root(env)),
        ),
        ("pod sharing PIDs", Box::new(move || pod_sharing_pids(env))),
        ("examples/docker", Box::new(move || example_docker(env))),
        ("build context", Box::new(move || build_context(env))),
        (
            "an essential program's exit status",
            Box::new(move || essential_exit_status(env)),
        ),
    ]));
    eprintln!("container tests took {} ms", start.elapsed().as_millis());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
