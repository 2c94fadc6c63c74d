//! supervisorctl's exit statuses (spec supervisorctl.md §3, the README's
//! "Exit status" table). They are Supervisor's, which took them from the LSB
//! init-script conventions: the init-action codes, and for `status` the
//! status-action codes. Those two lists give 3 and 4 different meanings, so
//! a number may have two names here; each name says why it is set.
//!
//! A session keeps one status, starting at [`OK`]; each command overwrites
//! it (the last assignment wins, not the worst). A one-shot run exits with
//! it; the interactive shell always exits [`OK`].

/// Success. Also left in place by what Supervisor treats as harmless: start
/// of a running process (ALREADY_STARTED), stop of a stopped one
/// (NOT_RUNNING), add of an active group (ALREADY_ADDED), shutdown of a
/// supervisord already shutting down (SHUTDOWN_STATE).
pub const OK: i32 = 0;

/// Any other failure: a fault or transport error without a code of its own,
/// bad arguments to most commands, an unknown command, BAD_NAME, no such
/// group for stop/signal, authentication required, log read errors.
pub const ERROR: i32 = 1;

/// Invalid arguments (LSB "invalid or excess arguments"): `start` without a
/// name, `start <group>:*` of an unknown group. Command-line option errors
/// exit with it too, through the usage-error convention every applet shares.
pub const INVALID_ARGS: i32 = 2;

/// `status` showed a process that is not running: STOPPED, EXITED, FATAL
/// or UNKNOWN (LSB status "program is not running").
pub const STATUS_NOT_RUNNING: i32 = 3;

/// The server answered but does not know the `supervisor.*` methods: no
/// `[rpcinterface:supervisor]` (LSB "unimplemented feature").
pub const NO_RPC_INTERFACE: i32 = 3;

/// `status` cannot say: a name that is not there, or a server it cannot ask
/// (refused, socket missing, no `supervisor` namespace, API mismatch)
/// (LSB status "unknown").
pub const STATUS_UNKNOWN: i32 = 4;

/// The upcheck found the server refusing the connection, over TCP or on a
/// stale unix socket file (LSB "insufficient privileges", as Supervisor
/// maps it). Commands without an upcheck exit [`ERROR`] instead.
pub const REFUSED: i32 = 4;

/// The server speaks another API version than 3.0 (LSB "not installed").
pub const API_MISMATCH: i32 = 5;

/// Something is not running that should be: a SPAWN_ERROR,
/// ABNORMAL_TERMINATION or (where not ignored) NOT_RUNNING result,
/// `pid <name>` of a process without a pid, or the upcheck found the
/// server's unix socket file missing (LSB "program is not running").
pub const NOT_RUNNING: i32 = 7;

// Option errors leave through the shared usage-error path; keep its status
// the one documented here.
const _: () = assert!(INVALID_ARGS == crate::common::exit::USAGE);
