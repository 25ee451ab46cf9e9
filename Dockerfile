# sis and everything it drives (QEMU for three archs, Debian's Rust toolchain
# with the library source for build-std, lld) on Debian 12, the distribution
# the toolkit is developed and tested on. Build from the repository root:
#   docker build -t sis . && docker run --rm sis test --arch riscv64
FROM debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive

# The same packages `sis setup` installs (src/toolchain/checks.ts), plus Node
# and npm for the launcher to fetch the pinned Deno, and ca-certificates for
# npm and crates.io.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates nodejs npm git jq \
        qemu-system-arm qemu-system-misc qemu-system-x86 \
        rustc-web cargo-web rust-web-src lld util-linux \
    && rm -rf /var/lib/apt/lists/*

ENV NO_COLOR=1 \
    RUST_BACKTRACE=0 \
    DENO_DIR=/opt/deno-cache

WORKDIR /src
COPY . .

# `./sis doctor` installs Deno 2.9.6 into .tools/ and fails the image build
# if a required tool is missing; `deno install --frozen` then caches every
# npm dependency pinned in deno.lock, so the container needs no registry.
RUN ./sis doctor \
    && .tools/deno/node_modules/.bin/deno install --frozen

ENTRYPOINT ["./sis"]
CMD ["--help"]
