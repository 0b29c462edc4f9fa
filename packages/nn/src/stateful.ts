/**
 * Equinox's stateful API: `StateIndex` marks a slot of state inside a model, `State` holds the
 * values (outside the model, threaded in and out of calls like any other argument), and
 * `makeWithState` splits a freshly built model into the two.
 */
import {
  Array,
  Aval,
  WaxError,
  asArray,
  keystr,
  registerPytreeNode,
  staticEqual,
  treeFlatten,
  treeFlattenWithPath,
  treeLeaves,
  treeMap,
  type ArrayLike,
} from "@wax/tracer";
import { Module, field } from "./module";

/** Misuse of `State`: a stale (already updated) state, a missing slot, a changed shape. */
export class StateError extends WaxError {}

/** Unique marker of a `StateIndex` until `makeWithState` names it (compared by identity). */
class Marker {}

/** Takes the place of an initial value once `makeWithState` moved it into the `State`. */
class InitMoved extends Module {}

/**
 * A slot of state in a model, carrying its initial value (any pytree of arrays). The marker
 * is static: `makeWithState` replaces it by a readable path such as `"Model.norm1.stateIndex"`.
 */
export class StateIndex<T = unknown> extends Module {
  @field({ static: true }) marker: unknown;
  init: T;

  constructor(init: T, marker: unknown = new Marker()) {
    super();
    if (typeof init === "function" && !(init instanceof Module)) {
      throw new StateError("StateIndex: init must be the initial value (a pytree of arrays), not a function — call the function yourself");
    }
    this.marker = marker;
    this.init = init;
  }
}

function avalsOf(tree: unknown): [string, Aval[]] {
  const [leaves, def] = treeFlatten(tree);
  return [String(def), leaves.map((l) => (l as Array).aval)];
}

/**
 * The values of a model's state slots. Immutable in effect: `set` returns a new `State` and
 * marks this one as used, so that a stale state cannot be threaded by mistake.
 *
 * A State keeps its markers and values as two parallel arrays. The markers array is shared by
 * every State derived from another by `set` and by every State rebuilt from one treedef, so
 * a flatten plan checks a State's structure (its markers) by identity and copies its values.
 */
export class State {
  #keys: readonly unknown[];
  #values: unknown[] | null;

  /** Scans `model` for `StateIndex` markers (depth first) and takes their initial values. */
  constructor(model: unknown) {
    this.#keys = [];
    this.#values = [];
    if (model === FROM_VALUES) return;
    const keys: unknown[] = [];
    for (const idx of treeLeaves(model, isStateIndex)) {
      if (!(idx instanceof StateIndex)) continue;
      if (idx.init instanceof InitMoved) {
        throw new StateError(
          "State: this model's initial state was already moved out by makeWithState — use the state that makeWithState returned",
        );
      }
      const value = treeMap((x: ArrayLike) => asArray(x), idx.init);
      const at = keys.indexOf(idx.marker);
      if (at >= 0) this.#values[at] = value;
      else {
        keys.push(idx.marker);
        this.#values.push(value);
      }
    }
    this.#keys = keys;
  }

