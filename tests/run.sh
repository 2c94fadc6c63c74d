#!/usr/bin/env bash
# Run every check the project has, on a fresh machine or a developer's:
# formatting, lints, unit and black-box tests, and the static release binary.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
step() { printf '\n== %s\n' "$*"; }

step "toolchain"
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "python supervisor 4.3.0 and superlance 2.0.0 for the interop tests (target/interop-venv)"
venv=target/interop-venv
if [ ! -x "$venv/bin/supervisorctl" ] || [ ! -x "$venv/bin/memmon" ]; then
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet supervisor==4.3.0 superlance==2.0.0
fi
"$venv/bin/supervisorctl" --help >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --quiet

step "static release binary ($target)"
cargo build --release --quiet --target "$target"
bin="target/$target/release/supervisord"
# A dynamically linked ELF names its loader in a PT_INTERP header.
if readelf --program-headers "$bin" | grep -q 'program interpreter'; then
    echo "error: $bin is dynamically linked" >&2
    exit 1
fi
echo "statically linked: yes (no program interpreter)"
if readelf --section-headers "$bin" | grep -q '\.symtab'; then
    echo "error: $bin still has its symbol table (not stripped)" >&2
    exit 1
fi
"$bin" --version >/dev/null
echo "stripped size: $(stat -c %s "$bin") bytes"
