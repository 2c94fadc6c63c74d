//! supervisord.
