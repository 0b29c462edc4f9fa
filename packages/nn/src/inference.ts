/** `inferenceMode`: flips every `inference` flag of a model (Equinox's `nn.inference_mode`). */
import { treeFlatten } from "@wax/tracer";
import { treeAt } from "./tree-at";

function hasInference(x: unknown): x is { inference: unknown } {
  return (typeof x === "object" || typeof x === "function") && x !== null && "inference" in x && Object.hasOwn(x, "inference");
}

/**
 * Returns a copy of `model` with the `inference` field of every layer that has one set to
 * `value` (BatchNorm, SpectralNorm, Dropout, and any layer of yours with that field). Apply it
 * to the whole model, not to a filtered part.
 */
export function inferenceMode<T>(model: T, value = true): T {
  const where = (tree: T) => {
    const out: unknown[] = [];
    const visit = (node: unknown) => {
      if (hasInference(node)) out.push(node.inference);
      const [subs] = treeFlatten(node, (x) => x !== node && hasInference(x));
      for (const s of subs) if (s !== node && hasInference(s)) visit(s);
    };
    visit(tree);
    return out;
  };
  return treeAt(where, model, { replaceFn: () => value });
}
