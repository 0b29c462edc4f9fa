/**
 * Builds the browser example into a static directory (default `examples/browser/dist/`):
 *
 * 1. exports the seed model's trained inference (`irExamples.evaluate` of
 *    `examples/stateful.ts`) with `exportCompiled` → `evaluate.wasm` + `evaluate.manifest.json`,
 *    and writes its test inputs to `inputs.json`;
 * 2. bundles `main.ts` with `@wax/runtime` (esbuild: minified ESM for browsers) → `main.js`,
 *    and copies `index.html`;
 * 3. reports the bundle's size, minified and gzipped, and that of the whole `@wax/runtime`
 *    public surface bundled on its own.
 *
 * Run: `npm run browser:build [-- --out DIR]`, then `npm run browser:serve` and open the URL.
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { exportCompiled } from "@wax/compiler";
import type { Manifest } from "@wax/runtime";
import type { Array } from "@wax/tracer";
import type { PageInputs } from "./main";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(HERE, "../..");

/** The seed's inference and its example arguments, as `irExamples.evaluate()` returns them. */
export interface EvaluateExample {
  fn: (xs: Array) => Array;
  args: Array[];
}

export interface BuildOptions {
  /** Where to write the page (created if missing). Default: `examples/browser/dist`. */
  outDir?: string;
  /** The function to export; default: `irExamples.evaluate()` (which trains the seed model). */
  example?: EvaluateExample;
}

export interface Size {
  /** Minified bytes. */
  bytes: number;
  /** Minified, then gzipped (level 9). */
  gzipBytes: number;
}

export interface BuildResult {
  outDir: string;
  manifest: Manifest;
  inputs: PageInputs;
  /** `main.js`: the page script with the part of `@wax/runtime` it uses. */
  page: Size;
  /** Everything `@wax/runtime` exports, bundled on its own. */
  runtime: Size;
  /** The source files esbuild put into `main.js`, relative to the repository root. */
  pageInputs: string[];
}

const BUNDLE: esbuild.BuildOptions = {
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  absWorkingDir: ROOT,
  write: false,
  metafile: true,
  logLevel: "silent",
};

const sizeOf = (bytes: Uint8Array): Size => ({ bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });

/** Builds the page; see the file's comment. */
export async function build(opts: BuildOptions = {}): Promise<BuildResult> {
  const outDir = resolve(opts.outDir ?? join(HERE, "dist"));
  await mkdir(outDir, { recursive: true });

  let example = opts.example;
  if (!example) {
    const { irExamples } = await import("../stateful");
    example = irExamples.evaluate();
  }
  const { fn, args } = example;
  // Named so the artifact is `evaluate.wasm` / `evaluate.manifest.json`.
  const evaluate = (xs: Array) => fn(xs);
  const { wasm, manifest } = await exportCompiled(evaluate, ...args);
  const xs = args[0]!;
  const inputs: PageInputs = {
    name: "testXs",
    dtype: "float32",
    shape: [...xs.shape],
    data: [...(xs.concreteValue()!.data as Float32Array)],
  };
  await writeFile(join(outDir, manifest.wasm.file), wasm);
  await writeFile(join(outDir, `${manifest.name}.manifest.json`), JSON.stringify(manifest, null, 2) + "\n");
  await writeFile(join(outDir, "inputs.json"), JSON.stringify(inputs) + "\n");

  const page = await esbuild.build({ ...BUNDLE, entryPoints: [join(HERE, "main.ts")], outfile: join(outDir, "main.js") });
  const js = page.outputFiles![0]!.contents;
  await writeFile(join(outDir, "main.js"), js);
  await copyFile(join(HERE, "index.html"), join(outDir, "index.html"));

  const runtime = await esbuild.build({ ...BUNDLE, stdin: { contents: 'export * from "@wax/runtime";', resolveDir: ROOT, loader: "ts" } });

  return {
    outDir,
    manifest,
    inputs,
    page: sizeOf(js),
    runtime: sizeOf(runtime.outputFiles![0]!.contents),
    pageInputs: Object.keys(page.metafile!.inputs),
  };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf("--out");
  const res = await build({ outDir: at >= 0 ? process.argv[at + 1] : undefined });
  console.log(
    `wrote ${relative(process.cwd(), res.outDir) || "."}/: index.html main.js ${res.manifest.wasm.file} ${res.manifest.name}.manifest.json inputs.json`,
  );
  console.log(`artifact: ${res.manifest.wasm.file} ${res.manifest.wasm.bytes} B, features ${res.manifest.features.join(", ")}`);
  console.log(
    `main.js (page + the runtime it uses): ${res.page.bytes} B minified (${kib(res.page.bytes)}), ${res.page.gzipBytes} B gzipped (${kib(res.page.gzipBytes)})`,
  );
  console.log(
    `@wax/runtime (all exports):          ${res.runtime.bytes} B minified (${kib(res.runtime.bytes)}), ${res.runtime.gzipBytes} B gzipped (${kib(res.runtime.gzipBytes)})`,
  );
}
