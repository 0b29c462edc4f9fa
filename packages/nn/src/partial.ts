/** `Partial`: a function with bound arguments that is itself a pytree (Equinox's `eqx.Partial`). */
import { ArgumentError } from "@wax/tracer";
import { Module, ModuleError } from "./module";

const PARAMETERS = Symbol.for("wax.callParameters");

/**
 * Declares the parameter names of a plain function, so that `Partial` can bind its
 * parameters by keyword: `withCallParameters((a, b) => a - b, ["a", "b"])`. Returns `fn`
 * itself. (Modules declare theirs with `static callParameters = [...]`.)
 */
export function withCallParameters<F extends (...args: never[]) => unknown>(fn: F, names: readonly string[]): F {
  if (!globalThis.Array.isArray(names as unknown) || names.some((n) => typeof n !== "string")) {
    throw new ArgumentError(`withCallParameters: names must be an array of strings, got ${String(names)}`);
  }
  Object.defineProperty(fn, PARAMETERS, { value: Object.freeze([...names]), configurable: true });
  return fn;
}

/**
 * The declared names of the leading positional parameters of a callable, or `null` when it
 * declares none: a Module's `static callParameters`, a function's `withCallParameters`, and
 * for a `Partial` the names its target leaves unbound.
 */
export function callParameters(f: unknown): readonly string[] | null {
  if (f instanceof Partial) {
    const inner = callParameters(f.func);
    if (inner === null) return null;
    return inner.slice(f.args.length).filter((n) => !Object.hasOwn(f.keywords, n));
  }
  if (f instanceof Module) {
    const names = (f.constructor as { callParameters?: unknown }).callParameters;
    return globalThis.Array.isArray(names) ? (names as string[]) : null;
  }
  if (typeof f === "function") {
    const names = (f as unknown as Record<symbol, unknown>)[PARAMETERS];
    return globalThis.Array.isArray(names) ? (names as string[]) : null;
  }
  return null;
}

function describeCallable(f: unknown): string {
  if (f instanceof Module) return (f.constructor as { name?: string }).name || "the Module";
  return (f as { name?: string }).name || "the function";
}

function checkCallable(f: unknown): void {
  if (f instanceof Module) {
    if (typeof (f as unknown as { __call__?: unknown }).__call__ !== "function")
      throw new ModuleError(`Partial: ${describeCallable(f)} is not callable — define __call__`);
    return;
  }
  if (typeof f !== "function") throw new ArgumentError(`Partial: expected a function or a callable Module, got ${typeof f}`);
}

/**
 * Binds arguments to a function or callable Module; the result is a callable Module whose
 * `func`, `args` and `keywords` are all pytree children, so arrays inside them (the model's
 * weights, a bound state) are traced by `filterJit` rather than baked in.
 *
 * `args` bind the leading positional parameters. `keywords` bind parameters by name, as
 * Python's keyword arguments, using the names the callable declares: a Module's
 * `static callParameters = ["x", "state"]`, or `withCallParameters(fn, names)` for a plain
 * function (names are not read from the source text, which minifiers rewrite). Binding a
 * parameter that the call also passes throws, as Equinox does.
 *
 * @example
 * class Model extends Module { static callParameters = ["x", "state"]; __call__(x, state) { ... } }
 * const inferenceModel = new Partial(inferenceMode(model), { state });   // eqx.Partial(model, state=state)
 * inferenceModel(x)  // model(x, state)
 */
export class Partial extends Module {
  func: unknown;
  args: unknown[];
  keywords: Record<string, unknown>;

  constructor(func: unknown, keywords: Record<string, unknown> = {}, args: unknown[] = []) {
    super();
    checkCallable(func);
    const bound = Object.keys(keywords);
    if (bound.length > 0) {
      const names = callParameters(func);
      if (names === null) {
        throw new ArgumentError(
          `Partial: cannot bind keyword '${bound[0]}': ${describeCallable(func)} does not declare its parameter names — give the class \`static callParameters = ["x", "${bound[0]}", ...]\` (the names of __call__'s parameters), wrap a plain function with withCallParameters(fn, names), or bind leading arguments positionally with new Partial(f, {}, [args])`,
        );
      }
      for (const k of bound) {
        if (!names.includes(k)) {
          throw new ArgumentError(
            `Partial: cannot bind keyword '${k}': the parameters of ${describeCallable(func)} are (${names.join(", ")}) — use one of these names, or bind leading arguments positionally with new Partial(f, {}, [args])`,
          );
        }
      }
    }
    this.func = func;
    this.args = args;
    this.keywords = keywords;
  }

  __call__(...callArgs: unknown[]): unknown {
    const full: unknown[] = [...this.args, ...callArgs];
    const bound = Object.keys(this.keywords);
    if (bound.length > 0) {
      const names = callParameters(this.func)!;
      for (const k of bound) {
        const i = names.indexOf(k);
        if (i < full.length && full[i] !== undefined) {
          throw new ArgumentError(
            `Partial: got multiple values for argument '${k}' (bound by Partial and passed at position ${i}) — pass fewer positional arguments`,
          );
        }
        while (full.length < i) full.push(undefined);
        full[i] = this.keywords[k];
      }
    }
    return (this.func as (...a: unknown[]) => unknown)(...full);
  }
}
