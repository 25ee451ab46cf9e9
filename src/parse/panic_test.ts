/** Tests of the panic report parser, the ELF symbol reader and the Rust demangler, on recorded transcripts and the built kernels. */
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import fc from "fast-check";
import { findPanicReports } from "./panic.ts";
import { ElfError, findBuildId, readElf, symbolize } from "./elf.ts";
import { demangle, demangleV0 } from "./demangle.ts";
import { PROPERTY_RUNS } from "./_property.ts";
import { findLlvmCxxfilt, findNm, ignoreWithout, requireTool } from "../../tests/_tools.ts";

const TRANSCRIPTS = new URL("../../fixtures/transcripts/", import.meta.url);
const ARCHES = ["aarch64", "riscv64", "x86_64"];

async function transcriptLines(name: string): Promise<string[]> {
  return new TextDecoder().decode(await readFile(new URL(name, TRANSCRIPTS))).split("\n");
}

Deno.test("findPanicReports() reads `panic boom` on every recorded arch, human and JSON halves agreeing", async () => {
  const names = (await readdir(TRANSCRIPTS)).filter((name) => name.endsWith("-panic.log"));
  assert.ok(names.length >= 1);
  for (const name of names) {
    const reports = findPanicReports(await transcriptLines(name));
    assert.equal(reports.length, 1, name);
    const [report] = reports;
    assert.deepEqual(report.problems, [], name);
    assert.equal(report.message, "boom");
    assert.match(report.location!, /^sis-kernel\/src\/shell\/commands\/system\.rs:\d+:\d+$/);
    assert.equal(report.arch, name.split("-")[0]);
    assert.ok(report.record, "the JSON record is there");
    assert.ok(report.backtrace.length >= 2, `${name}: a backtrace`);
    assert.ok(report.recentRecords.length >= 1, `${name}: the last log records`);
  }
});

Deno.test("findPanicReports() reads an exception report with registers and the trapped pc", async () => {
  const names = (await readdir(TRANSCRIPTS)).filter((name) => name.endsWith("-fault.log"));
  assert.ok(names.length >= 1);
  for (const name of names) {
    const [report] = findPanicReports(await transcriptLines(name));
    assert.deepEqual(report.problems, [], name);
    assert.match(report.message!, /^unexpected exception/);
    assert.equal(report.location, "<exception>");
    assert.ok(Object.keys(report.registers).length >= 8, `${name}: registers`);
    assert.equal(report.backtrace[0].label, "pc");
  }
});

Deno.test("findPanicReports() keeps what a cut report has and says what is missing", async () => {
  const lines = await transcriptLines("x86_64-panic.log");
  const marker = lines.findIndex((line) => line.startsWith("\x01sis:panic"));
  const cut = lines.slice(0, marker + 8);
  const [report] = findPanicReports(cut);
  assert.equal(report.message, "boom");
  assert.ok(report.problems.some((problem) => /no JSON panic record/.test(problem)));
  const recordOnly = findPanicReports(
    lines.filter((line) => line.startsWith('{"ts"') && line.includes("FATAL")),
  );
  assert.equal(recordOnly[0].message, "boom");
});

Deno.test("findPanicReports() never throws on arbitrary or mangled transcripts, and anchors each report in order", async () => {
  const real = await transcriptLines("x86_64-fault.log");
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.constantFrom(...real)), {
        maxLength: 24,
      }),
      (lines) => {
        const reports = findPanicReports(lines);
        // Each report starts at a marker, a banner or a panic record, in transcript order;
        // a transcript without one of those has no report.
        const anchors = lines.map((line) => line.replace(/\r$/, "")).flatMap((line, index) =>
          line === "\x01sis:panic" || line === "!!! KERNEL PANIC !!!" ||
            (line.startsWith("{") && line.includes('"subsystem":"panic"'))
            ? [index + 1]
            : []
        );
        assert.ok(reports.length <= anchors.length);
        for (const [index, report] of reports.entries()) {
          assert.ok(anchors.includes(report.line), `report at line ${report.line}, anchors ${anchors}`);
          if (index > 0) assert.ok(report.line > reports[index - 1].line);
        }
      },
    ),
    { numRuns: PROPERTY_RUNS },
  );
});

/** The built kernels (the ELF comparisons need them; .ci/run builds all three first). */
const builtKernels: string[] = [];
for (const arch of ARCHES) {
  const path = new URL(`../../build/${arch}/sis-kernel.elf`, import.meta.url);
  if (await stat(path).catch(() => undefined)) builtKernels.push(path.pathname);
}
const kernelsFound = builtKernels.length === ARCHES.length ? "yes" : undefined;
const nm = await findNm();
const cxxfilt = await findLlvmCxxfilt();

