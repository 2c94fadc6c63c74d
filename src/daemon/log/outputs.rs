//! The children's output pipes as the reactor sees them: registration,
//! draining, back-pressure, AUTO log files, and the shared console.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Local;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::autofiles::AutoFiles;
use super::childlog::{ChannelLog, Destination, Fed};
use super::console::{Consoles, LineAssembler};
use super::mainlog::MainLog;
use super::sink::{Sink, BACKLOG_LIMIT};
use super::syslog::{self, Syslog};
use super::Channel;
use crate::config::{self, Config, LogLevel, LogTarget};
use crate::daemon::proc::table::{GroupId, Key};

/// One read's worth of child output: Supervisor's 128 KiB, which also keeps
/// the buffer in cache between the read and the write (1 MiB was slower).
const READ_CHUNK: usize = 128 * 1024;
/// Pipes get this much room, so a busy child writes more per wakeup of
/// ours (and blocks less often) than with the 64 KiB default.
const PIPE_SIZE: i32 = 1 << 20;

struct OutputPipe {
    /// Whose output this is, and which spawn of it.
    key: Key,
    pid: i32,
    /// Its group's name, for events (the key may outlive the group).
    group: String,
    /// An event listener's stdout: its bytes are also protocol.
    listener: bool,
    /// The parent's end of the pipe; `None` once EOF was read (the log may
    /// still hold a backlog to write).
    file: Option<std::fs::File>,
    log: ChannelLog,
    /// Not read while the destination's backlog is over the limit.
    paused: bool,
    /// Its process was reaped: what is in the pipe now is the last of its
    /// output; once read, the pipe closes even if a grandchild still holds
    /// the other end (it would otherwise stay open for as long as that
    /// grandchild lives, with its log file, restart after restart).
    reaped: bool,
}

/// What output produced for the event system.
#[derive(Debug)]
pub struct Emitted {
    pub key: Key,
    /// The spawn that wrote it, and its names: a pipe can still hold output
    /// after its process (or group) is gone from the table.
    pub pid: i32,
    pub process: String,
    pub group: String,
    pub channel: Channel,
    pub what: Produced,
}

#[derive(Debug)]
pub enum Produced {
    /// A chunk for a PROCESS_LOG event (`*_events_enabled`).
    Log(Vec<u8>),
    /// A PROCESS_COMMUNICATION payload (capture mode).
    Communication(Vec<u8>),
    /// Bytes an event listener wrote on its stdout.
    Protocol(Vec<u8>),
}

/// Every output pipe and where its bytes go.
pub struct Outputs {
    pipes: HashMap<Token, OutputPipe>,
    /// The pipes of each spawn, to close them when it is reaped.
    by_pid: HashMap<i32, Vec<Token>>,
    next_token: usize,
    consoles: Consoles,
    syslog: Option<Syslog>,
    /// The AUTO log files of the current groups.
    auto: AutoFiles,
    /// Channels already warned that their target cannot rotate (once is
    /// enough, however often the program restarts).
    rotation_warned: HashSet<(Key, Channel)>,
    buffer: Vec<u8>,
}

impl Outputs {
    pub fn new(first_token: usize) -> Outputs {
        Outputs {
            pipes: HashMap::new(),
            by_pid: HashMap::new(),
            next_token: first_token,
            consoles: Consoles::default(),
            syslog: None,
            auto: AutoFiles::default(),
            rotation_warned: HashSet::new(),
            buffer: vec![0; READ_CHUNK],
        }
    }

    /// Before the groups of `config` start: remove the AUTO logs of earlier
    /// runs and name this run's, to be created with their spawns or the
    /// first snapshot (see `autofiles.rs`).
    pub fn create_auto_files(
        &mut self,
        config: &Config,
        table: &[(Key, &config::ProcessConfig)],
        log: &mut MainLog,
    ) {
        self.rotation_warned.clear();
        self.auto.reset(config, table, log);
    }

    /// AUTO log files for processes of a group added at run time (no cleanup).
    pub fn add_auto_files(
        &mut self,
        config: &Config,
        table: &[(Key, &config::ProcessConfig)],
        log: &mut MainLog,
    ) {
        self.auto.add(config, table, log);
    }

