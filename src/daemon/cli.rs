//! supervisord's command line (spec config.md §1): Supervisor's options, its
//! exact error texts, plus our `--check-config`.

use std::path::PathBuf;

use crate::config::{datatypes as dt, Overrides};
use crate::getopt::getopt;
use crate::pyrepr::repr;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-h`: print usage and exit 0.
    Help,
    /// `-v`: print the version and exit 0.
    Version,
    /// Load the config, then run the daemon (or only check the config).
    Run(Box<Options>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-c FILE`; `None` means search the default locations.
    pub configuration: Option<PathBuf>,
    pub overrides: Overrides,
    /// `--check-config`: validate, print what would run, start nothing.
    pub check_config: bool,
}

const SHORT: &str = "c:hvnsu:m:d:l:y:z:e:j:i:q:ka:t?";
const LONG: &[&str] = &[
    "configuration=",
    "nodaemon",
    "silent",
    "help",
    "version",
    "user=",
    "umask=",
    "directory=",
    "logfile=",
    "logfile_maxbytes=",
    "logfile_backups=",
    "loglevel=",
    "pidfile=",
    "identifier=",
    "childlogdir=",
    "nocleanup",
    "minfds=",
    "strip_ansi",
    "minprocs=",
    "profile_options=",
    "check-config",
];

pub const USAGE: &str = "\
supervisord -- start a set of programs and keep them running.

Usage: supervisord [options]

Options:
-c/--configuration FILE  configuration file (searched for when not given)
-n/--nodaemon            stay in the foreground (same as nodaemon=true)
-s/--silent              with -n, do not copy the log to stdout (silent=true)
-u/--user USER           run as this user (name or uid; needs root)
-m/--umask UMASK         umask for the daemon, octal (e.g. 022)
-d/--directory DIR       directory to change to when daemonizing
-l/--logfile FILE        supervisord's own log file
-y/--logfile_maxbytes N  rotate the log at this size (e.g. 50MB; 0 never rotates)
-z/--logfile_backups N   number of rotated logs to keep
-e/--loglevel LEVEL      critical, error, warn, info, debug, trace or blather
-j/--pidfile FILE        write the daemon's pid here
-i/--identifier STR      name of this supervisor instance
-q/--childlogdir DIR     directory for AUTO child log files
-k/--nocleanup           keep old AUTO child logs at startup
-a/--minfds N            file descriptors required before starting
-t/--strip_ansi          remove ANSI escape sequences from child output
--minprocs N             processes required before starting
--check-config           load and validate the configuration, print the
                         groups and processes it defines, and exit without
                         starting, binding or deleting anything
-h/--help                print this message and exit
-v/--version             print the version and exit

Also: supervisord ctl ...  (supervisorctl), supervisord echo_supervisord_conf
";

/// Parse supervisord's arguments (without `argv[0]`). Errors are the text after `Error: `.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let (opts, rest) = getopt(args, SHORT, LONG)?;
    if !rest.is_empty() {
        let listed: Vec<String> = rest.iter().map(|a| repr(a)).collect();
        return Err(format!(
            "positional arguments are not supported: [{}]",
            listed.join(", ")
        ));
    }
    let mut options = Options::default();
    // Which setting each option already set, to refuse a second one as Supervisor does.
    let mut seen: Vec<&'static str> = Vec::new();
    for (opt, value) in &opts {
        let setting = match apply_option(opt, value, &mut options)? {
            Applied::Finish(command) => return Ok(command),
            Applied::Set(setting) => setting,
        };
        if seen.contains(&setting) {
            return Err(format!("conflicting command line option {}", repr(opt)));
        }
        seen.push(setting);
    }
    Ok(Command::Run(Box::new(options)))
}

/// What one option did.
enum Applied {
    /// `-h` or `-v`: parsing stops here with this command.
    Finish(Command),
    /// The option set this setting (named, so a second option for it is refused).
    Set(&'static str),
}

/// Apply one option from getopt to `options`.
fn apply_option(opt: &str, value: &str, options: &mut Options) -> Result<Applied, String> {
    let setting = match opt {
        "-h" | "-?" | "--help" => return Ok(Applied::Finish(Command::Help)),
        "-v" | "--version" => return Ok(Applied::Finish(Command::Version)),
        "-c" | "--configuration" => {
            options.configuration = Some(PathBuf::from(value));
            "configuration"
        }
        "--check-config" => {
            options.check_config = true;
            "check_config"
        }
        _ => match set_flag(opt, &mut options.overrides) {
            Some(setting) => setting,
            None => set_value(opt, value, &mut options.overrides)?,
        },
    };
    Ok(Applied::Set(setting))
}

/// The overrides that take no value; `None` when `opt` is not one of them.
fn set_flag(opt: &str, o: &mut Overrides) -> Option<&'static str> {
    let setting = match opt {
        "-n" | "--nodaemon" => {
            o.nodaemon = true;
            "nodaemon"
        }
        "-s" | "--silent" => {
            o.silent = true;
            "silent"
        }
        "-k" | "--nocleanup" => {
            o.nocleanup = true;
            "nocleanup"
        }
        "-t" | "--strip_ansi" => {
            o.strip_ansi = true;
            "strip_ansi"
        }
        // Python's profiler has no meaning here; accepted so old scripts still run.
        "--profile_options" => "profile_options",
        _ => return None,
    };
    Some(setting)
}

