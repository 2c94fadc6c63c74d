//! supervisord: the daemon applet.
//!
//! Today it loads and validates the configuration (`--check-config`); the
//! event loop, process lifecycle and PID-1 duties come next.

pub mod check;
pub mod cli;
pub mod mainlog;
pub mod process;
pub mod rotate;

use std::io::Write;
use std::path::PathBuf;

use crate::applet::usage_error;
use crate::config::{self, locate, Host};

/// Run supervisord with `args` (without argv[0]); returns the exit status.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let options = match cli::parse(args) {
        Ok(cli::Command::Help) => return print_stdout(cli::USAGE),
        Ok(cli::Command::Version) => {
            return print_stdout(&format!("{}\n", cli::SUPERVISOR_VERSION))
        }
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
    eprintln!(
        "supervisord: the configuration {} is valid, but the daemon itself is not built yet; \
         use --check-config to inspect what it would run",
        config.file.display()
    );
    1
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

/// Write `text` to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn print_stdout(text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    0
}
