//! supervisorctl: the client applet (spec supervisorctl.md). Options and
//! config here; the session (replies, errors, exit status) in [`session`];
//! the commands by topic in [`commands`]; the exit codes in [`exit`]; the
//! connection in [`transport`]; the interactive shell in [`shell`]; Ctrl-C
//! in the commands that run until stopped in [`interrupt`].

pub mod commands;
pub mod exit;
mod interrupt;
pub mod session;
pub mod shell;
pub mod transport;

use std::path::PathBuf;

use crate::common::{print_stdout, usage_error, SUPERVISOR_VERSION};
use crate::config::{self, datatypes, locate, Host};
use crate::getopt::getopt;
use crate::pyrepr::repr;

const SHORT: &str = "c:hs:u:p:ir:v?";
const LONG: &[&str] = &[
    "configuration=",
    "serverurl=",
    "username=",
    "password=",
    "interactive",
    "history_file=",
    "history-file=",
    "help",
    "version",
];

const USAGE: &str = "\
supervisorctl -- control applications run by supervisord from the cmd line.

Usage: supervisorctl [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searched if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)
-v/--version -- print the version of this supervisorctl and exit

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.
";

/// What the command line sets; the rest comes from `[supervisorctl]`.
#[derive(Default)]
struct Options {
    file: Option<PathBuf>,
    serverurl: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history_file: Option<PathBuf>,
    interactive: bool,
}

/// Read the options in order. Err: the exit status when they end the run
/// (help, version, a usage error, which is printed).
fn read_options(argv0: &str, opts: &[(String, String)]) -> Result<Options, i32> {
    let mut options = Options::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for (opt, value) in opts {
        let setting: &'static str = match opt.as_str() {
            "-h" | "-?" | "--help" => return Err(print_stdout(USAGE)),
            "-v" | "--version" => return Err(print_stdout(&format!("{}\n", SUPERVISOR_VERSION))),
            "-c" | "--configuration" => {
                options.file = Some(PathBuf::from(value));
                "configuration"
            }
            "-s" | "--serverurl" => match datatypes::url(value) {
                Ok(url) => {
                    options.serverurl = Some(url);
                    "serverurl"
                }
                Err(msg) => {
                    return Err(usage_error(
                        argv0,
                        &format!("invalid value for {opt} {}: {msg}", repr(value)),
                    ))
                }
            },
            "-u" | "--username" => {
                options.username = Some(value.clone());
                "username"
            }
            "-p" | "--password" => {
                options.password = Some(value.clone());
                "password"
            }
            "-i" | "--interactive" => {
                options.interactive = true;
                "interactive"
            }
            // Supervisor accepts -r but ignores it; we honour it (spec §7.3).
            _ => {
                options.history_file = Some(PathBuf::from(value));
                "history_file"
            }
        };
        if seen.contains(&setting) {
            return Err(usage_error(
                argv0,
                &format!("conflicting command line option {}", repr(opt)),
            ));
        }
        seen.push(setting);
    }
    Ok(options)
}

/// Run supervisorctl with `args` (without argv[0]); returns the exit status.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let (opts, rest) = match getopt(args, SHORT, LONG) {
        Ok(parsed) => parsed,
        Err(msg) => return usage_error(argv0, &msg),
    };
    let options = match read_options(argv0, &opts) {
        Ok(options) => options,
        Err(status) => return status,
    };
    let host = Host::current();
    let mut not_found = None;
    let file = options
        .file
        .or_else(|| match locate::find(&locate::exe_dir(argv0)) {
            Ok(found) => Some(found),
            Err(message) => {
                not_found = Some(message);
                None
            }
        });
    let ctl = match &file {
        Some(file) => match config::load_ctl(file, &host) {
            Ok(ctl) => ctl,
            Err(e) => return usage_error(argv0, &e.0),
        },
        None => config::Ctl::default(),
    };
    let explicit_url = options.serverurl.is_some();
    let serverurl = options.serverurl.unwrap_or(ctl.serverurl);
    let username = options.username.or(ctl.username);
    let password = options.password.or(ctl.password);
    let mut session = match session::Session::new(
        &serverurl,
        username.as_deref(),
        password.as_deref(),
        ctl.prompt,
        options.interactive || rest.is_empty(),
    ) {
        Ok(session) => session,
        Err(msg) => {
            println!("error: {msg}");
            return exit::ERROR;
        }
    };
    session.history_file = options.history_file.or(ctl.history_file);
    if let (Some(paths), false) = (not_found, explicit_url) {
        session.hint = Some(format!(
            "supervisorctl: {paths}; so it tried the default server URL {serverurl} (name \
             another with -s)"
        ));
    }
    if rest.is_empty() {
        return session.shell();
    }
    // Python joins the words and splits them again on whitespace.
    let line = rest.join(" ");
    session.run_line(&line);
    if options.interactive {
        return session.shell();
    }
    let status = session.exit_status;
    // The process ends now and the kernel takes its memory back at once.
    // Freeing it piece by piece first unmaps pages of the allocator, and
    // each unmap is a TLB flush on every CPU the command ran on: a tenth
    // of a millisecond of a `status` (the session holds no buffered
    // output, and its socket closes with the process).
    std::mem::forget(session);
    status
}
