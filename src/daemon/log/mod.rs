//! Logs: supervisord's own log, the children's output and where it goes
//! (files, the console, syslog, capture mode), rotation, and reading log
//! slices back for clients.

pub mod childlog;
pub mod logread;
pub mod mainlog;
pub mod outputs;
pub mod rotate;
pub mod syslog;