Deno.test({
  name: "readElf() finds the same function symbols as nm in every built kernel",
  ignore: ignoreWithout("a built kernel", kernelsFound) || ignoreWithout("nm", nm),
  fn: async () => {
    requireTool("a built kernel", kernelsFound);
    for (const path of builtKernels) {
      const elf = readElf(await readFile(path));
      assert.ok((ARCHES as readonly string[]).includes(elf.machineName));
      const listed = await new Deno.Command(requireTool("nm", nm), {
        args: ["--defined-only", path],
        stdout: "piped",
      })
        .output();
      const expected = new Set(
        new TextDecoder().decode(listed.stdout).split("\n").filter((line) => / [tT] /.test(line)).map((
          line,
        ) => line.split(" ")[2]),
      );
      assert.ok(expected.size > 100, `nm listed only ${expected.size} functions in ${path}`);
      const ours = new Set(elf.symbols.map((symbol) => symbol.name));
      for (const name of expected) {
        if (!name.startsWith("$") && !name.startsWith(".L")) assert.ok(ours.has(name), name);
      }
      // Every function symbol resolves to itself at its start and one byte in.
      for (const symbol of elf.symbols.filter((symbol) => symbol.isFunction && symbol.size > 1n)) {
        assert.equal(symbolize(elf.symbols, symbol.address + 1n).offset, 1n, symbol.name);
      }
    }
  },
});

Deno.test({
  name: "demangle() matches llvm-cxxfilt on every symbol of the built kernels",
  ignore: ignoreWithout("a built kernel", kernelsFound) || ignoreWithout("llvm-cxxfilt", cxxfilt),
  fn: async () => {
    requireTool("a built kernel", kernelsFound);
    for (const path of builtKernels) {
      const names = readElf(await readFile(path)).symbols.map((symbol) => symbol.name);
      const child = new Deno.Command(requireTool("llvm-cxxfilt", cxxfilt), {
        stdin: "piped",
        stdout: "piped",
      })
        .spawn();
      // Read while writing: thousands of names fill the pipe both ways.
      const collected = child.output();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(names.join("\n") + "\n"));
      await writer.close();
      const output = await collected;
      const reference = new TextDecoder().decode(output.stdout).split("\n");
      names.forEach((name, index) => {
        // llvm-cxxfilt appends suffixes such as ` (.llvm.123)` that demangle() drops.
        const expected = reference[index].replace(/ \(\.[^)]*\)$/, "").replace(/::h[0-9a-f]{16}$/, "");
        assert.equal(demangle(name), expected, name);
      });
    }
  },
});

Deno.test("demangleV0() reads closures, impls, generics and backrefs", () => {
  assert.equal(
    demangleV0("_RNvNtNtCs64SaOGQexEk_10sis_kernel5shell8commands8run_line"),
    "sis_kernel::shell::commands::run_line",
  );
  assert.equal(
    demangleV0(
      "_RINvMs_NtCs16jqEMaYwDj_11sis_observe6loggerINtB5_6LoggerKj100_KBT_E3logNtNtCs64SaOGQexEk_10sis_kernel7console7ConsoleEB1b_",
    ),
    "<sis_observe::logger::Logger<256, 256>>::log::<sis_kernel::console::Console>",
  );
  assert.equal(demangleV0("_RNvB_3foo"), undefined, "a backref to itself is refused, not followed forever");
});

Deno.test("readElf() and demangle() never throw anything but ElfError on arbitrary bytes", () => {
  const header = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, withHeader) => {
      const input = withHeader ? new Uint8Array([...header, ...bytes]) : bytes;
      try {
        readElf(input);
      } catch (error) {
        assert.ok(error instanceof ElfError, String(error));
      }
    }),
    { numRuns: PROPERTY_RUNS },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      assert.equal(typeof demangle("_R" + text), "string");
      assert.equal(typeof demangle("_ZN" + text), "string");
    }),
    { numRuns: PROPERTY_RUNS },
  );
});

Deno.test("findBuildId() finds the marker's id in image bytes, and the report parser reads the build line", async () => {
  const image = new TextEncoder().encode("\x7fELF....sis-build-id:zz\0sis-build-id:0123456789abcdef\0rest");
  assert.equal(findBuildId(image), "0123456789abcdef");
  assert.equal(findBuildId(new TextEncoder().encode("sis-build-id:0123")), undefined);
  // A recorded report with the build line newer kernels print after `version:`.
  const lines = (await transcriptLines("x86_64-fault.log")).flatMap((line) =>
    /^\s+version:/.test(line) ? [line, `  build:    ${"a".repeat(40)} fedcba9876543210`] : [line]
  );
  const [report] = findPanicReports(lines);
  assert.deepEqual(report?.build, { commit: "a".repeat(40), buildId: "fedcba9876543210" });
});
