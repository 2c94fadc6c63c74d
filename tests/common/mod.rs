//! Shared helpers for black-box tests: start the built binary on a temp
//! config and watch its main log, waiting on conditions with deadlines.

#![allow(dead_code)]

pub mod http;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_supervisord");

/// A supervisord started with `-n` on a config in its own temp directory.
pub struct Daemon {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    pub conf: PathBuf,
}

/// `[supervisord]` lines every test config starts with: everything inside `dir`.
pub fn header(dir: &Path, loglevel: &str) -> String {
    let d = dir.display();
    format!(
        "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
         childlogdir={d}\nloglevel={loglevel}\nsilent=true\n"
    )
}

impl Daemon {
    /// Write `body` (after the standard header) and start supervisord on it.
    pub fn start(body: &str) -> Daemon {
        Self::start_with(body, "info", &[])
    }

    pub fn start_with(body: &str, loglevel: &str, extra_args: &[&str]) -> Daemon {
        Self::launch(tempfile::tempdir().unwrap(), body, loglevel, extra_args)
    }

    /// Start in a directory the test has prepared. `{dir}` in `body` becomes its path.
    pub fn launch(
        dir: tempfile::TempDir,
        body: &str,
        loglevel: &str,
        extra_args: &[&str],
    ) -> Daemon {
        Self::launch_with_stdout(dir, body, loglevel, extra_args, Stdio::null())
    }

    /// Like [`launch`](Self::launch), with supervisord's stdout going to `stdout`.
    pub fn launch_with_stdout(
        dir: tempfile::TempDir,
        body: &str,
        loglevel: &str,
        extra_args: &[&str],
        stdout: Stdio,
    ) -> Daemon {
        let conf = dir.path().join("supervisord.conf");
        let body = body.replace("{dir}", dir.path().to_str().unwrap());
        fs::write(&conf, format!("{}{body}", header(dir.path(), loglevel))).unwrap();
        let child = Command::new(BIN)
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .expect("supervisord starts");
        let log = dir.path().join("supervisord.log");
        Daemon {
            child,
            dir,
            log,
            conf,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the main log satisfies `test`, or fail after `limit`.
    pub fn wait_log(&self, what: &str, limit: Duration, test: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.log_text();
            if test(&text) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; log so far:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until the log contains `needle`.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> String {
        self.wait_log(needle, limit, |t| t.contains(needle))
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal).unwrap();
    }

    /// Wait for supervisord to exit, failing after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "supervisord did not exit in time; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM and wait: the orderly end of every test.
    pub fn shutdown(&mut self) -> ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.wait_exit(Duration::from_secs(30))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Neither a test that ends without `shutdown` nor a failed one may
        // leave its supervisord or its programs behind. SIGKILL alone left
        // the programs running (each has its process group, and nothing
        // stops them when supervisord dies): ask for the orderly shutdown
        // first, which stops them, and kill only a supervisord that hangs.
        if let Ok(None) = self.child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(self.pid());
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// Milliseconds since midnight of a main-log line's `YYYY-MM-DD HH:MM:SS,mmm` stamp.
pub fn stamp_ms(line: &str) -> i64 {
    let time = &line[11..23];
    let h: i64 = time[0..2].parse().unwrap();
    let m: i64 = time[3..5].parse().unwrap();
    let s: i64 = time[6..8].parse().unwrap();
    let ms: i64 = time[9..12].parse().unwrap();
    ((h * 60 + m) * 60 + s) * 1000 + ms
}

/// The log lines containing `needle`, in order.
pub fn lines_with<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

/// Wait until `test` holds, polling; fail with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, test: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !test() {
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The virtualenv with Python Supervisor 4.3.0 and superlance 2.0.0 for
/// interop tests, created on first use (under a file lock: test binaries
/// run in parallel). `tests/run.sh` creates it up front.
pub fn python_venv() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let venv = target.join("interop-venv");
    let ready = || venv.join("bin/supervisorctl").exists() && venv.join("bin/memmon").exists();
    if ready() {
        return venv;
    }
    fs::create_dir_all(&target).unwrap();
    let lock = fs::File::create(target.join("interop-venv.lock")).unwrap();
    let _guard = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    if !ready() {
        let ok = (venv.join("bin/pip").exists()
            || Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success()))
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "supervisor==4.3.0",
                    "superlance==2.0.0",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not install supervisor==4.3.0 and superlance==2.0.0 into {}",
            venv.display()
        );
    }
    venv
}

