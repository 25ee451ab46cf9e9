import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { parseRepro } from "./repro.ts";

const GOOD = {
  schema: 1,
  kind: "sis-fuzz-repro",
  runId: "r",
  features: ["fuzz-break"],
  reproducers: [{
    arch: "x86_64",
    seed: "42",
    range: { start: 0, end: 44021 },
    indices: [44021],
    listing: ["#44021 write(0x5, 0x2000005ffa, 0x10001)"],
    crash: { kind: "panic", message: "fuzz-break: ...", signature: "panic: fuzz-break: ..." },
  }],
};

Deno.test("parseRepro() reads what the fuzz run writes", () => {
  assert.deepEqual(parseRepro(JSON.stringify(GOOD), "repro.json"), GOOD);
});

Deno.test("parseRepro() refuses anything else with one line naming the field", () => {
  const broken = (change: (file: typeof GOOD & Record<string, unknown>) => void) => {
    const file = structuredClone(GOOD) as typeof GOOD & Record<string, unknown>;
    change(file);
    return JSON.stringify(file);
  };
  const cases: [string, RegExp][] = [
    ["{", /is not JSON/],
    ["[]", /not a JSON object/],
    [broken((file) => file.kind = "chaos"), /"kind" is not "sis-fuzz-repro"/],
    [broken((file) => file.schema = 2 as 1), /unknown "schema" 2/],
    [broken((file) => file.features = "fuzz-break" as unknown as string[]), /"features"/],
    [broken((file) => file.reproducers = []), /no "reproducers"/],
    [broken((file) => file.reproducers[0].arch = "mips"), /reproducers\[0\]\.arch/],
    [broken((file) => file.reproducers[0].seed = "18446744073709551616"), /reproducers\[0\]\.seed/],
    [broken((file) => file.reproducers[0].seed = 42 as unknown as string), /reproducers\[0\]\.seed/],
    [broken((file) => file.reproducers[0].indices = []), /reproducers\[0\]\.indices/],
    [broken((file) => file.reproducers[0].indices = [-1]), /reproducers\[0\]\.indices/],
    [
      broken((file) => delete (file.reproducers[0] as Record<string, unknown>).crash),
      /crash has no signature/,
    ],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseRepro(text, "x.json"), (error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, why);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
});
