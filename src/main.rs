//! One binary, several programs: the name it was started as picks the applet.
fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(supervisord::applet::dispatch(args));
}
