//! XML-RPC: values, faults, the request parser and the response writer,
//! shared by the daemon and the client.
//!
//! STUB: being written.