    /// Whether AUTO files wait to be created.
    pub fn auto_files_pending(&self) -> bool {
        self.auto.any_pending()
    }

    /// Create the AUTO files still pending, in the order of `keys`.
    pub fn create_pending_auto_files(&mut self, keys: &[Key], log: &mut MainLog) {
        self.auto.create_pending(keys, log);
    }

    /// The channel logs of a process about to be spawned. Files are opened
    /// now, at every spawn, so a failure is a spawn error (processes.md §5.1).
    /// A listener's stdout is the protocol channel: logged, but never
    /// captured and never a PROCESS_LOG event.
    pub fn prepare(
        &mut self,
        key: Key,
        process: &config::ProcessConfig,
        strip_ansi: bool,
        listener: bool,
        log: &mut MainLog,
    ) -> Result<(ChannelLog, Option<ChannelLog>), String> {
        let protocol = config::Stream {
            capture_maxbytes: 0,
            events_enabled: false,
            ..process.stdout.clone()
        };
        let stdout_stream = if listener { &protocol } else { &process.stdout };
        let stdout = self.channel_log(
            key,
            process,
            Channel::Stdout,
            stdout_stream,
            strip_ansi,
            log,
        )?;
        let stderr = if process.redirect_stderr {
            None
        } else {
            Some(self.channel_log(
                key,
                process,
                Channel::Stderr,
                &process.stderr,
                strip_ansi,
                log,
            )?)
        };
        Ok((stdout, stderr))
    }

    fn channel_log(
        &mut self,
        key: Key,
        process: &config::ProcessConfig,
        channel: Channel,
        stream: &config::Stream,
        strip_ansi: bool,
        log: &mut MainLog,
    ) -> Result<ChannelLog, String> {
        let path = match &stream.logfile {
            LogTarget::Path(path) => Some(path.as_path()),
            LogTarget::Auto => self.auto.for_spawn(key, channel, log),
            LogTarget::None | LogTarget::Syslog => None,
        };
        let destination = match path {
            None => Destination::Nowhere,
            Some(path) => match super::console::console_fd(path) {
                Some(fd) => {
                    if stream.logfile_maxbytes > 0 && self.rotation_warned.insert((key, channel)) {
                        log.log(
                            LogLevel::Warn,
                            &format!(
                                "{}: {} is not a regular file; rotation is disabled for it \
                                 (set {channel}_logfile_maxbytes=0 to silence this)",
                                process.name,
                                path.display()
                            ),
                        );
                    }
                    let console = process.console;
                    Destination::Console {
                        fd,
                        lines: console.whole_lines().then(|| {
                            LineAssembler::new(&process.name, console.prefix, console.timestamps)
                        }),
                    }
                }
                None => {
                    let sink = Sink::open(path, stream.logfile_maxbytes, stream.logfile_backups)
                        .map_err(|e| {
                            let name = crate::pyrepr::repr(&process.name);
                            match e.raw_os_error() {
                                Some(nix::libc::EMFILE | nix::libc::ENFILE) => {
                                    format!("too many open files to spawn {name}")
                                }
                                errno => format!(
                                    "unknown error making dispatchers for {name}: {}",
                                    errno.map_or("EIO", crate::daemon::proc::spawn::errno_name)
                                ),
                            }
                        })?;
                    if let Some(warning) = sink.rotation_warning() {
                        if self.rotation_warned.insert((key, channel)) {
                            log.log(LogLevel::Warn, &format!("{}: {warning}", process.name));
                        }
                    }
                    Destination::File(sink)
                }
            },
        };
        Ok(ChannelLog::new(
            &process.name,
            channel,
            destination,
            stream.capture_maxbytes,
            stream.events_enabled,
            strip_ansi,
            stream.syslog,
        ))
    }

