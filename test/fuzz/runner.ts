/** One fuzz case per seed: a program and a mode, checked (see check.ts for what a mismatch is). */
import { check, MODES, type CheckResult, type Mode } from "./check";
import { generate, rngFor, type GenStats, type Program } from "./program";

export interface Case {
  seed: number;
  program: Program;
  mode: Mode;
  result: CheckResult;
}

/** The mode of a seed: plain 40% of the time, else grad, vmap, jvp or vmapgrad (15% each). */
export function modeOf(seed: number): Mode {
  const r = rngFor(seed ^ 0x2545f491)();
  return r < 0.4 ? "plain" : MODES[1 + Math.floor(((r - 0.4) / 0.6) * 4)]!;
}

export function runCase(seed: number, stats?: GenStats): Case {
  const program = generate(seed, 8, stats);
  const mode = modeOf(seed);
  return { seed, program, mode, result: check(program, mode, seed) };
}
