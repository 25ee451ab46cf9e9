# sis with prebuilt kernels for the three archs and the QEMU that boots them,
# on Debian 12 (the distribution the toolkit is developed and tested on).
# From the repository root:
#   docker build -t sis . && docker run --rm --network none sis test --arch riscv64
# On a machine without a Docker daemon, .ci/docker builds it with podman.
#
# Two stages keep the image small: `toolchain` has Rust, Node and Deno's npm
# package and builds the kernels and the bundled CLI (one JS file, npm
# dependencies inlined); the final stage has only QEMU, the Deno binary, that
# file, the kernels and the suites, and needs no network at run time.
# `docker build --target toolchain` gives an image that can rebuild kernels
# (`sis build`, `sis chaos`), at about five times the size.

# The base image: docker.io's by default; .ci/docker passes a locally made one.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS toolchain
ARG DEBIAN_FRONTEND=noninteractive
# What `sis setup` installs for building (src/toolchain/checks.ts), plus Node
# and npm for the launcher to fetch the pinned Deno. bookworm-updates must be
# in the sources: bookworm alone has rustc-web 1.85, too old for the kernel.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates nodejs npm rustc-web cargo-web rust-web-src lld \
    && rm -rf /var/lib/apt/lists/*
ENV NO_COLOR=1 \
    RUST_BACKTRACE=0
WORKDIR /src

# Deno from npm by the launcher, in a layer of its own: it changes only with
# the version pinned in `sis`. `./sis task` with no name lists the tasks.
COPY sis deno.json deno.lock ./
RUN ./sis task >/dev/null

# The kernels, with cargo's registry and target folder in cache mounts: the
# crates are fetched once per machine and rebuilds are incremental.
COPY kernel/ kernel/
COPY src/ src/
RUN --mount=type=cache,target=/root/.cargo/registry \
    --mount=type=cache,target=/src/kernel/target \
    ./sis build --arch all

# The CLI as it ships: one file, every npm dependency inlined.
RUN ./sis task bundle

# Everything the final image needs, in the layout SIS_ROOT expects (the
# marker kernel/sis-kernel/Cargo.toml, build/, tests/suites/).
COPY tests/suites/ tests/suites/
RUN mkdir -p /opt/sis/bin /opt/sis/kernel/sis-kernel /opt/sis/tests \
    && cp -L .tools/deno/node_modules/.bin/deno /opt/sis/bin/deno \
    && cp build/sis.js /opt/sis/sis.js \
    && cp kernel/sis-kernel/Cargo.toml /opt/sis/kernel/sis-kernel/ \
    && cp -r tests/suites /opt/sis/tests/ \
    && mkdir -p /opt/sis/build \
    && for arch in aarch64 riscv64 x86_64; do cp -r "build/$arch" /opt/sis/build/; done \
    && printf '%s\n' '#!/bin/sh' \
        '# sis: the bundled CLI under the Deno it was tested with.' \
        'exec /opt/sis/bin/deno run --quiet --no-prompt --allow-read --allow-write --allow-run --allow-env --allow-net --allow-sys /opt/sis/sis.js "$@"' \
        > /opt/sis/bin/sis \
    && chmod 0755 /opt/sis/bin/sis

FROM ${BASE}
ARG DEBIAN_FRONTEND=noninteractive
# Only the three QEMU system emulators sis drives: qemu-system-misc alone
# brings some twenty others (about 250 MB) that dpkg is told to leave out.
RUN printf '%s\n' \
        'path-exclude /usr/bin/qemu-system-*' \
        'path-include /usr/bin/qemu-system-aarch64' \
        'path-include /usr/bin/qemu-system-riscv64' \
        'path-include /usr/bin/qemu-system-x86_64' \
        > /etc/dpkg/dpkg.cfg.d/sis-qemu \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        qemu-system-arm qemu-system-misc qemu-system-x86 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=toolchain /opt/sis/ /opt/sis/
ENV NO_COLOR=1 \
    RUST_BACKTRACE=0 \
    SIS_ROOT=/opt/sis \
    PATH=/opt/sis/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Run bundles are written under $SIS_ROOT/runs: mount a volume there to keep them.
WORKDIR /work
ENTRYPOINT ["sis"]
CMD ["--help"]
