/**
 * Compiled-artifact export: `exportCompiled(fn, ...exampleArgs)` traces and compiles `fn` for
 * the example arguments' structure, static leaves and shapes, and returns the `.wasm` bytes
 * and a manifest that `@wax/runtime`'s `load` runs without the tracer or Binaryen.
 *
 * Constants (arrays captured by `fn`) travel inside the wasm, in a custom section named
 * `wax.constants`; the manifest gives their arena offsets. The manifest itself (all but its
 * `wasm` field) is sealed into a second custom section, `wax.manifest`, so that the wasm's
 * sha256 covers the layout too and `load` can refuse an edited manifest.
 */
import { FORMAT_VERSION, SEALED_SECTION, sealedManifest, type Manifest, type ManifestKey, type ManifestLeaf } from "@wax/runtime";
import { Array, Aval, WaxError, evalTrace, traceFlat, treeFlattenWithPath, type ClosedJaxpr, type KeyEntry } from "@wax/tracer";
import { compileJaxpr, type Compiled } from "./compile";
import { CompileError } from "./errors";
import { avalOf, isDynamic } from "./leaves";
import { WAX_VERSION } from "./version";

/** One leaf of a traced function's inputs or outputs, with its key path. */
export interface TracedLeaf {
  path: ManifestKey[];
  /** The aval of an array leaf; `null` for a static leaf. */
  aval: Aval | null;
  value?: unknown;
}

export interface Traced {
  name: string;
  jaxpr: ClosedJaxpr;
  inputs: TracedLeaf[];
  outputs: TracedLeaf[];
  inputTree: string;
  outputTree: string;
  traceMs: number;
}

const toKey = (k: KeyEntry): ManifestKey =>
  k.kind === "attr" ? { attr: k.name } : k.kind === "key" ? { key: k.name } : { index: k.index };

/**
 * Traces `fn` on example arguments the way `filterJit` does (array leaves traced, other leaves
 * static) and records every input and output leaf with its key path.
 */
export function traceWithPaths(fn: (...args: never[]) => unknown, args: readonly unknown[], name = fn.name || "fn"): Traced {
  const t0 = performance.now();
  const [inPaths, inDef] = treeFlattenWithPath(args);
  const inputs: TracedLeaf[] = inPaths.map(([p, l]) => {
    const aval = isDynamic(l) ? avalOf(l) : null;
    return aval ? { path: p.map(toKey), aval } : { path: p.map(toKey), aval: null, value: l };
  });
  const dynamic = inPaths.map(([, l]) => isDynamic(l));
  let outputs: TracedLeaf[] = [];
  let outputTree = "";
  let jaxpr: ClosedJaxpr;
  try {
    jaxpr = traceFlat(
      (...tracers) => {
        let k = 0;
        const full = inPaths.map(([, l], i) => (dynamic[i] ? tracers[k++]! : l));
        const out = (fn as (...a: unknown[]) => unknown)(...(inDef.unflatten(full) as unknown[]));
        const [outPaths, outDef] = treeFlattenWithPath(out);
        outputTree = String(outDef);
        outputs = outPaths.map(([p, l]) =>
          l instanceof Array ? { path: p.map(toKey), aval: l.aval } : { path: p.map(toKey), aval: null, value: l },
        );
        return outPaths.map(([, l]) => l).filter((l): l is Array => l instanceof Array);
      },
      inputs.filter((l) => l.aval !== null).map((l) => l.aval!),
      `export(${name})`,
      evalTrace,
    );
  } catch (e) {
    if (e instanceof WaxError && !e.message.startsWith(`export(${name})`)) {
      const Ctor = e.constructor as new (m: string) => WaxError;
      throw new Ctor(`export(${name}): ${e.message}`);
    }
    throw e;
  }
  return { name, jaxpr, inputs, outputs, inputTree: String(inDef), outputTree, traceMs: performance.now() - t0 };
}

function staticLeaf(path: ManifestKey[], v: unknown): ManifestLeaf {
  const json = (x: unknown): boolean =>
    x === null ||
    typeof x === "string" ||
    typeof x === "boolean" ||
    (typeof x === "number" && Number.isFinite(x)) ||
    (globalThis.Array.isArray(x) && x.every(json)) ||
    (typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype && Object.values(x as object).every(json));
  if (json(v)) return { path, kind: "static", value: v };
  const desc = typeof v === "function" ? `<function ${v.name || "anonymous"}>` : typeof v === "number" ? String(v) : `<${typeof v}>`;
  return { path, kind: "static", value: desc, opaque: true };
}

