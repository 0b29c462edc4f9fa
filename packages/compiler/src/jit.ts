/**
 * `filterJit`: Equinox's filtered jit. Array leaves of the arguments are traced; every
 * other leaf is static and part of the cache key (compared by value, functions by
 * identity). One compiled WebAssembly module per cache entry; a call is a lookup, copies in,
 * one `run`, copies out.
 */
import {
  Array,
  Aval,
  ConcreteArray,
  Tracer,
  WaxError,
  axisEnvKey,
  currentTrace,
  evalTrace,
  staticEqual,
  staticHash,
  traceFlat,
  treeFlatten,
  treeStructure,
  type ClosedJaxpr,
  type DType,
  type TreeDef,
  type TypedArray,
} from "@wax/tracer";
import type { HostArray } from "@wax/runtime";
import { compileJaxpr, type Compiled } from "./compile";
import { avalOf, isDynamic } from "./leaves";
import { CompileError } from "./errors";
import { capturedUnchanged, fingerprintCaptured, type CapturedFingerprint } from "./captured";

export interface JitOptions {
  /** Name used in errors and statistics (defaults to the function's name). */
  name?: string;
  /** Maximum number of compiled entries kept (least recently used are dropped). Default 32. */
  maxEntries?: number;
  /** Warn once when the function has recompiled this many times. Default 8. */
  warnAfterMisses?: number;
}

export interface CacheEntryInfo {
  inTree: string;
  avals: string[];
  staticLeaves: unknown[];
  hits: number;
  /** Milliseconds of trace + compile, and of the trace alone. */
  compileMs: number;
  traceMs: number;
  arenaBytes: number;
  totalBufferBytes: number;
  kernels: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Total milliseconds spent tracing and compiling. */
  compileMs: number;
  entries: CacheEntryInfo[];
}

interface Entry {
  hash: number;
  /** Which leaves are static (the key must say where the statics sit, not only their values). */
  mask: string;
  treedef: TreeDef;
  statics: unknown[];
  avals: Aval[];
  compiled: Compiled;
  jaxpr: ClosedJaxpr;
  outTree: TreeDef;
  outStatic: unknown[];
  outIsArray: boolean[];
  outAvals: Aval[];
  hits: number;
  traceMs: number;
  /** Every positional argument is one array (the fast-path shape of call). */
  flatArrays: boolean;
  /** Reused input list (no per-call allocation for it). */
  inputScratch: HostArray[];
  /** Flatten plan of the argument structure and unflatten plan of the output structure. */
  inPlan: TreePlan;
  outPlan: TreePlan;
  /** Per input leaf: 1 for an array leaf, 0 for a static one (the mask, as numbers). */
  isArrayLeaf: Uint8Array;
  /** Reused lists of the structural fast path: all leaves, the array leaves, the output leaves. */
  leafScratch: unknown[];
  dynScratch: unknown[];
  outScratch: unknown[];
  /** Samples of the closed-over arrays baked in as constants (null: none), to catch in-place writes. */
  captured: CapturedFingerprint | null;
}

/** Whether the entry's baked-in captured constants still hold the values it was compiled with. */
function fresh(e: Entry): boolean {
  return e.captured === null || capturedUnchanged(e.captured);
}

type TreePlan = ReturnType<TreeDef["plan"]>;

