/**
 * Structural primitives against an oracle: @tensorflow/tfjs-core on its CPU backend where it
 * has the op, a few lines of JS where it does not (XLA's clamping of dynamic starts, interior and
 * negative padding). Shapes are random (rank 0–4, dims 0–5 weighted towards 0 and 1); values are
 * arbitrary float32 bit patterns (NaN, ±Inf, -0, subnormals) since nothing here does arithmetic.
 *
 * | op family                                              | oracle                          | tolerance           |
 * |--------------------------------------------------------|---------------------------------|---------------------|
 * | broadcast_in_dim, reshape, transpose, squeeze          | tf reshape+tile/reshape/        | exact (bitwise,     |
 * |   np.expandDims                                        |   transpose/squeeze/expandDims  |   -0 ≠ 0, NaN = NaN)|
 * | slice (strided)                                        | tf.stridedSlice                 | exact               |
 * | dynamic_slice, dynamic_update_slice                    | JS clamp + tf.slice / pad+where | exact               |
 * | concatenate                                            | tf.concat                       | exact               |
 * | pad (interior, negative low/high)                      | JS; tf.pad when lo,hi ≥ 0, no   | exact               |
 * |                                                        |   interior                      |                     |
 * | iota                                                   | tf.range + reshape + tile       | exact               |
 * | threefry2x32                                           | Random123 known answers         | exact               |
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { array, evalJaxpr, lax, makeJaxpr, np, ShapeError, type Array as WaxArray, type DType } from "../../index";
import { sizeOf, range, dimArb, shapeArb } from "../support/shapes";
import { wax, tfOf, oracle, expectExact, tile, type Host, type Expected } from "../support/tfjs-oracle";

const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// ---- generators and oracle plumbing ---------------------------------------------------------

const hostArb = (shape: number[]): fc.Arbitrary<Host> =>
  fc.float32Array({ minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) => ({ shape, data }));
const permutationArb = (n: number) => fc.shuffledSubarray(range(n), { minLength: n, maxLength: n });

/** Row-major multi-indices of `shape`. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = sizeOf(shape);
  for (let k = 0; k < n; k++) {
    const idx = new globalThis.Array<number>(shape.length);
    let r = k;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    yield idx;
  }
}

// ---- shape-only primitives --------------------------------------------------------------------

describe("broadcast_in_dim, reshape, transpose, squeeze, expandDims match tfjs", () => {
  test("broadcast_in_dim equals tfjs reshape + tile for random target shapes and dimension maps", () => {
    const arb = shapeArb().chain((out) =>
      fc.subarray(range(out.length)).chain((bd) =>
        fc.array(fc.boolean(), { minLength: bd.length, maxLength: bd.length }).chain((ones) => {
          const inShape = bd.map((d, i) => (ones[i] ? 1 : out[d]!));
          return hostArb(inShape).map((x) => ({ out, bd, x }));
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ({ out, bd, x }) => {
        // tfjs broadcastTo mishandles 1 → 0 (returns the input unchanged), so tile instead.
        const expanded = out.map((_, d) => (bd.includes(d) ? x.shape[bd.indexOf(d)]! : 1));
        const reps = out.map((n, d) => (expanded[d] === n ? 1 : n));
        const want = oracle(() => tile(tf.reshape(tfOf(x), expanded), reps));
        expectExact(lax.broadcastInDim(wax(x), out, bd), want);
      }),
      RUNS,
    );
  });

  test("reshape equals tfjs reshape (dims shuffled, merged, size-1 axes inserted)", () => {
    const arb = shapeArb()
      .chain(hostArb)
      .chain((x) =>
        fc
          .record({
            order: permutationArb(x.shape.length),
            merges: fc.array(fc.boolean(), { minLength: x.shape.length, maxLength: x.shape.length }),
            ones: fc.array(fc.nat({ max: 4 }), { maxLength: 2 }),
          })
          .map(({ order, merges, ones }) => {
            const target: number[] = [];
            order.forEach((i, k) => {
              if (k > 0 && merges[k]) target[target.length - 1]! *= x.shape[i]!;
              else target.push(x.shape[i]!);
            });
            for (const p of ones) target.splice(Math.min(p, target.length), 0, 1);
            return { x, target };
          }),
      );
    fc.assert(
      fc.property(arb, ({ x, target }) => {
        expectExact(
          lax.reshape(wax(x), target),
          oracle(() => tf.reshape(tfOf(x), target)),
        );
      }),
      RUNS,
    );
  });

  test("np.reshape infers a -1 dimension as tfjs reshape does", () => {
    const arb = shapeArb(1, 4)
      .filter((s) => sizeOf(s) > 0)
      .chain(hostArb)
      .chain((x) => fc.nat({ max: x.shape.length - 1 }).map((k) => ({ x, k })));
    fc.assert(
      fc.property(arb, ({ x, k }) => {
        const spec = x.shape.map((d, i) => (i === k ? -1 : d));
        expectExact(
          np.reshape(wax(x), spec),
          oracle(() => tf.reshape(tfOf(x), spec)),
        );
      }),
      RUNS,
    );
  });

  test("transpose equals tfjs transpose for random permutations", () => {
    const arb = shapeArb()
      .chain(hostArb)
      .chain((x) => permutationArb(x.shape.length).map((perm) => ({ x, perm })));
    fc.assert(
      fc.property(arb, ({ x, perm }) => {
        const want = oracle(() => (perm.length === 0 ? tfOf(x) : tf.transpose(tfOf(x), perm)));
        expectExact(lax.transpose(wax(x), perm), want);
      }),
      RUNS,
    );
  });

  test("squeeze of any subset of the size-1 axes equals tfjs squeeze", () => {
    const withOnes = fc.array(fc.oneof(dimArb, fc.constant(1)), { maxLength: 4 });
    const arb = withOnes.chain(hostArb).chain((x) => {
      const ones = range(x.shape.length).filter((i) => x.shape[i] === 1);
      return fc.shuffledSubarray(ones).map((dims) => ({ x, dims }));
    });
    fc.assert(
      fc.property(arb, ({ x, dims }) => {
        // tf.squeeze(x, []) squeezes every size-1 axis, so the empty case is the identity here.
        const want = oracle(() => (dims.length === 0 ? tfOf(x) : tf.squeeze(tfOf(x), dims)));
        expectExact(lax.squeeze(wax(x), dims), want);
        expectExact(
          np.squeeze(wax(x)),
          oracle(() => tf.squeeze(tfOf(x))),
        );
      }),
      RUNS,
    );
  });

  test("squeeze rejects an axis whose size is not 1", () => {
    expect(() => lax.squeeze(np.zeros([2, 1]), [0])).toThrow(ShapeError);
  });

  test("np.expandDims with one or two (possibly negative) axes equals repeated tfjs expandDims", () => {
    const arb = shapeArb(0, 3)
      .chain(hostArb)
      .chain((x) =>
        fc.integer({ min: 1, max: 2 }).chain((k) => {
          const outNd = x.shape.length + k;
          const axis = fc.uniqueArray(fc.integer({ min: 0, max: outNd - 1 }), { minLength: k, maxLength: k });
          return fc.tuple(axis, fc.array(fc.boolean(), { minLength: k, maxLength: k })).map(([axes, neg]) => ({
            x,
            axes: axes.map((a, i) => (neg[i] ? a - outNd : a)),
            sorted: [...axes].sort((a, b) => a - b),
          }));
        }),
      );
    fc.assert(
      fc.property(arb, ({ x, axes, sorted }) => {
        const want = oracle(() => sorted.reduce((t, a) => tf.expandDims(t, a), tfOf(x)));
        expectExact(np.expandDims(wax(x), axes), want);
      }),
      RUNS,
    );
  });
});

// ---- slicing --------------------------------------------------------------------------------

describe("slice, dynamic_slice, dynamic_update_slice match their oracles", () => {
  test("strided slice equals tfjs stridedSlice", () => {
    const spec = (d: number) =>
      fc.integer({ min: 0, max: d }).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: s, max: d }), fc.integer({ min: 1, max: 3 })));
    const arb = shapeArb()
      .chain(hostArb)
      .chain((x) => fc.tuple(...x.shape.map(spec)).map((specs) => ({ x, specs })));
    fc.assert(
      fc.property(arb, ({ x, specs }) => {
        const start = specs.map((s) => s[0]);
        const limit = specs.map((s) => s[1]);
        const strides = specs.map((s) => s[2]);
        const want = oracle(() => tf.stridedSlice(tfOf(x), start, limit, strides));
        expectExact(lax.slice(wax(x), start, limit, strides), want);
        // `strides: null` means unit strides.
        const unit = oracle(() =>
          tf.stridedSlice(
            tfOf(x),
            start,
            limit,
            start.map(() => 1),
          ),
        );
        expectExact(lax.slice(wax(x), start, limit, null), unit);
      }),
      RUNS,
    );
  });

  test("slice rejects a limit past the end", () => {
    expect(() => lax.slice(np.zeros([3]), [1], [4])).toThrow(ShapeError);
  });

  /** XLA's rule, written out independently: start clamped into [0, dim - size]. */
  const clampStart = (s: number, dim: number, size: number) => Math.min(Math.max(s, 0), dim - size);

  /** A shape, a box inside it and start indices, many of them out of range (−6 … dim+5). */
  const boxArb = shapeArb().chain((shape) =>
    fc.tuple(
      hostArb(shape),
      fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d }))),
      fc.tuple(...shape.map((d) => fc.integer({ min: -6, max: d + 5 }))),
      fc.boolean(),
    ),
  );
  const startArrays = (starts: number[], unsigned: boolean) =>
    starts.map((s) => array(s, { dtype: unsigned && s >= 0 ? "uint32" : "int32" }));

  test("dynamic_slice clamps out-of-range starts as XLA does, then equals tfjs slice", () => {
    fc.assert(
      fc.property(boxArb, ([x, sizes, starts, unsigned]) => {
        const clamped = starts.map((s, i) => clampStart(s, x.shape[i]!, sizes[i]!));
        const want = oracle(() => (x.shape.length === 0 ? tfOf(x) : tf.slice(tfOf(x), clamped, sizes)));
        expectExact(lax.dynamicSlice(wax(x), startArrays(starts, unsigned), sizes), want);
      }),
      RUNS,
    );
  });

  test("dynamic_update_slice clamps out-of-range starts as XLA does, then writes the update", () => {
    const arb = boxArb.chain(([x, sizes, starts, unsigned]) => hostArb(sizes).map((u) => ({ x, u, starts, unsigned })));
    fc.assert(
      fc.property(arb, ({ x, u, starts, unsigned }) => {
        const clamped = starts.map((s, i) => clampStart(s, x.shape[i]!, u.shape[i]!));
        const pads = clamped.map((c, i): [number, number] => [c, x.shape[i]! - u.shape[i]! - c]);
        // tfjs has no scatter-slice: pad the update and a mask to the operand's shape, then select.
        const want =
          x.shape.length === 0
            ? { shape: [], data: [...u.data] }
            : oracle(() => {
                const mask = tf.greater(tf.pad(tf.ones(u.shape), pads, 0), 0.5);
                return tf.where(mask, tf.pad(tfOf(u), pads, 0), tfOf(x));
              });
        expectExact(lax.dynamicUpdateSlice(wax(x), wax(u), startArrays(starts, unsigned)), want);
      }),
      RUNS,
    );
  });
});