/// SIGTERM a daemon we started and wait for it (SIGKILL after 20 s).
pub fn terminate(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(None) = child.try_wait() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.wait();
}

/// SIGTERM a supervisord we started and wait for its exit status; fail the
/// test if it takes longer than `limit`.
pub fn sigterm_and_wait(child: &mut Child, limit: Duration) -> ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "supervisord did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Config sections for a daemon reachable over `{dir}/supervisor.sock`,
/// with the RPC interface and a `[supervisorctl]` pointing at it.
pub const RPC_SERVER: &str = "[unix_http_server]\nfile={dir}/supervisor.sock\n\
    [rpcinterface:supervisor]\n\
    supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
    [supervisorctl]\nserverurl=unix://{dir}/supervisor.sock\n";

/// Our supervisorctl: the binary under its busybox name, `supervisord ctl`.
pub fn our_ctl() -> Command {
    let mut command = Command::new(BIN);
    command.arg("ctl");
    command
}

/// Run a supervisorctl (`client`: ours or Python's) with `-c conf` and
/// `args`: (stdout, exit status).
pub fn run_ctl(mut client: Command, conf: &Path, args: &[&str]) -> (String, i32) {
    let out = client
        .arg("-c")
        .arg(conf)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

impl Daemon {
    /// Our supervisorctl on this daemon's config: (stdout, exit status).
    pub fn ctl(&self, args: &[&str]) -> (String, i32) {
        run_ctl(our_ctl(), &self.conf, args)
    }

    /// One XML-RPC call over `{dir}/supervisor.sock` with string
    /// parameters; returns the response body.
    pub fn rpc(&self, method: &str, params: &[&str]) -> String {
        let params: Vec<String> = params
            .iter()
            .map(|p| {
                let p = p.replace('&', "&amp;").replace('<', "&lt;");
                format!("<value><string>{p}</string></value>")
            })
            .collect();
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        self.rpc_values(method, &params)
    }

    /// One XML-RPC call whose parameters are given as `<value>` elements
    /// (`<value><int>5</int></value>`); returns the response body.
    pub fn rpc_values(&self, method: &str, values: &[&str]) -> String {
        let (status, answer) = self.post_rpc(&call_body(method, values));
        assert_eq!(status, 200, "HTTP status of {method}: {answer}");
        answer
    }

    /// POST `body` to /RPC2 over `{dir}/supervisor.sock`: (status, body).
    pub fn post_rpc(&self, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let sock = self.path("supervisor.sock");
        wait_until("the socket", Duration::from_secs(10), || sock.exists());
        let mut stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP response: {response:?}"));
        match response.split_once("\r\n\r\n") {
            Some((_, body)) => (status, body.to_string()),
            None => panic!("no HTTP response: {response:?}"),
        }
    }
}

/// An XML-RPC call body whose parameters are `<value>` elements.
pub fn call_body(method: &str, values: &[&str]) -> String {
    let params: String = values
        .iter()
        .map(|v| format!("<param>{v}</param>"))
        .collect();
    format!(
        "<?xml version='1.0'?>\n<methodCall><methodName>{method}</methodName>\
         <params>{params}</params></methodCall>\n"
    )
}

/// The names of the entries of `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The children of `pid` (all its threads').
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
    {
        let path = task.unwrap().path().join("children");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        children.extend(
            text.split_whitespace()
                .filter_map(|n| n.parse::<i32>().ok()),
        );
    }
    children
}

/// Start `command` (stdout and stderr as the caller set them) with `input`
/// written to its stdin, which is then closed.
pub fn spawn_with_stdin(mut command: Command, input: &str) -> Child {
    use std::io::Write;
    let mut child = command.stdin(Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child
}

/// Run `command` with `input` on its stdin; its whole output.
pub fn output_with_stdin(mut command: Command, input: &str) -> std::process::Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn_with_stdin(command, input).wait_with_output().unwrap()
}
