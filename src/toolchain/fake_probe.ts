/** A scripted {@link Probe} for tests: fixed files and canned command answers, and a log of what was run. */
import type { Probe, ProbeResult } from "./probe.ts";

export class FakeProbe implements Probe {
  readonly ran: string[][] = [];

  constructor(
    /** Paths that exist; those marked true are executable files. */
    readonly files: Record<string, boolean>,
    /** Answers keyed by the argv joined with spaces; anything else fails to start. */
    readonly answers: Record<string, Partial<ProbeResult>>,
  ) {}

  run(argv: readonly string[]): Promise<ProbeResult> {
    this.ran.push([...argv]);
    const answer = this.answers[argv.join(" ")];
    if (!answer) return Promise.resolve({ code: -1, stdout: "", stderr: `${argv[0]}: not found` });
    return Promise.resolve({
      code: answer.code ?? 0,
      stdout: answer.stdout ?? "",
      stderr: answer.stderr ?? "",
    });
  }

  exists(path: string): Promise<boolean> {
    return Promise.resolve(path in this.files);
  }

  isExecutable(path: string): Promise<boolean> {
    return Promise.resolve(this.files[path] === true);
  }
}
