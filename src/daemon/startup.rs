//! From a loaded config to a running event loop, and back out at shutdown
//! (processes.md §8, with our differences: umask and directory also apply in
//! the foreground, where containers run us).

use std::fs::OpenOptions;
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use nix::unistd::{Gid, Uid};

use super::proc::{reap, spawn};
use super::reactor::Reactor;
use super::state::Source;
use crate::config::{Config, LogLevel};
use crate::daemon::log::mainlog::MainLog;

/// Run the daemon; `Err` is a fatal startup error for the `Error: …` usage format.
pub fn run(config: Config, source: Source) -> Result<i32, String> {
    super::probes::mark_started();
    ensure_standard_fds();
    let signals =
        super::reactor::install_signals().map_err(|e| format!("cannot catch signals: {e}"))?;
    let mut log = MainLog::queued();
    for warning in &config.messages.warnings {
        log.log(LogLevel::Warn, warning);
    }
    for info in &config.messages.infos {
        log.log(LogLevel::Info, info);
    }
    switch_user(&config, &mut log)?;
    raise_limits(&config, &mut log)?;

    // Before anything is created, so the log, the pidfile and the children
    // all see them.
    enter_umask_and_directory(&config, &mut log);

    log.open(&config.supervisord)
        .map_err(|e| format!("cannot open the main log: {e}"))?;

    // Bind the HTTP sockets while we can still say "another supervisord is
    // running" on the terminal; their threads start after daemonizing,
    // since a fork must happen before any thread exists.
    let listeners = super::http::Listeners::bind(&config)?;

    if !config.supervisord.nodaemon {
        // No thread exists yet, which is what makes this fork safe.
        if !spawn::daemonize().map_err(|e| format!("cannot daemonize: {e}"))? {
            listeners.leave_to_child();
            return Ok(0);
        }
        log.log(LogLevel::Info, "daemonizing the supervisord process");
    }

    let mut reactor = Reactor::new(config, source, log, signals)
        .map_err(|e| format!("cannot start the event loop: {e}"))?;
    reactor.serve(listeners)?;
    let pidfile_path = reactor.pidfile_path();
    let log = reactor.log();
    let pid = std::process::id();
    let pidfile = write_pidfile(&pidfile_path, pid, log);
    log.log(
        LogLevel::Info,
        &format!("supervisord started with pid {pid}"),
    );
    if !reap::is_pid1() {
        if let Err(e) = reap::become_subreaper() {
            log.log(
                LogLevel::Warn,
                &format!("cannot become a child subreaper, orphans will not be reaped: {e}"),
            );
        }
    }

    let status = reactor.run();
    // The loop stopped the HTTP servers without waiting for clients. Answers
    // still being written (shutdown's own `true`) get a moment to reach their
    // clients; with the reactor gone, calls still to make fail at once.
    drop(reactor);
    super::http::wait_for_answers(super::http::limits::EXIT_GRACE);
    if let Some(path) = pidfile {
        let _ = std::fs::remove_file(path);
    }
    Ok(status)
}

/// `[supervisord] umask` and `directory`, applied in the foreground too
/// (Supervisor applies them only when daemonizing, which containers never
/// do). A directory that cannot be entered is logged, not fatal.
fn enter_umask_and_directory(config: &Config, log: &mut MainLog) {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
        config.supervisord.umask as nix::libc::mode_t,
    ));
    if let Some(dir) = &config.supervisord.directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => log.log(
                LogLevel::Info,
                &format!("set current directory: '{}'", dir.display()),
            ),
            Err(e) => log.log(
                LogLevel::Critical,
                &format!("can't chdir into '{}': {e}", dir.display()),
            ),
        }
    }
}

/// fds 0–2 must be open: the pipes we create must never land on them, or
/// the child's dup2 onto 0/1/2 would clobber its own pipe ends.
fn ensure_standard_fds() {
    for fd in 0..3 {
        if nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
            // open() returns the lowest free fd, which is this one.
            if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
                let raw = null.into_raw_fd();
                debug_assert_eq!(raw, fd);
            }
        }
    }
}

/// `user=`/`-u`: drop to that user, or complain when root keeps root.
fn switch_user(config: &Config, log: &mut MainLog) -> Result<(), String> {
    let Some(user) = &config.supervisord.user else {
        // As a container's PID 1, root is the norm, not a slip.
        if Uid::effective().is_root() && std::process::id() != 1 {
            log.log(
                LogLevel::Critical,
                "Supervisor is running as root.  Privileges were not dropped because no user \
                 is specified in the config file.  If you intend to run as root, you can set \
                 user=root in the config file to avoid this message.",
            );
        }
        return Ok(());
    };
    let uid = Uid::from_raw(user.uid);
    if Uid::current() != uid {
        if !Uid::current().is_root() {
            return Err("Can't drop privilege as nonroot user".to_string());
        }
        let gid = Gid::from_raw(user.gid);
        let name = std::ffi::CString::new(user.name.as_bytes())
            .map_err(|_| format!("Can't find username '{}'", user.name))?;
        let groups = nix::unistd::getgrouplist(&name, gid)
            .map_err(|_| "Could not set groups of effective user".to_string())?;
        nix::unistd::setgroups(&groups)
            .map_err(|_| "Could not set groups of effective user".to_string())?;
        nix::unistd::setgid(gid)
            .map_err(|_| "Could not set group id of effective user".to_string())?;
        nix::unistd::setuid(uid).map_err(|e| format!("Could not set user id: {e}"))?;
    }
    log.log(
        LogLevel::Info,
        &format!("Set uid to user {} succeeded", user.uid),
    );
    Ok(())
}

/// minfds/minprocs: raise the soft limits to the configured minimum.
fn raise_limits(config: &Config, log: &mut MainLog) -> Result<(), String> {
    let wanted = [
        (
            Resource::RLIMIT_NOFILE,
            config.supervisord.minfds,
            "NOFILE",
            "minfds",
            "file descriptors",
        ),
        (
            Resource::RLIMIT_NPROC,
            config.supervisord.minprocs,
            "NPROC",
            "minprocs",
            "processes",
        ),
    ];
    for (resource, minimum, name, setting, things) in wanted {
        let Ok(minimum) = u64::try_from(minimum) else {
            continue;
        };
        let Ok((soft, hard)) = getrlimit(resource) else {
            continue;
        };
        if soft == RLIM_INFINITY || soft >= minimum {
            continue;
        }
        let new_hard = if hard != RLIM_INFINITY && hard < minimum {
            minimum
        } else {
            hard
        };
        if setrlimit(resource, minimum, new_hard).is_err() {
            return Err(format!(
                "The minimum number of {things} required to run this process is {minimum} as per \
                 the \"{setting}\" command-line argument or config file setting. The current \
                 environment will only allow you to use {hard} {things}.  Either raise the \
                 limit in your environment or lower the {setting} setting in the config file to \
                 allow the process to start."
            ));
        }
        log.log(
            LogLevel::Info,
            &format!("Increased RLIMIT_{name} limit to {minimum}"),
        );
    }
    Ok(())
}

/// `<pid>\n`; a failure is logged and we keep running, as Supervisor does.
fn write_pidfile(path: &Path, pid: u32, log: &mut MainLog) -> Option<PathBuf> {
    match std::fs::write(path, format!("{pid}\n")) {
        Ok(()) => Some(path.to_path_buf()),
        Err(_) => {
            log.log(
                LogLevel::Critical,
                &format!("could not write pidfile {}", path.display()),
            );
            None
        }
    }
}
