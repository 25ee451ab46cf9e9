/** The sis library surface: everything a script or test may import, re-exported from one place. */
export { main, VERSION } from "./src/cli.ts";
export * from "./src/arch.ts";
export * from "./src/context.ts";
export * from "./src/errors.ts";
