/**
 * End-to-end tests of user programs (issue 12) on every arch in the real
 * QEMU: the kernel image carries hello, fault and badptr as ELF files built
 * from kernel/user, and its loader accepts each with W^X segments at the
 * user image base.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARCHES } from "../../src/arch.ts";
import { Machine } from "../../src/qemu/machine.ts";
import { BUILTIN_CONFIGS } from "../../src/qemu/profiles.ts";
import { Session } from "../../src/session/driver.ts";
import { ROOT } from "./_harness.ts";

/** kernel/user/link.ld: every program's text starts here. */
const USER_IMAGE_BASE = "0x2000000000";

for (const arch of ARCHES) {
  Deno.test(`kernel on ${arch}: programs lists hello, fault and badptr with checked W^X segments`, async () => {
    const machine = await Machine.launch({
      arch,
      config: BUILTIN_CONFIGS.default,
      kernelPath: join(ROOT, "build", arch, "sis-kernel.elf"),
    });
    try {
      const session = new Session(machine, { bootTimeoutMs: 20_000, commandTimeoutMs: 20_000 });
      await session.boot();
      await session.enableFraming();
      const result = await session.run("programs");
      assert.equal(result.status, 0, result.output.join("\n"));
      const [header, ...rows] = result.output;
      assert.match(header, /^NAME\s+BYTES\s+ENTRY\s+SEGMENTS$/);
      assert.deepEqual(rows.map((row) => row.split(/\s+/)[0]), ["hello", "fault", "badptr"]);
      for (const row of rows) {
        const [name, bytes, entry, ...segments] = row.split(/\s+/);
        assert.ok(Number(bytes) > 0, `${name}: size ${bytes}`);
        assert.equal(entry, USER_IMAGE_BASE, row);
        // Text first at the base, then read-only data; each a separate page range.
        assert.match(segments[0], new RegExp(`^r-x@${USER_IMAGE_BASE}\\+\\d+p$`), row);
        assert.ok(segments.every((segment) => /^(r-x|r--|rw-)@0x[0-9a-f]+\+\d+p$/.test(segment)), row);
      }
      const unknown = await session.run("programs extra");
      assert.equal(unknown.status, 22, unknown.output.join("\n"));
    } finally {
      await machine.shutdown();
    }
  });
}
