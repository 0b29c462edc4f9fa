/**
 * `vmap` of `cond`, `switch`, `whileLoop`, `foriLoop` and `scan`: the defining property
 * (`vmap(f)(xs)[i]` equals `f(xs[i])`) over random batch sizes, data and choices of which
 * arguments are batched, plus the shape of the batched programs: a batched predicate turns
 * `cond` into `select_n` and makes `while` run until every lane is done; `scan` keeps its loop
 * and batches its carry by a fixpoint.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { array, lax, makeJaxpr, np, psum, treeLeaves, vmap, type Array as WaxArray, type DType, type NestedArray } from "../../index";
import { mulberry32 } from "../../../../test/support/seeded";

interface ArgSpec {
  shape: number[];
  dtype: DType;
  lo: number;
  hi: number;
}
interface Program {
  args: ArgSpec[];
  f: (...xs: WaxArray[]) => unknown;
}

const f32 = (shape: number[], lo = -3, hi = 3): ArgSpec => ({ shape, dtype: "float32", lo, hi });
const i32 = (shape: number[], lo: number, hi: number): ArgSpec => ({ shape, dtype: "int32", lo, hi });
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** One example's data for `spec`, from a seeded generator (ints in [lo, hi], floats in [lo, hi)). */
function example(spec: ArgSpec, rand: () => number): number[] {
  return globalThis.Array.from({ length: sizeOf(spec.shape) }, () =>
    spec.dtype === "int32" ? spec.lo + Math.floor(rand() * (spec.hi - spec.lo + 1)) : Math.fround(spec.lo + rand() * (spec.hi - spec.lo)),
  );
}
const toArray = (data: number[], shape: number[], dtype: DType) =>
  array(dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data), { dtype, shape });

/**
 * Checks `vmap(f)(args)[i] == f(args[i])` for every lane `i`, with the arguments flagged in
 * `batched` stacked along axis 0 and the others shared by all lanes.
 */
function checkVmap(p: Program, size: number, batched: boolean[], seed: number): void {
  const rand = mulberry32(seed);
  const lanes = p.args.map((spec, k) => globalThis.Array.from({ length: batched[k] ? size : 1 }, () => example(spec, rand)));
  const args = p.args.map((spec, k) =>
    batched[k] ? toArray(lanes[k]!.flat(), [size, ...spec.shape], spec.dtype) : toArray(lanes[k]![0]!, spec.shape, spec.dtype),
  );
  const out = treeLeaves(vmap(p.f, { inAxes: batched.map((b) => (b ? 0 : null)) })(...args)) as WaxArray[];
  for (let i = 0; i < size; i++) {
    const single = treeLeaves(
      p.f(...p.args.map((spec, k) => toArray(lanes[k]![batched[k] ? i : 0]!, spec.shape, spec.dtype))),
    ) as WaxArray[];
    expect(out.length).toBe(single.length);
    single.forEach((s, j) => {
      expect(out[j]!.shape).toEqual([size, ...s.shape]);
      expect((out[j]!.toArray() as NestedArray[])[i]).toEqual(s.toArray());
    });
  }
}

/** A property over batch sizes, seeds and which arguments are batched (at least one). */
function vmapProperty(p: Program, numRuns = 25): void {
  const n = p.args.length;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.boolean(), { minLength: n, maxLength: n }).filter((b) => b.some(Boolean)),
      fc.nat(),
      (size, batched, seed) => checkVmap(p, size, batched, seed),
    ),
    { numRuns },
  );
}

const condProgram: Program = {
  args: [f32([3]), f32([])],
  f: (x, y) =>
    lax.cond(
      y.gt(0),
      (a, b) => ({ s: a.mul(b), t: [b.add(1)] }),
      (a, b) => ({ s: a.sub(b).exp(), t: [b] }),
      x,
      y,
    ),
};

const switchProgram: Program = {
  args: [i32([], -2, 4), f32([2])],
  f: (k, x) => lax.switch(k, [(v: WaxArray) => v.add(10), (v: WaxArray) => v.mul(v), (v: WaxArray) => np.stack([v.sum(), v.max()])], x),
};

/** A data-dependent trip count: doubling until past `lim`. */
const whileProgram: Program = {
  args: [f32([], 0.1, 4), f32([], 0, 40)],
  f: (x, lim) =>
    lax.whileLoop(
      ([, v]) => v.lt(lim),
      ([n, v]) => [n.add(1), v.mul(2).add(0.5)],
      [0, x],
    ),
};

/** A fixed trip count over a batched carry: the predicate stays unbatched. */
const whileFixedProgram: Program = {
  args: [f32([2], -1, 1)],
  f: (x) =>
    lax.whileLoop(
      ([i]) => i.lt(3),
      ([i, v]) => [i.add(1), v.mul(v).sub(0.5)],
      [0, x],
    ),
};

const foriTracedProgram: Program = {
  args: [i32([], -1, 6), f32([])],
  f: (n, x) => lax.foriLoop(0, n, (i, v) => v.mul(0.9).add(i), x),
};

/** Carry, xs and a closed-over weight: batching only the weight must batch the carry (the fixpoint). */
const scanProgram: Program = {
  args: [f32([]), f32([4, 2]), f32([], -1, 1)],
  f: (c0, xs, w) => lax.scan((c, x) => [c.mul(w).add(x.sum()), [c.sub(x), x.mul(w)]], c0, xs, { reverse: true }),
};

