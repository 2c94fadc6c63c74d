//! Picks the program to run from the name the binary was started as, so one
//! binary serves as `supervisord`, `supervisorctl` and `echo_supervisord_conf`
//! (busybox-style symlinks or `supervisord <applet> …`).

use std::ffi::OsString;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applet {
    Supervisord,
    Supervisorctl,
    EchoSupervisordConf,
}

fn applet_named(name: &str) -> Option<Applet> {
    match name {
        "supervisord" => Some(Applet::Supervisord),
        "supervisorctl" | "ctl" => Some(Applet::Supervisorctl),
        "echo_supervisord_conf" => Some(Applet::EchoSupervisordConf),
        _ => None,
    }
}

/// Run the applet `args` asks for; returns the process exit status.
pub fn dispatch(args: Vec<OsString>) -> i32 {
    // Arguments are text everywhere in Supervisor; a stray non-UTF-8 byte is
    // replaced rather than crashing.
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = args
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisord".into());
    let base = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    // `supervisord ctl status`: an applet name as the first argument picks it.
    if let Some(applet) = args.get(1).and_then(|a| applet_named(a)) {
        if applet_named(&base).is_none_or(|own| own == Applet::Supervisord) {
            return run(applet, &format!("{argv0} {}", args[1]), &args[2..]);
        }
    }
    match applet_named(&base) {
        Some(applet) => run(applet, &argv0, &args[1..]),
        None => {
            eprintln!(
                "{argv0}: unknown applet name {base:?}; run as supervisord, supervisorctl \
                 (or ctl) or echo_supervisord_conf, e.g. `{argv0} supervisord -n` or \
                 `{argv0} ctl status`"
            );
            2
        }
    }
}

fn run(applet: Applet, argv0: &str, args: &[String]) -> i32 {
    match applet {
        Applet::Supervisord => crate::daemon::main(argv0, args),
        Applet::Supervisorctl => crate::ctl::main(argv0, args),
        // Supervisor's version ignores every argument; so do we.
        Applet::EchoSupervisordConf => crate::common::print_stdout(crate::config::SAMPLE),
    }
}
