/** Finds the optional reference tools tests compare against (promtool, jq); undefined when absent. */

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