/** cond inside scan (inside vmap, in the property). */
const nestedProgram: Program = {
  args: [f32([5]), f32([], -1, 1)],
  f: (xs, p) =>
    lax.scan(
      (c, x) => {
        const next = lax.cond(
          x.gt(p),
          (a: WaxArray) => a.add(x),
          (a: WaxArray) => a.mul(0.5),
          c,
        );
        return [next, next.mul(x)];
      },
      0,
      xs,
    ),
};

describe("vmap(f)(xs)[i] equals f(xs[i])", () => {
  it("cond (batched predicate: a select; unbatched: a cond of batched branches)", () => vmapProperty(condProgram));
  it("switch, with indices out of range clamped per lane", () => vmapProperty(switchProgram));
  it("whileLoop with a per-lane trip count", () => vmapProperty(whileProgram));
  it("whileLoop with an unbatched predicate", () => vmapProperty(whileFixedProgram));
  it("foriLoop with a traced, batched bound", () => vmapProperty(foriTracedProgram));
  it("scan, batching any of carry, xs and a closed-over value", () => vmapProperty(scanProgram));
  it("cond inside scan inside vmap", () => vmapProperty(nestedProgram));
  it("nested vmaps of a cond", () => {
    const xs = array([
      [1, -2],
      [3, -4],
    ]);
    const g = (x: WaxArray) =>
      lax.cond(
        x.gt(0),
        (v: WaxArray) => v.sqrt(),
        (v: WaxArray) => v.mul(v),
        x,
      );
    const out = vmap(vmap(g))(xs);
    expect(out.toArray()).toEqual([
      [1, 4],
      [Math.fround(Math.sqrt(3)), 16],
    ]);
  });
});

describe("batched control flow keeps JAX's structure", () => {
  const jaxprOf = (f: (...xs: WaxArray[]) => unknown, ...args: WaxArray[]) => makeJaxpr(f)(...args).toString();

  it("a batched predicate turns cond into select_n over both branches", () => {
    const text = jaxprOf(vmap(condProgram.f), np.ones([2, 3]), array([1, -1]));
    expect(text).not.toContain("cond[");
    expect(text).toMatch(/select_n/);
    expect(text).toMatch(/stop_gradient/);
  });

  it("an unbatched predicate keeps the cond, with branches on batched operands", () => {
    const text = jaxprOf(vmap(condProgram.f, { inAxes: [0, null] }), np.ones([2, 3]), array(1));
    expect(text).toContain("cond[");
    expect(text).toContain("{ lambda ; g:f32[2,3] h:f32[]. let");
  });

  it("a batched predicate runs the while until every lane is done, freezing finished lanes", () => {
    const text = jaxprOf(vmap(whileProgram.f), array([1, 2]), array([5, 30]));
    const [body, cond] = text.split("cond_jaxpr=");
    expect(cond).toMatch(/reduce_max\[axes=\(0,\)/);
    expect(body).toMatch(/select_n/);
    const [n, v] = vmap(whileProgram.f)(array([1, 2]), array([5, 30])) as [WaxArray, WaxArray];
    // lane 0 stops after 2 trips (1 → 2.5 → 5.5), lane 1 after 4 (2 → ... → 39.5), unchanged since
    expect([n.toArray(), v.toArray()]).toEqual([
      [2, 4],
      [5.5, 39.5],
    ]);
  });

  it("scan keeps its loop; batched xs and ys carry the batch axis second", () => {
    const text = jaxprOf(vmap(scanProgram.f, { inAxes: [null, 1, null] }), array(0), np.ones([4, 3, 2]), array(0.5));
    expect(text.match(/= scan\[/g)?.length).toBe(1);
    expect(text).toContain("length=4");
    const [c, [ys1, ys2]] = vmap(scanProgram.f, { inAxes: [null, 1, null] })(array(0), np.ones([4, 3, 2]), array(0.5)) as [
      WaxArray,
      WaxArray[],
    ];
    expect([c.shape, ys1!.shape, ys2!.shape]).toEqual([[3], [3, 4, 2], [3, 4, 2]]);
  });

  it("collectives over the vmap's axis name work inside a scan body", () => {
    const f = (xs: WaxArray) => lax.scan((c: WaxArray, x: WaxArray) => [c.add(psum(x, "b")), psum(x, "b")], 0, xs);
    const [c, ys] = vmap(f, { axisName: "b" })(
      array([
        [1, 2],
        [10, 20],
        [100, 200],
      ]),
    ) as [WaxArray, WaxArray];
    expect(c.toArray()).toEqual([333, 333, 333]);
    expect(ys.toArray()).toEqual([
      [111, 222],
      [111, 222],
      [111, 222],
    ]);
  });
});

describe("collectives inside loop bodies under vmap", () => {
  it("psum over the vmap's axis inside a scan whose operands are all unbatched sees the axis", () => {
    const f = (_x: unknown) => lax.scan((c: WaxArray, _: null) => [np.add(c, psum(1, "b")), null], np.zeros([]), null, { length: 3 })[0];
    const out = vmap(f, { axisName: "b" })(array([1, 2, 3, 4])) as WaxArray;
    expect([...out.concreteValue()!.data]).toEqual([12, 12, 12, 12]);
  });
});
