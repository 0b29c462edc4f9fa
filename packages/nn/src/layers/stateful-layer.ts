/** `StatefulLayer` (Equinox's `nn.StatefulLayer`): layers called as `layer(x, state) -> [x, state]`. */
import { Module } from "../module";
import { StateIndex } from "../stateful";

/**
 * Base class of layers that take and return a `State`: `layer(x, state, { key }) -> [y, state]`.
 * `Sequential` threads the state through the layers for which `isStateful()` is true and calls
 * the others as `layer(x, { key })`. Override `isStateful` when it depends on the layer's
 * contents (as `Sequential` does).
 */
export abstract class StatefulLayer extends Module {
  /** Whether this layer takes and returns a state (true unless overridden). */
  isStateful(): boolean {
    return true;
  }
}

/**
 * Whether `Sequential` should thread the state through `layer`: a `StatefulLayer` says so with
 * `isStateful()`; any other Module counts as stateful when one of its own fields is a
 * `StateIndex` (as `BatchNorm` and `SpectralNorm`), since owning a slot of state means reading it
 * from the `State` it is called with.
 */
export function isStatefulLayer(layer: unknown): boolean {
  if (layer instanceof StatefulLayer) return layer.isStateful();
  if (!(layer instanceof Module)) return false;
  return Object.values(layer as unknown as Record<string, unknown>).some((v) => v instanceof StateIndex);
}
