/**
 * `dot_general` against @tensorflow/tfjs-core on its CPU backend: every random contraction is
 * rewritten for the oracle as a batched matmul — transpose each operand to
 * [batch…, free…, contract…] / [batch…, contract…, free…], reshape to [B,M,K] × [B,K,N], tf.matMul,
 * reshape to [batch…, lhs free…, rhs free…]. Dimension roles are placed at random positions of
 * each operand (so batch/contracting lists come unsorted); every role size is 0–5.
 *
 * | case                          | oracle                         | tolerance, |wax − tf| ≤ atol + rtol·|tf|    |
 * |-------------------------------|--------------------------------|-----------------------------------------|
 * | float32, x ∈ [-4, 4], K ≤ 25  | tf.matMul on [B,M,K]×[B,K,N]   | rtol 1e-5, atol 1e-6 (both accumulate   |
 * |                               |                                |   in float64, round once to float32)    |
 * | int32, x ∈ [-50, 50]          | tf.matMul (int32)              | exact                                   |
 * | float32 → float64 preferred   | JS float64 sum of products     | rtol 1e-12 (same products, any order)   |
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { array, DTypeError, lax, np, ShapeError } from "../../index";
import { sizeOf, range, dimArb } from "../support/shapes";
import { wax, tfOf, oracle, expectClose, type Host, type Expected } from "../support/tfjs-oracle";

const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const dimsArb = (n: number) => fc.array(dimArb, { minLength: n, maxLength: n });

/**
 * A random dot_general problem. Roles: `nb` batch, `nc` contracting, `nl`/`nr` free dims, each
 * operand of rank ≤ 4. `lPos[j]` is where the lhs's j-th role dimension (batch…, contract…, free…)
 * sits in the lhs; likewise `rPos` for the rhs. `batch`/`contract` hold sizes in role order,
 * `lFree`/`rFree` in positional order (as they appear in the output).
 */
interface DotCase {
  lhs: Host;
  rhs: Host;
  lc: number[];
  rc: number[];
  lb: number[];
  rb: number[];
  batch: number[];
  contract: number[];
  lFree: number[];
  rFree: number[];
}

function dotCaseArb(values: (n: number) => fc.Arbitrary<Float32Array | Int32Array>): fc.Arbitrary<DotCase> {
  const counts = fc
    .tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 }))
    .filter(([nb, nc, nl, nr]) => nb + nc + nl <= 4 && nb + nc + nr <= 4);
  return counts.chain(([nb, nc, nl, nr]) =>
    fc
      .record({
        batch: dimsArb(nb),
        contract: dimsArb(nc),
        lFree: dimsArb(nl),
        rFree: dimsArb(nr),
        lPos: fc.shuffledSubarray(range(nb + nc + nl), { minLength: nb + nc + nl, maxLength: nb + nc + nl }),
        rPos: fc.shuffledSubarray(range(nb + nc + nr), { minLength: nb + nc + nr, maxLength: nb + nc + nr }),
      })
      .chain(({ batch, contract, lFree, rFree, lPos, rPos }) => {
        const place = (roleSizes: number[], pos: number[]) => {
          const shape = new globalThis.Array<number>(pos.length);
          roleSizes.forEach((s, j) => (shape[pos[j]!] = s));
          return shape;
        };
        const lShape = place([...batch, ...contract, ...lFree], lPos);
        const rShape = place([...batch, ...contract, ...rFree], rPos);
        return fc.tuple(values(sizeOf(lShape)), values(sizeOf(rShape))).map(([l, r]) => ({
          lhs: { shape: lShape, data: l },
          rhs: { shape: rShape, data: r },
          lb: range(nb).map((j) => lPos[j]!),
          rb: range(nb).map((j) => rPos[j]!),
          lc: range(nc).map((j) => lPos[nb + j]!),
          rc: range(nc).map((j) => rPos[nb + j]!),
          batch,
          contract,
          // free dims appear in the output in their positional order, not in role order
          lFree: range(lShape.length)
            .filter((d) => lPos.indexOf(d) >= nb + nc)
            .map((d) => lShape[d]!),
          rFree: range(rShape.length)
            .filter((d) => rPos.indexOf(d) >= nb + nc)
            .map((d) => rShape[d]!),
        }));
      }),
  );
}

/** Permutations bringing lhs to [batch…, free…, contract…] and rhs to [batch…, contract…, free…]. */
function canonicalPerms(c: DotCase): [number[], number[]] {
  const freeOf = (rank: number, used: number[]) => range(rank).filter((d) => !used.includes(d));
  const lf = freeOf(c.lhs.shape.length, [...c.lb, ...c.lc]);
  const rf = freeOf(c.rhs.shape.length, [...c.rb, ...c.rc]);
  return [
    [...c.lb, ...lf, ...c.lc],
    [...c.rb, ...c.rc, ...rf],
  ];
}