/// The overrides that take a value, checked as the config file's setting would be.
fn set_value(opt: &str, value: &str, o: &mut Overrides) -> Result<&'static str, String> {
    let invalid = |msg: String| format!("invalid value for {opt} {}: {msg}", repr(value));
    let setting = match opt {
        "-u" | "--user" => {
            o.user = Some(value.to_string());
            "user"
        }
        "-m" | "--umask" => {
            o.umask = Some(dt::octal(value).map_err(invalid)?);
            "umask"
        }
        "-d" | "--directory" => {
            o.directory = Some(dt::existing_directory(value).map_err(invalid)?);
            "directory"
        }
        "-l" | "--logfile" => {
            o.logfile = Some(dt::existing_dirpath(value).map_err(invalid)?);
            "logfile"
        }
        "-y" | "--logfile_maxbytes" => {
            o.logfile_maxbytes = Some(dt::byte_size(value).map_err(invalid)?);
            "logfile_maxbytes"
        }
        "-z" | "--logfile_backups" => {
            o.logfile_backups = Some(dt::integer(value).map_err(invalid)?);
            "logfile_backups"
        }
        "-e" | "--loglevel" => {
            o.loglevel = Some(dt::log_level(value).map_err(invalid)?);
            "loglevel"
        }
        "-j" | "--pidfile" => {
            o.pidfile = Some(dt::existing_dirpath(value).map_err(invalid)?);
            "pidfile"
        }
        "-i" | "--identifier" => {
            o.identifier = Some(value.to_string());
            "identifier"
        }
        "-q" | "--childlogdir" => {
            o.childlogdir = Some(dt::existing_directory(value).map_err(invalid)?);
            "childlogdir"
        }
        "-a" | "--minfds" => {
            o.minfds = Some(dt::integer(value).map_err(invalid)?);
            "minfds"
        }
        "--minprocs" => {
            o.minprocs = Some(dt::integer(value).map_err(invalid)?);
            "minprocs"
        }
        other => unreachable!("getopt returned an option not in the table: {other}"),
    };
    Ok(setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn run(args: &[&str]) -> Options {
        match parse_strs(args) {
            Ok(Command::Run(o)) => *o,
            other => panic!("expected options, got {other:?}"),
        }
    }

    #[test]
    fn no_arguments_means_search_and_defaults() {
        assert_eq!(run(&[]), Options::default());
    }

    #[test]
    fn every_option_sets_its_override() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let log = format!("{d}/s.log");
        let o = run(&[
            "-c",
            "x.conf",
            "-n",
            "-s",
            "-u",
            "nobody",
            "-m",
            "027",
            "-d",
            &d,
            "-l",
            &log,
            "-y",
            "1MB",
            "-z",
            "3",
            "-e",
            "debug",
            "-j",
            &log,
            "-i",
            "me",
            "-q",
            &d,
            "-k",
            "-a",
            "99",
            "-t",
            "--minprocs",
            "7",
            "--check-config",
        ]);
        assert_eq!(o.configuration, Some(PathBuf::from("x.conf")));
        assert!(o.check_config);
        let v = o.overrides;
        assert!(v.nodaemon && v.silent && v.nocleanup && v.strip_ansi);
        assert_eq!(v.user.as_deref(), Some("nobody"));
        assert_eq!(v.umask, Some(0o27));
        assert_eq!(v.directory, Some(PathBuf::from(&d)));
        assert_eq!(v.logfile, Some(PathBuf::from(&log)));
        assert_eq!(v.logfile_maxbytes, Some(1024 * 1024));
        assert_eq!(v.logfile_backups, Some(3));
        assert_eq!(v.loglevel, Some(dt::LogLevel::Debug));
        assert_eq!(v.pidfile, Some(PathBuf::from(&log)));
        assert_eq!(v.identifier.as_deref(), Some("me"));
        assert_eq!(v.childlogdir, Some(PathBuf::from(&d)));
        assert_eq!(v.minfds, Some(99));
        assert_eq!(v.minprocs, Some(7));
    }

    #[test]
    fn long_forms_work_too() {
        let o = run(&["--configuration=a.conf", "--nodaemon", "--loglevel", "warn"]);
        assert_eq!(o.configuration, Some(PathBuf::from("a.conf")));
        assert!(o.overrides.nodaemon);
        assert_eq!(o.overrides.loglevel, Some(dt::LogLevel::Warn));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_strs(&["-h"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["-?"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["-v"]), Ok(Command::Version));
        assert_eq!(parse_strs(&["--version"]), Ok(Command::Version));
    }

    #[test]
    fn supervisor_error_texts() {
        assert_eq!(parse_strs(&["-x"]).unwrap_err(), "option -x not recognized");
        assert_eq!(
            parse_strs(&["extra"]).unwrap_err(),
            "positional arguments are not supported: ['extra']"
        );
        assert_eq!(
            parse_strs(&["-m", "999"]).unwrap_err(),
            "invalid value for -m '999': 999 can not be converted to an octal type"
        );
        assert_eq!(
            parse_strs(&["-c", "a", "-c", "b"]).unwrap_err(),
            "conflicting command line option '-c'"
        );
        assert_eq!(
            parse_strs(&["-c", "a", "--configuration", "b"]).unwrap_err(),
            "conflicting command line option '--configuration'"
        );
        assert_eq!(
            parse_strs(&["-d", "/nonexistent-dir"]).unwrap_err(),
            "invalid value for -d '/nonexistent-dir': /nonexistent-dir is not an existing directory"
        );
        assert_eq!(
            parse_strs(&["-e", "verbose"]).unwrap_err(),
            "invalid value for -e 'verbose': bad logging level name 'verbose'"
        );
    }
}
