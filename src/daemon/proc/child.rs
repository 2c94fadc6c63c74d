//! Starting the child: `clone(CLONE_VM | CLONE_VFORK)`, as `posix_spawn`
//! does, then the child's setup before exec (processes.md §5.2).
//!
//! Why not `fork`: a fork copies the daemon's page tables and the child's
//! exec then tears that copy down, so every spawn cost time in proportion to
//! the daemon's memory, which grows with the number of processes (with
//! thousands of programs, that copy was most of the time spent starting
//! them). A child that shares the parent's memory until it execs costs the
//! same whatever the daemon's size. `posix_spawn` itself cannot do what a
//! spawn here needs (a user switch with supplementary groups, a umask).
//!
//! The price is a child that runs in the parent's memory, on a stack of its
//! own, while the calling thread waits (CLONE_VFORK) and the daemon's other
//! threads run on. So the child only reads what the parent prepared
//! ([`ChildPlan`]), writes nothing but its own stack (and the errno of the
//! waiting thread, which looks at it no more), and makes raw system calls:
//! libc wrappers such as `setuid` or `sigaction` take locks or signal every
//! thread of the process, which here are the parent's.

use std::os::fd::RawFd;

use nix::libc;

use super::spawn::{errno_name, ChildPlan};

/// The child's stack. It runs only the code below (no recursion, no
/// allocation), a few KiB even in a debug build.
const CHILD_STACK: usize = 64 * 1024;

/// close_range(2)'s flag: mark close-on-exec instead of closing.
const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;

thread_local! {
    /// The children's stack, one for every spawn of the thread that spawns
    /// (only one child at a time runs on it: the thread waits until that
    /// child has exec'd or exited). A fresh 64 KiB per spawn was mapped,
    /// zeroed page by page and unmapped each time, and an unmap right after
    /// a child ran in our memory flushes the TLB of every CPU it ran on.
    static STACK: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; CHILD_STACK].into_boxed_slice());
}

/// What the child's entry point gets through clone's `void *` argument.
struct Start<'a> {
    plan: &'a ChildPlan,
    fds: [RawFd; 3],
}

