/** `Sequential` (Equinox's `nn.Sequential`): layers applied in order, threading state. */
import { Array, ArgumentError, random, type ArrayLike } from "@wax/tracer";
import { Module } from "../module";
import { State } from "../stateful";
import { StatefulLayer, isStatefulLayer } from "./stateful-layer";

type CallOpts = { key?: Array | null };

/**
 * Calls each layer on the output of the previous one. Stateful layers (see `isStatefulLayer`)
 * are called `layer(x, state, { key })` and return `[x, state]`; the others `layer(x, { key })`
 * — wrap plain functions in `Lambda`. A `key` is split into one subkey per layer. Returns
 * `[x, state]` when called with a state, else `x`.
 *
 * @example
 * const [model, state] = makeWithState(() => new Sequential([
 *   new Linear(2, 8, { key: k1 }), new BatchNorm({ inputSize: 8, axisName: "batch" }), new Lambda(nn.relu),
 * ]))();
 * const [ys, state2] = vmap(model, { axisName: "batch", inAxes: [0, null], outAxes: [0, null] })(xs, state);
 */
export class Sequential extends StatefulLayer {
  layers: Module[];

  constructor(layers: readonly Module[]) {
    super();
    const bad = layers.findIndex((l) => !(l instanceof Module));
    if (bad >= 0)
      throw new ArgumentError(`Sequential: layer ${bad} is a ${typeof layers[bad]}, not a Module — wrap plain functions in new Lambda(fn)`);
    this.layers = [...layers];
  }

  /** True when any layer is stateful. */
  override isStateful(): boolean {
    return this.layers.some(isStatefulLayer);
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const n = this.layers.length;
    if (!Number.isInteger(index) || index < -n || index >= n)
      throw new ArgumentError(`Sequential.at: index ${index} is out of range for ${n} layers`);
    return this.layers[index < 0 ? index + n : index]!;
  }

  /** A new `Sequential` of the layers `start` (inclusive) to `end` (exclusive), as a Python slice. */
  slice(start?: number, end?: number): Sequential {
    return new Sequential(this.layers.slice(start, end));
  }

  static callParameters = ["x", "state"];

  __call__(x: ArrayLike, opts?: CallOpts): Array;
  __call__(x: ArrayLike, state: State, opts?: CallOpts): [Array, State];
  __call__(x: ArrayLike, stateOrOpts?: State | CallOpts, maybeOpts?: CallOpts): Array | [Array, State] {
    const hasState = stateOrOpts instanceof State;
    let state = hasState ? stateOrOpts : undefined;
    const key = (hasState ? maybeOpts : stateOrOpts)?.key ?? null;
    const n = this.layers.length;
    const keys = key === null || n === 0 ? null : random.split(key, n);
    let out = x as Array;
    this.layers.forEach((layer, i) => {
      const k = keys === null ? null : keys.get(i);
      if (isStatefulLayer(layer)) {
        if (state === undefined) {
          throw new ArgumentError(
            `Sequential: layer ${i} (${layer.constructor.name}) is stateful — call the model with a state: model(x, state), with the state from makeWithState`,
          );
        }
        [out, state] = layer(out, state, { key: k }) as [Array, State];
      } else {
        out = layer(out, { key: k }) as Array;
      }
    });
    return hasState ? [out, state!] : out;
  }
}