  static #from(keys: readonly unknown[], values: unknown[]): State {
    const s = new State(FROM_VALUES);
    s.#keys = keys;
    s.#values = values;
    return s;
  }

  #live(op: string): unknown[] {
    if (this.#values === null) {
      throw new StateError(
        `State.${op}: Attempted to use old state: this State was already updated by set/update — use the State they returned`,
      );
    }
    return this.#values;
  }

  #slot(op: string, index: unknown): number {
    if (!(index instanceof StateIndex)) throw new StateError(`State.${op}: expected a StateIndex, got ${String(index)}`);
    const i = this.#keys.indexOf(index.marker);
    if (i < 0) throw new StateError(`State.${op}: no state for ${String(index.marker)} — was this state made from this model?`);
    return i;
  }

  /** The value stored for `index`. */
  get<T>(index: StateIndex<T>): T {
    const values = this.#live("get");
    return values[this.#slot("get", index)] as T;
  }

  /** A new State with `index` set to `value` (same structure, shapes and dtypes as before). */
  set<T>(index: StateIndex<T>, value: T): State {
    const values = this.#live("set");
    const i = this.#slot("set", index);
    const v = treeMap((x: ArrayLike) => asArray(x), value);
    const [oldDef, oldAvals] = avalsOf(values[i]);
    const [newDef, newAvals] = avalsOf(v);
    if (oldDef !== newDef || oldAvals.length !== newAvals.length || oldAvals.some((a, j) => !a.equals(newAvals[j]!))) {
      throw new StateError(
        `State.set: Old and new values have different structures/shapes/dtypes for ${String(index.marker)}: ${oldDef} [${oldAvals.join(", ")}] vs ${newDef} [${newAvals.join(", ")}] — state slots keep their shape; under vmap, make sure the new value is not batched (use pmean or outAxes null)`,
      );
    }
    const next = values.slice();
    next[i] = v;
    this.#values = null;
    return State.#from(this.#keys, next);
  }

  /** The part of this state used by the `StateIndex`es in `tree` (this state stays valid). */
  substate(tree: unknown): State {
    const values = this.#live("substate");
    const keys: unknown[] = [];
    const sub: unknown[] = [];
    for (const idx of treeLeaves(tree, isStateIndex)) {
      if (!(idx instanceof StateIndex) || keys.includes(idx.marker)) continue;
      const i = this.#keys.indexOf(idx.marker);
      keys.push(idx.marker);
      sub.push(i < 0 ? undefined : values[i]);
    }
    return State.#from(keys, sub);
  }

  /** A new State with the slots of `sub` replaced (they must exist here). */
  update(sub: State): State {
    const values = this.#live("update");
    if (!(sub instanceof State)) throw new StateError("State.update: expected a State");
    const subValues = sub.#live("update");
    const next = values.slice();
    sub.#keys.forEach((k, j) => {
      const i = this.#keys.indexOf(k);
      if (i < 0) throw new StateError(`State.update: the substate has a slot ${String(k)} that this state lacks`);
      next[i] = subValues[j];
    });
    this.#values = null;
    return State.#from(this.#keys, next);
  }

  /** Markers and values, in insertion order. */
  entries(): [unknown, unknown][] {
    const values = this.#live("entries");
    return this.#keys.map((k, i) => [k, values[i]]);
  }

  toString(): string {
    if (this.#values === null) return "State(<used>)";
    const values = this.#values;
    return `State(${this.#keys
      .map(
        (k, i) =>
          `${String(k)}: ${treeLeaves(values[i])
            .map((l) => String((l as Array).aval))
            .join(", ")}`,
      )
      .join("; ")})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  static {
    registerPytreeNode<State>(State, {
      flatten: (s) => [s.#live("flatten"), s.#keys],
      childrenInto: (s, keys, out) => {
        const values = s.#values;
        if (values === null || (s.#keys !== keys && !staticEqual(s.#keys, keys))) return false;
        for (let i = 0; i < values.length; i++) out[i] = values[i];
        return true;
      },
      unflatten: (keys, children) => State.#from(keys as unknown[], children),
      describe: (keys, children) => `State(${(keys as unknown[]).map((k, i) => `${String(k)}: ${children[i]}`).join(", ")})`,
      keys: (s) => s.#keys.map((k) => ({ kind: "key" as const, name: String(k) })),
    });
  }
}

const FROM_VALUES = Symbol("State.fromValues");

function isStateIndex(x: unknown): boolean {
  return x instanceof StateIndex;
}

/** Replaces every `StateIndex`'s initial value by a placeholder with no leaves. */
export function deleteInitState<T>(model: T): T {
  const [leaves, def] = treeFlatten(model, isStateIndex);
  return def.unflatten(leaves.map((l) => (l instanceof StateIndex ? new StateIndex(new InitMoved(), l.marker) : l))) as T;
}

/**
 * `makeWithState(Model)(...args)` builds the model and returns `[model, state]`: the state
 * holds every StateIndex's initial value and the model keeps only the (named) indices.
 * Markers are key paths (`"Model.norm1.emaStateIndex"`), so two calls give interchangeable
 * models and states. `Model` may be a class or a function returning a model.
 */
export function makeWithState<A extends unknown[], M>(make: (new (...args: A) => M) | ((...args: A) => M)): (...args: A) => [M, State] {
  return (...args: A) => {
    const isClass = typeof make === "function" && make.prototype instanceof Module;
    const model = isClass ? new (make as new (...a: A) => M)(...args) : (make as (...a: A) => M)(...args);
    const [paths, def] = treeFlattenWithPath(model, isStateIndex);
    const name = (model as object)?.constructor?.name ?? "Model";
    const named = def.unflatten(paths.map(([path, l]) => (l instanceof StateIndex ? new StateIndex(l.init, name + keystr(path)) : l))) as M;
    const state = new State(named);
    return [deleteInitState(named), state];
  };
}
