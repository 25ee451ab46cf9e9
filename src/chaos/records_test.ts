/** Tests of the parsers for injection records, `chaos stats --json` and `cksum`, on lines the kernel printed, and of the workload plans. */
import { deepStrictEqual as assertEquals, equal, ok, throws } from "node:assert/strict";
import { cksumValue, parseCounters, parseInjection, parseStats } from "./records.ts";
import { makeOp, parseSeed, planCell } from "./workload.ts";

// Printed by the x86_64 chaos kernel under QEMU (logctl json), seed 42.
const DISK_FULL =
  `{"ts":2291054,"level":"WARN","subsystem":"chaos","status":"injected","mode":"disk_full","point":"block_write","effect":"fail","errno":"ENOSPC","check":2,"seq":1}`;
const SLOW_IO =
  `{"ts":3711787,"level":"WARN","subsystem":"chaos","status":"injected","mode":"slow_io","point":"io_delay","effect":"delay","delay_us":20000,"check":14,"seq":4}`;
const STATS =
  `{"mode":"network_fail","rate":50,"seed":42,"delay_us":1000,"contended":0,"modes":{"disk_full":{"checks":5,"injections":1},"disk_fail":{"checks":0,"injections":0},"network_fail":{"checks":3,"injections":0},"memory_pressure":{"checks":5,"injections":2},"random_panic":{"checks":0,"injections":0},"slow_io":{"checks":0,"injections":0}}}`;

Deno.test("parseInjection() reads JSON and human injection records and ignores other records", () => {
  assertEquals(parseInjection(DISK_FULL), {
    mode: "disk_full",
    point: "block_write",
    effect: "fail",
    errno: "ENOSPC",
    check: 2,
    seq: 1,
  });
  equal(parseInjection(SLOW_IO)?.delayUs, 20000);
  assertEquals(parseInjection("ignored", JSON.parse(DISK_FULL)), parseInjection(DISK_FULL));
  assertEquals(
    parseInjection(
      "[WARN] chaos: injected mode=disk_full point=block_write effect=fail errno=ENOSPC check=2 seq=1",
    ),
    parseInjection(DISK_FULL),
  );
  equal(parseInjection(`{"level":"INFO","subsystem":"chaos","status":"mode","mode":"slow_io"}`), undefined);
  equal(
    parseInjection(`{"subsystem":"chaos","status":"injected","mode":"x","point":"y","check":"z","seq":1}`),
    undefined,
  );
  equal(parseInjection("{not json"), undefined);
  equal(parseInjection("[INFO] fs: mounted"), undefined);
});

Deno.test("parseStats() reads the kernel's stats line, keeping a u64 seed exact", () => {
  const stats = parseStats(["", STATS]);
  equal(stats.mode, "network_fail");
  equal(stats.rate, 50);
  equal(stats.seed, "42");
  assertEquals(stats.modes.memory_pressure, { checks: 5, injections: 2 });
  const big = parseStats([STATS.replace(`"seed":42`, `"seed":18446744073709551615`)]);
  equal(big.seed, "18446744073709551615");
});

Deno.test("parseStats() names what is wrong with a bad stats line", () => {
  throws(() => parseStats([]), /no JSON object/);
  throws(() => parseStats(["{"]), /not valid JSON/);
  throws(
    () => parseStats([STATS.replace(`"slow_io":{"checks":0,"injections":0}`, `"slow_io":{}`)]),
    /"checks"/,
  );
  throws(() => parseStats([STATS.replace(`"rate":50`, `"rate":-1`)]), /"rate" is not a count/);
  throws(() => parseStats([STATS.replace(`,"disk_fail":{"checks":0,"injections":0}`, "")]), /disk_fail/);
});

Deno.test("cksumValue() keeps the checksum line and refuses empty output", () => {
  equal(cksumValue(["0a1b2c3d 5 /chaos/keep0"]), "0a1b2c3d 5 /chaos/keep0");
  equal(cksumValue(["", "  "]), undefined);
});

Deno.test("planCell() is deterministic, arms in order, and reaches the mode's point", () => {
  const plan = planCell({ mode: "slow_io", ratePercent: 30, seed: "42", ops: 5, delayUs: 5000 });
  assertEquals(plan, planCell({ mode: "slow_io", ratePercent: 30, seed: "42", ops: 5, delayUs: 5000 }));
  assertEquals(plan.arm, ["chaos seed 42", "chaos rate 30", "chaos delay 5000", "chaos mode slow_io"]);
  ok(plan.ops.every((op) => op.kind === "write"));
  ok(plan.setup.includes("logctl json"));
  const mixed = planCell({ mode: "random_panic", ratePercent: 10, seed: "1", ops: 6 });
  assertEquals(mixed.ops.map((op) => op.kind), ["write", "alloc", "net", "write", "alloc", "net"]);
  ok(!mixed.arm.some((command) => command.startsWith("chaos delay")));
  throws(() => planCell({ mode: "disk_full", ratePercent: 101, seed: "1", ops: 5 }), RangeError);
  throws(() => planCell({ mode: "disk_full", ratePercent: 10, seed: "1", ops: 0 }), RangeError);
});

Deno.test("workload commands are one line, one word of text, and within the kernel's limits", () => {
  for (let index = 0; index < 500; index++) {
    const write = makeOp("write", index).command.split(" ");
    equal(write.length, 3);
    const alloc = Number(makeOp("alloc", index).command.split(" ")[1]);
    ok(alloc >= 1024 && alloc <= 16384);
    const net = Number(makeOp("net", index).command.split(" ")[2]);
    ok(net >= 64 && net <= 1500, `net send ${net} exceeds the null device's MTU`);
  }
});

Deno.test("parseSeed() takes decimal and hex u64 and nothing else", () => {
  equal(parseSeed("0"), "0");
  equal(parseSeed("0xffffffffffffffff"), "18446744073709551615");
  equal(parseSeed("18446744073709551616"), undefined);
  equal(parseSeed("-1"), undefined);
  equal(parseSeed("1e3"), undefined);
  equal(parseSeed(""), undefined);
});

Deno.test("parseCounters() reads net stats as the kernel prints it", () => {
  assertEquals(parseCounters(["device null mtu 1500", "tx_packets 3", "tx_bytes 300", "rx_packets 0"]), {
    tx_packets: 3,
    tx_bytes: 300,
    rx_packets: 0,
  });
});