/** Same dtype, weak type and shape (avals of outputs fed back in are equal, not identical). */
function sameAval(got: Aval, want: Aval): boolean {
  if (got === want) return true;
  if (got.dtype !== want.dtype || got.weakType !== want.weakType) return false;
  const a = got.shape;
  const b = want.shape;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type Jitted<F extends (...args: never[]) => unknown> = F & {
  /** Hits, misses, compile time and the compiled entries. */
  stats(): CacheStats;
  /** Why the last call compiled anew (or `null` if it hit the cache). */
  explainLastMiss(): string | null;
  /** The traced jaxpr of the most recent compilation (for inspection). */
  lastJaxpr(): ClosedJaxpr | null;
  /** Drops every compiled entry. */
  clear(): void;
};

/**
 * Compiles `fn` to one WebAssembly module per distinct (argument structure, static leaves,
 * array shapes and dtypes), and calls it.
 *
 * Array leaves of the arguments (wax `Array`s and TypedArrays) are traced; every other leaf
 * is static and part of the cache key (by value; functions by identity). When `fn` is itself a
 * pytree node (a callable registered class instance such as an nn `Module` or `Partial`), its
 * array leaves are traced too and its other leaves are static, as in Equinox's `filter_jit`:
 * a model's weights are inputs of the compiled module, not constants baked into it.
 *
 * @example
 * const step = filterJit((w: Array, x: Array) => nn.relu(x.matmul(w)).sum());
 * step(w, x);          // compiles, then runs the module
 * step(w2, x);         // same shapes: a cache hit, no tracing
 */
export function filterJit<F extends (...args: never[]) => unknown>(fn: F, opts: JitOptions = {}): Jitted<F> {
  if (treeStructure(fn).kind === "custom") return jitCallableNode(fn, opts);
  const call = fn as unknown as (this: unknown, ...args: unknown[]) => unknown;
  const name = opts.name ?? (fn.name || "fn");
  const maxEntries = opts.maxEntries ?? 32;
  const warnAfter = opts.warnAfterMisses ?? 8;
  let entries: Entry[] = [];
  let hits = 0;
  let misses = 0;
  let compileMs = 0;
  let lastMiss: string | null = null;
  let warned = false;
  let last: Entry | null = null;
  let evicted: Pick<Entry, "hash" | "mask" | "treedef" | "statics" | "avals">[] = [];
  /** Calls with a `this` go through this inner jit of `(self, ...args)`: `this` is traced like an
   * argument (its arrays are inputs, its other leaves join the cache key). */
  let bound: Jitted<(self: unknown, ...args: unknown[]) => unknown> | null = null;
  let lastWasBound = false;
  // An arrow function ignores `this`: calling it as a method must not key the cache on the object.
  const usesThis = !ARROW.test(Function.prototype.toString.call(fn));

  /** Fast path: the previous entry took only arrays as positional arguments; same avals → hit. */
  const fastHit = (args: unknown[]): Entry | null => {
    const e = last;
    if (e === null || !e.flatArrays || args.length !== e.avals.length || currentTrace() !== evalTrace) return null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof ConcreteArray) || !sameAval(a.aval, e.avals[i]!)) return null;
    }
    if (axisEnvKey() !== "") return null;
    return e;
  };

  /**
   * Structural fast path: the arguments have the previous entry's treedef (checked by its
   * flatten plan, which reads the fields and writes the leaves to fixed slots without building
   * a treedef or hashing), its static leaves by value and its avals. Returns the entry with its
   * dynamic leaves in `entry.dynScratch`, or null.
   */
  const structuralHit = (args: unknown[]): Entry | null => {
    const e = last;
    if (e === null || e.flatArrays || currentTrace() !== evalTrace) return null;
    const leaves = e.leafScratch;
    // Leaf positions are checked below: array leaves by type, static leaves against the entry's.
    if (!e.inPlan.readLeaves(args, leaves)) return null;
    const dyn = e.dynScratch;
    const isArrayLeaf = e.isArrayLeaf;
    let k = 0;
    let st = 0;
    for (let i = 0; i < isArrayLeaf.length; i++) {
      const l = leaves[i];
      if (isArrayLeaf[i] === 1) {
        let got: Aval;
        if (l instanceof ConcreteArray) got = l.aval;
        else if (l instanceof Tracer || !isDynamic(l)) return null;
        else got = avalOf(l);
        if (!sameAval(got, e.avals[k]!)) return null;
        dyn[k++] = l;
      } else {
        // The entry's static leaf is a leaf and not an array, so an equal one is too.
        const want = e.statics[st++];
        if (!Object.is(want, l) && !staticEqual(want, l)) return null;
      }
    }
    if (axisEnvKey() !== "") return null;
    return e;
  };

  const run = (entry: Entry, dyn: readonly unknown[]) => {
    const inputs = entry.inputScratch;
    for (let i = 0; i < dyn.length; i++) {
      const x = dyn[i];
      inputs[i] = x instanceof Array ? (x.concreteValue()!.data as HostArray) : (x as HostArray);
    }
    const outs = entry.compiled.executable.call(inputs);
    const outIsArray = entry.outIsArray;
    if (outIsArray.length === 1 && outIsArray[0] && entry.outTree.kind === "leaf") {
      return new ConcreteArray(entry.outAvals[0]!, outs[0] as TypedArray);
    }
    const outLeaves = entry.outScratch;
    let k = 0;
    let s = 0;
    for (let i = 0; i < outIsArray.length; i++) {
      if (outIsArray[i]) {
        outLeaves[i] = new ConcreteArray(entry.outAvals[k]!, outs[k] as TypedArray);
        k++;
      } else outLeaves[i] = entry.outStatic[s++];
    }
    const out = entry.outPlan.unflatten(outLeaves);
    outLeaves.fill(undefined);
    return out;
  };

  const jitted = function (this: unknown, ...args: unknown[]) {
    if (usesThis && this !== undefined && this !== globalThis) {
      bound ??= filterJit(
        function (self: unknown, ...rest: unknown[]) {
          return call.apply(self, rest);
        },
        { ...opts, name },
      );
      lastWasBound = true;
      return bound(this, ...args);
    }
    lastWasBound = false;
    const fast = fastHit(args);
    if (fast && fresh(fast)) {
      hits++;
      fast.hits++;
      lastMiss = null;
      return run(fast, args);
    }
    const hit = structuralHit(args);
    if (hit && fresh(hit)) {
      hits++;
      hit.hits++;
      lastMiss = null;
      return run(hit, hit.dynScratch);
    }
    const [leaves, treedef] = treeFlatten(args);
    // Under an enclosing transform (grad, vmap, makeJaxpr) trace through: the outer trace sees the ops.
    // Also when an outer transform is active without tracer arguments (closures over its tracers, its axis names).
    if (currentTrace() !== evalTrace || axisEnvKey() !== "" || leaves.some((l) => l instanceof Tracer)) return call.apply(this, args);
    const statics: unknown[] = [];
    const dyn: unknown[] = [];
    for (const l of leaves) (isDynamic(l) ? dyn : statics).push(l);
    const avals = dyn.map(avalOf);
    const mask = leaves.map((l) => (isDynamic(l) ? "a" : "s")).join("");
    let h = staticHash(mask, treedef.hash);
    for (const s of statics) h = staticHash(s, h);
    for (const a of avals) h = hashAval(a, h);
    const stale = entries.filter((e) => !fresh(e));
    if (stale.length > 0) {
      entries = entries.filter((e) => !stale.includes(e));
      if (last !== null && stale.includes(last)) last = null;
    }
    let entry = entries.find(
      (e) =>
        e.hash === h &&
        e.mask === mask &&
        e.treedef.equals(treedef) &&
        e.statics.length === statics.length &&
        e.statics.every((s, i) => staticEqual(s, statics[i])) &&
        e.avals.every((a, i) => a.equals(avals[i]!) && a.weakType === avals[i]!.weakType),
    );
    if (entry) {
      hits++;
      entry.hits++;
      lastMiss = null;
      entries = [entry, ...entries.filter((e) => e !== entry)];
    } else {
      misses++;
      const ev = evicted.find(
        (e) =>
          e.hash === h &&
          e.mask === mask &&
          e.treedef.equals(treedef) &&
          e.statics.every((s, i) => staticEqual(s, statics[i])) &&
          e.avals.every((a, i) => a.equals(avals[i]!) && a.weakType === avals[i]!.weakType),
      );
      lastMiss =
        stale.length > 0
          ? "an array it closed over was modified in place after it was compiled (captured arrays are baked in as constants; pass arrays that change as arguments)"
          : ev
            ? `its entry was evicted from the bounded cache (maxEntries ${maxEntries})`
            : entries.length === 0
              ? "first call"
              : explain(entries[0]!, treedef, mask, statics, avals);
      entry = compileEntry(this, leaves, treedef, statics, avals, h);
      entry.mask = mask;
      evicted = evicted.filter((e) => e !== ev);
      const dropped = [entry, ...entries].slice(maxEntries);
      evicted = [
        ...dropped.map((e) => ({ hash: e.hash, mask: e.mask, treedef: e.treedef, statics: e.statics, avals: e.avals })),
        ...evicted,
      ].slice(0, 4 * maxEntries);
      entries = [entry, ...entries].slice(0, maxEntries);
      if (!warned && misses >= warnAfter) {
        warned = true;
        console.warn(
          `filterJit(${name}): compiled ${misses} times; the last recompilation was because ${lastMiss} — keep shapes and non-array arguments (numbers, strings) fixed, or pass changing numbers as arrays`,
        );
      }
    }
    last = entry;
    return run(entry, dyn);
  };

  function compileEntry(self: unknown, leaves: unknown[], treedef: TreeDef, statics: unknown[], avals: Aval[], hash: number): Entry {
    const t0 = performance.now();
    let outTree: TreeDef | null = null;
    let outStatic: unknown[] = [];
    let outIsArray: boolean[] = [];
    let jaxpr: ClosedJaxpr;
    try {
      jaxpr = traceFlat(
        (...tracers) => {
          let k = 0;
          const full = leaves.map((l) => (isDynamic(l) ? tracers[k++]! : l));
          const out = call.apply(self, treedef.unflatten(full) as unknown[]);
          const [outLeaves, tree] = treeFlatten(out);
          outTree = tree;
          outIsArray = outLeaves.map((l) => l instanceof Array);
          outStatic = outLeaves.filter((l) => !(l instanceof Array));
          return outLeaves.filter((l): l is Array => l instanceof Array);
        },
        avals.map((a) => a),
        `filterJit(${name})`,
        evalTrace,
      );
    } catch (e) {
      if (e instanceof WaxError && !e.message.startsWith("filterJit(")) {
        const Ctor = e.constructor as new (m: string) => WaxError;
        throw new Ctor(`filterJit(${name}): ${e.message}`);
      }
      throw e;
    }
    const traceMs = performance.now() - t0;
    let compiled: Compiled;
    try {
      compiled = compileJaxpr(jaxpr, { name });
    } catch (e) {
      if (e instanceof CompileError) throw new CompileError(`filterJit(${name}): ${e.message}`);
      throw e;
    }
    compileMs += traceMs + compiled.compileMs;
    return {
      hash,
      mask: "",
      treedef,
      statics,
      avals,
      compiled,
      jaxpr,
      outTree: outTree!,
      outStatic,
      outIsArray,
      outAvals: jaxpr.outAvals,
      hits: 0,
      traceMs,
      flatArrays:
        treedef.kind === "array" && treedef.children.every((c) => c.kind === "leaf") && leaves.every((l) => l instanceof ConcreteArray),
      inPlan: treedef.plan(),
      outPlan: outTree!.plan(),
      isArrayLeaf: Uint8Array.from(leaves, (l) => (isDynamic(l) ? 1 : 0)),
      inputScratch: new globalThis.Array<HostArray>(avals.length),
      leafScratch: new globalThis.Array<unknown>(treedef.numLeaves),
      dynScratch: new globalThis.Array<unknown>(avals.length),
      outScratch: new globalThis.Array<unknown>(outTree!.numLeaves),
      captured: fingerprintCaptured(jaxpr),
    };
  }

  return Object.assign(jitted as unknown as F, {
    stats(): CacheStats {
      const b = bound?.stats();
      return {
        hits: hits + (b?.hits ?? 0),
        misses: misses + (b?.misses ?? 0),
        compileMs: compileMs + (b?.compileMs ?? 0),
        entries: [
          ...entries.map((e) => ({
            inTree: String(e.treedef),
            avals: e.avals.map(String),
            staticLeaves: e.statics,
            hits: e.hits,
            compileMs: e.traceMs + e.compiled.compileMs,
            traceMs: e.traceMs,
            arenaBytes: e.compiled.plan.arenaBytes,
            totalBufferBytes: e.compiled.plan.totalBytes,
            kernels: e.compiled.program.kernels.length,
          })),
          ...(b?.entries ?? []),
        ],
      };
    },
    explainLastMiss: () => (lastWasBound ? bound!.explainLastMiss() : lastMiss),
    lastJaxpr: () => (lastWasBound ? bound!.lastJaxpr() : (last?.jaxpr ?? null)),
    clear: () => {
      entries = [];
      last = null;
      bound?.clear();
    },
  }) as Jitted<F>;
}

