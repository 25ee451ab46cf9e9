/** Unit tests of toolchain detection against scripted machines. */
import assert from "node:assert/strict";
import { EnvironmentError, ExitCode } from "../errors.ts";
import { FakeProbe } from "./fake_probe.ts";
import { findRustToolchain, requireLinker, requireRustToolchain } from "./rust.ts";

const DEBIAN_VV = "rustc 1.96.0 (ac68faa20 2026-05-25)\nbinary: rustc\nrelease: 1.96.0\n";
const NIGHTLY_VV = "rustc 1.97.0-nightly (abc 2026-06-01)\nbinary: rustc\nrelease: 1.97.0-nightly\n";
const NIGHTLY = "/home/u/.rustup/toolchains/nightly-x86_64-unknown-linux-gnu";

/** A machine with Debian's rustc-web; `withSource` says whether rust-web-src is installed. */
function debianFiles(withSource: boolean): Record<string, boolean> {
  return {
    "/usr/bin/cargo": true,
    "/usr/bin/rustc": true,
    ...(withSource ? { "/usr/lib/rustlib/src/rust/library/core/Cargo.toml": false } : {}),
  };
}

const debianAnswers = {
  "/usr/bin/rustc -vV": { stdout: DEBIAN_VV },
  "/usr/bin/rustc --print sysroot": { stdout: "/usr\n" },
  "/usr/bin/cargo --version": { stdout: "cargo 1.96.0 (30a34c682 2026-05-25)\n" },
};

const nightlyAnswers = {
  "/opt/rustup/rustup which --toolchain nightly rustc": { stdout: `${NIGHTLY}/bin/rustc\n` },
  "/opt/rustup/rustup which --toolchain nightly cargo": { stdout: `${NIGHTLY}/bin/cargo\n` },
  [`${NIGHTLY}/bin/rustc -vV`]: { stdout: NIGHTLY_VV },
  [`${NIGHTLY}/bin/rustc --print sysroot`]: { stdout: `${NIGHTLY}\n` },
  [`${NIGHTLY}/bin/cargo --version`]: { stdout: "cargo 1.97.0-nightly\n" },
};

Deno.test("findRustToolchain() picks Debian's rustc-web with its library source and needs RUSTC_BOOTSTRAP", async () => {
  const probe = new FakeProbe(debianFiles(true), debianAnswers);
  const { toolchain } = await findRustToolchain({ PATH: "/usr/bin" }, probe);
  assert.ok(toolchain);
  assert.equal(toolchain.kind, "debian");
  assert.equal(toolchain.librarySource, "/usr/lib/rustlib/src/rust/library");
  assert.equal(toolchain.rustcVersion, "rustc 1.96.0 (ac68faa20 2026-05-25)");
  assert.equal(toolchain.needsBootstrap, true);
  // rustup is never consulted when Debian's toolchain works.
  assert.ok(!probe.ran.some((argv) => argv[0].endsWith("rustup")));
});

Deno.test("findRustToolchain() falls back to a rustup nightly with rust-src when Debian's source is missing", async () => {
  const probe = new FakeProbe(
    {
      ...debianFiles(false),
      "/opt/rustup/rustup": true,
      [`${NIGHTLY}/bin/rustc`]: true,
      [`${NIGHTLY}/bin/cargo`]: true,
      [`${NIGHTLY}/lib/rustlib/src/rust/library/core/Cargo.toml`]: false,
    },
    { ...debianAnswers, ...nightlyAnswers },
  );
  const { toolchain, inspections } = await findRustToolchain({ PATH: "/opt/rustup" }, probe);
  assert.ok(toolchain);
  assert.equal(toolchain.kind, "rustup-nightly");
  assert.equal(toolchain.needsBootstrap, false);
  assert.equal(inspections.length, 2);
  assert.equal(inspections[0].ok, false);
  assert.match(inspections[0].ok ? "" : inspections[0].problem, /no standard library source/);
});

Deno.test("findRustToolchain() rejects a nightly without rust-src", async () => {
  const probe = new FakeProbe(
    { "/opt/rustup/rustup": true, [`${NIGHTLY}/bin/rustc`]: true, [`${NIGHTLY}/bin/cargo`]: true },
    nightlyAnswers,
  );
  const { toolchain, inspections } = await findRustToolchain({ PATH: "/opt/rustup" }, probe);
  assert.equal(toolchain, undefined);
  assert.deepEqual(inspections.map((inspection) => inspection.candidate.kind), ["debian", "rustup-nightly"]);
});

Deno.test("findRustToolchain() tries SIS_CARGO/SIS_RUSTC first", async () => {
  const probe = new FakeProbe(
    { ...debianFiles(true), "/opt/rust/bin/rustc": true, "/opt/rust/bin/cargo": true },
    debianAnswers,
  );
  const { toolchain, inspections } = await findRustToolchain(
    { SIS_CARGO: "/opt/rust/bin/cargo", SIS_RUSTC: "/opt/rust/bin/rustc" },
    probe,
  );
  // The custom pair does not answer -vV, so detection moves on to Debian's.
  assert.equal(inspections[0].candidate.kind, "custom");
  assert.equal(inspections[0].ok, false);
  assert.equal(toolchain?.kind, "debian");
});

Deno.test("requireRustToolchain() on a bare machine is an environment error (exit 3) naming sis setup", async () => {
  const probe = new FakeProbe({}, {});
  await assert.rejects(requireRustToolchain({ PATH: "/usr/bin" }, probe), (error) => {
    assert.ok(error instanceof EnvironmentError);
    assert.equal(error.exitCode, ExitCode.Environment);
    assert.match(error.fix ?? "", /sis setup/);
    assert.match(error.message, /\/usr\/bin\/rustc not found/);
    return true;
  });
});

Deno.test("requireLinker() finds ld.lld on PATH and fails with the apt package when absent", async () => {
  const probe = new FakeProbe({ "/usr/bin/ld.lld": true }, {
    "/usr/bin/ld.lld --version": { stdout: "Debian LLD 14.0.6 (compatible with GNU linkers)\n" },
  });
  const found = await requireLinker({ PATH: "/bin:/usr/bin" }, probe);
  assert.deepEqual(found, {
    path: "/usr/bin/ld.lld",
    version: "Debian LLD 14.0.6 (compatible with GNU linkers)",
  });
  await assert.rejects(requireLinker({ PATH: "/bin" }, probe), /ld\.lld not found/);
});
