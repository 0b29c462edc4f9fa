/**
 * Fingerprints of the arrays a jitted function closed over. Those are baked into the compiled
 * module as constants, but a wax `Array`'s `.data` is its live buffer: writing into it after a
 * compile would leave the compiled code stale. `filterJit` keeps a sample of every captured
 * constant and recompiles when the sample changed.
 *
 * The check is cheap (at most `SAMPLES` elements per constant per call), so it is exact for
 * constants of up to `SAMPLES` elements and a spot check for larger ones: an in-place write to a
 * large captured array that touches no sampled element goes unnoticed. Pass arrays that change
 * as arguments instead (they are inputs of the module, read on every call).
 */
import { ClosedJaxpr, type Array, type TypedArray } from "@wax/tracer";

const SAMPLES = 64;

export interface CapturedFingerprint {
  data: TypedArray[];
  /** Per constant: the sampled indices and their values when compiled. */
  index: Int32Array[];
  values: Float64Array[];
}

/** The concrete constants of `closed` and of every sub-jaxpr in its equations' params. */
function collect(closed: ClosedJaxpr, out: Array[], seen: Set<ClosedJaxpr>): void {
  if (seen.has(closed)) return;
  seen.add(closed);
  out.push(...closed.consts);
  for (const e of closed.jaxpr.eqns) {
    for (const v of Object.values(e.params)) {
      if (v instanceof ClosedJaxpr) collect(v, out, seen);
      else if (globalThis.Array.isArray(v)) for (const j of v) if (j instanceof ClosedJaxpr) collect(j, out, seen);
    }
  }
}

/** A fingerprint of the captured constants of `closed`, or null if it captured none. */
export function fingerprintCaptured(closed: ClosedJaxpr): CapturedFingerprint | null {
  const consts: Array[] = [];
  collect(closed, consts, new Set());
  const fp: CapturedFingerprint = { data: [], index: [], values: [] };
  for (const c of consts) {
    const data = c.concreteValue()?.data;
    if (!data || data.length === 0) continue;
    const n = Math.min(SAMPLES, data.length);
    const index = new Int32Array(n);
    // Evenly spread, always including the first and the last element.
    for (let k = 0; k < n; k++) index[k] = n === 1 ? 0 : Math.round((k * (data.length - 1)) / (n - 1));
    const values = new Float64Array(n);
    for (let k = 0; k < n; k++) values[k] = Number(data[index[k]!]);
    fp.data.push(data);
    fp.index.push(index);
    fp.values.push(values);
  }
  return fp.data.length === 0 ? null : fp;
}

/** Whether every sampled element still holds its value (NaN equals NaN). */
export function capturedUnchanged(fp: CapturedFingerprint): boolean {
  for (let c = 0; c < fp.data.length; c++) {
    const data = fp.data[c]!;
    const index = fp.index[c]!;
    const values = fp.values[c]!;
    for (let k = 0; k < index.length; k++) {
      const now = Number(data[index[k]!]);
      const then = values[k]!;
      if (now !== then && !(now !== now && then !== then)) return false;
    }
  }
  return true;
}
