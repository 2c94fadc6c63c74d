//! supervisord: the daemon applet. Startup follows Supervisor's sequence
//! (processes.md §8): config, user switch, rlimits, main log, daemonize,
//! pidfile, then the event loop until shutdown.

pub mod check;
pub mod cli;
pub mod events;
pub mod http;
pub mod lifecycle;
pub mod log;
pub mod probes;
pub mod proc;
pub mod reactor;
pub mod rpc;
pub mod startup;
pub mod state;
pub mod timefmt;

use std::path::PathBuf;

use crate::common::{print_stdout, usage_error, SUPERVISOR_VERSION};
use crate::config::{self, locate, Host};

/// Run supervisord with `args` (without `argv[0]`); returns the exit status.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let options = match cli::parse(args) {
        Ok(cli::Command::Help) => return print_stdout(cli::USAGE),
        Ok(cli::Command::Version) => return print_stdout(&format!("{SUPERVISOR_VERSION}\n")),
        Ok(cli::Command::Run(options)) => options,
        Err(msg) => return usage_error(argv0, &msg),
    };
    let file = match &options.configuration {
        Some(file) => file.clone(),
        None => match find_config(argv0) {
            Ok(file) => file,
            Err(msg) => return usage_error(argv0, &msg),
        },
    };
    let host = Host::current();
    let config = match config::load(&file, &options.overrides, &host) {
        Ok(config) => config,
        Err(e) => return usage_error(argv0, &e.0),
    };
    if options.check_config {
        return check::report(&config, &host);
    }
    // Absolute, so that a reload still finds it after `directory=` moved
    // us (messages above name it as the user did).
    let file = if file.is_absolute() {
        file
    } else {
        host.cwd.join(file)
    };
    let source = state::Source {
        file,
        overrides: options.overrides.clone(),
    };
    match startup::run(config, source) {
        Ok(status) => status,
        Err(message) => usage_error(argv0, &message),
    }
}

/// The default search of config.md §1, with Supervisor's warning when root
/// lets the current directory decide which config runs.
fn find_config(argv0: &str) -> Result<PathBuf, String> {
    if nix::unistd::geteuid().is_root() {
        eprintln!(
            "supervisord: warning: running as root without -c: searching default locations, \
             including the current directory; you probably want an absolute -c path"
        );
    }
    locate::find(&locate::exe_dir(argv0))
}
