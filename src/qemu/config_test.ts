/** Unit tests for sis.yaml validation and config selection. */
import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { loadSettings, selectConfigs, settingsFromYaml } from "./config.ts";

Deno.test("settingsFromYaml() overrides a built-in config and adds a new one", () => {
  const settings = settingsFromYaml({
    configs: { lowmem: { memory: "256M" }, big: { memory: "1G", cpus: 4 } },
    timeouts: { command_ms: 3000 },
  }, "sis.yaml");
  assertEquals(settings.configs.lowmem.memoryMiB, 256);
  assertEquals(settings.configs.lowmem.cpus, 2);
  assertEquals(settings.configs.big.memoryMiB, 1024);
  assertEquals(settings.configs.big.cpus, 4);
  assertEquals(settings.configs.default.memoryMiB, 512);
  assertEquals(settings.commandTimeoutMs, 3000);
});

Deno.test("settingsFromYaml() names the file and the field of a bad value", () => {
  throws(
    () => settingsFromYaml({ configs: { lowmem: { memory: "lots" } } }, "/x/sis.yaml"),
    (error: unknown) =>
      error instanceof UsageError && error.message.startsWith("/x/sis.yaml: configs.lowmem.memory: ") &&
      error.exitCode === 2,
  );
  throws(
    () => settingsFromYaml({ configs: { smp: { cpus: 0 } } }, "sis.yaml"),
    (error: unknown) => error instanceof UsageError && error.message.includes("configs.smp.cpus"),
  );
});

Deno.test("settingsFromYaml() rejects unknown keys instead of ignoring a typo", () => {
  throws(
    () => settingsFromYaml({ configs: { smp: { cpu: 4 } } }, "sis.yaml"),
    (error: unknown) => error instanceof UsageError && error.message.includes("configs.smp"),
  );
  throws(() => settingsFromYaml({ qemu: { sparc: "qemu-system-sparc" } }, "sis.yaml"), UsageError);
  throws(() => settingsFromYaml([1, 2], "sis.yaml"), UsageError);
});

Deno.test("loadSettings() uses the built-ins without a file and reports bad YAML as a usage error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const settings = await loadSettings(dir);
    assertEquals(Object.keys(settings.configs), ["default", "lowmem", "smp-off", "smp", "no-network"]);
    await Deno.writeTextFile(join(dir, "sis.yaml"), "configs: [unclosed\n");
    await rejects(
      loadSettings(dir),
      (error: unknown) => error instanceof UsageError && error.message.includes("YAML"),
    );
    await Deno.writeTextFile(join(dir, "sis.yaml"), "configs:\n  lowmem:\n    memory: 64M\n");
    assertEquals((await loadSettings(dir)).configs.lowmem.memoryMiB, 64);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("selectConfigs() expands all and refuses an unknown name with the choices", () => {
  const settings = settingsFromYaml({}, "sis.yaml");
  assertEquals(selectConfigs(settings, "all").length, 5);
  assertEquals(selectConfigs(settings, "smp")[0].cpus, 4);
  throws(
    () => selectConfigs(settings, "huge"),
    (error: unknown) => error instanceof UsageError && (error.fix ?? "").includes("lowmem"),
  );
});
