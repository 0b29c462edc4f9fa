/**
 * Structured control flow in `run`: a `for` node becomes a counted Wasm `loop` that stores
 * its index to the counter buffer before each trip, a `while` node a `block` around a `loop`
 * that leaves on a false predicate (`br_if`), a `switch` node a chain of `if`s on the clamped
 * index. Bodies are the calls of their kernels' functions, emitted once whatever the trip count.
 */
import binaryen from "binaryen";
import type { ControlKernel, Kernel, Scalar } from "../lower/kernel-ir";
import type { ExprRef, FnBuilder } from "./builder";

let labels = 0;

/** Emits the statements of a kernel list (the caller's: calls of kernel functions, nested control flow). */
export type EmitList = (kernels: readonly Kernel[]) => ExprRef[];

/** The statement of a control-flow node in `run` (`b` builds `run`; `offsets` are the memory plan's). */
export function genControl(b: FnBuilder, offsets: readonly number[], k: ControlKernel, emit: EmitList): ExprRef {
  const m = b.m;
  const seq = (xs: ExprRef[]): ExprRef => (xs.length === 0 ? m.nop() : m.block(null, xs));
  const load = (s: Scalar): ExprRef => m.i32.load(offsets[s.buf]! + 4 * s.elem, 4, m.i32.const(0));
  const id = labels++;
  switch (k.kind) {
    case "for": {
      if (k.trips <= 0) return m.nop();
      const i = b.local(binaryen.i32);
      const get = () => m.local.get(i, binaryen.i32);
      const index = k.reverse ? m.i32.sub(m.i32.const(k.trips - 1), get()) : get();
      const top = `for${id}`;
      return m.block(null, [
        m.local.set(i, m.i32.const(0)),
        m.loop(
          top,
          m.block(null, [
            m.i32.store(offsets[k.counter]!, 4, m.i32.const(0), index),
            ...emit(k.body),
            m.local.set(i, m.i32.add(get(), m.i32.const(1))),
            m.br(top, m.i32.lt_s(get(), m.i32.const(k.trips))),
          ]),
        ),
      ]);
    }
    case "while": {
      const exit = `wend${id}`;
      const top = `while${id}`;
      return m.block(exit, [
        m.loop(top, m.block(null, [...emit(k.cond), m.br(exit, m.i32.eqz(load(k.pred))), ...emit(k.body), m.br(top)])),
      ]);
    }
    case "switch": {
      // lax.switch clamps the index into range: below 0 runs the first branch, past the end the last.
      const [set, index] = b.let(binaryen.i32, load(k.index));
      const n = k.branches.length;
      let stmt = seq(emit(k.branches[n - 1]!));
      for (let q = n - 2; q >= 0; q--) stmt = m.if(m.i32.le_s(index(), m.i32.const(q)), seq(emit(k.branches[q]!)), stmt);
      return m.block(null, [set, stmt]);
    }
  }
}