/** The source of an arrow function (which has no `this` of its own). */
const ARROW = /^(async\s*)?(\([^)]*\)|[\w$]+)\s*=>/;

const DTYPE_CODE: Record<DType, number> = { float32: 1, float64: 2, int32: 3, uint32: 4, bool: 5 };

/** Numeric hash of an aval (no string formatting on the call path). */
function hashAval(a: Aval, h: number): number {
  h = Math.imul(h ^ (DTYPE_CODE[a.dtype] * 2 + (a.weakType ? 1 : 0)), 0x01000193);
  h = Math.imul(h ^ a.shape.length, 0x01000193);
  for (const d of a.shape) h = Math.imul(h ^ d, 0x01000193);
  return h >>> 0;
}

function describeStatic(v: unknown): string {
  if (Object.is(v, -0)) return "-0";
  if (typeof v === "function") return `function ${v.name || "<anonymous>"}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The first difference between a cached entry and a new call. */
function explain(prev: Entry, treedef: TreeDef, mask: string, statics: unknown[], avals: Aval[]): string {
  if (!prev.treedef.equals(treedef)) return `the argument structure changed from ${prev.treedef} to ${treedef}`;
  for (let i = 0; i < mask.length; i++) {
    if (prev.mask[i] !== mask[i])
      return `leaf ${i} changed from ${prev.mask[i] === "s" ? "a static (non-array) value to an array" : "an array to a static (non-array) value"}`;
  }
  for (let i = 0; i < statics.length; i++) {
    if (!staticEqual(prev.statics[i], statics[i]))
      return `static (non-array) leaf ${i} changed from ${describeStatic(prev.statics[i])} to ${describeStatic(statics[i])}`;
  }
  for (let i = 0; i < avals.length; i++) {
    const a = prev.avals[i]!;
    const b = avals[i]!;
    if (!a.equals(b) || a.weakType !== b.weakType)
      return `array leaf ${i} changed from ${a}${a.weakType ? " (weak)" : ""} to ${b}${b.weakType ? " (weak)" : ""}`;
  }
  return "an entry was evicted from the bounded cache";
}

/** TS (stage 3) method decorator form of `filterJit`: `this` is traced like an argument. */
export function jitMethod<T, A extends unknown[], R>(
  method: (this: T, ...args: A) => R,
  context: ClassMethodDecoratorContext<T, (this: T, ...args: A) => R>,
): (this: T, ...args: A) => R {
  const jitted = filterJit((self: T, ...args: A) => method.call(self, ...args), { name: String(context.name) });
  return function (this: T, ...args: A): R {
    return jitted(this, ...args) as R;
  };
}

/**
 * `filterJit` of a callable pytree node: the node is an extra leading argument of an inner
 * jitted function, so its array leaves are traced and its static leaves join the cache key.
 */
function jitCallableNode<F extends (...args: never[]) => unknown>(fn: F, opts: JitOptions): Jitted<F> {
  const name = opts.name ?? (fn.name || (fn as { constructor?: { name?: string } }).constructor?.name || "fn");
  const inner = filterJit(
    function (this: unknown, self: F, ...args: unknown[]) {
      return (self as unknown as (this: unknown, ...a: unknown[]) => unknown).apply(this, args);
    },
    { ...opts, name },
  );
  const jitted = function (this: unknown, ...args: unknown[]) {
    return inner.call(this, fn, ...args);
  };
  return Object.assign(jitted as unknown as F, {
    stats: () => inner.stats(),
    explainLastMiss: () => inner.explainLastMiss(),
    lastJaxpr: () => inner.lastJaxpr(),
    clear: () => inner.clear(),
  }) as Jitted<F>;
}
