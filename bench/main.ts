/** `deno task bench`: the boot and suite benchmarks in one run (figures printed, nothing asserted). */
import { benchBoot } from "./boot.ts";
import { runsArgument } from "./_common.ts";
import { benchSuite } from "./suite.ts";

await benchBoot(runsArgument(Deno.args, 5));
console.log("");
await benchSuite(runsArgument(Deno.args, 3));
