/**
 * The reference tools tests compare against (promtool, the Prometheus server,
 * jq, llvm-cxxfilt, nm) and the no-silent-skip rule: under CI=true a missing
 * tool FAILS the test that needs it; elsewhere the test is reported as
 * ignored, with the reason printed once.
 */

/** The first of `candidates` that runs with `--version`. */
async function firstRunnable(candidates: (string | undefined)[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      const output = await new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (output.success) return candidate;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

/** promtool: $PROMTOOL, then PATH (.ci/run puts Debian's there), then a hand-unpacked copy. */
export function findPromtool(): Promise<string | undefined> {
  return firstRunnable([Deno.env.get("PROMTOOL"), "promtool", "/tmp/prom/usr/bin/promtool"]);
}

/** jq on PATH. */
export function findJq(): Promise<string | undefined> {
  return firstRunnable(["jq"]);
}

/** Runs `program args` with `input` on stdin; returns exit code and both outputs. */
export async function pipeThrough(
  program: string,
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** Debian's chromium (or $CHROMIUM), for the soak report's drawing test. */
export function findChromium(): Promise<string | undefined> {
  return firstRunnable([Deno.env.get("CHROMIUM"), "chromium", "chromium-browser"]);
}

/** llvm-cxxfilt (Debian's `llvm`). */
export function findLlvmCxxfilt(): Promise<string | undefined> {
  return firstRunnable(["llvm-cxxfilt"]);
}

/** nm (binutils, or llvm-nm). */
export function findNm(): Promise<string | undefined> {
  return firstRunnable(["nm", "llvm-nm"]);
}

/** The Prometheus server: $PROMETHEUS, then PATH (.ci/run puts Debian's there), then a hand-unpacked copy. */
export function findPrometheus(): Promise<string | undefined> {
  return firstRunnable([Deno.env.get("PROMETHEUS"), "prometheus", "/tmp/prom/usr/bin/prometheus"]);
}

/** How to get each tool, for the messages. */
export const INSTALL: Readonly<Record<string, string>> = {
  promtool: "apt-get download prometheus && dpkg -x, as .ci/run does, or set PROMTOOL",
  prometheus: "apt-get download prometheus && dpkg -x, as .ci/run does, or set PROMETHEUS",
  jq: "apt-get install jq",
  chromium: "apt-get install chromium",
  "llvm-cxxfilt": "apt-get install llvm",
  nm: "apt-get install binutils",
  "a built kernel": "./sis build --arch all",
};

/** Whether missing tools must fail rather than be ignored (CI=true, as .ci/run and GitHub Actions set). */
export const IS_CI = Deno.env.get("CI") === "true";

const noticed = new Set<string>();

/**
 * The `ignore` value of a test that needs `tool` at `path`: false when the
 * tool is there, false under CI=true (the test then fails in
 * {@link requireTool}), otherwise true, with a notice saying what is ignored
 * and how to install the tool.
 */
export function ignoreWithout(tool: string, path: string | undefined): boolean {
  if (path !== undefined || IS_CI) return false;
  if (!noticed.has(tool)) {
    noticed.add(tool);
    console.log(
      `NOTICE: ${tool} not found (${INSTALL[tool] ?? "install it"}): the tests that need it are ignored`,
    );
  }
  return true;
}

/** The tool's path; without it (reached only under CI=true) the test fails naming the fix. */
export function requireTool(tool: string, path: string | undefined): string {
  if (path === undefined) {
    throw new Error(`${tool} is required under CI=true but was not found (${INSTALL[tool] ?? "install it"})`);
  }
  return path;
}
