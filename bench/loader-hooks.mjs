// Node module hooks for the benchmark process (registered by run.ts, after tsx's own hooks, so
// these run first).
import { readFile } from "node:fs/promises";

// binaryen's index.js is one 15 MB ES module. tsx rewrites the dynamic `import(` calls of every
// ES module it loads and builds a source map for the rewrite (uncached), which takes ~30 s on
// this file against ~1-2 s for plain Node. It has no TypeScript in it: load it as Node would.
export async function load(url, context, next) {
  if (url.startsWith("file:") && url.endsWith("/node_modules/binaryen/index.js")) {
    return { format: "module", source: await readFile(new URL(url)), shortCircuit: true };
  }
  return next(url, context);
}

// tfjs-core's ESM build (dist/*.js) imports extensionless paths and directories — fine for
// bundlers, rejected by Node. The benchmark needs it only to load `register_all_gradients` (the
// Node build of tfjs-core ships no gradients).
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!specifier.startsWith(".") || !context.parentURL?.includes("/@tensorflow/tfjs-core/dist/")) throw e;
    for (const suffix of [".js", "/index.js"]) {
      try {
        return await next(specifier + suffix, context);
      } catch {}
    }
    throw e;
  }
}
