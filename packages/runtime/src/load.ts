/**
 * `load`: turns an exported artifact (manifest + wasm) into a callable function, with only the
 * runtime: no tracer, no Binaryen, no eval. The manifest is validated with zod; a wrong format
 * version, a sha256 mismatch, a missing WebAssembly feature and inputs of the wrong
 * structure/shape/dtype are refused with an `ArtifactError` naming what differs.
 */
import { ArtifactError } from "./errors";
import { Executable, typedArrayDtype, type HostArray, type Layout, type Slot } from "./executable";
import { hasFeature } from "./feature-check";
import { FORMAT_VERSION, manifestSchema, type ArrayLeaf, type Manifest, type ManifestKey } from "./manifest";
import { RuntimeArray } from "./runtime-array";

/**
 * What a loaded artifact returns: the exported function's output pytree, with `RuntimeArray`s
 * for its arrays and the static values it was exported with elsewhere.
 */
export type RuntimeTree = RuntimeArray | number | string | boolean | null | undefined | readonly RuntimeTree[] | { readonly [key: string]: RuntimeTree };

/**
 * A loaded artifact: call it with the pytrees it was exported for. `Out` types the result; the
 * manifest is only known at run time, so say what you exported: `load<RuntimeArray>(...)` for a
 * function returning one array, `load<[RuntimeArray, RuntimeArray]>(...)` for a pair.
 */
export interface LoadedFunction<Out = RuntimeTree> {
  (...args: unknown[]): Out;
  readonly manifest: Manifest;
}

