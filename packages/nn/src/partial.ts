/** `Partial`: a function with bound arguments that is itself a pytree (Equinox's `eqx.Partial`). */
import { ArgumentError } from "@wax/tracer";
import { Module, ModuleError } from "./module";

const paramCache = new WeakMap<Function, (string | null)[]>();

/**
 * Names of a function's positional parameters, read from its source (`null` for destructured
 * parameters; a rest parameter ends the list). Used to bind keywords by name, as Python does.
 */
export function parameterNames(fn: Function): (string | null)[] {
  const cached = paramCache.get(fn);
  if (cached) return cached;
  const src = Function.prototype.toString.call(fn);
  let list: string;
  const open = src.indexOf("(");
  const arrow = src.indexOf("=>");
  if (arrow >= 0 && (open < 0 || arrow < open)) list = src.slice(0, arrow).replace(/^async\s+/, "");
  else {
    let depth = 0;
    let end = open;
    for (let i = open; i < src.length; i++) {
      const c = src[i];
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        depth--;
        if (depth === 0) {
          end = i;
          break;
        }
      }
    }
    list = src.slice(open + 1, end);
  }
  const params: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of list) {
    if (c === "(" || c === "[" || c === "{") depth++;
    if (c === ")" || c === "]" || c === "}") depth--;
    if (c === "," && depth === 0) {
      params.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur.trim() !== "") params.push(cur);
  const names: (string | null)[] = [];
  for (const p of params) {
    const t = p.trim();
    if (t.startsWith("...")) break;
    const name = t.split("=")[0]!.trim();
    names.push(/^[A-Za-z_$][\w$]*$/.test(name) ? name : null);
  }
  paramCache.set(fn, names);
  return names;
}

function callTarget(f: unknown): Function {
  if (f instanceof Module) {
    const call = (f as unknown as { __call__?: Function }).__call__;
    if (typeof call !== "function") throw new ModuleError(`Partial: ${String(f)} is not callable — define __call__`);
    return call;
  }
  if (typeof f !== "function") throw new ArgumentError(`Partial: expected a function or a callable Module, got ${typeof f}`);
  return f;
}

/**
 * Binds arguments to a function or callable Module; the result is a callable Module whose
 * `func`, `args` and `keywords` are all pytree children, so arrays inside them (the model's
 * weights, a bound state) are traced by `filterJit` rather than baked in.
 *
 * `keywords` bind parameters by name (read from the function's parameter list, as Python's
 * keyword arguments); `args` bind the leading positional parameters. Binding a parameter that
 * the call also passes throws, as Equinox does.
 *
 * @example
 * const inferenceModel = new Partial(inferenceMode(model), { state });   // eqx.Partial(model, state=state)
 * inferenceModel(x)  // model(x, state)
 */
export class Partial extends Module {
  func: unknown;
  args: unknown[];
  keywords: Record<string, unknown>;

  constructor(func: unknown, keywords: Record<string, unknown> = {}, args: unknown[] = []) {
    super();
    const target = callTarget(func);
    const names = parameterNames(target);
    for (const k of Object.keys(keywords)) {
      if (!names.includes(k)) {
        throw new ArgumentError(
          `Partial: cannot bind keyword '${k}': the parameters of ${target.name || "the function"} are (${names.map((n) => n ?? "<destructured>").join(", ")}) — use one of these names, or bind leading arguments positionally with new Partial(f, {}, [args])`,
        );
      }
    }
    this.func = func;
    this.args = args;
    this.keywords = keywords;
  }

  __call__(...callArgs: unknown[]): unknown {
    const target = callTarget(this.func);
    const names = parameterNames(target);
    const full: unknown[] = [...this.args, ...callArgs];
    for (const [k, v] of Object.entries(this.keywords)) {
      const i = names.indexOf(k);
      if (i < full.length && full[i] !== undefined) {
        throw new ArgumentError(`Partial: got multiple values for argument '${k}' (bound by Partial and passed at position ${i}) — pass fewer positional arguments`);
      }
      while (full.length < i) full.push(undefined);
      full[i] = v;
    }
    return (this.func as (...a: unknown[]) => unknown)(...full);
  }
}
