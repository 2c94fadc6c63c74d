//! supervisorctl's interactive shell through a pseudo-terminal, as a person
//! uses it: prompt, help, a command, completion, history across runs, exit.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{wait_until, Daemon, BIN};

const SECS: fn(u64) -> Duration = Duration::from_secs;

struct Shell {
    child: Child,
    master: File,
    seen: String,
}

impl Shell {
    /// Our supervisorctl's shell on `conf`.
    fn start(conf: &std::path::Path) -> Shell {
        let mut ours = Command::new(BIN);
        ours.arg("ctl");
        Shell::start_client(ours, conf)
    }

    /// The shell of a supervisorctl (`client`: ours or Python's) on `conf`.
    fn start_client(mut client: Command, conf: &std::path::Path) -> Shell {
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        let child = client
            .arg("-c")
            .arg(conf)
            .env("TERM", "xterm")
            .stdin(slave(&pty.slave))
            .stdout(slave(&pty.slave))
            .stderr(slave(&pty.slave))
            .spawn()
            .unwrap();
        drop(pty.slave);
        let master = File::from(pty.master);
        let flags = nix::fcntl::fcntl(master.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
        nix::fcntl::fcntl(
            master.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(
                nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK,
            ),
        )
        .unwrap();
        Shell {
            child,
            master,
            seen: String::new(),
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Wait until the screen output (since the last expectation) contains `text`.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + SECS(10);
        let mut buf = [0u8; 4096];
        loop {
            if let Some(at) = self.seen.find(text) {
                self.seen.drain(..at + text.len());
                return;
            }
            match self.master.read(&mut buf) {
                Ok(n) if n > 0 => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?}; screen so far: {:?}",
                self.seen
            );
        }
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + SECS(10);
        let mut buf = [0u8; 4096];
        loop {
            // Keep the terminal drained so the shell never blocks writing.
            let _ = self.master.read(&mut buf);
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the shell did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // A failed test must not leave its supervisorctl waiting on the
        // terminal.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn shell_prompt_help_command_completion_history_and_exit() {
    let mut d = Daemon::start(
        "[unix_http_server]\nfile={dir}/s.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{dir}/s.sock\nhistory_file={dir}/history\nprompt=sv\n\
         [program:web]\ncommand=sleep 100\nstartsecs=0\n",
    );
    d.wait_for("success: web", SECS(10));

    let mut shell = Shell::start(&d.conf);
    shell.expect("RUNNING");
    shell.expect("sv> ");
    shell.send("help\r");
    shell.expect("default commands (type help <topic>):");
    shell.expect("sv> ");
    // Tab completes the command name, then a process name.
    shell.send("vers\t\r");
    shell.expect("4.3.0");
    shell.expect("sv> ");
    shell.send("stop we\t\r");
    shell.expect("web: stopped");
    shell.expect("sv> ");
    shell.send("quit\r");
    assert_eq!(shell.wait_exit(), 0);

    let history = std::fs::read_to_string(d.path("history")).unwrap();
    for line in ["help", "version", "stop web", "quit"] {
        assert!(
            history.lines().any(|l| l.trim_end() == line),
            "{line:?} not in history:\n{history}"
        );
    }

    // A new session starts with that history: three times Up is `version`.
    let mut shell = Shell::start(&d.conf);
    shell.expect("sv> ");
    shell.send("\x1b[A\x1b[A\x1b[A\r");
    shell.expect("4.3.0");
    shell.expect("sv> ");
    // Ctrl-D leaves with status 0.
    shell.send("\x04");
    assert_eq!(shell.wait_exit(), 0);
    assert!(d.shutdown().success());
}

#[test]
fn piped_shell_still_prompts() {
    let mut d = Daemon::start(
        "[unix_http_server]\nfile={dir}/s.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{dir}/s.sock\n\
         [program:web]\ncommand=sleep 100\nstartsecs=0\n",
    );
    d.wait_for("success: web", SECS(10));
    let sock = d.path("s.sock");
    wait_until("the socket", SECS(10), || sock.exists());
    let mut child = Command::new(BIN)
        .arg("ctl")
        .arg("-c")
        .arg(&d.conf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"version\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    // The status table, then `supervisor> 4.3.0`, then the prompt and EOF's newline.
    assert!(
        text.ends_with("supervisor> 4.3.0\nsupervisor> \n"),
        "{text:?}"
    );
    assert!(text.starts_with("web "), "{text:?}");
    assert!(d.shutdown().success());
}

#[test]
fn completion_after_open_asked_the_old_server() {
    // Two servers: the config names the first, `open` switches to the
    // second, whose only program the first does not have.
    let body = "[unix_http_server]\nfile={dir}/s.sock\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
         [supervisorctl]\nserverurl=unix://{dir}/s.sock\n";
    let mut first = Daemon::start(&format!(
        "{body}[program:web]\ncommand=sleep 100\nstartsecs=0\n"
    ));
    let mut second = Daemon::start(&format!(
        "{body}[program:onlyhere]\ncommand=sleep 100\nstartsecs=0\n"
    ));
    first.wait_for("success: web", SECS(10));
    second.wait_for("success: onlyhere", SECS(10));
    let python = Command::new(common::python_venv().join("bin/supervisorctl"));
    let mut ours = Command::new(BIN);
    ours.arg("ctl");
    for (who, client) in [("python", python), ("ours", ours)] {
        let mut shell = Shell::start_client(client, &first.conf);
        shell.expect("web ");
        shell.expect("supervisor> ");
        shell.send(&format!(
            "open unix://{}\r",
            second.path("s.sock").display()
        ));
        shell.expect("onlyhere ");
        shell.expect("supervisor> ");
        // Tab completes from the server now open, and the command runs there.
        shell.send("status only\t\r");
        shell.expect("status onlyhere");
        shell.expect("RUNNING");
        shell.expect("supervisor> ");
        shell.send("quit\r");
        assert_eq!(shell.wait_exit(), 0, "{who}");
    }
    assert!(first.shutdown().success());
    assert!(second.shutdown().success());
}
