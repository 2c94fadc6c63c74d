#!/usr/bin/env bash
# Run every check the project has, on a fresh machine or a developer's:
# formatting, lints, the static release binary, unit and black-box tests, and
# the container image (built and run with podman).
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
# PyYAML: tests/examples.rs parses the Kubernetes manifests and the compose file.
"$venv/bin/python" -c 'import yaml' 2>/dev/null || "$venv/bin/pip" install --quiet PyYAML==6.0.3
# prometheus_client: tests/probes.rs parses /metrics with its parser.
"$venv/bin/python" -c 'import prometheus_client' 2>/dev/null \
    || "$venv/bin/pip" install --quiet prometheus_client==0.26.0

# Selenium drives headless Chromium in tests/webui.rs (the web UI in a real
# browser); pinned, and never allowed to download a driver: the test names
# Debian's /usr/bin/chromedriver.
"$venv/bin/python" -c 'import selenium' 2>/dev/null || "$venv/bin/pip" install --quiet selenium==4.27.1

step "podman, buildah, runc, catatonit, busybox (container tests); chromium and its driver (web UI tests)"
# tests/container.rs builds the image and runs it with podman, on a private
# store of its own; busybox-static goes into its test image.
# chromium, chromium-driver and fonts-liberation: tests/webui.rs.
system_packages=(podman buildah runc catatonit busybox-static chromium chromium-driver fonts-liberation)
missing=()
for package in "${system_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "warning: missing ${missing[*]}: tests/container.rs or tests/webui.rs will fail (install them as root)" >&2
    fi
fi
podman --version || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

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

step "cargo test"
# tests/container.rs puts the static binary built above into the image.
cargo test --quiet

