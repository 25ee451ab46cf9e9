/** Tests of the regress diff (order-aware), the allowlist, the normalizer and event collection from recorded transcripts. */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import fc from "fast-check";
import { alignSequences, type AllowEntry, diffEvents, type RegressEvent } from "./diff.ts";
import { EventCollector } from "./capture.ts";
import { normalizeText, recordTemplate } from "../parse/normalize.ts";
import { classifyLine } from "../parse/log.ts";
import { parseTranscript } from "../session/framing.ts";
import { PROPERTY_RUNS } from "../parse/_property.ts";

const event = (template: string, level?: RegressEvent["level"]): RegressEvent => ({
  kind: template.startsWith("PANIC") ? "panic" : "record",
  template,
  level,
});
const BOOT = ["KERNEL entry", "INFO boot: arch", "INFO boot: memory", "INFO fs: mounted", "INFO shell: ready"]
  .map((
    template,
  ) => event(template, "INFO"));
const TODAY = "2026-11-22";

Deno.test("diffEvents() finds nothing when the run repeats the baseline", () => {
  const result = diffEvents(BOOT, BOOT, { arch: "x86_64", today: TODAY });
  assert.deepEqual(result.findings, []);
  assert.equal(result.isRegression, false);
});

Deno.test("diffEvents() reports a reordered boot, which a sorted diff would miss", () => {
  const run = [BOOT[0], BOOT[1], BOOT[3], BOOT[2], BOOT[4]];
  const result = diffEvents(BOOT, run, { arch: "x86_64", today: TODAY });
  assert.equal(result.isRegression, true);
  assert.deepEqual(result.findings.map((finding) => finding.kind), ["reordered"]);
  // The old check sorted lines first: the same multiset looks identical.
  assert.deepEqual([...BOOT].map((e) => e.template).sort(), [...run].map((e) => e.template).sort());
});

Deno.test("diffEvents() puts a swap with an allowed floating event on that event, never on its fixed neighbour", () => {
  const dhcp = event("INFO net: address address=<num>.2.15/<num> source=dhcp", "INFO");
  const command = event("CMD uptime -> 0");
  const allowlist: AllowEntry[] = [
    { kind: "reordered", template: dhcp.template, reason: "asynchronous lease", expires: "2027-06-30" },
  ];
  // The boot of the gate's aarch64 run: the lease came just before the
  // prompt instead of just after it. A plain alignment blamed the prompt.
  const baseline = [...BOOT, dhcp, command];
  const run = [...BOOT.slice(0, 4), dhcp, BOOT[4], command];
  const result = diffEvents(baseline, run, { arch: "aarch64", allowlist, today: TODAY });
  assert.deepEqual(result.findings.map((finding) => [finding.kind, finding.template]), [[
    "reordered",
    dhcp.template,
  ]]);
  assert.ok(result.findings[0].allowedBy);
  assert.equal(result.isRegression, false);
  // Without the entry the same swap is a regression, and fixed events still must keep their order.
  assert.equal(diffEvents(baseline, run, { arch: "aarch64", today: TODAY }).isRegression, true);
  const swappedFixed = [BOOT[0], BOOT[1], BOOT[3], BOOT[2], BOOT[4], dhcp, command];
  assert.equal(
    diffEvents(baseline, swappedFixed, { arch: "aarch64", allowlist, today: TODAY }).isRegression,
    true,
  );
  // The floating event gone entirely is still missing (the entry allows a move, not a loss).
  const lost = diffEvents(baseline, [...BOOT, command], { arch: "aarch64", allowlist, today: TODAY });
  assert.deepEqual(lost.findings.map((finding) => finding.kind), ["missing"]);
  assert.equal(lost.isRegression, true);
});

Deno.test("diffEvents() reports missing and unexpected events, new warnings and panics", () => {
  const run = [
    BOOT[0],
    BOOT[1],
    BOOT[3],
    event("WARN fs: slow disk", "WARN"),
    BOOT[4],
    event("INFO net: up", "INFO"),
    event("PANIC boom", "FATAL"),
  ];
  const result = diffEvents(BOOT, run, { arch: "x86_64", today: TODAY });
  assert.deepEqual(result.findings.map((finding) => [finding.kind, finding.template]), [
    ["missing", "INFO boot: memory"],
    ["new-severe", "WARN fs: slow disk"],
    ["unexpected", "INFO net: up"],
    ["panic", "PANIC boom"],
  ]);
});

