//! Reload: reread/update/add/remove and restart. The expected outputs are
//! not written down here: the same edits are made under Python Supervisor
//! 4.3.0 (daemon and client, from the test virtualenv), and ours must print
//! exactly what it printed — with our client and with Python's.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn venv() -> PathBuf {
    common::python_venv()
}

const BEFORE: &str = "[program:keep]\ncommand=sleep 101\nstartsecs=0\n\
    [program:cmd]\ncommand=sleep 102\nstartsecs=0\n\
    [program:env]\ncommand=sleep 103\nstartsecs=0\nenvironment=A=1\n\
    [program:many]\ncommand=sleep 104\nstartsecs=0\n\
    [program:gone]\ncommand=sleep 105\nstartsecs=0\n\
    [group:g]\nprograms=x,y\n\
    [program:x]\ncommand=sleep 106\nstartsecs=0\n\
    [program:y]\ncommand=sleep 107\nstartsecs=0\n";

/// Every kind of edit: added, command changed, environment changed,
/// numprocs changed, removed, and a group losing a member.
const AFTER: &str = "[program:keep]\ncommand=sleep 101\nstartsecs=0\n\
    [program:cmd]\ncommand=sleep 112\nstartsecs=0\n\
    [program:env]\ncommand=sleep 103\nstartsecs=0\nenvironment=A=2\n\
    [program:many]\ncommand=sleep 104\nstartsecs=0\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n\
    [group:g]\nprograms=x\n\
    [program:x]\ncommand=sleep 106\nstartsecs=0\n\
    [program:y]\ncommand=sleep 107\nstartsecs=0\n\
    [program:new]\ncommand=sleep 108\nstartsecs=0\n";

struct Setup {
    daemon: Child,
    dir: tempfile::TempDir,
    conf: PathBuf,
    python_client: bool,
}

impl Setup {
    fn start(python_daemon: bool, python_client: bool) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("supervisord.conf");
        let setup = |programs: &str| {
            let d = dir.path().display();
            format!(
                "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/sd.pid\nchildlogdir={d}\n\
                 silent=true\n[unix_http_server]\nfile={d}/s.sock\n[rpcinterface:supervisor]\n\
                 supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
                 [supervisorctl]\nserverurl=unix://{d}/s.sock\n{programs}"
            )
        };
        fs::write(&conf, setup(BEFORE)).unwrap();
        fs::write(dir.path().join("after.conf"), setup(AFTER)).unwrap();
        let program = if python_daemon {
            venv().join("bin/supervisord")
        } else {
            PathBuf::from(BIN)
        };
        let daemon = Command::new(program)
            .args(["-n", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = Setup {
            daemon,
            dir,
            conf,
            python_client,
        };
        s.wait_all_running(7);
        s
    }

    fn ctl(&self, args: &[&str]) -> (String, i32) {
        let client = if self.python_client {
            Command::new(venv().join("bin/supervisorctl"))
        } else {
            common::our_ctl()
        };
        common::run_ctl(client, &self.conf, args)
    }

    fn wait_all_running(&self, count: usize) -> String {
        let deadline = Instant::now() + SECS(20);
        loop {
            let (out, _) = self.ctl(&["status"]);
            if out.lines().filter(|l| l.contains(" RUNNING ")).count() == count
                && out.lines().count() == count
            {
                return out;
            }
            assert!(Instant::now() < deadline, "never all running:\n{out}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The edits, as a user makes them.
    fn edit(&self) {
        fs::copy(self.dir.path().join("after.conf"), &self.conf).unwrap();
    }

    fn pid(&self, name: &str) -> String {
        self.ctl(&["pid", name]).0
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        common::terminate(&mut self.daemon);
    }
}

/// reread, avail, update, then the status names: what one setup prints.
fn scenario(python_daemon: bool, python_client: bool) -> (String, String, String, Vec<String>) {
    let s = Setup::start(python_daemon, python_client);
    let keep = s.pid("keep");
    s.edit();
    let (reread, code) = s.ctl(&["reread"]);
    assert_eq!(code, 0, "{reread}");
    // After a reread, avail lists the groups just read: a removed group
    // that still runs is not among them.
    let (avail, code) = s.ctl(&["avail"]);
    assert_eq!(code, 0, "{avail}");
    let (update, code) = s.ctl(&["update"]);
    assert_eq!(code, 0, "{update}");
    let status = s.wait_all_running(8);
    let names = status
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(
        s.pid("keep"),
        keep,
        "an unchanged program must keep its pid"
    );
    (reread, avail, update, names)
}

#[test]
fn reread_and_update_print_what_python_prints() {
    let reference = scenario(true, true);
    assert!(reference.0.contains("new: available"), "{reference:?}");
    assert!(!reference.1.contains("gone"), "{reference:?}");
    let ours = scenario(false, false);
    assert_eq!(ours, reference, "our client and daemon");
    let python_client = scenario(false, true);
    assert_eq!(
        python_client, reference,
        "Python's client against our daemon"
    );
}

#[test]
fn add_and_remove_one_group() {
    let s = Setup::start(false, false);
    s.edit();
    assert_eq!(s.ctl(&["reread"]).1, 0);
    assert_eq!(
        s.ctl(&["add", "new"]),
        ("new: added process group\n".into(), 0)
    );
    assert_eq!(
        s.ctl(&["add", "new"]),
        ("ERROR: process group already active\n".into(), 0)
    );
    assert_eq!(
        s.ctl(&["remove", "gone"]),
        ("ERROR: process/group still running: gone\n".into(), 1)
    );
    assert_eq!(s.ctl(&["stop", "gone"]).0, "gone: stopped\n");
    assert_eq!(
        s.ctl(&["remove", "gone"]),
        ("gone: removed process group\n".into(), 0)
    );
    assert_eq!(
        s.ctl(&["remove", "gone"]),
        ("ERROR: no such process/group: gone\n".into(), 1)
    );
}

#[test]
fn reload_and_sighup_with_a_broken_config_change_nothing() {
    let s = Setup::start(false, false);
    let before: Vec<String> = ["keep", "cmd", "x"].iter().map(|n| s.pid(n)).collect();
    fs::write(
        &s.conf,
        format!(
            "{}\n[program:broken]\n",
            fs::read_to_string(&s.conf).unwrap()
        ),
    )
    .unwrap();
    let (out, code) = s.ctl(&["reload"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("CANT_REREAD") && out.contains("does not specify a command"),
        "{out}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(s.daemon.id() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let log = s.dir.path().join("supervisord.log");
    let deadline = Instant::now() + SECS(10);
    while fs::read_to_string(&log)
        .unwrap()
        .matches("does not load")
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no error logged");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after: Vec<String> = ["keep", "cmd", "x"].iter().map(|n| s.pid(n)).collect();
    assert_eq!(after, before, "every program keeps its pid");
}
