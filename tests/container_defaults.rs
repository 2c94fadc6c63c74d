//! Defaults that work in any container: what bit a newcomer running the
//! binary inside one, each pinned by a test named after the problem. (Root
//! and no password as PID 1, and `user=root` without /etc/passwd, are
//! tested inside a real container in tests/container.rs; the search order
//! with the binary at `/` by a unit test of `config::locate`.)

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{header, Daemon, BIN, RPC_SERVER};

const LIMIT: Duration = Duration::from_secs(20);

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
}

#[test]
fn config_found_by_the_search_is_lost_after_directory_moves_us() {
    // supervisord finds `supervisord.conf` in its working directory, then
    // `directory=` moves it elsewhere: `reread` must still find the file.
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let conf = dir.path().join("supervisord.conf");
    let body = format!(
        "{}directory={}\n{}[program:idle]\ncommand=sleep 1000\nstartsecs=0\n",
        header(dir.path(), "info"),
        elsewhere.display(),
        RPC_SERVER.replace("{dir}", dir.path().to_str().unwrap()),
    );
    write(&conf, &body);
    let mut daemon = Command::new(BIN)
        .arg("-n")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = dir.path().join("supervisord.log");
    common::wait_until("idle to run", LIMIT, || {
        fs::read_to_string(&log).is_ok_and(|t| t.contains("success: idle entered RUNNING"))
    });

    write(&conf, &body.replace("sleep 1000", "sleep 1001"));
    let (out, code) = common::run_ctl(common::our_ctl(), &conf, &["reread"]);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
    assert_eq!((out.as_str(), code), ("idle: changed\n", 0));
}

/// `supervisord -n -u nobody -c conf`, which is expected to fail at startup.
fn start_as_nobody(conf: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(["-n", "-u", "nobody", "-c"])
        .arg(conf)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn permission_denied_binding_the_socket_does_not_say_where() {
    // As `nobody`, the socket's directory (root's, 0755) is not writable.
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let writable = dir.path().join("w");
    fs::create_dir(&writable).unwrap();
    fs::set_permissions(&writable, fs::Permissions::from_mode(0o777)).unwrap();
    let socket = dir.path().join("locked").join("supervisor.sock");
    fs::create_dir(socket.parent().unwrap()).unwrap();
    let conf = dir.path().join("supervisord.conf");
    write(
        &conf,
        &format!(
            "{}[unix_http_server]\nfile={}\n",
            header(&writable, "info"),
            socket.display()
        ),
    );
    let out = start_as_nobody(&conf);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("errno.EACCES (13) creating {}", socket.display())),
        "{stderr}"
    );
    assert!(stderr.contains("[unix_http_server] file="), "{stderr}");

    // A port below 1024: the port and the key to change.
    write(
        &conf,
        &format!(
            "{}[inet_http_server]\nport=127.0.0.1:81\n",
            header(&writable, "info")
        ),
    );
    let out = start_as_nobody(&conf);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("errno.EACCES (13) binding 127.0.0.1:81")
            && stderr.contains("[inet_http_server] port="),
        "{stderr}"
    );
}

#[test]
fn supervisorctl_without_a_config_does_not_say_what_it_tried() {
    let cwd = tempfile::tempdir().unwrap();
    // The search looks next to the binary, in the working directory, then
    // in /etc: none of them may hold a config for this test to mean anything.
    for path in ["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"] {
        assert!(
            !Path::new(path).exists(),
            "this test needs a machine without {path}"
        );
    }
    let out = Command::new(BIN)
        .args(["ctl", "status"])
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // stdout keeps Supervisor's words; the hint goes to stderr.
    assert_eq!(stdout, "http://localhost:9001 refused connection\n");
    assert!(
        stderr.contains("No config file found at default paths (")
            && stderr.contains("/etc/supervisord.conf")
            && stderr.contains("tried the default server URL http://localhost:9001"),
        "{stderr}"
    );
    // With -s the user chose the URL: no hint.
    let out = Command::new(BIN)
        .args(["ctl", "-s", "unix:///nonexistent/s.sock", "status"])
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn env_files_and_defaults_reach_the_program() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("global.env"),
        "# shared by every program\nGLOBAL=g\nSHARED=from-global\n",
    );
    write(
        &dir.path().join("app.env"),
        "export SHARED=\"from app file\"\nOWN=file\n",
    );
    let body = "env_files=global.env\n\
        [program:app]\n\
        command=sh -c 'echo \"$GLOBAL|$SHARED|$OWN|$PORT|%(ENV_UNSET_FOR_TEST:-8080)s\"'\n\
        env_files={dir}/app.env, -{dir}/missing.env\n\
        environment=OWN=environment,PORT=%(ENV_GLOBAL:-none)s\n\
        startsecs=0\nautorestart=false\n\
        stdout_logfile={dir}/app.out\n";
    let mut daemon = Daemon::launch(dir, body, "info", &[]);
    let out = daemon.path("app.out");
    common::wait_until("app's output", LIMIT, || {
        fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "g|from app file|environment|g|8080\n"
    );
    daemon.shutdown();
}

#[test]
fn a_bad_env_file_is_reported_with_its_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("bad.env"),
        "GOOD=1\nthis line has no equals\n",
    );
    let conf = dir.path().join("supervisord.conf");
    write(
        &conf,
        &format!(
            "{}[program:app]\ncommand=true\nenv_files=bad.env\n",
            header(dir.path(), "info")
        ),
    );
    let out = Command::new(BIN)
        .arg("--check-config")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    let bad = dir.path().join("bad.env");
    assert!(
        stderr.contains(&format!("env file {}, line 2:", bad.display()))
            && stderr.contains("section 'program:app'")
            && stderr.contains("key 'env_files'"),
        "{stderr}"
    );
}

#[test]
fn a_changed_env_file_makes_reread_see_a_changed_program() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("app.env"), "VERSION=1\n");
    let body =
        format!("{RPC_SERVER}[program:app]\ncommand=sleep 1000\nenv_files=app.env\nstartsecs=0\n");
    let mut daemon = Daemon::launch(dir, &body, "info", &[]);
    daemon.wait_for("success: app entered RUNNING", LIMIT);
    assert_eq!(
        daemon.ctl(&["reread"]).0,
        "No config updates to processes\n"
    );
    write(&daemon.path("app.env"), "VERSION=2\n");
    assert_eq!(daemon.ctl(&["reread"]).0, "app: changed\n");
    daemon.shutdown();
}