Deno.test("an allowlist entry excuses a finding until it expires, then fails the check", () => {
  const run = [...BOOT, event("INFO net: up", "INFO")];
  const entry: AllowEntry = {
    kind: "unexpected",
    template: "/^INFO net:/",
    reason: "networking lands",
    expires: TODAY,
  };
  const allowed = diffEvents(BOOT, run, { arch: "x86_64", allowlist: [entry], today: TODAY });
  assert.equal(allowed.isRegression, false);
  assert.equal(allowed.findings[0].allowedBy, entry);
  const expired = diffEvents(BOOT, run, { arch: "x86_64", allowlist: [entry], today: "2026-11-23" });
  assert.equal(expired.isRegression, true);
  assert.deepEqual(expired.expired, [entry]);
  const otherArch = diffEvents(BOOT, run, {
    arch: "riscv64",
    allowlist: [{ ...entry, arch: "x86_64" }],
    today: TODAY,
  });
  assert.equal(otherArch.isRegression, true, "an entry for another arch does not apply");
});

Deno.test("alignSequences() returns a longest common subsequence, in order", () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 12 }),
      fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 12 }),
      (a, b) => {
        const pairs = alignSequences(a, b);
        for (let k = 0; k < pairs.length; k++) {
          assert.equal(a[pairs[k][0]], b[pairs[k][1]]);
          if (k > 0) assert.ok(pairs[k][0] > pairs[k - 1][0] && pairs[k][1] > pairs[k - 1][1]);
        }
        assert.equal(alignSequences(a, a).length, a.length);
        // diffEvents of a sequence against itself finds nothing.
        const events = a.map((template) => event(template));
        assert.equal(diffEvents(events, events, { arch: "x", today: TODAY }).findings.length, 0);
      },
    ),
    { numRuns: PROPERTY_RUNS / 10 },
  );
});

Deno.test("normalizeText() replaces varying numbers, addresses, ids and dates but keeps words", () => {
  assert.equal(
    normalizeText(
      "took 12ms at 0xdeadbeef for b8c7d77 on 2026-11-22 arch=x86_64 riscv64 size=4096 ratio 1.5",
    ),
    "took <dur> at <hex> for <id> on <time> arch=x86_64 riscv64 size=<num> ratio <num>",
  );
  const json = classifyLine(
    '{"ts":5,"level":"INFO","subsystem":"boot","status":"heap","start":1568768,"nested":{"a":[1,"0x10"]}}',
  );
  const human = classifyLine('[INFO] boot: heap start=99 nested={"a":[7,"0x20"]}');
  assert.equal(
    json.kind === "record" && recordTemplate(json.record),
    'INFO boot: heap start=<num> nested={"a":["<num>","<hex>"]}',
  );
  assert.equal(human.kind, "record");
});

Deno.test("EventCollector turns each recorded transcript into kernel, record and command events", async () => {
  const dir = new URL("../../fixtures/transcripts/", import.meta.url);
  for (const name of (await readdir(dir)).filter((name) => name.endsWith(".log"))) {
    const collector = new EventCollector();
    for (const serialEvent of parseTranscript(await readFile(new URL(name, dir)))) {
      collector.accept(serialEvent);
    }
    const templates = collector.events.map((e) => e.template);
    assert.equal(templates[0], "KERNEL entry", name);
    assert.ok(templates.includes("INFO shell: ready"), name);
    assert.ok(templates.some((template) => template.startsWith("CMD echo")), name);
    assert.equal(templates.some((template) => template.startsWith("PANIC")), !name.includes("session"), name);
    // Templates carry no raw numbers: two boots compare equal.
    for (const template of templates.filter((t) => !t.startsWith("CMD"))) {
      assert.doesNotMatch(template.replace(/x86_64|riscv64|aarch64|sis_\w+/g, ""), /\d{2,}/, template);
    }
  }
});
