# The supervisord container image: one static binary in an empty image.
#
#   docker build -t supervisord .
#       builds the binary from source in a Rust Alpine image, then the image.
#
#   cargo build --release --target x86_64-unknown-linux-musl
#   podman build --network none --build-arg BINARY_FROM=prebuilt -t supervisord:local .
#       puts a binary built beforehand into the image; no network needed.
#
# The image holds /usr/local/bin/supervisord with supervisorctl and
# echo_supervisord_conf beside it (links to the same binary), the default
# configuration /etc/supervisord.conf (container/supervisord.conf), an empty
# /etc/supervisor/conf.d/ for your programs, and /tmp and /run.

# `build` compiles from source; `prebuilt` takes the binary from the context.
ARG BINARY_FROM=build

FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo/ .cargo/
COPY link/ link/
COPY src/ src/
RUN target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked --target "$target" \
 && cp "target/$target/release/supervisord" /supervisord

FROM scratch AS prebuilt
COPY target/x86_64-unknown-linux-musl/release/supervisord /supervisord

FROM ${BINARY_FROM} AS binary

FROM scratch
# Directories and the two applet links; /tmp and /run sticky and writable by all.
COPY --chmod=755 container/rootfs/ /
COPY --chmod=1777 container/writable/ /
COPY --chmod=644 container/supervisord.conf /etc/supervisord.conf
COPY --from=binary --chmod=755 /supervisord /usr/local/bin/supervisord
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# supervisord stops its programs on SIGTERM (docker stop) and reloads on SIGHUP.
STOPSIGNAL SIGTERM
ENTRYPOINT ["supervisord", "-c", "/etc/supervisord.conf"]
