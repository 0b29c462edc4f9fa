/**
 * Known, reported failures the in-suite fuzz range tolerates (kept short: each names its bug;
 * delete an entry when its bug is fixed, and the range must still pass).
 */
import type { CheckResult, Mode } from "./check";
import type { Program } from "./program";

export interface KnownBug {
  name: string;
  matches(p: Program, r: CheckResult, mode: Mode): boolean;
}

const text = (p: Program): string => p.stmts.map((s) => s.expr).join("\n");
const hasHugeInput = (p: Program): boolean => p.inputs.some((i) => i.data.some((x) => !Number.isFinite(x) || Math.abs(x) >= 1e18));

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    // Issue 15 item 10: the interpreter multiplies and accumulates dot products and sums in
    // float64, compiled code in float32 (as XLA does), so with overflowing products or partial
    // sums eager gives ±Inf where compiled gives NaN (or Inf where compiled is finite). Repro:
    // np.matmul(x, x.T) with x = [[-1.667, -Inf], [3.4e38, -1.525]]: element [0, 1] eager
    // Infinity, compiled NaN (−1.667·3.4e38 overflows to −Inf in float32).
    // Also no bug at all: a float32 sum over ±3.4e38 loses an added 1 in whichever lane meets
    // the huge value first, so reassociated compiled sums legitimately differ there.
    name: "float64 accumulation in the interpreter (issue 15 item 10), float32 cancellation over huge values",
    matches: (p, r) =>
      r.status === "mismatch" &&
      hasHugeInput(p) &&
      /np\.(matmul|dot|sum|mean|var|std|cumsum|prod)|logsumexp|softmax|logSoftmax|standardize|\.sum\(/.test(text(p)),
  },
];
export function knownBug(p: Program, r: CheckResult, mode: Mode): KnownBug | null {
  return KNOWN_BUGS.find((k) => k.matches(p, r, mode)) ?? null;
}
