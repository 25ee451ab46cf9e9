/** Unit tests of error rendering and exit-code mapping. */
import assert from "node:assert/strict";
import {
  EnvironmentError,
  ExitCode,
  exitCodeOf,
  FailedError,
  formatError,
  KernelHangError,
  KernelPanicError,
  SERIAL_TAIL_LINES,
  UsageError,
} from "./errors.ts";

Deno.test("each error class maps to its documented exit code", () => {
  assert.equal(exitCodeOf(new FailedError("x")), 1);
  assert.equal(exitCodeOf(new UsageError("x")), 2);
  assert.equal(exitCodeOf(new EnvironmentError("x")), 3);
  assert.equal(exitCodeOf(new KernelPanicError("x")), 4);
  assert.equal(exitCodeOf(new KernelHangError("x", "shell")), 4);
  assert.equal(exitCodeOf(new Error("bug")), ExitCode.Failed);
  assert.equal(new KernelHangError("x", "command 3").stage, "command 3");
});

Deno.test("formatError() prints an expected error as one line with its fix and no stack", () => {
  const text = formatError(
    new EnvironmentError("qemu-system-riscv64 not found\non PATH", { fix: "run './sis setup'" }),
  );
  assert.equal(text, "error: qemu-system-riscv64 not found on PATH (fix: run './sis setup')\n");
});

Deno.test("formatError() appends at most the last serial lines, indented", () => {
  const transcript = Array.from({ length: 50 }, (_, index) => `line ${index}\r`).join("\n") + "\n";
  const text = formatError(new KernelPanicError('Kernel panicked on "riscv64"', { serialTail: transcript }));
  const lines = text.trimEnd().split("\n");
  assert.equal(lines[0], 'error: Kernel panicked on "riscv64"');
  assert.equal(lines[1], `serial tail (last ${SERIAL_TAIL_LINES} lines):`);
  assert.equal(lines.length, 2 + SERIAL_TAIL_LINES);
  assert.equal(lines.at(-1), "  | line 49");
  assert.ok(!text.includes("\r"));
});

Deno.test("formatError() keeps the stack of an unexpected error, which is a bug", () => {
  const text = formatError(new TypeError("boom"));
  assert.match(text, /^error: internal error in sis \(please report\): TypeError: boom\n\s+at /);
});