/// Start the child; returns its pid once it has exec'd or failed (and
/// exited 127). Errors are those of the clone itself (EAGAIN, ENOMEM).
pub(super) fn start(plan: &ChildPlan, fds: [RawFd; 3]) -> nix::Result<i32> {
    // Block every signal across the clone so no handler of ours runs in the
    // child (it would write into the parent's signal pipe, in the parent's
    // memory); the child resets dispositions to default and unblocks
    // everything right before exec.
    let all = nix::sys::signal::SigSet::all();
    let mut old = nix::sys::signal::SigSet::empty();
    nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&all),
        Some(&mut old),
    )?;
    let start = Start { plan, fds };
    let cloned = STACK.with(|stack| {
        let mut stack = stack.borrow_mut();
        // SAFETY: the stack is ours and outlives the child's use of it:
        // with CLONE_VFORK this thread resumes only once the child has
        // exec'd or exited, so `stack`, `start` and `plan` stay alive and
        // unchanged while it runs, and the next child gets the stack only
        // after that. The stack grows down from its 16-byte-aligned top.
        // The child's code is restricted as the module says.
        let pid = unsafe {
            let top = stack.as_mut_ptr().add(stack.len()) as usize & !15;
            libc::clone(
                child_main,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                &start as *const Start as *mut libc::c_void,
            )
        };
        nix::errno::Errno::result(pid)
    });
    // Restoring the mask of this thread cannot fail with a valid set.
    let _ = nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&old),
        None,
    );
    cloned
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Start` that `start` passed, alive until we exec.
    let start = unsafe { &*(arg as *const Start) };
    after_clone(start.plan, start.fds)
}

/// The child between clone and exec, in the order of processes.md §5.2.
/// Never returns: it execs or exits 127.
fn after_clone(plan: &ChildPlan, fds: [RawFd; 3]) -> ! {
    // SAFETY (whole function): raw system calls only, on pointers into
    // `plan`, which the parent keeps alive and unchanged until we exec.
    unsafe {
        // 1. A process group of its own, in supervisord's session (before
        // the parent resumes, so a stop signal to the group cannot miss it).
        if sys(libc::SYS_setpgid, 0, 0, 0) != 0 {
            report(&plan.setpgid_prefix, errno());
            fail();
        }
        // 2. The pipes become fds 0, 1, 2 (dup2 clears close-on-exec). A
        // failure here would run the program with the wrong stdio (or none),
        // so it fails the spawn like any other child-side failure; the
        // message goes to fd 2 if that is already the pipe, else nowhere.
        for (target, &fd) in fds.iter().enumerate() {
            let result = if fd == target as RawFd {
                // dup2 onto itself would keep FD_CLOEXEC set.
                sys(libc::SYS_fcntl, fd as usize, libc::F_SETFD as usize, 0)
            } else {
                loop {
                    let r = sys(libc::SYS_dup2, fd as usize, target, 0);
                    if r >= 0 || errno() != libc::EINTR {
                        break r;
                    }
                }
            };
            if result < 0 {
                report(&plan.dup2_prefix, errno());
                fail();
            }
        }
        // 3. Nothing else of ours leaks into the program. Every descriptor
        // is marked close-on-exec rather than closed here: exec closes them
        // after it has released the parent, so with thousands of pipes
        // open the closing no longer holds the daemon up (Linux 5.11+;
        // older kernels close them here).
        if sys(
            libc::SYS_close_range,
            3,
            u32::MAX as usize,
            CLOSE_RANGE_CLOEXEC,
        ) != 0
            && sys(libc::SYS_close_range, 3, u32::MAX as usize, 0) != 0
        {
            for fd in 3..65536 {
                sys(libc::SYS_close, fd, 0, 0);
            }
        }
        // 4. Drop privileges.
        if let Some((uid, gid, groups)) = &plan.user {
            if sys(libc::SYS_getuid, 0, 0, 0) != uid.as_raw() as libc::c_long {
                if sys(libc::SYS_getuid, 0, 0, 0) != 0 {
                    write_all(2, &plan.nonroot_message);
                    fail();
                }
                if sys(
                    libc::SYS_setgroups,
                    groups.len(),
                    groups.as_ptr() as usize,
                    0,
                ) != 0
                    || sys(libc::SYS_setgid, gid.as_raw() as usize, 0, 0) != 0
                    || sys(libc::SYS_setuid, uid.as_raw() as usize, 0, 0) != 0
                {
                    report(&plan.setuid_prefix, errno());
                    fail();
                }
            }
        }
        // 6. The working directory, as the target user.
        if let Some(dir) = &plan.directory {
            if sys(libc::SYS_chdir, dir.as_ptr() as usize, 0, 0) != 0 {
                report(&plan.chdir_prefix, errno());
                fail();
            }
        }
        // 7. umask.
        if let Some(mask) = plan.umask {
            sys(libc::SYS_umask, mask as usize, 0, 0);
        }
        default_signals();
        // 8. exec (5. the environment is in env_ptrs).
        libc::syscall(
            libc::SYS_execve,
            plan.path.as_ptr(),
            plan.argv_ptrs.as_ptr(),
            plan.env_ptrs.as_ptr(),
        );
        report(&plan.exec_prefix, errno());
        fail()
    }
}

/// Default dispositions and an empty mask: a program must not inherit what
/// supervisord ignores or blocks (Supervisor leaks SIGPIPE and SIGXFSZ as
/// ignored). exec resets handled signals itself; ignored ones it keeps.
///
/// # Safety
/// Only in the child (it changes this task's dispositions and mask).
unsafe fn default_signals() {
    /// The kernel's `struct sigaction` for rt_sigaction (x86_64 and most
    /// others): handler, flags, restorer, mask.
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    let kernel_sigset = std::mem::size_of::<u64>();
    for signal in 1..=64usize {
        if signal != libc::SIGKILL as usize && signal != libc::SIGSTOP as usize {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                kernel_sigset,
            );
        }
    }
    let empty: u64 = 0;
    libc::syscall(
        libc::SYS_rt_sigprocmask,
        libc::SIG_SETMASK,
        &empty as *const u64,
        std::ptr::null_mut::<u64>(),
        kernel_sigset,
    );
}

/// A raw system call with up to three arguments.
///
/// # Safety
/// As the system call itself.
unsafe fn sys(number: libc::c_long, a: usize, b: usize, c: usize) -> libc::c_long {
    libc::syscall(number, a, b, c)
}

/// `<prefix><ERRNO_NAME>\n` on the child's stderr.
fn report(prefix: &[u8], err: i32) {
    write_all(2, prefix);
    write_all(2, errno_name(err).as_bytes());
    write_all(2, b"\n");
}

fn fail() -> ! {
    write_all(2, b"supervisor: child process was not spawned\n");
    // SAFETY: exit_group ends this process (the child) only, without
    // running anything of the parent's (atexit handlers, stdio flushes).
    loop {
        unsafe {
            libc::syscall(libc::SYS_exit_group, 127);
        }
    }
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write(2) on a valid buffer, as a raw system call.
        let n = unsafe {
            sys(
                libc::SYS_write,
                fd as usize,
                bytes.as_ptr() as usize,
                bytes.len(),
            )
        };
        if n <= 0 {
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}
