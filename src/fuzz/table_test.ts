import assert from "node:assert/strict";
import { coverageTable } from "./table.ts";

Deno.test("coverageTable() has a row per syscall in table order and a column per outcome seen", () => {
  const table = coverageTable({
    calls: 9,
    bySyscall: {
      unknown: { ENOSYS: 2 },
      write: { ok: 1, EBADF: 3 },
      exit: { ok: 1 },
      wait: { ESRCH: 2 },
    },
  });
  assert.equal(
    table,
    [
      "  SYSCALL  OK  EBADF  ENOSYS  ESRCH  TOTAL",
      "  exit      1      -       -      -      1",
      "  write     1      3       -      -      4",
      "  wait      -      -       -      2      2",
      "  unknown   -      -       2      -      2",
      "",
    ].join("\n"),
  );
  assert.equal(coverageTable({ calls: 0, bySyscall: {} }), "  (no syscalls counted)\n");
});
