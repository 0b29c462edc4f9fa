/** Products: matmul (with batch broadcasting), dot, vdot, outer, einsum. */
import type { Array } from "../array";
import { ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";
import { broadcastShapes, broadcastTo, promote } from "./promote";
import { expandDims, reshape, squeeze, transpose } from "./shape";
import { sum } from "./reduce";

/** numpy `matmul`: 1-D operands are promoted and squeezed back; batch dims broadcast. */
export function matmul(x: ArrayLike, y: ArrayLike): Array {
  let [a, b] = promote(x, y) as [Array, Array];
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(`matmul: operands must not be scalars, got ${a.aval} and ${b.aval} — use multiply`);
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  if (aVec) a = expandDims(a, 0);
  if (bVec) b = expandDims(b, 1);
  const K = a.shape[a.ndim - 1]!;
  if (b.shape[b.ndim - 2] !== K) {
    throw new ShapeError(
      `matmul: contracting dimension ${a.ndim - 1} of ${asArray(x).aval} (${K}) does not match dimension ${b.ndim - 2} of ${asArray(y).aval} (${b.shape[b.ndim - 2]}) — transpose or reshape an operand so the contracted sizes agree`,
    );
  }
  let out: Array;
  if (b.ndim === 2) {
    // [..., M, K] @ [K, N]: contract without broadcasting the weight.
    out = lax.dotGeneral(a, b, [
      [[a.ndim - 1], [0]],
      [[], []],
    ]);
  } else if (a.ndim === 2) {
    // [M, K] @ [..., K, N] → [M, ..., N], then move M before N.
    const r = lax.dotGeneral(a, b, [
      [[1], [b.ndim - 2]],
      [[], []],
    ]);
    const nb = b.ndim - 2;
    out = transpose(r, [...globalThis.Array.from({ length: nb }, (_, i) => i + 1), 0, nb + 1]);
  } else {
    const batch = broadcastShapes("matmul", { shape: a.shape.slice(0, -2) }, { shape: b.shape.slice(0, -2) });
    a = broadcastTo(a, [...batch, ...a.shape.slice(-2)], "matmul");
    b = broadcastTo(b, [...batch, ...b.shape.slice(-2)], "matmul");
    const bd = batch.map((_, i) => i);
    out = lax.dotGeneral(a, b, [
      [[a.ndim - 1], [b.ndim - 2]],
      [bd, bd],
    ]);
  }
  if (aVec) out = squeeze(out, out.ndim - 2);
  if (bVec) out = squeeze(out, out.ndim - 1);
  return out;
}

/** numpy `dot`: contracts the last axis of `x` with the second-to-last of `y` (or its only axis). */
export function dot(x: ArrayLike, y: ArrayLike): Array {
  const [a, b] = promote(x, y) as [Array, Array];
  if (a.ndim === 0 || b.ndim === 0) return lax.mul(...(promote(a, b) as [Array, Array]));
  const bk = b.ndim === 1 ? 0 : b.ndim - 2;
  if (a.shape[a.ndim - 1] !== b.shape[bk]) {
    throw new ShapeError(
      `dot_general: contracting dimension ${a.ndim - 1} of ${a.aval} (${a.shape[a.ndim - 1]}) does not match dimension ${bk} of ${b.aval} (${b.shape[bk]}) — transpose or reshape an operand so the contracted sizes agree`,
    );
  }
  return lax.dotGeneral(a, b, [
    [[a.ndim - 1], [bk]],
    [[], []],
  ]);
}

export function vdot(x: ArrayLike, y: ArrayLike): Array {
  return dot(reshape(x, [-1]), reshape(y, [-1]));
}

export function outer(x: ArrayLike, y: ArrayLike): Array {
  const [a, b] = promote(reshape(x, [-1]), reshape(y, [-1])) as [Array, Array];
  return lax.dotGeneral(a, b, [
    [[], []],
    [[], []],
  ]);
}

/**
 * `einsum` for the common cases: any number of operands, explicit (`ij,jk->ik`) or implicit
 * output, no repeated index within one operand, no ellipsis. Operands contract pairwise
 * left to right with `dot_general`.
 */
export function einsum(spec: string, ...operands: ArrayLike[]): Array {
  const s = spec.replace(/\s+/g, "");
  const [lhs, rhsGiven] = s.includes("->") ? (s.split("->") as [string, string]) : [s, null];
  const inputs = lhs.split(",");
  if (inputs.length !== operands.length)
    throw new ShapeError(`einsum: "${spec}" names ${inputs.length} operands but ${operands.length} were given`);
  if (s.includes(".")) throw new ShapeError(`einsum: ellipsis in "${spec}" is not supported — reshape or use matmul`);
  const counts = new Map<string, number>();
  for (const t of inputs) for (const c of t) counts.set(c, (counts.get(c) ?? 0) + 1);
  const out =
    rhsGiven ??
    [...counts.keys()]
      .filter((c) => counts.get(c) === 1)
      .sort()
      .join("");
  const arrs = promote(...operands);
  const sizes = new Map<string, number>();
  arrs.forEach((a, i) => {
    const t = inputs[i]!;
    if (t.length !== a.ndim) throw new ShapeError(`einsum: operand ${i} ${a.aval} has rank ${a.ndim} but "${t}" names ${t.length} axes`);
    if (new Set(t).size !== t.length) throw new ShapeError(`einsum: repeated index in "${t}" (diagonals) is not supported`);
    [...t].forEach((c, k) => {
      const d = a.shape[k]!;
      const prev = sizes.get(c);
      if (prev !== undefined && prev !== d) throw new ShapeError(`einsum: index ${c} has size ${prev} and ${d} in "${spec}"`);
      sizes.set(c, d);
    });
  });
  // Sum out indices of an operand used nowhere else.
  const reduceUnused = (a: Array, t: string, others: string): [Array, string] => {
    const drop = [...t].map((c, k) => (!others.includes(c) ? k : -1)).filter((k) => k >= 0);
    if (drop.length === 0) return [a, t];
    return [sum(a, { axis: drop }), [...t].filter((_, k) => !drop.includes(k)).join("")];
  };
  let [acc, accT] = reduceUnused(arrs[0]!, inputs[0]!, inputs.slice(1).join("") + out);
  for (let i = 1; i < arrs.length; i++) {
    const later = inputs.slice(i + 1).join("") + out;
    const [b, bT] = reduceUnused(arrs[i]!, inputs[i]!, accT + later);
    [acc, accT] = reduceUnused(acc, accT, bT + later);
    const shared = [...accT].filter((c) => bT.includes(c));
    const batch = shared.filter((c) => later.includes(c));
    const contract = shared.filter((c) => !later.includes(c));
    const r = lax.dotGeneral(acc, b, [
      [contract.map((c) => accT.indexOf(c)), contract.map((c) => bT.indexOf(c))],
      [batch.map((c) => accT.indexOf(c)), batch.map((c) => bT.indexOf(c))],
    ]);
    accT = batch.join("") + [...accT].filter((c) => !shared.includes(c)).join("") + [...bT].filter((c) => !shared.includes(c)).join("");
    acc = r;
  }
  [acc, accT] = reduceUnused(acc, accT, out);
  for (const c of out) if (!accT.includes(c)) throw new ShapeError(`einsum: output index ${c} of "${spec}" appears in no operand`);
  return transpose(
    acc,
    [...out].map((c) => accT.indexOf(c)),
  );
}
