/**
 * The browser example's page script: loads the exported `evaluate` artifact (the seed model's
 * trained inference) from this page's origin with `@wax/runtime` alone, runs it on the seed's
 * five test points (`inputs.json`, written next to the artifact by `build.ts`) and prints the
 * outputs into `#out` as JSON: values and their float32 bit patterns, so a test can compare
 * them bit for bit. `<body data-status>` ends as `done`, or `error` with the message in `#out`.
 */
import { load, type RuntimeArray } from "@wax/runtime";

/** What `build.ts` writes to `inputs.json`. */
export interface PageInputs {
  name: string;
  dtype: "float32";
  shape: number[];
  data: number[];
}

/** What the page prints into `#out`. */
export interface PageOutput {
  shape: readonly number[];
  dtype: string;
  values: unknown;
  /** The outputs' float32 bit patterns, 8 hex digits each, row-major. */
  bits: string[];
}

const hexBits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)].map((b) => b.toString(16).padStart(8, "0"));

async function run(): Promise<PageOutput> {
  const res = await fetch(new URL("inputs.json", location.href));
  if (!res.ok) throw new Error(`fetching inputs.json failed with HTTP ${res.status} — run examples/browser/build.ts first`);
  const inputs = (await res.json()) as PageInputs;
  // The manifest's URL: `load` fetches the wasm named in it from the same directory.
  const evaluate = await load(new URL("evaluate.manifest.json", location.href));
  const out = evaluate(Float32Array.from(inputs.data)) as RuntimeArray;
  return { shape: out.shape, dtype: out.dtype, values: out.tolist(), bits: hexBits(out.data as Float32Array) };
}

const pre = document.getElementById("out")!;
run().then(
  (out) => {
    // Indented JSON with each innermost array on one line (a row of values per line).
    pre.textContent = JSON.stringify(out, null, 2).replace(
      /\[\s+([^[\]{}]*?)\s+\]/g,
      (_, inner: string) => `[${inner.replace(/,\s+/g, ", ")}]`,
    );
    document.body.dataset.status = "done";
  },
  (e: unknown) => {
    pre.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    document.body.dataset.status = "error";
  },
);
