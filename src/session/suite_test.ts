/** Unit tests for suite validation, selection and expectation checks, including the real tests/suites files. */
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.ts";
import type { CommandResult } from "./driver.ts";
import { checkExpectations, loadSuites, matchesFilter, parseSuite, selectSuites } from "./suite.ts";

const result = (output: string[], status = 0): CommandResult => ({
  seq: 1,
  command: "x",
  output,
  logs: [],
  status,
  durationMs: 1,
  warnings: [],
});

Deno.test("every suite in tests/suites validates, none is pending, and networking expects ENODEV on no-network", async () => {
  const suites = await loadSuites(fileURLToPath(new URL("../../tests/suites", import.meta.url)));
  const names = suites.map((suite) => suite.name);
  for (
    const name of ["smoke", "boot", "basic_commands", "process_ops", "system_info", "errors", "networking"]
  ) {
    ok(names.includes(name), `missing suite ${name}`);
  }
  ok(suites.every((suite) => !suite.pending));
  const networking = suites.find((suite) => suite.name === "networking")!;
  for (const step of networking.steps) {
    ok(step.expect.status === 0, `${step.name} passes on configs with a NIC`);
    ok(step.expect_on?.["no-network"]?.status === 19, `${step.name} expects ENODEV on no-network`);
  }
});

Deno.test("parseSuite() names the file and field of a bad step", () => {
  throws(
    () =>
      parseSuite({ steps: [{ name: "a", run: "x", expect: { statuz: 1 } }] }, "bad", "tests/suites/bad.yaml"),
    (error: unknown) =>
      error instanceof UsageError && error.message.startsWith("tests/suites/bad.yaml: steps.0.expect"),
  );
  throws(() => parseSuite({ steps: [] }, "bad", "bad.yaml"), UsageError);
  throws(() => parseSuite({ steps: [{ name: "a", run: "x\ny" }] }, "bad", "bad.yaml"), UsageError);
  throws(
    () => parseSuite({ steps: [{ name: "a", run: "x", expect: { regex: ["("] } }] }, "bad", "bad.yaml"),
    UsageError,
  );
  throws(
    () => parseSuite({ steps: [{ name: "a", run: "x" }, { name: "a", run: "y" }] }, "bad", "bad.yaml"),
    (error: unknown) => error instanceof UsageError && error.message.includes("duplicate step name"),
  );
});

Deno.test("checkExpectations() checks status (0 by default), contains, regex, absent, json and lines", () => {
  const suite = parseSuite(
    {
      steps: [
        { name: "plain", run: "echo hi" },
        {
          name: "all",
          run: "x",
          expect: { status: 2, contains: ["ENOENT"], regex: ["^error: \\w+:"], absent: ["panic"], lines: 1 },
        },
        { name: "json", run: "version --json", expect: { json: true } },
      ],
    },
    "s",
    "s.yaml",
  );
  const [plain, all, json] = suite.steps;
  assertEquals(checkExpectations(plain.expect, result(["hi"])), []);
  assertEquals(checkExpectations(plain.expect, result(["hi"], 127)), ["status 127, expected 0"]);
  assertEquals(checkExpectations(all.expect, result(["error: ENOENT: /x"], 2)), []);
  assertEquals(checkExpectations(all.expect, result(["panic", "two"], 0)), [
    "status 0, expected 2",
    'output does not contain "ENOENT"',
    "output does not match /^error: \\w+:/",
    'output contains "panic", which must be absent',
    "2 output lines, expected 1",
  ]);
  assertEquals(checkExpectations(json.expect, result(['{"a":', "1}"])), []);
  assertEquals(checkExpectations(json.expect, result(["{nope"])).length, 1);
});

Deno.test("selectSuites(), matchesFilter() and sharding pick what was asked", () => {
  const suites = ["a", "b", "c"].map((name) => parseSuite({ steps: [{ name: "s", run: "x" }] }, name, name));
  assertEquals(selectSuites(suites, "all").length, 3);
  assertEquals(selectSuites(suites, "c,a").map((suite) => suite.name), ["c", "a"]);
  throws(() => selectSuites(suites, "d"), UsageError);
  ok(matchesFilter("smoke", "echo prints", "smoke/echo"));
  ok(!matchesFilter("smoke", "help", "echo"));
});
