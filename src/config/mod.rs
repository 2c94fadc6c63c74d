//! The configuration engine: finds, parses, expands and validates a
//! `supervisord.conf` exactly as Supervisor 4.3.0 does, and reports mistakes
//! naming the file, the section and the key.

pub mod command;
pub mod datatypes;
pub mod env_file;
pub mod environment;
pub mod event_type;
pub mod expand;
mod include;
pub mod ini;
pub mod lifecycle;
pub mod limits;
pub mod load;
pub mod locate;
pub mod model;
mod names;

pub use event_type::EventType;
pub use load::{load, load_ctl, ConfigError, Host, Overrides};
pub use model::*;

/// The sample configuration printed by `echo_supervisord_conf`.
pub const SAMPLE: &str = include_str!("sample.conf");
