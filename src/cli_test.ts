/** Unit tests of the entry point: main() with explicit inputs, no subprocess. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { main, VERSION } from "./cli.ts";
import { testContext } from "./context.ts";

Deno.test("main() prints help to stdout and exits 0", async () => {
  const context = testContext();
  assert.equal(await main(["--help"], context), 0);
  assert.match(context.stdout.text, /^Build, boot and test the SIS kernel/);
  assert.equal(context.stderr.text, "");
});

Deno.test("main() prints the version", async () => {
  const context = testContext();
  assert.equal(await main(["--version"], context), 0);
  assert.equal(context.stdout.text.trim(), VERSION);
});

Deno.test("main() turns a parse error into one usage line pointing at the command's help", async () => {
  const context = testContext();
  assert.equal(await main(["build", "--arch", "sparc"], context), 2);
  assert.equal(context.stdout.text, "");
  assert.match(context.stderr.text, /^error: .*"sparc".* \(see 'sis build --help'\)\n$/);
});

Deno.test("main() points an unknown command at the top-level help", async () => {
  const context = testContext();
  assert.equal(await main(["frobnicate"], context), 2);
  assert.match(context.stderr.text, /\(see 'sis --help'\)\n$/);
});

Deno.test("main() maps a command's typed error to its exit code and one line", async () => {
  // Outside a checkout `sis build` fails before touching any tool: a usage error.
  const context = testContext({ cwd: "/", env: {} });
  assert.equal(await main(["build", "--arch", "x86_64"], context), 2);
  assert.match(
    context.stderr.text,
    /^error: Not inside a sis checkout: .* \(fix: cd into the repository, or set SIS_ROOT\)\n$/,
  );
});

Deno.test("main() never throws on arbitrary arguments: every outcome is exit 0 or a usage error", async () => {
  const word = fc.oneof(
    fc.constantFrom(
      "build",
      "setup",
      "completions",
      "--arch",
      "all",
      "x86_64",
      "--features",
      "--help",
      "-",
      "--",
      "",
    ),
    fc.string({ maxLength: 12 }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(word, { maxLength: 5 }), async (args) => {
      // These would touch the machine (apt, QEMU); their parsing is covered by the e2e tests.
      fc.pre(!["setup", "doctor", "test", "run"].includes(args[0]));
      const context = testContext({ cwd: "/" });
      const code = await main(args, context);
      assert.ok([0, 2].includes(code), `${JSON.stringify(args)} gave ${code}: ${context.stderr.text}`);
      if (code === 2) assert.equal(context.stderr.text.split("\n").filter(Boolean).length, 1);
    }),
    { numRuns: 300 },
  );
});
