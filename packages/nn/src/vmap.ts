/** `filterVmap`: vmap over the array leaves of arbitrary pytrees (Equinox's `filter_vmap`). */
import { Array, TransformError, treeFlatten, vmap, type AnyFn, type ArrayTree, type TreeDef } from "@wax/tracer";

/** An axis spec leaf: an axis, `null` (broadcast), or a function of the leaf giving one. */
export type AxisLeaf = number | null | ((leaf: unknown) => number | null);

export interface FilterVmapOptions {
  /** Prefix of the arguments (default: arrays mapped on axis 0, everything else broadcast). */
  inAxes?: unknown;
  /** Prefix of the output (default: array outputs on axis 0; non-arrays come back as they are). */
  outAxes?: unknown;
  axisName?: string;
  axisSize?: number;
}

/** Axis 0 for arrays, `null` for anything else (Equinox's `if_array(0)`). */
export const ifArray = (axis: number) => (x: unknown) => (x instanceof Array ? axis : null);

const isAxisLeaf = (x: unknown) => x === null || typeof x === "number" || typeof x === "function";

/** One axis per leaf of `tree`, from a prefix spec. */
function expandAxes(op: string, prefix: unknown, tree: unknown, what: string): (number | null)[] {
  const [specs, specDef] = treeFlatten(prefix, isAxisLeaf);
  const subs = specDef.flattenUpTo(tree, `${op} ${what}`);
  const out: (number | null)[] = [];
  subs.forEach((sub, i) => {
    const s = specs[i] as AxisLeaf;
    for (const leaf of treeFlatten(sub)[0]) {
      const a = typeof s === "function" ? s(leaf) : s;
      if (a !== null && !(leaf instanceof Array))
        throw new TransformError(`${op}: ${what} maps a non-array leaf (${typeof leaf}) on axis ${a} — give it null`);
      out.push(a);
    }
  });
  return out;
}

/**
 * Vectorises `f` over the array leaves of its arguments, which may be any pytrees (models,
 * states, options objects); non-array leaves are passed through unchanged.
 *
 * @example
 * filterVmap((model, x) => model(x), { inAxes: [null, 0] })(model, xs)   // one model, a batch of xs
 * filterVmap(makeModel, { axisSize: 4 })(keys)                          // an ensemble of 4 models
 */
export function filterVmap<F extends AnyFn>(f: F, opts?: FilterVmapOptions): (...args: Parameters<F>) => ArrayTree<ReturnType<F>>;
export function filterVmap(f: (...args: unknown[]) => unknown, opts: FilterVmapOptions = {}): (...args: unknown[]) => unknown {
  const { inAxes = ifArray(0), outAxes = ifArray(0), axisName, axisSize } = opts;
  return (...args: unknown[]) => {
    const axes = expandAxes("filterVmap", globalThis.Array.isArray(inAxes) ? inAxes : args.map(() => inAxes), args, "inAxes");
    const [leaves, def] = treeFlatten(args);
    const dynIdx: number[] = [];
    leaves.forEach((l, i) => {
      if (l instanceof Array) dynIdx.push(i);
    });
    let outDef: TreeDef | null = null;
    let outLeaves: unknown[] = [];
    let outSpec: (number | null)[] = [];
    const inner = (...dyn: Array[]) => {
      const full = leaves.slice();
      dynIdx.forEach((i, k) => (full[i] = dyn[k]));
      const out = f(...(def.unflatten(full) as unknown[]));
      [outLeaves, outDef] = treeFlatten(out);
      outSpec = expandAxes("filterVmap", outAxes, out, "outAxes").filter((_, i) => outLeaves[i] instanceof Array);
      return outLeaves.filter((l): l is Array => l instanceof Array);
    };
    // vmap sees only the array outputs; their axes are known once the call has run.
    const mapped = vmap(inner, { inAxes: dynIdx.map((i) => axes[i]!), outAxes: () => outSpec, axisName, axisSize })(
      ...dynIdx.map((i) => leaves[i] as Array),
    );
    let k = 0;
    return outDef!.unflatten(outLeaves.map((l) => (l instanceof Array ? mapped[k++] : l)));
  };
}