// ---- concatenate, pad, iota -------------------------------------------------------------------

describe("concatenate, pad, iota match their oracles", () => {
  test("concatenate of 1–4 operands along a random dimension equals tfjs concat", () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc
        .nat({ max: shape.length - 1 })
        .chain((dim) =>
          fc
            .array(dimArb, { minLength: 1, maxLength: 4 })
            .chain((lens) => fc.tuple(...lens.map((n) => hostArb(shape.map((d, i) => (i === dim ? n : d))))).map((xs) => ({ xs, dim }))),
        ),
    );
    fc.assert(
      fc.property(arb, ({ xs, dim }) => {
        const want = oracle(() => tf.concat(xs.map(tfOf), dim));
        expectExact(lax.concatenate(xs.map(wax), dim), want);
      }),
      RUNS,
    );
  });

  test("concatenate rejects operands that differ off the concatenation dimension", () => {
    expect(() => lax.concatenate([np.zeros([2, 3]), np.zeros([3, 3])], 1)).toThrow(ShapeError);
  });

  type PadConfig = [number, number, number][];

  /** XLA pad, output-driven: out[p] = x[(p - lo) / (interior + 1)] when that lands on an element. */
  function padOracle(x: Host, value: number, cfg: PadConfig): Expected {
    const shape = x.shape.map((d, i) => cfg[i]![0] + cfg[i]![1] + d + Math.max(0, d - 1) * cfg[i]![2]);
    const data: number[] = [];
    for (const idx of indices(shape)) {
      let src = 0;
      let hit = true;
      idx.forEach((p, d) => {
        const q = p - cfg[d]![0];
        const step = cfg[d]![2] + 1;
        if (q < 0 || q % step !== 0 || q / step >= x.shape[d]!) hit = false;
        src = src * x.shape[d]! + q / step;
      });
      data.push(hit ? x.data[src]! : Math.fround(value));
    }
    return { shape, data };
  }

  const padArb = (lo: number, interior: number) =>
    shapeArb()
      .chain(hostArb)
      .chain((x) =>
        fc
          .record({
            cfg: fc.tuple(
              ...x.shape.map((d) =>
                fc
                  .tuple(fc.integer({ min: lo, max: 3 }), fc.integer({ min: lo, max: 3 }), fc.integer({ min: 0, max: interior }))
                  .filter(([l, h, i]) => l + h + d + Math.max(0, d - 1) * i >= 0),
              ),
            ),
            value: fc.float({ noNaN: true }),
          })
          .map(({ cfg, value }) => ({ x, cfg: cfg as PadConfig, value })),
      );

  test("pad with interior and negative low/high padding equals the XLA definition", () => {
    fc.assert(
      fc.property(padArb(-3, 2), ({ x, cfg, value }) => {
        expectExact(lax.pad(wax(x), array(value), cfg), padOracle(x, value, cfg));
      }),
      RUNS,
    );
  });

  test("pad with non-negative edges and no interior equals tfjs pad", () => {
    fc.assert(
      fc.property(
        // tf.pad fills with +0 when asked for -0
        padArb(0, 0).filter(({ x, value }) => x.shape.length > 0 && !Object.is(value, -0)),
        ({ x, cfg, value }) => {
          const want = oracle(() =>
            tf.pad(
              tfOf(x),
              cfg.map(([l, h]): [number, number] => [l, h]),
              value,
            ),
          );
          expectExact(lax.pad(wax(x), array(value), cfg), want);
        },
      ),
      RUNS,
    );
  });

  test("pad rejects negative padding that removes more than the dimension holds", () => {
    expect(() => lax.pad(np.zeros([2]), array(0), [[-2, -1, 0]])).toThrow(ShapeError);
  });

  test("iota equals tfjs range reshaped and tiled along the chosen dimension", () => {
    const arb = shapeArb(1, 4).chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        dim: fc.nat({ max: shape.length - 1 }),
        dtype: fc.constantFrom<DType>("int32", "uint32", "float32"),
      }),
    );
    fc.assert(
      fc.property(arb, ({ shape, dim, dtype }) => {
        const n = shape[dim]!;
        const col = shape.map((d, i) => (i === dim ? d : 1));
        const want = oracle(() =>
          tile(
            tf.reshape(tf.range(0, n, 1, dtype === "float32" ? "float32" : "int32"), col),
            shape.map((d, i) => (i === dim ? 1 : d)),
          ),
        );
        expectExact(lax.iota(dtype, shape, dim), want, dtype);
      }),
      RUNS,
    );
  });
});

