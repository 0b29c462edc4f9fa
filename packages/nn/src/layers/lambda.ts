/** `Lambda` (Equinox's `nn.Lambda`): a function as a layer. */
import { ArgumentError, type Array } from "@wax/tracer";
import { Module } from "../module";

/**
 * Wraps a function of one array so it can sit in a `Sequential`, which calls every layer with
 * `{ key }`: the key is ignored. The function is an ordinary field (a non-array leaf, so
 * `filterJit` treats it as static and compares it by identity).
 *
 * @example
 * const model = new Sequential([new Linear(2, 4, { key }), new Lambda(nn.relu)]);
 */
export class Lambda extends Module {
  fn: (x: Array) => Array;

  constructor(fn: (x: Array) => Array) {
    super();
    if (typeof fn !== "function") throw new ArgumentError(`Lambda: expected a function, got ${typeof fn}`);
    this.fn = fn;
  }

  static callParameters = ["x"];

  __call__(x: Array, _opts?: { key?: Array | null }): Array {
    return this.fn(x);
  }
}
