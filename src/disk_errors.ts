/** File-system failures under runs/ or build/ (full, read-only, no permission) as environment errors: one line with the path and the errno. */
import { EnvironmentError } from "./errors.ts";

/** Errnos that say the machine's disk, not sis, is the problem. */
const DISK_ERRNOS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EMFILE: "too many open files",
};

/** The errno name of a Deno or node:fs error (`ENOSPC`), if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `error` is a disk problem (full, read-only, no permission). */
export function isDiskError(error: unknown): boolean {
  const code = errnoOf(error);
  return code !== undefined && code in DISK_ERRNOS;
}

/**
 * Wraps a disk problem writing `path` as an {@link EnvironmentError}
 * (exit 3): `cannot write runs/x/serial.raw: ENOSPC (no space left on device)`.
 * Anything else is returned unchanged (it is a bug, or another error type).
 */
export function diskError(error: unknown, path: string, verb = "write"): unknown {
  if (error instanceof EnvironmentError || !isDiskError(error)) return error;
  const code = errnoOf(error)!;
  return new EnvironmentError(`cannot ${verb} ${path}: ${code} (${DISK_ERRNOS[code]})`, {
    fix: code === "ENOSPC" || code === "EDQUOT"
      ? "free space there, or remove old run bundles under runs/"
      : "make the folder writable for this user",
    cause: error,
  });
}

/** Runs `action`, turning a disk problem on `path` into an {@link EnvironmentError}. */
export async function writingTo<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw diskError(error, path);
  }
}
