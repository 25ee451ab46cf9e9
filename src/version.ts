/** The CLI's version, one place for every layer (the run manifest, `sis --version`); deno.json's "version" must match it (tested). */
export const VERSION = "0.1.0";
