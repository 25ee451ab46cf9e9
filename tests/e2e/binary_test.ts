/**
 * The CLI as it ships: one file (`deno task bundle`, or the compiled binary
 * named by SIS_BINARY in the release workflow), run from a folder outside the
 * checkout with SIS_ROOT set. Every command's help, a real boot, and one real
 * run of each command that needs no toolchain: that loads every lazily
 * imported module and every data file, which `--help` alone never does.
 */
import assert from "node:assert/strict";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { githubMatrixSchema } from "../../src/ci/matrix.ts";
import { PERMISSIONS, ROOT } from "./_harness.ts";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command that starts the shipped CLI, made once: a bundle in a temporary folder, or $SIS_BINARY. */
async function shippedCli(outside: string): Promise<string[]> {
  const binary = Deno.env.get("SIS_BINARY");
  if (binary) return [binary];
  const bundle = await new Deno.Command(Deno.execPath(), { args: ["task", "--quiet", "bundle"], cwd: ROOT })
    .output();
  assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
  await copyFile(join(ROOT, "build/sis.js"), join(outside, "sis.js"));
  return [Deno.execPath(), "run", "--quiet", "--no-prompt", ...PERMISSIONS, join(outside, "sis.js")];
}

function runner(cli: string[], cwd: string) {
  return async (args: string[]): Promise<Ran> => {
    const output = await new Deno.Command(cli[0], {
      args: [...cli.slice(1), ...args],
      cwd,
      // Nothing of the developer's environment that could point back at the checkout but SIS_ROOT.
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? cwd,
        SIS_ROOT: ROOT,
        NO_COLOR: "1",
        RUST_BACKTRACE: "0",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ran = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    assert.doesNotMatch(ran.stderr, /internal error|Module not found|file:\/\//, `sis ${args.join(" ")}`);
    return ran;
  };
}

/** The command names a help page lists under its usage lines ("  name   description"). */
function listedCommands(help: string): string[] {
  return [...help.matchAll(/^ {2}([a-z][a-z-]*) {2,}\S/gm)].map((match) => match[1]);
}

Deno.test("the shipped CLI runs out of the tree: every command's help, a real boot, and each toolless command", async () => {
  const outside = await Deno.makeTempDir({ prefix: "sis-shipped-" });
  try {
    const sis = runner(await shippedCli(outside), outside);

    const top = await sis(["--help"]);
    assert.equal(top.code, 0, top.stderr);
    const commands = listedCommands(top.stdout).filter((name) => name !== "help");
    for (const expected of ["build", "test", "chaos", "report", "matrix", "doctor"]) {
      assert.ok(commands.includes(expected), `${expected} missing from --help: ${commands}`);
    }
    const visited: string[] = [];
    for (const name of commands) {
      visited.push(name);
      const help = await sis([name, "--help"]);
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: sis ${name}\\b`, "m"), name);
      for (const sub of listedCommands(help.stdout)) {
        visited.push(`${name} ${sub}`);
        const subHelp = await sis([name, sub, "--help"]);
        assert.equal(subHelp.code, 0, `${name} ${sub} --help: ${subHelp.stderr}`);
        assert.match(subHelp.stdout, new RegExp(`^Usage: sis ${name} ${sub}\\b`, "m"), `${name} ${sub}`);
      }
    }

    for (const expected of ["chaos run", "chaos replay", "panic decode", "report merge", "regress check"]) {
      assert.ok(visited.includes(expected), `${expected} not reached: ${visited}`);
    }

    // A real boot: the suites come from SIS_ROOT, not from beside the CLI.
    // --no-build, as on a runner: the binary comes without a Rust toolchain.
    const test = await sis([
      "test",
      "--arch",
      "x86_64",
      "--suite",
      "smoke",
      "--no-build",
      "--json",
      "smoke.json",
    ]);
    assert.equal(test.code, 0, test.stdout + test.stderr);
    assert.match(test.stdout, /^5 passed, 0 failed/m);

    const fixtures = join(ROOT, "fixtures");
    const runs: [string[], number[]][] = [
      [["doctor"], [0, 3]],
      [["logs", join(fixtures, "logs/mixed.log"), "--level", "ERROR"], [0]],
      [["panic", "decode", join(fixtures, "transcripts/x86_64-panic.log")], [0]],
      [["metrics", "check", join(fixtures, "prometheus/kernel-x86_64.prom")], [0]],
      [["regress", "check", "--arch", "x86_64", "--no-build"], [0]],
      [["report", "merge", "smoke.json", "--junit", "merged.xml"], [0]],
      [["completions", "bash"], [0]],
    ];
    for (const [args, codes] of runs) {
      const ran = await sis(args);
      assert.ok(
        codes.includes(ran.code),
        `sis ${args.join(" ")} exited ${ran.code}: ${ran.stdout}${ran.stderr}`,
      );
    }
    assert.match(await readFile(join(outside, "merged.xml"), "utf8"), /<testcase /);

    const matrix = await sis(["matrix", "--github", "--suite", "all", "--shards", "3"]);
    assert.equal(matrix.code, 0, matrix.stderr);
    assert.equal(githubMatrixSchema.parse(JSON.parse(matrix.stdout)).include.length, 9);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});