// ---- threefry2x32 -----------------------------------------------------------------------------

describe("threefry2x32 matches the Random123 known answers (20 rounds)", () => {
  // [key0, key1, counter0, counter1] → [out0, out1], from Random123's kat_vectors.
  const KAT: [[number, number, number, number], [number, number]][] = [
    [
      [0, 0, 0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
  ];
  const u32 = (v: number | number[]) => array(v, { dtype: "uint32" });

  test.each(KAT)("key (%j) → %j on scalars", ([k0, k1, x0, x1], [y0, y1]) => {
    const [r0, r1] = lax.threefry2x32(u32(k0), u32(k1), u32(x0), u32(x1));
    expect([r0.dtype, r1.dtype]).toEqual(["uint32", "uint32"]);
    expect([r0.item(), r1.item()]).toEqual([y0, y1]);
  });

  test("all three vectors at once, elementwise, eagerly and through a traced jaxpr", () => {
    const cols = [0, 1, 2, 3].map((j) => u32(KAT.map(([ins]) => ins[j]!)));
    const want = [KAT.map(([, o]) => o[0]), KAT.map(([, o]) => o[1])];
    const eager = lax.threefry2x32(cols[0]!, cols[1]!, cols[2]!, cols[3]!);
    expect(eager.map((r) => globalThis.Array.from(r.data))).toEqual(want);
    const f = (a: WaxArray, b: WaxArray, c: WaxArray, d: WaxArray) => lax.threefry2x32(a, b, c, d);
    const staged = evalJaxpr(makeJaxpr(f)(cols[0]!, cols[1]!, cols[2]!, cols[3]!), cols);
    expect(staged.map((r) => globalThis.Array.from(r.data))).toEqual(want);
  });

  test("a scalar key broadcasts against counter vectors", () => {
    const [r0, r1] = lax.threefry2x32(u32(0), u32(0), u32([0, 0xffffffff, 0]), u32([0, 0xffffffff, 0]));
    expect(r0.shape).toEqual([3]);
    expect(r0.data[0]).toBe(0x6b200159);
    expect(r1.data[0]).toBe(0x99ba4efe);
    expect(r0.data[2]).toBe(0x6b200159);
    expect(r0.data[1]).not.toBe(0x6b200159);
  });
});
