//! Reaping children and the duties of an init process.
//!
//! Only `waitpid(-1, WNOHANG)` in a loop: every exited child of ours — the
//! programs we spawned and any orphan re-parented to us — is collected, and
//! the loop never blocks.

use nix::libc;

/// How a child ended: its pid and raw wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    pub pid: i32,
    pub status: i32,
}

/// Collect every child that has exited, without blocking.
pub fn reap_all() -> Vec<Reaped> {
    let mut reaped = Vec::new();
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid with a valid out-pointer; WNOHANG never blocks.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            // 0: children exist but none has exited; -1: ECHILD (none at
            // all) or EINTR, after which the next SIGCHLD brings us back.
            0 => break,
            -1 if nix::errno::Errno::last() == nix::errno::Errno::EINTR => continue,
            -1 => break,
            pid => reaped.push(Reaped { pid, status }),
        }
    }
    reaped
}

/// Whether any child at all is left (used as PID 1 at the very end).
pub fn has_children() -> bool {
    let mut info: libc::siginfo_t = unsafe_zeroed_siginfo();
    // SAFETY: waitid with WNOWAIT only inspects; the out-pointer is valid.
    let rc = unsafe {
        libc::waitid(
            libc::P_ALL,
            0,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    rc == 0
}

fn unsafe_zeroed_siginfo() -> libc::siginfo_t {
    // SAFETY: siginfo_t is plain data for which all-zero bytes are valid.
    unsafe { std::mem::zeroed() }
}

/// Are we the init process of our pid namespace?
pub fn is_pid1() -> bool {
    std::process::id() == 1
}

/// Adopt the orphans of our descendants, so a program that double-forks
/// leaves no zombie behind even when we are not PID 1.
pub fn become_subreaper() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// As PID 1: signal every other process in the namespace (`kill(-1, sig)`
/// spares the caller). Returns false when there was nobody to signal.
pub fn signal_everyone(signal: nix::sys::signal::Signal) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(-1), signal).is_ok()
}

/// The other processes of our pid namespace, with their command names
/// (from /proc; empty where it is not mounted), for saying what we signal.
pub fn others() -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(i32, String)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (pid, comm.trim_end().to_string())
        })
        .collect();
    found.sort_unstable();
    found
}

/// `12 (sleep), 13 (sh)`, at most `limit` of them and a count of the rest.
pub fn describe(processes: &[(i32, String)], limit: usize) -> String {
    let mut text: Vec<String> = processes
        .iter()
        .take(limit)
        .map(|(pid, comm)| format!("{pid} ({comm})"))
        .collect();
    if processes.len() > limit {
        text.push(format!("and {} more", processes.len() - limit));
    }
    text.join(", ")
}
