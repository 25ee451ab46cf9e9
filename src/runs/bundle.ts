/** Run bundles: `runs/<id>/` written as the run goes (manifest, raw serial with timing, events NDJSON, results), so a killed run still leaves what happened. */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";

/**
 * Layout of one bundle:
 *
 * ```
 * runs/<id>/manifest.json            versions, argv, seed, and one entry per job (ELF sha256, QEMU argv)
 * runs/<id>/results.json             written at the end (absent if the run was killed)
 * runs/<id>/<arch>-<config>-<suite>/
 *     serial.raw                     every byte read from the serial port, as received
 *     serial.timing.ndjson           {"atMs":…,"offset":…,"bytes":…} per chunk: the timestamps of serial.raw
 *     events.ndjson                  every parsed event with its time ({"kind":"line",…,"atMs":…})
 *     result.json                    this job's result, written when the job ends
 * ```
 *
 * Appends use synchronous writes on open files: when sis is killed, what
 * was written is in the kernel's page cache and survives the process.
 */

/** Ids made by this process so far: with the pid, they make ids unique by construction. */
let idsMade = 0;

/**
 * A new unique run id: UTC time, pid, a per-process sequence number and
 * random bits. Time, pid and sequence never repeat between live processes;
 * the random part covers a pid reused within the same second. (Random bits
 * alone were not enough: 24 of them collided among 2000 ids about one time
 * in eight.)
 */
export function newRunId(now = new Date(), pid = Deno.pid): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-");
  const random = crypto.getRandomValues(new Uint8Array(3));
  idsMade += 1;
  return `${stamp}-${pid}-${idsMade}-${
    [...random].map((byte) => byte.toString(16).padStart(2, "0")).join("")
  }`;
}

/** Writes JSON atomically (temp file + rename) so a reader never sees half a file. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  // Unique per write: two jobs of one run may save the manifest at the same moment.
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(value, null, 2) + "\n");
    await rename(temp, path);
  } catch (error) {
    // A full disk must not leave half a temp file behind.
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}

export interface RunManifestBase {
  sisVersion: string;
  deno: string;
  argv: readonly string[];
  cwd: string;
  seed: number;
  [key: string]: unknown;
}

export interface RunManifest extends RunManifestBase {
  id: string;
  startedAt: string;
  jobs: Record<string, unknown>[];
}

const encoder = new TextEncoder();

/** One job's files inside the bundle. */
export class JobRecorder {
  readonly dir: string;
  #raw: Deno.FsFile;
  #timing: Deno.FsFile;
  #events: Deno.FsFile;
  #offset = 0;
  #startedAt = performance.now();
  #isClosed = false;
  #onWriteError?: (error: unknown, path: string) => void;
  /** The first write that failed (a full or read-only disk); the recorder stops writing after it. */
  writeError?: { error: unknown; path: string };

  private constructor(
    dir: string,
    raw: Deno.FsFile,
    timing: Deno.FsFile,
    events: Deno.FsFile,
    onWriteError?: (error: unknown, path: string) => void,
  ) {
    this.dir = dir;
    this.#raw = raw;
    this.#timing = timing;
    this.#events = events;
    this.#onWriteError = onWriteError;
  }

  /**
   * Opens the job's folder. `onWriteError` hears of the first failed write
   * (ENOSPC, EROFS): appends run inside QEMU's serial pump, where a throw
   * would only end the stream, so the failure is reported, not thrown.
   */
  static async create(
    dir: string,
    onWriteError?: (error: unknown, path: string) => void,
  ): Promise<JobRecorder> {
    await mkdir(dir, { recursive: true });
    const open = (name: string) => Deno.open(join(dir, name), { create: true, append: true });
    return new JobRecorder(
      dir,
      await open("serial.raw"),
      await open("serial.timing.ndjson"),
      await open("events.ndjson"),
      onWriteError,
    );
  }

