//! Black-box tests of the binary: applet dispatch, supervisord's command line,
//! `--check-config` and `echo_supervisord_conf`, run as a user would.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::BIN;

fn run_in(dir: &Path, program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn run(args: &[&str]) -> Output {
    run_in(Path::new("."), Path::new(BIN), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A symlink to the binary under another name, as busybox-style installs do.
fn link_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    link
}

/// A minimal valid config whose files all live in `dir`.
fn minimal_config(dir: &Path) -> PathBuf {
    let d = dir.display();
    let file = dir.join("supervisord.conf");
    fs::write(
        &file,
        format!(
            "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nchildlogdir={d}\n\
             [unix_http_server]\nfile={d}/sd.sock\n\
             [program:cat]\ncommand=cat\n"
        ),
    )
    .unwrap();
    file
}

#[test]
fn sample_config_printed_by_echo_supervisord_conf_passes_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let echo = link_as(dir.path(), "echo_supervisord_conf");
    let printed = run_in(dir.path(), &echo, &["ignored", "-x"]);
    assert!(printed.status.success());
    let sample = stdout(&printed);
    assert!(sample.contains("[supervisord]") && sample.contains("[program:theprogramname]"));
    fs::write(dir.path().join("x.conf"), &sample).unwrap();

    let checked = run(&[
        "--check-config",
        "-c",
        dir.path().join("x.conf").to_str().unwrap(),
    ]);
    assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
    assert!(stdout(&checked).contains("valid (0 groups, 0 processes)"));
}

#[test]
fn applet_as_first_argument_picks_it() {
    let echo = run(&["echo_supervisord_conf"]);
    assert!(echo.status.success());
    assert!(stdout(&echo).contains("[supervisorctl]"));

    let version = run(&["supervisord", "-v"]);
    assert_eq!(stdout(&version), "4.3.0\n");

    // `ctl` is the short alias of supervisorctl: its usage, not the daemon's.
    let ctl = run(&["ctl", "-h"]);
    assert_eq!(ctl.status.code(), Some(0));
    assert!(
        stdout(&ctl).starts_with("supervisorctl -- "),
        "{}",
        stdout(&ctl)
    );
}

#[test]
fn unknown_applet_name_says_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let odd = link_as(dir.path(), "svtool");
    let out = run_in(dir.path(), &odd, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("supervisorctl"), "{}", stderr(&out));
}

#[test]
fn supervisorctl_symlink_reaches_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let ctl = link_as(dir.path(), "supervisorctl");
    let out = run_in(dir.path(), &ctl, &["-h"]);
    assert!(
        stdout(&out).starts_with("supervisorctl -- "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn version_and_help() {
    let v = run(&["-v"]);
    assert_eq!(
        (v.status.code(), stdout(&v)),
        (Some(0), "4.3.0\n".to_string())
    );
    let h = run(&["-h"]);
    assert_eq!(h.status.code(), Some(0));
    assert!(stdout(&h).contains("--configuration") && stdout(&h).contains("--check-config"));
}

#[test]
fn command_line_errors_use_supervisor_format_and_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["-x"], "option -x not recognized"),
        (
            &["extra"],
            "positional arguments are not supported: ['extra']",
        ),
        (
            &["-m", "999"],
            "invalid value for -m '999': 999 can not be converted to an octal type",
        ),
        (
            &["-c", "a", "-c", "b"],
            "conflicting command line option '-c'",
        ),
    ];
    for (args, message) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            format!("Error: {message}\nFor help, use {BIN} -h\n"),
            "{args:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn busybox_form_names_itself_in_the_help_hint() {
    let out = run(&["supervisord", "-x"]);
    assert_eq!(
        stderr(&out),
        format!("Error: option -x not recognized\nFor help, use {BIN} supervisord -h\n")
    );
}

#[test]
fn missing_and_unreadable_config_files() {
    let out = run(&["--check-config", "-c", "/nonexistent-dir/x.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("Error: could not find config file /nonexistent-dir/x.conf\n"));
}

#[test]
fn check_config_lists_processes_with_resolved_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = minimal_config(dir.path());
    let out = run(&["--check-config", "-c", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("group cat [priority 999]"), "{text}");
    let cat = which("cat");
    assert!(
        text.contains(&format!("  cat  command: cat  program: {}", cat.display())),
        "{text}"
    );
    assert!(text.contains("valid (1 groups, 1 processes)"), "{text}");
}

fn which(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .expect("on PATH")
}

#[test]
fn check_config_creates_binds_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = minimal_config(dir.path());
    // An old AUTO log that a real start (without nocleanup) would delete.
    let old_log = dir.path().join("cat-stdout---supervisor-abc123.log");
    fs::write(&old_log, "keep me").unwrap();
    let before = common::names_in(dir.path());

    let out = run(&["--check-config", "-c", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(common::names_in(dir.path()), before);
    assert_eq!(fs::read_to_string(old_log).unwrap(), "keep me");
}

#[test]
fn check_config_reports_errors_with_file_section_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.conf");
    fs::write(
        &file,
        "[supervisord]\n[program:web]\ncommand=/bin/cat\nstartsecs=abc\n",
    )
    .unwrap();
    let out = run(&["--check-config", "-c", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "Error: invalid literal for int() with base 10: 'abc' in section 'program:web' \
             (file: '{}', line 4, key 'startsecs')\nFor help, use {BIN} -h\n",
            file.display()
        )
    );
}

#[test]
fn check_config_warns_about_typos_but_passes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.conf");
    fs::write(
        &file,
        "[supervisord]\n[program:web]\ncommand=/bin/cat\nautorestrat=true\n",
    )
    .unwrap();
    let out = run(&["--check-config", "-c", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("Unknown key 'autorestrat' in section [program:web]")
            && stderr(&out).contains("did you mean 'autorestart'?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_is_found_next_to_the_executable_then_in_the_current_directory() {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    let cwd = root.path().join("work");
    fs::create_dir_all(root.path().join("etc")).unwrap();
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&cwd).unwrap();
    let exe = link_as(&bin, "supervisord");

    // Only the current directory has one.
    minimal_config(&cwd);
    let out = run_in(&cwd, &exe, &["--check-config"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("supervisord.conf: valid"),
        "{}",
        stdout(&out)
    );

    // <exe>/../etc/supervisord.conf comes first in the search.
    let etc_conf = root.path().join("etc/supervisord.conf");
    fs::write(&etc_conf, "[supervisord]\n[program:frometc]\ncommand=cat\n").unwrap();
    let out = run_in(&cwd, &exe, &["--check-config"]);
    assert!(stdout(&out).contains("group frometc"), "{}", stdout(&out));
}

#[test]
fn no_config_anywhere_lists_the_paths_searched() {
    if Path::new("/etc/supervisord.conf").exists()
        || Path::new("/etc/supervisor/supervisord.conf").exists()
    {
        // This machine has a system-wide config, which the search would find.
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let exe = link_as(&bin, "supervisord");
    let out = run_in(root.path(), &exe, &["--check-config"]);
    assert_eq!(out.status.code(), Some(2));
    let r = root.path().display();
    assert!(
        stderr(&out).contains(&format!(
            "Error: No config file found at default paths ({r}/etc/supervisord.conf, \
             {r}/supervisord.conf, supervisord.conf, etc/supervisord.conf, \
             /etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option \
             to specify a config file at a different path\n"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn quickstart_example_from_the_readme_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.conf");
    let out = run(&["--check-config", "-c", example.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("group clock") && text.contains("group hello"),
        "{text}"
    );
    assert!(
        text.contains("while true; do echo \"hello from hello\"; sleep 2; done"),
        "{text}"
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