    /// Start reading a new child's pipe into `log`.
    pub fn watch(
        &mut self,
        registry: &Registry,
        (key, pid, listener, group): (Key, i32, bool, &str),
        fd: OwnedFd,
        log: ChannelLog,
        main_log: &mut MainLog,
    ) {
        // A bigger pipe means fewer, larger reads; refusal (a per-user limit
        // on pipe memory) just keeps the default.
        let _ = nix::fcntl::fcntl(
            fd.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE),
        );
        let token = Token(self.next_token);
        self.next_token += 1;
        if let Err(e) = registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)
        {
            // Unwatched it could never be read: dropping it gives the child
            // EPIPE rather than a write that blocks forever.
            main_log.log(
                LogLevel::Error,
                &format!("cannot watch {} of {}: {e}", log.channel, log.process),
            );
            return;
        }
        self.pipes.insert(
            token,
            OutputPipe {
                key,
                pid,
                group: group.to_string(),
                listener: listener && log.channel == Channel::Stdout,
                file: Some(std::fs::File::from(fd)),
                log,
                paused: false,
                reaped: false,
            },
        );
        self.by_pid.entry(pid).or_default().push(token);
    }

    /// `pid` was reaped: read what its pipes hold, then close them.
    pub fn reaped(
        &mut self,
        pid: i32,
        registry: &Registry,
        main_log: &mut MainLog,
        emitted: &mut Vec<Emitted>,
    ) {
        for token in self.by_pid.remove(&pid).unwrap_or_default() {
            if let Some(pipe) = self.pipes.get_mut(&token) {
                pipe.reaped = true;
                self.drain(token, registry, main_log, emitted);
            }
        }
    }

    fn remove_pipe(&mut self, token: Token) {
        if let Some(pipe) = self.pipes.remove(&token) {
            if let Some(tokens) = self.by_pid.get_mut(&pipe.pid) {
                tokens.retain(|&t| t != token);
                if tokens.is_empty() {
                    self.by_pid.remove(&pipe.pid);
                }
            }
        }
    }

    /// Read a pipe until it would block (or its destination is backed up),
    /// so that no child ever stalls on a full pipe while we can take more.
    pub fn drain(
        &mut self,
        token: Token,
        registry: &Registry,
        main_log: &mut MainLog,
        emitted: &mut Vec<Emitted>,
    ) {
        let debug_copy = main_log.enabled(LogLevel::Debug);
        let Some(pipe) = self.pipes.get_mut(&token) else {
            return;
        };
        if pipe.paused {
            return;
        }
        let Some(file) = &pipe.file else {
            return;
        };
        let mut eof = false;
        loop {
            match (&*file).read(&mut self.buffer) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    let fed = pipe.log.feed(
                        &self.buffer[..n],
                        Instant::now(),
                        &mut self.consoles,
                        debug_copy,
                    );
                    if pipe.listener {
                        emitted.push(pipe.emitted(Produced::Protocol(self.buffer[..n].to_vec())));
                    }
                    deliver(fed, pipe, &mut self.syslog, main_log, emitted);
                    if pipe.log.backlog(&self.consoles) >= BACKLOG_LIMIT {
                        pipe.paused = true;
                        break;
                    }
                    // A short read emptied the pipe; the next write to it
                    // raises a new edge, so the read that would only say
                    // WouldBlock can be saved (one system call per wakeup).
                    // After the reap, only an empty pipe lets it close.
                    if n < self.buffer.len() && !pipe.reaped {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    eof = pipe.reaped;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        if eof {
            if let Some(file) = pipe.file.take() {
                let _ = registry.deregister(&mut SourceFd(&file.as_raw_fd()));
            }
            let fed = pipe.log.finish(Instant::now(), &mut self.consoles);
            deliver(fed, pipe, &mut self.syslog, main_log, emitted);
            if pipe.log.backlog(&self.consoles) == 0 {
                self.remove_pipe(token);
            }
        }
    }

    /// The next retry or partial-line flush.
    pub fn deadline(&self) -> Option<Instant> {
        self.pipes
            .values()
            .filter_map(|p| p.log.deadline())
            .chain(self.consoles.deadline())
            .min()
    }

    /// Retries and flushes that are due; resume paused pipes whose
    /// destination has room again; forget finished pipes with nothing left.
    pub fn on_deadline(
        &mut self,
        registry: &Registry,
        main_log: &mut MainLog,
        emitted: &mut Vec<Emitted>,
    ) {
        let now = Instant::now();
        for (level, message) in self.consoles.retry(now) {
            main_log.log(level, &message);
        }
        let mut resume = Vec::new();
        let mut finished = Vec::new();
        for (&token, pipe) in self.pipes.iter_mut() {
            for (level, message) in pipe.log.on_deadline(now, &mut self.consoles) {
                main_log.log(level, &message);
            }
            let backlog = pipe.log.backlog(&self.consoles);
            if pipe.paused && backlog < BACKLOG_LIMIT / 2 {
                pipe.paused = false;
                resume.push(token);
            }
            if pipe.file.is_none() && backlog == 0 {
                finished.push(token);
            }
        }
        for token in finished {
            self.remove_pipe(token);
        }
        // Readiness is edge-triggered: data that arrived while paused brings
        // no new event, so read it now.
        for token in resume {
            self.drain(token, registry, main_log, emitted);
        }
    }

    /// A group is gone: forget its AUTO files and warnings, so that adding
    /// and removing groups does not grow these maps. Its pipes still drain.
    pub fn forget_group(&mut self, group: GroupId) {
        self.auto.forget_group(group);
        self.rotation_warned.retain(|(key, _)| key.group != group);
    }

    /// The log file of a process channel, for reading it back (RPC, /logtail):
    /// a path or the AUTO file; none for NONE, syslog or our own stdout/stderr.
    pub fn log_path(
        &self,
        key: Key,
        process: &config::ProcessConfig,
        channel: Channel,
    ) -> Option<PathBuf> {
        if channel == Channel::Stderr && process.redirect_stderr {
            return None;
        }
        match &channel.stream(process).logfile {
            LogTarget::Path(path) if super::console::console_fd(path).is_none() => {
                Some(path.clone())
            }
            LogTarget::Auto => self.auto.get(key, channel).map(Path::to_path_buf),
            _ => None,
        }
    }

    /// Empty a process's current log files (not their backups): remove and
    /// recreate them, and point a running process's output at the new ones.
    pub fn clear(&mut self, key: Key, process: &config::ProcessConfig) -> io::Result<()> {
        for channel in [Channel::Stdout, Channel::Stderr] {
            if let Some(path) = self.log_path(key, process, channel) {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)?;
            }
        }
        for pipe in self.pipes.values_mut().filter(|p| p.key == key) {
            pipe.log.reopen()?;
        }
        Ok(())
    }

    /// SIGUSR2: reopen every child log file.
    pub fn reopen(&mut self, main_log: &mut MainLog) {
        for pipe in self.pipes.values_mut() {
            if let Err(e) = pipe.log.reopen() {
                main_log.log(
                    LogLevel::Error,
                    &format!(
                        "cannot reopen the {} log of {}: {e}",
                        pipe.log.channel, pipe.log.process
                    ),
                );
            }
        }
    }
}

impl OutputPipe {
    fn emitted(&self, what: Produced) -> Emitted {
        Emitted {
            key: self.key,
            pid: self.pid,
            process: self.log.process.clone(),
            group: self.group.clone(),
            channel: self.log.channel,
            what,
        }
    }
}

/// Hand what a chunk produced to the main log, syslog and the event system.
fn deliver(
    fed: Fed,
    pipe: &OutputPipe,
    syslog: &mut Option<Syslog>,
    main_log: &mut MainLog,
    emitted: &mut Vec<Emitted>,
) {
    for (level, message) in fed.messages {
        main_log.log(level, &message);
    }
    for chunk in fed.log_events {
        emitted.push(pipe.emitted(Produced::Log(chunk)));
    }
    for payload in fed.communications {
        emitted.push(pipe.emitted(Produced::Communication(payload)));
    }
    if !fed.syslog_lines.is_empty() {
        let now = Local::now().naive_local();
        let client = syslog.get_or_insert_with(|| Syslog::connect(Path::new(syslog::SOCKET)));
        for line in fed.syslog_lines {
            // A missing syslog daemon must not stop the output; the file
            // (if any) still has it.
            let _ = client.send_lines(now, &line, |l| l.to_string());
        }
    }
}
