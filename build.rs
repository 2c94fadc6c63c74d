//! The order of the code in the static musl binary.
//!
//! The kernel maps a file's pages around every one a process touches, so
//! the daemon's resident text is every stretch of the binary that holds any
//! code it runs, not just that code. Left to itself the linker interleaves
//! the daemon's functions with supervisorctl's, the line editor's and the
//! web UI's, and nearly all of the 1.5 MB of text ends up resident.
//! link/text-order.ld puts the functions the daemon runs first, together
//! (bench/order_text.py writes it from a traced run), and about 0.5 MB is.
//! The script only adds an output section ahead of `.text` (INSERT BEFORE),
//! which GNU ld and lld read; gold and mold do not.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/text-order.ld");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || target_env != "musl" {
        return;
    }
    // The script names Rust functions by their v0 names, which
    // .cargo/config.toml asks for; cargo reads that file only when it runs
    // inside the repository, and RUSTFLAGS replaces it.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !flags
        .split('\x1f')
        .any(|flag| flag.ends_with("symbol-mangling-version=v0"))
    {
        println!(
            "cargo:warning=no -C symbol-mangling-version=v0 (cargo run outside the \
             repository, or RUSTFLAGS set): link/text-order.ld matches little, and more \
             of the binary stays resident"
        );
    }
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&dir).join("link").join("text-order.ld");
    // Two -Xlinker arguments, not `-Wl,-T,<path>`: a path may hold commas.
    println!("cargo:rustc-link-arg-bins=-Xlinker");
    println!("cargo:rustc-link-arg-bins=-T");
    println!("cargo:rustc-link-arg-bins=-Xlinker");
    println!("cargo:rustc-link-arg-bins={}", script.display());
}
