//! Ctrl-C in the commands that run until the user stops them: `tail -f`,
//! `maintail -f` and `fg`. As in Supervisor, Ctrl-C there ends the command,
//! not supervisorctl: a one-shot run exits with the status so far, the
//! shell shows its prompt again.
//!
//! While an [`Interrupts`] lives, SIGINT is caught (through signal-hook's
//! self-pipe, watched with mio) and reported by [`Interrupts::wait`];
//! otherwise it keeps its default action, ending the program, as before
//! any was caught. (signal-hook cannot give the default handler back once
//! it has installed its own, so its own emulates the default while no
//! command catches.) A SIGINT ignored from the start stays ignored: nothing
//! is caught then.

use std::io::{BufRead, ErrorKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::SIGINT;
use signal_hook_mio::v1_0::Signals;

const SIGNAL: Token = Token(0);
const WAKE: Token = Token(1);
const STDIN: Token = Token(2);

/// The flag that makes SIGINT do its default action (true while nothing
/// catches it), installed on first use. `None`: SIGINT is not to be caught
/// (ignored from the start, or the handler could not be installed).
fn default_action() -> Option<&'static Arc<AtomicBool>> {
    static FLAG: OnceLock<Option<Arc<AtomicBool>>> = OnceLock::new();
    FLAG.get_or_init(|| {
        if ignored_from_start() {
            return None;
        }
        let flag = Arc::new(AtomicBool::new(true));
        signal_hook::flag::register_conditional_default(SIGINT, flag.clone()).ok()?;
        Some(flag)
    })
    .as_ref()
}

/// Whether SIGINT is ignored (as for a job a non-interactive shell puts
/// in the background), from the process's `SigIgn` mask.
fn ignored_from_start() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (SIGINT - 1)) != 0)
}

/// Read what stdin has onto `into`: one read, which does not wait when
/// [`Interrupts::wait`] has reported input. Ok(false) at end of input.
pub(super) fn read_stdin(into: &mut Vec<u8>) -> std::io::Result<bool> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    match lock.fill_buf() {
        Ok(data) => {
            let n = data.len();
            into.extend_from_slice(data);
            lock.consume(n);
            Ok(n > 0)
        }
        Err(e) if e.kind() == ErrorKind::Interrupted => Ok(true),
        Err(e) => Err(e),
    }
}

/// What [`Interrupts::wait`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    /// Ctrl-C.
    Interrupted,
    /// A [`Waker`] from [`Interrupts::waker`].
    Woken,
    /// Stdin has something to read (see [`Interrupts::watch_stdin`]).
    Stdin,
}

/// SIGINT caught, for as long as this lives.
pub(super) struct Interrupts {
    poll: Poll,
    events: Events,
    signals: Signals,
    waker: Arc<Waker>,
    stdin: bool,
}

impl Interrupts {
    /// Catch SIGINT from now on. `None` when it cannot or must not be
    /// caught; it then keeps its action.
    pub(super) fn catch() -> Option<Interrupts> {
        let default = default_action()?;
        let poll = Poll::new().ok()?;
        let mut signals = Signals::new([SIGINT]).ok()?;
        poll.registry()
            .register(&mut signals, SIGNAL, Interest::READABLE)
            .ok()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).ok()?);
        default.store(false, Ordering::SeqCst);
        Some(Interrupts {
            poll,
            events: Events::with_capacity(8),
            signals,
            waker,
            stdin: false,
        })
    }

    /// For another thread to end a [`Interrupts::wait`] with [`Event::Woken`].
    pub(super) fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    /// Report input on stdin too. False when stdin cannot be watched (a
    /// regular file or `/dev/null`, which never make a read wait).
    pub(super) fn watch_stdin(&mut self) -> bool {
        self.stdin = self
            .poll
            .registry()
            .register(&mut SourceFd(&0), STDIN, Interest::READABLE)
            .is_ok();
        self.stdin
    }

    /// After a read of stdin: the poll reports edges, and registering
    /// stdin again makes it report input that is still there.
    pub(super) fn rearm_stdin(&mut self) {
        if self.stdin {
            let _ = self
                .poll
                .registry()
                .reregister(&mut SourceFd(&0), STDIN, Interest::READABLE);
        }
    }

    /// Wait for Ctrl-C, a wake-up or input on stdin, in that order of
    /// precedence; `timeout` None waits as long as it takes. None: the
    /// time ran out.
    pub(super) fn wait(&mut self, timeout: Option<Duration>) -> Option<Event> {
        loop {
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // A poll that fails cannot wait: behave as woken.
                Err(_) => return Some(Event::Woken),
            }
            if self.events.is_empty() && timeout.is_some() {
                return None;
            }
            let (mut woken, mut stdin) = (false, false);
            for event in self.events.iter() {
                match event.token() {
                    SIGNAL => {
                        if self.signals.pending().next().is_some() {
                            return Some(Event::Interrupted);
                        }
                    }
                    WAKE => woken = true,
                    _ => stdin = true,
                }
            }
            if woken {
                return Some(Event::Woken);
            }
            if stdin {
                return Some(Event::Stdin);
            }
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        // SIGINT does its default action again; the signal-hook action of
        // `signals` goes when the field is dropped, after this.
        if let Some(default) = default_action() {
            default.store(true, Ordering::SeqCst);
        }
    }
}
