/** `sis soak --resume`: the plan and progress of a killed soak's bundle, with torn last lines cut so appends start cleanly. */
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import type { SoakPlan } from "./plan.ts";
import { EVENTS_FILE, SAMPLES_FILE } from "./report.ts";
import { readEvents, readSamples } from "./samples.ts";
import { cutTornTail } from "./writer.ts";

/** The plan and per-arch progress of a bundle to resume; usage errors for a bundle that is not a soak. */
export async function resumeState(
  dir: string,
): Promise<{ plan: SoakPlan; covered: Map<string, number>; boots: Map<string, number> }> {
  let manifest: { kind?: string; soak?: SoakPlan };
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
  } catch {
    throw new UsageError(`Cannot resume "${dir}": no readable manifest.json there`, {
      fix: "give the runs/<id> folder of a soak",
    });
  }
  if (manifest.kind !== "soak" || manifest.soak === undefined) {
    throw new UsageError(`Cannot resume "${dir}": it is a ${manifest.kind ?? "unknown"} bundle, not a soak`);
  }
  const plan = manifest.soak;
  // A torn line from the kill is cut, so new lines start cleanly.
  cutTornTail(join(dir, SAMPLES_FILE));
  cutTornTail(join(dir, EVENTS_FILE));
  const covered = new Map<string, number>();
  const boots = new Map<string, number>();
  const { archs } = await readSamples(join(dir, SAMPLES_FILE)).catch(() => ({ archs: [] }));
  for (const columns of archs) {
    covered.set(columns.arch, columns.length * plan.intervalMs);
    boots.set(columns.arch, columns.boot.reduce((highest, boot) => Math.max(highest, boot), 0));
  }
  const { events } = await readEvents(join(dir, EVENTS_FILE));
  for (const event of events) boots.set(event.arch, Math.max(boots.get(event.arch) ?? 0, event.boot));
  return { plan, covered, boots };
}
