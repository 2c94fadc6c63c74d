//! Logs: supervisord's own log, the children's output and where it goes
//! (files, the console, syslog, capture mode), rotation, and reading log
//! slices back for clients.

pub mod ansi;
pub mod auto;
pub mod capture;
pub mod childlog;
pub mod console;
pub mod logread;
pub mod mainlog;
pub mod outputs;
pub mod rotate;
pub mod sink;
pub mod syslog;
