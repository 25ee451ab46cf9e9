/** The input-file check every reader command (logs, panic, metrics) makes first: a missing path, a directory, an empty or a binary file is a usage error (exit 2) in one line. */
import { UsageError } from "../errors.ts";

/** How much of a file is looked at to tell text from binary (as git and grep do: a NUL byte). */
const SNIFF_BYTES = 8192;

/** Checks that `path` exists, is not a directory and is not empty (any content). */
export async function requireFile(path: string, shown: string, what: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
      ? "permission denied"
      : code ?? "unreadable";
    throw new UsageError(`cannot read ${shown}: ${why}`, { fix: `pass the path of a ${what}` });
  }
  if (info.isDirectory) {
    throw new UsageError(`${shown} is a directory, not a ${what}`, { fix: `pass a file inside it` });
  }
  if (info.size === 0) throw new UsageError(`${shown} is empty: no ${what} to read`);
  return info;
}

/**
 * Checks that `path` (shown to the user as `shown`) is a readable, non-empty
 * text file. `what` names what the command expects ("log file").
 */
export async function requireTextFile(path: string, shown: string, what: string): Promise<void> {
  const info = await requireFile(path, shown, what);
  let head: Uint8Array;
  try {
    using file = await Deno.open(path);
    const buffer = new Uint8Array(Math.min(SNIFF_BYTES, info.size));
    const read = await file.read(buffer);
    head = buffer.subarray(0, read ?? 0);
  } catch (error) {
    throw new UsageError(
      `cannot read ${shown}: ${(error as { code?: string }).code ?? (error as Error).message}`,
    );
  }
  const nul = head.indexOf(0);
  if (nul >= 0) {
    throw new UsageError(`${shown} is binary (a NUL byte at offset ${nul}), not a ${what}`);
  }
}