const transpose = (t: tf.Tensor, p: number[]) => (p.length === 0 ? t : tf.transpose(t, p));
const bmkn = (c: DotCase) => [sizeOf(c.batch), sizeOf(c.lFree), sizeOf(c.contract), sizeOf(c.rFree)] as const;

/** The same contraction as a tfjs batched matmul. */
function matmulOracle(c: DotCase): Expected {
  const [lp, rp] = canonicalPerms(c);
  const [B, M, K, N] = bmkn(c);
  return oracle(() => {
    const a = tf.reshape(transpose(tfOf(c.lhs), lp), [B, M, K]);
    const b = tf.reshape(transpose(tfOf(c.rhs), rp), [B, K, N]);
    return tf.reshape(tf.matMul(a, b), [...c.batch, ...c.lFree, ...c.rFree]);
  });
}

const f32Values = (n: number) =>
  fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: n, maxLength: n }).map((v) => Float32Array.from(v));
const i32Values = (n: number) => fc.array(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n }).map((v) => Int32Array.from(v));

describe("dot_general matches tfjs matMul on the canonical [B,M,K]×[B,K,N] form", () => {
  test("float32, random batch/contracting/free dims at random positions", () => {
    fc.assert(
      fc.property(dotCaseArb(f32Values), (c) => {
        const got = lax.dotGeneral(wax(c.lhs), wax(c.rhs), [
          [c.lc, c.rc],
          [c.lb, c.rb],
        ]);
        expectClose(got, matmulOracle(c), { rtol: 1e-5, atol: 1e-6 }, "float32");
      }),
      RUNS,
    );
  });

  test("int32, exactly", () => {
    fc.assert(
      fc.property(dotCaseArb(i32Values), (c) => {
        const got = lax.dotGeneral(wax(c.lhs), wax(c.rhs), [
          [c.lc, c.rc],
          [c.lb, c.rb],
        ]);
        expectClose(got, matmulOracle(c), { rtol: 0, atol: 0 }, "int32");
      }),
      RUNS,
    );
  });

  test("preferred_element_type float64 keeps the float64 sum of products", () => {
    fc.assert(
      fc.property(dotCaseArb(f32Values), (c) => {
        const got = lax.dotGeneral(
          wax(c.lhs),
          wax(c.rhs),
          [
            [c.lc, c.rc],
            [c.lb, c.rb],
          ],
          "float64",
        );
        // tfjs has no float64: move the operands to canonical form with tfjs (exact data
        // movement), then sum the products in JS float64.
        const [lp, rp] = canonicalPerms(c);
        const A = oracle(() => transpose(tfOf(c.lhs), lp)).data;
        const Bm = oracle(() => transpose(tfOf(c.rhs), rp)).data;
        const [B, M, K, N] = bmkn(c);
        const data: number[] = [];
        for (let b = 0; b < B; b++)
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++) s += A[(b * M + i) * K + k]! * Bm[(b * K + k) * N + j]!;
              data.push(s);
            }
        expectClose(got, { shape: [...c.batch, ...c.lFree, ...c.rFree], data }, { rtol: 1e-12, atol: 1e-12 }, "float64");
      }),
      RUNS,
    );
  });

  test("matches tfjs einsum on a plain matrix product", () => {
    const a = array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = array([
      [1, -1],
      [0.5, 2],
      [-3, 0.25],
    ]);
    const want = oracle(() => tf.einsum("ij,jk->ik", tf.tensor(a.data, [2, 3]), tf.tensor(b.data, [3, 2])));
    expectClose(
      lax.dotGeneral(a, b, [
        [[1], [0]],
        [[], []],
      ]),
      want,
      { rtol: 1e-6, atol: 0 },
      "float32",
    );
  });
});

describe("dot_general validates its operands", () => {
  test("rejects mismatched contracting sizes", () => {
    expect(() =>
      lax.dotGeneral(np.zeros([2, 3]), np.zeros([4, 2]), [
        [[1], [0]],
        [[], []],
      ]),
    ).toThrow(ShapeError);
  });
  test("rejects mismatched batch sizes", () => {
    expect(() =>
      lax.dotGeneral(np.zeros([2, 3, 4]), np.zeros([3, 4, 5]), [
        [[2], [1]],
        [[0], [0]],
      ]),
    ).toThrow(ShapeError);
  });
  test("rejects a dimension listed as both batch and contracting", () => {
    expect(() =>
      lax.dotGeneral(np.zeros([2, 2]), np.zeros([2, 2]), [
        [[0], [0]],
        [[0], [1]],
      ]),
    ).toThrow(ShapeError);
  });
  test("rejects operands of different dtypes", () => {
    expect(() =>
      lax.dotGeneral(np.zeros([2]), np.zeros([2], "int32"), [
        [[0], [0]],
        [[], []],
      ]),
    ).toThrow(DTypeError);
  });
});