/** `[0].norm1.weight`-style rendering of a path. */
export function pathString(path: readonly ManifestKey[]): string {
  return path.map((k) => ("attr" in k ? `.${k.attr}` : "key" in k ? `['${k.key}']` : `[${k.index}]`)).join("") || "<root>";
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Validates a parsed manifest (throws `ArtifactError` listing the problems). */
export function parseManifest(json: unknown): Manifest {
  if (typeof json === "object" && json !== null && "formatVersion" in json && (json as { formatVersion: unknown }).formatVersion !== FORMAT_VERSION) {
    throw new ArtifactError(
      `load: manifest format version ${String((json as { formatVersion: unknown }).formatVersion)} is not supported (this runtime reads version ${FORMAT_VERSION}) — re-export the function with a matching wax, or use the runtime it was made with`,
    );
  }
  const res = manifestSchema.safeParse(json);
  if (!res.success) {
    const issues = res.error.issues.map((i) => `${i.path.join(".") || "<root>"}: ${i.message}`).join("; ");
    throw new ArtifactError(`load: invalid manifest — ${issues}`);
  }
  return res.data;
}

const SIZE = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Loads an artifact. `manifest` is the parsed manifest object, its JSON text, or a URL to fetch
 * (then `wasm` defaults to the file named in it, next to the manifest).
 *
 * @example
 * const f = await load(JSON.parse(readFileSync("out/evaluate.manifest.json", "utf8")), readFileSync("out/evaluate.wasm"));
 * const y = f(new Float32Array([...]));   // RuntimeArray
 */
export async function load<Out = RuntimeTree>(manifest: unknown, wasm?: ArrayBuffer | ArrayBufferView): Promise<LoadedFunction<Out>> {
  let json = manifest;
  let base: URL | null = null;
  if (manifest instanceof URL || (typeof manifest === "string" && !manifest.trimStart().startsWith("{"))) {
    base = new URL(String(manifest), globalThis.location?.href);
    const res = await fetch(base);
    if (!res.ok) throw new ArtifactError(`load: fetching ${base} failed with HTTP ${res.status}`);
    json = await res.json();
  } else if (typeof manifest === "string") json = JSON.parse(manifest);
  const m = parseManifest(json);
  if (wasm === undefined) {
    if (!base) throw new ArtifactError(`load: no wasm bytes given for ${m.name} — pass them, or pass the manifest's URL so ${m.wasm.file} can be fetched`);
    const res = await fetch(new URL(m.wasm.file, base));
    if (!res.ok) throw new ArtifactError(`load: fetching ${m.wasm.file} failed with HTTP ${res.status}`);
    wasm = await res.arrayBuffer();
  }
  const bytes = wasm instanceof Uint8Array ? wasm : ArrayBuffer.isView(wasm) ? new Uint8Array(wasm.buffer, wasm.byteOffset, wasm.byteLength) : new Uint8Array(wasm);
  const hash = await sha256Hex(bytes);
  if (hash !== m.wasm.sha256) {
    throw new ArtifactError(`load: ${m.name}: the wasm's sha256 is ${hash} but the manifest says ${m.wasm.sha256} — the files do not belong together (re-export, or pass the matching .wasm)`);
  }
  for (const f of m.features) {
    if (!hasFeature(f)) throw new ArtifactError(`load: ${m.name} needs the WebAssembly feature ${f}, which this engine does not support — use a newer browser or Node, or export without it`);
  }
  const mod = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const sections = WebAssembly.Module.customSections(mod, m.constants.section);
  const constBytes = sections.length > 0 ? new Uint8Array(sections[0]!) : new Uint8Array(0);
  const constants = m.constants.segments.map((s) => {
    if (s.start + s.length > constBytes.length) throw new ArtifactError(`load: ${m.name}: constant segment at ${s.start}+${s.length} lies outside the ${constBytes.length}-byte section ${m.constants.section}`);
    return { offset: s.offset, bytes: constBytes.subarray(s.start, s.start + s.length) };
  });
  const slot = (l: ArrayLeaf): Slot => ({ offset: l.offset, size: SIZE(l.shape), dtype: l.dtype, shape: [...l.shape] });
  const inArrays = m.inputs.filter((l): l is ArrayLeaf => l.kind === "array");
  const layout: Layout = {
    arenaBytes: m.arena.bytes,
    inputs: inArrays.map(slot),
    outputs: m.outputs.filter((l): l is ArrayLeaf => l.kind === "array").map(slot),
    constants,
  };
  for (const s of [...layout.inputs, ...layout.outputs]) {
    if (s.offset + 4 * s.size > m.arena.bytes) throw new ArtifactError(`load: ${m.name}: a slot at byte ${s.offset} of ${s.size} elements lies outside the ${m.arena.bytes}-byte arena`);
  }
  const exe = await Executable.create(mod, layout);
  // Structure check in a canonical form: dict keys and attributes both as `.name` (a caller's
  // plain object stands for a Module's fields).
  // Also every proper prefix of an expected path, so that the check per call is set lookups.
  const expected = new Set<string>();
  const prefixes = new Set<string>();
  for (const l of m.inputs) {
    if (l.kind === "static" && l.opaque) continue;
    let p = "";
    for (const k of l.path) {
      prefixes.add(p);
      p += "index" in k ? `[${k.index}]` : `.${"attr" in k ? k.attr : k.key}`;
    }
    expected.add(p);
  }
  const fn = (...args: unknown[]) => {
    checkStructure(m, args, expected, prefixes);
    const hostInputs: HostArray[] = [];
    for (const l of m.inputs) {
      const v = getAt(m, args, l.path);
      if (l.kind === "static") {
        if (!l.opaque && !jsonEqual(v, l.value)) {
          throw new ArtifactError(`${m.name}: input ${pathString(l.path)} is ${JSON.stringify(v)} but the function was exported for ${JSON.stringify(l.value)} — static (non-array) inputs are fixed at export; export again for another value`);
        }
        continue;
      }
      hostInputs.push(toHost(m, l, v));
    }
    const outs = exe.call(hostInputs);
    return buildOutput(m, outs);
  };
  return Object.assign(fn, { manifest: m }) as LoadedFunction<Out>;
}

function getAt(m: Manifest, args: unknown[], path: readonly ManifestKey[]): unknown {
  let cur: unknown = args;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    const name = "attr" in k ? k.attr : "key" in k ? k.key : k.index;
    if (cur === null || cur === undefined || (typeof cur !== "object" && typeof cur !== "function") || !(name in (cur as object))) {
      throw new ArtifactError(`${m.name}: input ${pathString(path)} is missing (nothing at ${pathString(path.slice(0, i + 1))}) — pass the same structure as at export, as plain objects and arrays`);
    }
    cur = (cur as Record<string | number, unknown>)[name];
  }
  return cur;
}


function isArrayLeaf(v: unknown): boolean {
  return ArrayBuffer.isView(v) || v instanceof RuntimeArray || (typeof v === "object" && v !== null && "shape" in v && "dtype" in v);
}

/** Leaf paths of the caller's arguments (plain containers walked; arrays and scalars are leaves). */
function leafPaths(x: unknown, path: string, out: string[]): void {
  if (x === null || x === undefined) return;
  if (isArrayLeaf(x) || typeof x !== "object") {
    out.push(path || "<root>");
    return;
  }
  if (globalThis.Array.isArray(x)) {
    if (x.length > 0 && x.every((e) => typeof e === "number" || typeof e === "boolean") && path !== "") {
      out.push(path); // a nested JS array of numbers is one array leaf
      return;
    }
    x.forEach((e, i) => leafPaths(e, `${path}[${i}]`, out));
    return;
  }
  for (const k of Object.keys(x)) leafPaths((x as Record<string, unknown>)[k], `${path}.${k}`, out);
}

function checkStructure(m: Manifest, args: unknown[], expected: Set<string>, prefixes: Set<string>): void {
  const got: string[] = [];
  leafPaths(args, "", got);
  const extra = got.filter((p) => !expected.has(p) && !prefixes.has(p));
  if (extra.length > 0) {
    throw new ArtifactError(`${m.name}: unexpected input ${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ` and ${extra.length - 3} more` : ""} — the function was exported for ${m.inputTree}`);
  }
}