const CONSTANTS_SECTION = "wax.constants";

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Appends a custom section (id 0) to a wasm binary. */
function withCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb(nameBytes.length), ...nameBytes];
  const size = body.length + payload.length;
  const head = Uint8Array.from([0x00, ...leb(size), ...body]);
  const out = new Uint8Array(wasm.length + head.length + payload.length);
  out.set(wasm, 0);
  out.set(head, wasm.length);
  out.set(payload, wasm.length + head.length);
  return out;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface Artifact {
  wasm: Uint8Array;
  manifest: Manifest;
  /** The compiler's intermediate results (for `wax ir` and tests). */
  compiled: Compiled;
  traced: Traced;
}

/**
 * Compiles `fn` for `exampleArgs` into a standalone artifact: `{ wasm, manifest }`.
 *
 * @example
 * const { wasm, manifest } = await exportCompiled((xs: Array) => evaluate(inferenceModel, xs), testXs);
 * // later, anywhere: const f = await load(manifest, wasm); f(new Float32Array(15))
 */
export async function exportCompiled(fn: (...args: never[]) => unknown, ...exampleArgs: unknown[]): Promise<Artifact> {
  return exportNamed(fn.name || "fn", fn, exampleArgs);
}

/** `exportCompiled` with an explicit artifact name (used by the CLI). */
export async function exportNamed(name: string, fn: (...args: never[]) => unknown, args: readonly unknown[]): Promise<Artifact> {
  if (!/^[A-Za-z_$][\w$-]*$/.test(name))
    throw new CompileError(`export: the artifact name ${JSON.stringify(name)} must be an identifier (letters, digits, _ $ -)`);
  const traced = traceWithPaths(fn, args, name);
  let compiled: Compiled;
  try {
    compiled = compileJaxpr(traced.jaxpr, { name, optimize: true });
  } catch (e) {
    if (e instanceof CompileError) throw new CompileError(`export(${name}): ${e.message}`);
    throw e;
  }
  const segments: { offset: number; start: number; length: number }[] = [];
  let total = 0;
  for (const c of compiled.layout.constants) {
    segments.push({ offset: c.offset, start: total, length: c.bytes.length });
    total += c.bytes.length;
  }
  const payload = new Uint8Array(total);
  compiled.layout.constants.forEach((c, i) => payload.set(c.bytes, segments[i]!.start));
  let slot = 0;
  const inputs: ManifestLeaf[] = traced.inputs.map((l) =>
    l.aval
      ? {
          path: l.path,
          kind: "array",
          dtype: runtimeDtype(name, l),
          shape: [...l.aval.shape],
          offset: compiled.layout.inputs[slot++]!.offset,
        }
      : staticLeaf(l.path, l.value),
  );
  slot = 0;
  const outputs: ManifestLeaf[] = traced.outputs.map((l) =>
    l.aval
      ? {
          path: l.path,
          kind: "array",
          dtype: runtimeDtype(name, l),
          shape: [...l.aval.shape],
          offset: compiled.layout.outputs[slot++]!.offset,
        }
      : staticLeaf(l.path, l.value),
  );
  const body: Omit<Manifest, "wasm"> = {
    format: "wax-artifact",
    formatVersion: FORMAT_VERSION,
    waxVersion: WAX_VERSION,
    name,
    features: wasmFeatures(compiled),
    arena: { bytes: compiled.layout.arenaBytes },
    constants: { section: CONSTANTS_SECTION, segments },
    inputs,
    outputs,
    inputTree: traced.inputTree,
    outputTree: traced.outputTree,
  };
  const withConstants = withCustomSection(compiled.wasm, CONSTANTS_SECTION, payload);
  const wasm = withCustomSection(withConstants, SEALED_SECTION, new TextEncoder().encode(sealedManifest(body)));
  const manifest: Manifest = { ...body, wasm: { file: `${name}.wasm`, bytes: wasm.length, sha256: await sha256Hex(wasm) } };
  return { wasm, manifest, compiled, traced };
}

function runtimeDtype(name: string, l: TracedLeaf): "float32" | "int32" | "uint32" | "bool" {
  const d = l.aval!.dtype;
  if (d === "float64")
    throw new CompileError(
      `export(${name}): leaf ${l.path.map((k) => JSON.stringify(k)).join("")} is float64, which compiled code does not support — use float32`,
    );
  return d;
}

/** SIMD128 always; relaxed SIMD when the codegen chose relaxed instructions for this engine. */
function wasmFeatures(compiled: Compiled): ("simd128" | "relaxed-simd")[] {
  const used = (compiled as { features?: readonly string[] }).features ?? [];
  return used.includes("relaxed-simd") ? ["simd128", "relaxed-simd"] : ["simd128"];
}
