//! Spawning (spec processes.md §5): pipes, the command and its environment,
//! and `daemonize`. The child itself is started in `child.rs`.
//!
//! Everything the child needs is prepared here, in the parent (argument and
//! environment arrays, messages, the group list), because between clone and
//! exec the child may only make raw system calls: it runs in the parent's
//! memory while the parent's other threads run on (see `child.rs`).

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStringExt;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::libc;
use nix::unistd::{pipe2, ForkResult, Gid, Uid};

use crate::config::{self, command};
use crate::pyrepr::repr;

/// The parent's ends of a new child's pipes, all non-blocking.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    /// Never closed by us while the process lives: programs reading stdin
    /// block rather than see EOF, as under Supervisor.
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    /// `None` with `redirect_stderr`: fd 2 of the child is the stdout pipe.
    pub stderr: Option<OwnedFd>,
}

/// What a spawn needs besides the process's own config.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `SUPERVISOR_SERVER_URL` when the process has no `serverurl=` of its own.
    pub server_url: Option<String>,
    /// supervisord's own environment, the base of every child's.
    pub environ: Vec<(OsString, OsString)>,
}

/// PATH when neither the program's environment nor ours has one.
const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// Start `process`. An `Err` is the spawn error text of processes.md §5.1,
/// after which the process goes to BACKOFF. Failures inside the child (user
/// switch, chdir, exec) are written to its stderr and end it with status 127,
/// which the parent sees as an ordinary exit.
pub fn spawn(process: &config::ProcessConfig, ctx: &Context) -> Result<Spawned, String> {
    prepare(process, ctx)?.start()
}

/// A spawn made ready: the child's plan and both ends of its pipes. What is
/// left, [`Prepared::start`], only clones, and the calling thread waits
/// there until the child has exec'd; so the event loop can prepare the
/// next spawn while another thread starts this one (`state/spawning.rs`).
pub struct Prepared {
    /// For the error messages of `start`, already quoted.
    name: String,
    plan: ChildPlan,
    /// `(the child's end, ours)` of each pipe.
    stdin: (OwnedFd, OwnedFd),
    stdout: (OwnedFd, OwnedFd),
    /// `None` with `redirect_stderr`: fd 2 of the child is the stdout pipe.
    stderr: Option<(OwnedFd, OwnedFd)>,
}

/// Everything of a spawn but the clone: the command looked up, the child's
/// plan, the pipes. An `Err` is a spawn error, as for [`spawn`].
pub fn prepare(process: &config::ProcessConfig, ctx: &Context) -> Result<Prepared, String> {
    let (resolved, argv) = resolve_command(process, ctx).map_err(|e| e.message)?;
    let plan = ChildPlan::new(process, ctx, &resolved, &argv)?;

    let pipe = || pipe2(OFlag::O_CLOEXEC);
    let too_many = |e: nix::Error| match e {
        nix::Error::EMFILE | nix::Error::ENFILE => {
            format!("too many open files to spawn {}", repr(&process.name))
        }
        other => format!(
            "unknown error making dispatchers for {}: {}",
            repr(&process.name),
            errno_name(other as i32)
        ),
    };
    let stdin = pipe().map_err(too_many)?;
    let (stdout_read, stdout_write) = pipe().map_err(too_many)?;
    let stderr = if process.redirect_stderr {
        None
    } else {
        let (read, write) = pipe().map_err(too_many)?;
        Some((write, read))
    };
    Ok(Prepared {
        name: repr(&process.name),
        plan,
        stdin,
        stdout: (stdout_write, stdout_read),
        stderr,
    })
}

impl Prepared {
    /// Clone the child; returns once it has exec'd (or failed and exited).
    pub fn start(self) -> Result<Spawned, String> {
        let Prepared {
            name,
            plan,
            stdin,
            stdout,
            stderr,
        } = self;
        let child_fds = [
            stdin.0.as_raw_fd(),
            stdout.0.as_raw_fd(),
            stderr
                .as_ref()
                .map_or(stdout.0.as_raw_fd(), |e| e.0.as_raw_fd()),
        ];
        let pid = super::child::start(&plan, child_fds).map_err(|e| match e {
            nix::Error::EAGAIN => format!("Too many processes in process table to spawn {name}"),
            other => format!(
                "unknown error during fork for {name}: {}",
                errno_name(other as i32)
            ),
        })?;
        // The child's ends are closed here as their OwnedFds drop.
        let (ours_stdin, ours_stdout) = (stdin.1, stdout.1);
        let ours_stderr = stderr.map(|(_child, ours)| ours);
        for fd in [&ours_stdin, &ours_stdout]
            .into_iter()
            .chain(ours_stderr.as_ref())
        {
            set_nonblocking(fd.as_raw_fd());
        }
        Ok(Spawned {
            pid,
            stdin: ours_stdin,
            stdout: ours_stdout,
            stderr: ours_stderr,
        })
    }
}