function flattenNested(v: unknown, shape: number[]): number[] | null {
  const out: number[] = [];
  const rec = (x: unknown, d: number): boolean => {
    if (globalThis.Array.isArray(x)) {
      if (d >= shape.length || x.length !== shape[d]) return false;
      return x.every((e) => rec(e, d + 1));
    }
    if (d !== shape.length || (typeof x !== "number" && typeof x !== "boolean")) return false;
    out.push(Number(x));
    return true;
  };
  return rec(v, 0) ? out : null;
}

function toHost(m: Manifest, l: ArrayLeaf, v: unknown): HostArray {
  const where = `${m.name}: input ${pathString(l.path)}`;
  const want = `${l.dtype}[${l.shape.join(",")}]`;
  const size = SIZE(l.shape);
  let data: unknown;
  let shape: readonly number[] | null = null;
  let dtype: string | null = null;
  if (v instanceof RuntimeArray) [data, shape, dtype] = [v.data, v.shape, v.dtype];
  else if (ArrayBuffer.isView(v)) {
    data = v;
    dtype = typedArrayDtype(v) ?? v.constructor.name;
  } else if (typeof v === "object" && v !== null && "shape" in v && "dtype" in v && typeof (v as { concreteValue?: unknown }).concreteValue === "function") {
    const c = (v as unknown as { concreteValue(): { data: unknown } | null }).concreteValue();
    [data, shape, dtype] = [c?.data, (v as { shape: number[] }).shape, (v as { dtype: string }).dtype];
  } else if ((typeof v === "number" || typeof v === "boolean") && l.shape.length === 0) {
    return l.dtype === "float32" ? Float32Array.of(Number(v)) : l.dtype === "uint32" ? Uint32Array.of(Number(v)) : l.dtype === "bool" ? Uint8Array.of(v ? 1 : 0) : Int32Array.of(Number(v));
  } else if (globalThis.Array.isArray(v)) {
    const flat = flattenNested(v, l.shape);
    if (!flat) throw new ArtifactError(`${where}: a nested JS array that is not of shape [${l.shape.join(",")}] — pass ${want}`);
    return l.dtype === "float32" ? Float32Array.from(flat) : l.dtype === "uint32" ? Uint32Array.from(flat) : l.dtype === "bool" ? Uint8Array.from(flat) : Int32Array.from(flat);
  } else {
    throw new ArtifactError(`${where}: expected ${want} (a TypedArray, a RuntimeArray or a wax array), got ${v === null ? "null" : typeof v}`);
  }
  if (dtype !== l.dtype) throw new ArtifactError(`${where}: dtype ${dtype} but the function was exported for ${want} — convert it (e.g. Float32Array.from(...))`);
  if (shape !== null && (shape.length !== l.shape.length || shape.some((d, i) => d !== l.shape[i]))) {
    throw new ArtifactError(`${where}: shape [${shape.join(",")}] but the function was exported for ${want} — export again for other shapes`);
  }
  if ((data as HostArray).length !== size) throw new ArtifactError(`${where}: ${(data as HostArray).length} elements but the function was exported for ${want} (${size} elements)`);
  return data as HostArray;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function buildOutput(m: Manifest, outs: HostArray[]): unknown {
  let k = 0;
  const values = m.outputs.map((l) => (l.kind === "array" ? new RuntimeArray(outs[k++]!, l.shape, l.dtype) : l.value));
  if (m.outputs.length === 1 && m.outputs[0]!.path.length === 0) return values[0];
  let root: unknown = undefined;
  // Keys come from the manifest: write them as own data properties (defineProperty), never
  // through `obj[key] = …`, so a key such as "__proto__" makes a field, not a prototype change.
  const container = (next: ManifestKey) => ("index" in next ? [] : {});
  const put = (obj: Record<string | number, unknown>, name: string | number, v: unknown) =>
    Object.defineProperty(obj, name, { value: v, writable: true, enumerable: true, configurable: true });
  const own = (obj: Record<string | number, unknown>, name: string | number): unknown => (Object.hasOwn(obj, name) ? obj[name] : undefined);
  m.outputs.forEach((l, i) => {
    if (l.path.length === 0) {
      root = values[i];
      return;
    }
    root ??= container(l.path[0]!);
    let cur = root as Record<string | number, unknown>;
    l.path.forEach((key, d) => {
      const name = "attr" in key ? key.attr : "key" in key ? key.key : key.index;
      if (d === l.path.length - 1) put(cur, name, values[i]);
      else {
        let next = own(cur, name);
        if (next === undefined) put(cur, name, (next = container(l.path[d + 1]!)));
        if (typeof next !== "object" || next === null) throw new ArtifactError(`load: output path ${l.path.map((k) => JSON.stringify(k)).join(".")} goes through a leaf — the manifest's outputs are inconsistent; re-export the artifact`);
        cur = next as Record<string | number, unknown>;
      }
    });
  });
  return root;
}
