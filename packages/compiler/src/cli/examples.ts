/** Finding a function and its example arguments in a user's module (`irExamples`). */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { UsageError } from "./options";

export interface Example {
  name: string;
  fn: (...args: unknown[]) => unknown;
  args: unknown[];
}

/** Imports `file` and builds the example for `fn` (or the only example when `fn` is omitted). */
export async function loadExample(file: string, fn: string | undefined): Promise<Example> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`wax: ${file} does not exist`);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const examples = mod["irExamples"] as Record<string, unknown> | undefined;
  if (examples === undefined || typeof examples !== "object") {
    throw new UsageError(
      `wax: ${file} exports no irExamples — add e.g. \`export const irExamples = { ${fn ?? "f"}: () => [exampleArg1, exampleArg2] }\``,
    );
  }
  const names = Object.keys(examples);
  const name = fn ?? (names.length === 1 ? names[0]! : undefined);
  if (name === undefined) throw new UsageError(`wax: ${file} has several examples (${names.join(", ")}) — choose one with --fn`);
  const make = examples[name];
  if (typeof make !== "function")
    throw new UsageError(`wax: irExamples of ${file} has no entry ${name} (it has ${names.join(", ") || "none"})`);
  const made = await (make as () => unknown)();
  if (Array.isArray(made)) {
    const f = mod[name];
    if (typeof f !== "function")
      throw new UsageError(`wax: ${file} does not export a function ${name} — export it, or return { fn, args } from irExamples.${name}`);
    return { name, fn: f as Example["fn"], args: made };
  }
  if (made && typeof made === "object" && typeof (made as Example).fn === "function" && Array.isArray((made as Example).args)) {
    return { name, fn: (made as Example).fn, args: (made as Example).args };
  }
  throw new UsageError(`wax: irExamples.${name} must return an array of arguments or { fn, args }`);
}