  /** Appends, or stops recording at the first failure and reports it once. */
  #append(file: Deno.FsFile, name: string, bytes: Uint8Array): void {
    if (this.writeError) return;
    try {
      writeAll(file, bytes);
    } catch (error) {
      this.writeError = { error, path: join(this.dir, name) };
      this.#onWriteError?.(error, this.writeError.path);
    }
  }

  /** Records a serial chunk exactly as read, with its time and offset. */
  serialBytes(chunk: Uint8Array): void {
    if (this.#isClosed) return;
    const atMs = Math.round((performance.now() - this.#startedAt) * 1000) / 1000;
    this.#append(this.#raw, "serial.raw", chunk);
    this.#append(
      this.#timing,
      "serial.timing.ndjson",
      encoder.encode(JSON.stringify({ atMs, offset: this.#offset, bytes: chunk.length }) + "\n"),
    );
    this.#offset += chunk.length;
  }

  /** Records one event (parsed serial event, command result, error). */
  event(event: Record<string, unknown>): void {
    if (this.#isClosed) return;
    this.#append(this.#events, "events.ndjson", encoder.encode(JSON.stringify(event) + "\n"));
  }

  /** Writes result.json; a failure (full disk) goes to the write-error hook like any other. */
  async finish(result: unknown): Promise<void> {
    this.close();
    const path = join(this.dir, "result.json");
    try {
      await writeJsonAtomically(path, result);
    } catch (error) {
      if (!this.#onWriteError) throw error;
      this.writeError ??= { error, path };
      this.#onWriteError(error, path);
    }
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const file of [this.#raw, this.#timing, this.#events]) {
      try {
        file.close();
      } catch {
        // Already closed.
      }
    }
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** The bundle of one `sis test` or `sis run`. */
export class RunBundle {
  readonly id: string;
  readonly dir: string;
  readonly manifest: RunManifest;
  /** Told of the first failed append in any job's files (see {@link JobRecorder.create}). */
  onWriteError?: (error: unknown, path: string) => void;
  /** The last manifest save started (`saveManifest` runs them one at a time). */
  private manifestSaves: Promise<void> = Promise.resolve();

  private constructor(id: string, dir: string, manifest: RunManifest) {
    this.id = id;
    this.dir = dir;
    this.manifest = manifest;
  }

  /**
   * Creates `<runsDir>/<id>/`. The directory is created without `recursive`
   * so that in the (astronomically unlikely) case of an id collision the
   * second run gets EEXIST and picks a new id instead of sharing a folder.
   */
  static async create(
    runsDir: string,
    manifest: RunManifestBase,
  ): Promise<RunBundle> {
    await mkdir(runsDir, { recursive: true });
    for (let attempt = 0;; attempt++) {
      const id = newRunId();
      const dir = join(runsDir, id);
      try {
        await mkdir(dir, { mode: 0o755 });
      } catch (error) {
        if ((error as { code?: string }).code === "EEXIST" && attempt < 5) continue;
        throw error;
      }
      const full: RunManifest = { ...manifest, id, startedAt: new Date().toISOString(), jobs: [] };
      const bundle = new RunBundle(id, dir, full);
      await bundle.saveManifest();
      return bundle;
    }
  }

  /**
   * Opens an existing bundle to continue it (`sis soak --resume`): its
   * manifest is kept, with this resumption added to `resumes`.
   */
  static async open(dir: string, resumedWith: RunManifestBase): Promise<RunBundle> {
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as RunManifest;
    const resumes = Array.isArray(manifest.resumes) ? manifest.resumes : [];
    manifest.resumes = [...resumes, { at: new Date().toISOString(), argv: resumedWith.argv }];
    const bundle = new RunBundle(manifest.id ?? basename(dir), dir, manifest);
    await bundle.saveManifest();
    return bundle;
  }

  /**
   * Saves the manifest as it is when this save's turn comes. One save at a
   * time: jobs of one run save it without waiting for each other, and two
   * overlapping atomic writes could land in either order, leaving an older
   * copy (a job without its `qemuArgv`) as the file.
   */
  saveManifest(): Promise<void> {
    const save = this.manifestSaves.then(() =>
      writeJsonAtomically(join(this.dir, "manifest.json"), this.manifest)
    );
    // The next save waits for this one either way; its own caller sees the error.
    this.manifestSaves = save.catch(() => {});
    return save;
  }

  /**
   * Adds a job to the manifest (saved at once) and opens its recorder; a
   * job already there (a resumed bundle) is updated, and its files appended to.
   */
  async startJob(name: string, details: Record<string, unknown>): Promise<JobRecorder> {
    const existing = this.manifest.jobs.find((job) => job.name === name);
    if (existing) Object.assign(existing, details);
    else this.manifest.jobs.push({ name, ...details });
    await this.saveManifest();
    return JobRecorder.create(join(this.dir, name), this.onWriteError);
  }

  writeResults(results: unknown): Promise<void> {
    return writeJsonAtomically(join(this.dir, "results.json"), results);
  }
}
