//! supervisorctl: the client applet.

pub mod transport;

/// Run supervisorctl with `args` (without argv[0]); returns the exit status.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let _ = args;
    eprintln!("{argv0}: supervisorctl is not built yet in this version");
    2
}
