//! supervisorctl.