/// Start a health check's command for `process`: split and looked up like
/// its `command=`, run with its user, directory and environment, in a
/// process group of its own (so a timeout can kill all of it), with its
/// standard streams on the null device. Returns the pid.
pub fn spawn_check(
    process: &config::ProcessConfig,
    command: &str,
    ctx: &Context,
) -> Result<i32, String> {
    let check = config::ProcessConfig {
        command: command.to_string(),
        ..process.clone()
    };
    let (resolved, argv) = resolve_command(&check, ctx).map_err(|e| e.message)?;
    let plan = ChildPlan::new(&check, ctx, &resolved, &argv)?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("cannot open /dev/null for a health check: {e}"))?;
    let fd = null.as_raw_fd();
    super::child::start(&plan, [fd, fd, fd]).map_err(|e| {
        format!(
            "cannot start the health check of {}: {}",
            repr(&process.name),
            errno_name(e as i32)
        )
    })
}

/// Why a command cannot be started, found before any fork (the checks the
/// RPC `startProcess` also makes, as NO_FILE / NOT_EXECUTABLE faults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// The program does not exist (NO_FILE); otherwise it exists but cannot run.
    pub not_found: bool,
    /// Supervisor's spawnerr text.
    pub message: String,
}

/// Split the command and find the program to exec, as the spawn will.
pub fn resolve_command(
    process: &config::ProcessConfig,
    ctx: &Context,
) -> Result<(std::path::PathBuf, Vec<String>), CommandError> {
    let bad = |message: String| CommandError {
        not_found: false,
        message,
    };
    let argv = command::split(&process.command).map_err(|e| {
        bad(format!(
            "can't parse command {}: {e}",
            repr(&process.command)
        ))
    })?;
    let Some(program) = argv.first() else {
        return Err(bad("command is empty".to_string()));
    };
    let search_path = lookup(&process.environment, "PATH")
        .map(str::to_string)
        .or_else(|| {
            ctx.environ
                .iter()
                .find(|(k, _)| k == "PATH")
                .map(|(_, v)| v.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    let resolved = command::resolve(program, &search_path).map_err(|e| CommandError {
        not_found: matches!(e, command::ResolveError::NotFound(_)),
        message: e.to_string(),
    })?;
    Ok((resolved, argv))
}

fn lookup<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn set_nonblocking(fd: RawFd) {
    // Cannot fail on a pipe we just created; if it somehow did, reads would
    // block the loop, so say so loudly in debug builds.
    let flags = fcntl(fd, FcntlArg::F_GETFL).unwrap_or(0);
    let result = fcntl(
        fd,
        FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
    );
    debug_assert!(result.is_ok(), "O_NONBLOCK on a fresh pipe failed");
}

/// Everything the child does, computed before the fork.
pub(super) struct ChildPlan {
    pub(super) path: CString,
    /// NUL-terminated pointer arrays into `_argv`/`_env`, ready for execve.
    pub(super) argv_ptrs: Vec<*const libc::c_char>,
    pub(super) env_ptrs: Vec<*const libc::c_char>,
    _argv: Vec<CString>,
    _env: Vec<CString>,
    /// `(uid, gid, supplementary groups)` when `user=` asks for a switch.
    pub(super) user: Option<(Uid, Gid, Vec<libc::gid_t>)>,
    pub(super) directory: Option<CString>,
    pub(super) umask: Option<libc::mode_t>,
    /// Messages the child may write to its stderr (prefixes; the errno name follows).
    pub(super) setpgid_prefix: Vec<u8>,
    pub(super) dup2_prefix: Vec<u8>,
    pub(super) setuid_prefix: Vec<u8>,
    pub(super) nonroot_message: Vec<u8>,
    pub(super) chdir_prefix: Vec<u8>,
    pub(super) exec_prefix: Vec<u8>,
}

// SAFETY: the raw pointers of a plan point only into the heap buffers of
// the plan's own `CString`s (`_argv`, `_env`), which stay where they are
// when the plan moves to another thread, and nothing else holds them. A
// plan is read by one thread (and its child) at a time.
unsafe impl Send for ChildPlan {}

impl ChildPlan {
    fn new(
        process: &config::ProcessConfig,
        ctx: &Context,
        resolved: &std::path::Path,
        argv: &[String],
    ) -> Result<ChildPlan, String> {
        let nul = |what: &str| {
            format!(
                "can't spawn {}: {what} contains a NUL byte",
                repr(&process.name)
            )
        };
        let path = CString::new(resolved.as_os_str().as_encoded_bytes())
            .map_err(|_| nul("the command"))?;
        let argv_c = argv
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| nul("the command"))?;

        let user = process.user.as_ref().map(user_switch);
        let env = child_environment(process, ctx, process.user.as_ref());
        let env_c = env
            .into_iter()
            .map(|(k, v)| {
                let mut bytes = k.into_vec();
                bytes.push(b'=');
                bytes.extend(v.into_vec());
                CString::new(bytes)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| nul("the environment"))?;
        let directory = process
            .directory
            .as_ref()
            .map(|d| CString::new(d.as_bytes()))
            .transpose()
            .map_err(|_| nul("directory"))?;

        let uid = process.user.as_ref().map_or(0, |u| u.uid);
        let dir = process.directory.clone().unwrap_or_default();
        let mut plan = ChildPlan {
            path,
            argv_ptrs: Vec::new(),
            env_ptrs: Vec::new(),
            _argv: argv_c,
            _env: env_c,
            user,
            directory,
            umask: process.umask.map(|m| m as libc::mode_t),
            setpgid_prefix: b"supervisor: couldn't setpgid: ".to_vec(),
            dup2_prefix: b"supervisor: couldn't set up the standard streams: ".to_vec(),
            setuid_prefix: format!("supervisor: couldn't setuid to {uid}: ").into_bytes(),
            nonroot_message: format!(
                "supervisor: couldn't setuid to {uid}: Can't drop privilege as nonroot user\n"
            )
            .into_bytes(),
            chdir_prefix: format!("supervisor: couldn't chdir to {dir}: ").into_bytes(),
            exec_prefix: format!("supervisor: couldn't exec {}: ", argv[0]).into_bytes(),
        };
        plan.argv_ptrs = plan._argv.iter().map(|a| a.as_ptr()).collect();
        plan.argv_ptrs.push(std::ptr::null());
        plan.env_ptrs = plan._env.iter().map(|e| e.as_ptr()).collect();
        plan.env_ptrs.push(std::ptr::null());
        Ok(plan)
    }
}

/// The ids and groups a `user=` switch sets: the primary group first, then
/// every group that lists the user as a member.
fn user_switch(user: &config::User) -> (Uid, Gid, Vec<libc::gid_t>) {
    let gid = Gid::from_raw(user.gid);
    let mut groups = vec![user.gid];
    if let Ok(name) = CString::new(user.name.as_bytes()) {
        if let Ok(list) = nix::unistd::getgrouplist(&name, gid) {
            groups.extend(list.into_iter().map(Gid::as_raw).filter(|&g| g != user.gid));
        }
    }
    (Uid::from_raw(user.uid), gid, groups)
}

/// The child's environment (processes.md §5.2 step 5): ours, the
/// `SUPERVISOR_*` variables, then the configured pairs on top. When `user=`
/// switches users we also set HOME, USER and LOGNAME to that user's, which
/// Supervisor leaves pointing at root (programs then write into /root).
fn child_environment(
    process: &config::ProcessConfig,
    ctx: &Context,
    user: Option<&config::User>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = ctx.environ.clone();
    let mut set = |key: &str, value: OsString| {
        let key = OsString::from(key);
        match env.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => env.push((key, value)),
        }
    };
    set("SUPERVISOR_ENABLED", "1".into());
    if let Some(url) = process.serverurl.as_ref().or(ctx.server_url.as_ref()) {
        set("SUPERVISOR_SERVER_URL", url.into());
    }
    set("SUPERVISOR_PROCESS_NAME", process.name.clone().into());
    set("SUPERVISOR_GROUP_NAME", process.group.clone().into());
    if let Some(user) = user {
        if let Ok(Some(entry)) = nix::unistd::User::from_uid(Uid::from_raw(user.uid)) {
            set("HOME", entry.dir.into_os_string());
        }
        set("USER", user.name.clone().into());
        set("LOGNAME", user.name.clone().into());
    }
    for (k, v) in &process.environment {
        set(k, v.into());
    }
    env
}

/// Fork into the background. The parent gets `Ok(false)` and should exit 0
/// at once; the child gets `Ok(true)`, leads a new session, and has its
/// standard streams on the null device.
pub fn daemonize() -> std::io::Result<bool> {
    // SAFETY: called before any thread exists, so the child is a complete
    // copy of a single-threaded process and may do anything afterwards.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { .. } => Ok(false),
        ForkResult::Child => {
            nix::unistd::setsid()?;
            let null = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            for fd in 0..3 {
                nix::unistd::dup2(null.as_raw_fd(), fd)?;
            }
            Ok(true)
        }
    }
}

/// The symbolic name of an errno value, as Python's `errno.errorcode` gives it.
/// A table, not `strerror`: it must work in the child without allocating.
pub fn errno_name(err: i32) -> &'static str {
    match err {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::ELIBBAD => "ELIBBAD",
        _ => "EUNKNOWN",
    }
}
