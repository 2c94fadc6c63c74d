//! Which signals supervisord catches. They arrive through signal-hook's
//! pipe, registered with the poller: a handler only writes a byte, the loop
//! does the work.

use std::io;

use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;

/// Signals that shut down, restart, reopen or reap; everything else
/// catchable that would kill us by default is only logged.
const HANDLED: &[i32] = &[SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2];
const LOGGED_ONLY: &[i32] = &[
    SIGUSR1,
    SIGALRM,
    SIGVTALRM,
    SIGPROF,
    nix::libc::SIGPWR,
    SIGIO,
    SIGXCPU,
    SIGXFSZ,
    nix::libc::SIGSTKFLT,
    SIGTRAP,
];

/// Catch our signals from here on; they wait in the returned pipe until the
/// loop runs. Installed first thing at startup, so a SIGTERM that arrives
/// while we start up still means an orderly shutdown.
pub fn install_signals() -> io::Result<Signals> {
    let mut all: Vec<i32> = HANDLED.to_vec();
    all.extend_from_slice(LOGGED_ONLY);
    let signals = Signals::new(&all)?;
    // Real-time signals also kill by default. Some numbers belong to the
    // C library and cannot be caught; those are simply skipped.
    for realtime in 34..=64 {
        let _ = signals.add_signal(realtime);
    }
    Ok(signals)
}
