/**
 * Timing: warm up, size a repetition to at least `minRepMs` by looping calls inside it, then
 * take the median per-call time over `reps` repetitions. Repetitions of all peers of a case are
 * interleaved (A B C A B C …) so a burst of load from elsewhere on the machine hits every peer
 * alike rather than skewing one ratio.
 */
import v8 from "node:v8";
import vm from "node:vm";
import type { Bench } from "./types";

/**
 * A full, synchronous garbage collection, run outside the timed regions after each peer's setup
 * of a case (the first also sweeps the large heap that loading binaryen, tfjs and jax-js leaves),
 * so that no concurrent marking of earlier garbage runs during a measurement.
 */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

/**
 * Waits (up to `maxMs`) until this process's own background threads go quiet — V8 tiering
 * WebAssembly up to TurboFan (binaryen's large module after a compile, each peer's kernels after
 * a warm-up) and concurrent GC sweeping — so they do not share the cores with a measurement.
 */
export async function settle(maxMs = 3000): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 < 0.1 * (performance.now() - w0)) return;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Warms `b` up for `warmupMs` (long enough for V8 to tier hot WebAssembly up from Liftoff to
 * TurboFan in the background) in chunks of doubling size, and returns the calls per repetition
 * that make one repetition last `minRepMs` at the fastest per-call time seen — the minimum, so
 * that a chunk stretched by another process's time slice or a GC pause cannot shrink the
 * repetitions below `minRepMs`.
 */
export async function calibrate(b: Bench, minRepMs: number, warmupMs: number): Promise<number> {
  const t0 = performance.now();
  let chunk = 1;
  let best = Infinity;
  while (best === Infinity || performance.now() - t0 < warmupMs) {
    const t = performance.now();
    for (let i = 0; i < chunk; i++) b.run();
    await b.sync?.();
    const ms = performance.now() - t;
    best = Math.min(best, ms / chunk);
    if (ms < minRepMs / 4) chunk *= 2;
  }
  return Math.max(1, Math.ceil(minRepMs / Math.max(best, 1e-6)));
}

/** One timed repetition of `iters` calls; returns [wall ms, cpu ms]. */
export async function repetition(b: Bench, iters: number): Promise<[number, number]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) b.run();
  await b.sync?.();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1000];
}

/**
 * The first calls of a stateful training-step bench: times the first call (trace + compile +
 * run for jit peers), reads `value()` after it and after a second call (the cross-peer check),
 * then times 5 warm calls. `compileMs` is the first call minus the median warm call.
 */
export function firstCalls(run: () => void, value: () => number): { firstMs: number; check: number[]; compileMs: number } {
  const t0 = performance.now();
  run();
  const firstMs = performance.now() - t0;
  const check = [value()];
  run();
  check.push(value());
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t1 = performance.now();
    run();
    warm.push(performance.now() - t1);
  }
  return { firstMs, check, compileMs: firstMs - median(warm) };
}
