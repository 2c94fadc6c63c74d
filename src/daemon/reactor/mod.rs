//! The event loop: one thread, one `mio::Poll` (the shape of mio's
//! `tcp_server` example). It owns the poller, the signal pipe, the waker the
//! HTTP threads use, the servers and the published status snapshot; the
//! [`Daemon`] it drives owns everything else and never waits.
//!
//! Each pass: do what is due, publish the status if it changed, send the
//! answers that were waiting for it, then sleep until the nearest deadline,
//! or with no timeout when nothing is due — zero wakeups when idle.

pub mod bridge;
mod signals;
pub mod snapshot;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook_mio::v1_0::Signals;

use crate::config::{Config, LogLevel};
use crate::daemon::http;
use crate::daemon::log::mainlog::MainLog;
use crate::daemon::proc::status::Now;
use crate::daemon::state::{Daemon, Source};
pub use signals::install_signals;

const SIGNALS: Token = Token(0);
const WAKER: Token = Token(1);

pub struct Reactor {
    poll: Poll,
    signals: Signals,
    /// Lets other threads (the HTTP servers) wake the loop.
    waker: Arc<Waker>,
    /// Calls from the HTTP threads.
    bridge: Receiver<bridge::Message>,
    bridge_tx: Sender<bridge::Message>,
    servers: Option<http::Servers>,
    /// The status copy the HTTP threads answer read-only calls from.
    snapshot: snapshot::Shared,
    generation: u64,
    /// `generation` once published, for the HTTP threads' cache check.
    published: Arc<AtomicU64>,
    daemon: Daemon,
}

impl Reactor {
    pub fn new(
        config: Config,
        source: Source,
        log: MainLog,
        mut signals: Signals,
    ) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let (bridge_tx, bridge) = mpsc::channel();
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let registry = poll.registry().try_clone()?;
        let mut daemon = Daemon::new(config, source, log, registry);
        let snapshot = Arc::new(std::sync::Mutex::new(Arc::new(daemon.snapshot(0))));
        Ok(Reactor {
            poll,
            signals,
            waker,
            bridge,
            bridge_tx,
            servers: None,
            snapshot,
            generation: 0,
            published: Arc::new(AtomicU64::new(0)),
            daemon,
        })
    }

    /// The main log, for the startup messages written before [`run`](Self::run).
    pub fn log(&mut self) -> &mut MainLog {
        self.daemon.log()
    }

    pub fn pidfile_path(&self) -> PathBuf {
        self.daemon.config().supervisord.pidfile.clone()
    }

    /// Start serving HTTP on sockets bound at startup.
    pub fn serve(&mut self, listeners: http::Listeners) -> Result<(), String> {
        self.publish_snapshot();
        let backend = Arc::new(bridge::ReactorBackend {
            tx: self.bridge_tx.clone(),
            waker: self.waker.clone(),
            snapshot: self.snapshot.clone(),
            cache: Default::default(),
            published: self.published.clone(),
        });
        let servers = listeners.serve(backend)?;
        for line in servers.crit_messages() {
            self.daemon.log().log(LogLevel::Critical, line);
        }
        self.servers = Some(servers);
        Ok(())
    }

    /// Run until shut down; returns the exit status.
    pub fn run(&mut self) -> i32 {
        let mut events = Events::with_capacity(256);
        self.daemon.start();
        loop {
            let now = Now::current();
            self.daemon.on_time(now);
            if let Some(status) = self.daemon.exit_status(now) {
                self.close_servers();
                return status;
            }
            // A restart that just applied new server sections.
            if self.daemon.rebind_servers {
                self.daemon.rebind_servers = false;
                self.rebind();
            }
            self.deliver_answers();
            let timeout = self
                .daemon
                .deadline(now)
                .map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Only a broken poller fails otherwise (EBADF, EINVAL …);
                // looping on it would spin forever, supervising nothing.
                let status = self.daemon.abandon(&e.to_string());
                self.close_servers();
                return status;
            }
            for event in events.iter() {
                match event.token() {
                    SIGNALS => {
                        for signal in self.signals.pending() {
                            self.daemon.on_signal(signal);
                        }
                    }
                    WAKER => {
                        while let Ok(message) = self.bridge.try_recv() {
                            match message {
                                bridge::Message::Call { call, reply } => {
                                    self.daemon.call(call, reply)
                                }
                                // `/healthz`: that we got here is the answer.
                                bridge::Message::Ping { reply } => {
                                    let _ = reply.send(());
                                }
                            }
                        }
                    }
                    token => self.daemon.on_ready(token),
                }
            }
        }
    }

    /// Publish the status if it changed, then send the answers that are
    /// ready: whoever gets an answer may ask for status next and must see
    /// the effect of their own call.
    fn deliver_answers(&mut self) {
        if self.daemon.snapshot_stale() {
            self.publish_snapshot();
        }
        for (reply, answer) in self.daemon.take_answers() {
            let _ = reply.send(answer);
        }
    }

    fn publish_snapshot(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        let fresh = Arc::new(self.daemon.snapshot(self.generation));
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        // After the snapshot: whoever sees this generation finds it there.
        self.published.store(self.generation, Ordering::Release);
    }

    /// A restart changed the server sections: serve the new ones.
    fn rebind(&mut self) {
        if let Some(servers) = self.servers.take() {
            servers.stop();
        }
        let rebound = http::Listeners::bind(self.daemon.config()).and_then(|l| self.serve(l));
        if let Err(e) = rebound {
            self.daemon.log().log(
                LogLevel::Critical,
                &format!("cannot reopen the HTTP servers after the restart: {e}"),
            );
        }
    }

    /// At exit: answer what is still waiting (the daemon is going away),
    /// then stop the servers, which lets answers being written finish.
    fn close_servers(&mut self) {
        self.deliver_answers();
        self.daemon.abandon_waiting();
        while let Ok(message) = self.bridge.try_recv() {
            // A dropped ping is a failed probe: we are going away.
            if let bridge::Message::Call { reply, .. } = message {
                let _ = reply.send(Err(crate::xmlrpc::Fault::named(
                    crate::xmlrpc::faults::SHUTDOWN_STATE,
                    None,
                )));
            }
        }
        if let Some(servers) = self.servers.take() {
            servers.stop();
        }
    }
}
