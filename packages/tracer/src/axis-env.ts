/**
 * The axis environment: the named axes bound by the enclosing `vmap`s while a function is
 * traced (JAX's `extend_axis_env_nd`). Collectives look names up here.
 */
import { AxisNameError } from "./errors";

export interface AxisFrame {
  readonly name: string;
  readonly size: number;
}

const frames: AxisFrame[] = [];

/** Runs `fn` with `name` bound to an axis of `size`. */
export function withAxis<T>(name: string | null, size: number, fn: () => T): T {
  if (name === null) return fn();
  frames.push({ name, size });
  try {
    return fn();
  } finally {
    frames.pop();
  }
}

/** Size of the innermost axis called `name`; throws an AxisNameError naming it if unbound. */
export function axisSize(op: string, name: string): number {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]!.name === name) return frames[i]!.size;
  const bound = frames.map((f) => f.name).filter((n) => !n.startsWith("<"));
  throw new AxisNameError(
    `${op}: unbound axis name "${name}" — no enclosing vmap binds it (bound: ${bound.length ? bound.map((n) => `"${n}"`).join(", ") : "none"}); ` +
      `call it inside vmap(f, {axisName: "${name}"})`,
  );
}

/** A snapshot of the bound axes (part of a jit cache key). */
export function axisEnvKey(): string {
  return frames.map((f) => `${f.name}:${f.size}`).join(",");
}
