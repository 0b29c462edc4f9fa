/**
 * `npm run fuzz -- --count N --seed S [--max-stmts K] [--mode plain|grad|vmap|jvp]`: runs N fuzz
 * cases from seed S (compiled vs eager vs float64 shadow, see check.ts) and prints a shrunk,
 * pasteable TypeScript repro for each mismatch or crash (known, reported bugs from known.ts are
 * counted apart unless --show-known). Exits 1 if any case failed.
 */
import { parseArgs } from "node:util";
import { useEagerInterpreter } from "@wax/tracer";
import { check, MODES, type Mode } from "./check";
import { generate, type GenStats } from "./program";
import { modeOf } from "./runner";
import { knownBug } from "./known";
import { reproSource, shrink } from "./shrink";

// Eager ops run in the reference interpreter, as in the test suite (test/support/eager-interpreter.ts).
useEagerInterpreter(true);

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    seed: { type: "string", default: "0" },
    "max-stmts": { type: "string", default: "8" },
    mode: { type: "string" },
    quiet: { type: "boolean", default: false },
    "show-known": { type: "boolean", default: false },
  },
});
const count = Number(values.count);
const seed0 = Number(values.seed);
const maxStmts = Number(values["max-stmts"]);
if (!Number.isInteger(count) || count < 0 || !Number.isInteger(seed0) || !Number.isInteger(maxStmts) || maxStmts < 1) {
  console.error(
    "fuzz: --count, --seed and --max-stmts take integers (count ≥ 0, max-stmts ≥ 1), e.g. npm run fuzz -- --count 1000 --seed 0",
  );
  process.exit(2);
}
if (values.mode !== undefined && !(MODES as readonly string[]).includes(values.mode)) {
  console.error(`fuzz: --mode must be one of ${MODES.join(", ")}, got "${values.mode}"`);
  process.exit(2);
}

const stats: GenStats = { rejected: 0, crashes: [] };
const counts = { pass: 0, skip: 0, mismatch: 0, crash: 0 };
const byMode: Record<string, number> = {};
const knownCounts: Record<string, number> = {};
const t0 = performance.now();
for (let seed = seed0; seed < seed0 + count; seed++) {
  const program = generate(seed, maxStmts, stats);
  const mode = (values.mode as Mode | undefined) ?? modeOf(seed);
  let result;
  try {
    result = check(program, mode, seed);
  } catch (e) {
    result = { status: "crash" as const, detail: `fuzzer: ${String(e)}` };
  }
  const known = result.status === "mismatch" || result.status === "crash" ? knownBug(program, result, mode) : null;
  if (known) {
    knownCounts[known.name] = (knownCounts[known.name] ?? 0) + 1;
    if (!values["show-known"]) continue;
  }
  counts[result.status]++;
  if (result.status !== "skip") byMode[mode] = (byMode[mode] ?? 0) + 1;
  if (result.status === "mismatch" || result.status === "crash") {
    const s = shrink(program, mode, seed, result);
    console.log(`\n=== seed ${seed} (${mode}): ${result.status}: ${result.detail}`);
    console.log(`--- shrunk (${s.attempts} re-checks) to ${s.mode}: ${s.result.detail}`);
    console.log(reproSource(s.program, s.mode, seed));
  } else if (!values.quiet && (seed - seed0 + 1) % 500 === 0) {
    console.log(`${seed - seed0 + 1}/${count} ...`);
  }
}
// Unnamed errors (not WaxErrors) thrown eagerly while generating: one line per distinct message.
const genCrashes = new Map(stats.crashes.map((c) => [c.error, c.expr]));
for (const [error, expr] of genCrashes) {
  counts.crash++;
  console.log(`\n=== unnamed error while generating (eager): ${expr}\n${error}`);
}
const secs = ((performance.now() - t0) / 1000).toFixed(1);
console.log(
  `\nfuzz: seeds ${seed0}..${seed0 + count - 1}: ${counts.pass} passed, ${counts.mismatch} mismatches, ${counts.crash} crashes, ${counts.skip} skipped (mode not applicable or invalid for both), ${stats.rejected} statements rejected by the generator; known bugs tolerated ${JSON.stringify(knownCounts)} (see known.ts; --show-known prints them); checked per mode ${JSON.stringify(byMode)}; ${secs} s`,
);
process.exit(counts.mismatch + counts.crash > 0 ? 1 : 0);
