/** CSV of every sample: `t,arch,boot,<series...>` (RFC 4180 quoting; a missing value is an empty cell). */
import { rename } from "node:fs/promises";
import type { ArchColumns } from "./samples.ts";

/** Quotes a cell when it holds a comma, quote or line break (series keys hold quotes and commas). */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes the CSV in chunks through a temporary file (a week at 1 Hz does not fit one string comfortably). */
export async function writeCsv(path: string, archs: readonly ArchColumns[]): Promise<void> {
  const keys = [...new Set(archs.flatMap((arch) => [...arch.series.keys()]))].sort();
  const temp = `${path}.${Deno.pid}.tmp`;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  try {
    const write = async (text: string) => {
      const bytes = encoder.encode(text);
      for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
    };
    await write(["t", "arch", "boot", ...keys].map(csvCell).join(",") + "\n");
    for (const arch of archs) {
      const columns = keys.map((key) => arch.series.get(key));
      let chunk = "";
      for (let row = 0; row < arch.length; row++) {
        let line = `${arch.t[row]},${csvCell(arch.arch)},${arch.boot[row]}`;
        for (const column of columns) {
          const value = column?.[row];
          line += value === undefined || Number.isNaN(value) ? "," : `,${value}`;
        }
        chunk += line + "\n";
        if (chunk.length > 1 << 20) {
          await write(chunk);
          chunk = "";
        }
      }
      await write(chunk);
    }
  } catch (error) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  file.close();
  await rename(temp, path);
}
