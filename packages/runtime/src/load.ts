/**
 * `load`: turns an exported artifact (manifest + wasm) into a callable function, with only the
 * runtime: no tracer, no Binaryen, no eval. The manifest is validated with zod; a wrong format
 * version, a sha256 mismatch, a missing WebAssembly feature and inputs of the wrong
 * structure/shape/dtype are refused with an `ArtifactError` naming what differs. The manifest is
 * also compared with the copy sealed into the wasm (so the wasm's sha256 covers it) and its
 * layout and trees are checked (`manifest-checks.ts`) before anything is instantiated.
 */
import { ArtifactError, ArtifactFetchError, IntegrityError, ManifestError, WasmModuleError } from "./errors";
import { Executable, typedArrayDtype, type HostArray, type Layout, type Slot } from "./executable";
import { hasFeature } from "./feature-check";
import {
  FORMAT_VERSION,
  SEALED_SECTION,
  manifestSchema,
  sealedManifest,
  type ArrayLeaf,
  type Manifest,
  type ManifestKey,
} from "./manifest";
import { checkLayout, checkSealed, checkTrees } from "./manifest-checks";
import { RuntimeArray } from "./runtime-array";

/**
 * What a loaded artifact returns: the exported function's output pytree, with `RuntimeArray`s
 * for its arrays and the static values it was exported with elsewhere.
 */
export type RuntimeTree =
  RuntimeArray | number | string | boolean | null | undefined | readonly RuntimeTree[] | { readonly [key: string]: RuntimeTree };

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

/** Validates a parsed manifest (throws `ManifestError` listing the problems). */
export function parseManifest(json: unknown): Manifest {
  if (
    typeof json === "object" &&
    json !== null &&
    "formatVersion" in json &&
    (json as { formatVersion: unknown }).formatVersion !== FORMAT_VERSION
  ) {
    throw new ManifestError(
      `load: manifest format version ${String((json as { formatVersion: unknown }).formatVersion)} is not supported (this runtime reads version ${FORMAT_VERSION}) — re-export the function with a matching wax, or use the runtime it was made with`,
    );
  }
  const res = manifestSchema.safeParse(json);
  if (!res.success) {
    const issues = res.error.issues.map((i) => `${i.path.join(".") || "<root>"}: ${i.message}`).join("; ");
    throw new ManifestError(`load: invalid manifest — ${issues}; pass the NAME.manifest.json that wax export wrote`);
  }
  const m = res.data;
  // The wasm is fetched next to the manifest: a bare file name, never a path or another origin.
  if (!/^[\w$.-]+$/.test(m.wasm.file) || /^\.+$/.test(m.wasm.file)) {
    throw new ManifestError(
      `load: ${m.name}: wasm.file ${JSON.stringify(m.wasm.file)} is not a plain file name — the wasm must sit next to the manifest; re-export, or pass the wasm bytes`,
    );
  }
  checkTrees(m);
  return m;
}

/** The bytes at `url`: `fetch`, or in Node the file system for `file:` URLs (which Node's fetch refuses). */
async function fetchBytes(url: URL, what: string): Promise<Uint8Array> {
  try {
    if (url.protocol === "file:") {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
      const fs = proc?.getBuiltinModule?.("node:fs/promises") as { readFile(u: URL): Promise<Uint8Array> } | undefined;
      if (fs) return new Uint8Array(await fs.readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok)
      throw new ArtifactFetchError(
        `load: fetching the ${what} ${url} failed with HTTP ${res.status} — check the URL and that the file is served`,
      );
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (e instanceof ArtifactError) throw e;
    throw new ArtifactFetchError(
      `load: reading the ${what} ${url} failed (${(e as Error).message}) — check the URL, or read the files yourself and pass load(manifestObject, wasmBytes)`,
    );
  }
}

function manifestUrl(manifest: string | URL): URL {
  const href = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(String(manifest), href);
  } catch {
    throw new ArtifactFetchError(
      `load: ${JSON.stringify(String(manifest).slice(0, 80))} is neither manifest JSON nor a URL${href === undefined ? " (a relative path cannot be resolved outside a browser page)" : ""} — pass the parsed manifest object, its JSON text, or an absolute URL (in Node: pathToFileURL(path))`,
    );
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ManifestError(
      `load: ${where} is not valid JSON (${(e as Error).message}) — pass the contents of NAME.manifest.json, the parsed object, or its URL`,
    );
  }
}

const SIZE = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Loads an artifact. `manifest` is the parsed manifest object, its JSON text, or a URL to fetch
 * (then `wasm` defaults to the file named in it, next to the manifest). `options.sha256` pins the
 * wasm's hash to one you trust: the manifest's own hash only shows that the two files belong
 * together, since whoever can edit both can rewrite it.
 *
 * @example
 * const f = await load(JSON.parse(readFileSync("out/evaluate.manifest.json", "utf8")), readFileSync("out/evaluate.wasm"));
 * const y = f(new Float32Array([...]));   // RuntimeArray
 */
export async function load<Out = RuntimeTree>(
  manifest: unknown,
  wasm?: ArrayBuffer | ArrayBufferView,
  options: { sha256?: string } = {},
): Promise<LoadedFunction<Out>> {
  let json = manifest;
  let base: URL | null = null;
  if (manifest instanceof URL || (typeof manifest === "string" && !manifest.trimStart().startsWith("{"))) {
    base = manifestUrl(manifest);
    json = parseJson(new TextDecoder().decode(await fetchBytes(base, "manifest")), `the manifest at ${base}`);
  } else if (typeof manifest === "string") json = parseJson(manifest, "the manifest text");
  const m = parseManifest(json);
  if (wasm === undefined) {
    if (!base)
      throw new ArtifactFetchError(
        `load: no wasm bytes given for ${m.name} — pass them, or pass the manifest's URL so ${m.wasm.file} can be fetched`,
      );
    wasm = await fetchBytes(new URL(m.wasm.file, base), "wasm");
  }
  const bytes =
    wasm instanceof Uint8Array
      ? wasm
      : ArrayBuffer.isView(wasm)
        ? new Uint8Array(wasm.buffer, wasm.byteOffset, wasm.byteLength)
        : new Uint8Array(wasm);
  const hash = await sha256Hex(bytes);
  if (hash !== m.wasm.sha256) {
    throw new IntegrityError(
      `load: ${m.name}: the wasm's sha256 is ${hash} but the manifest says ${m.wasm.sha256} — the files do not belong together (re-export, or pass the matching .wasm)`,
    );
  }
  if (options.sha256 !== undefined && hash !== options.sha256.toLowerCase()) {
    throw new IntegrityError(
      `load: ${m.name}: the wasm's sha256 is ${hash} but you pinned ${options.sha256} — this is not the artifact you trust; fetch it again from its source`,
    );
  }
  if (bytes.length !== m.wasm.bytes)
    throw new IntegrityError(
      `load: ${m.name}: the wasm has ${bytes.length} bytes but the manifest's wasm.bytes says ${m.wasm.bytes} — re-export, or pass the matching .wasm`,
    );
  for (const f of m.features) {
    if (!hasFeature(f))
      throw new ArtifactError(
        `load: ${m.name} needs the WebAssembly feature ${f}, which this engine does not support — use a newer browser or Node, or export without it`,
      );
  }
  let mod: WebAssembly.Module;
  try {
    mod = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new WasmModuleError(
      `load: ${m.name}: the wasm does not compile (${(e as Error).message}) — it is not a module wax exported, or it is damaged; re-export it`,
    );
  }
  // The manifest's copy inside the wasm is covered by the sha256 just checked.
  const sealed = WebAssembly.Module.customSections(mod, SEALED_SECTION);
  if (sealed.length > 1)
    throw new IntegrityError(
      `load: ${m.name}: the wasm carries ${sealed.length} sealed manifests — it was altered after export; re-export it`,
    );
  let given: string;
  try {
    given = sealedManifest(m);
  } catch (e) {
    throw new ManifestError(
      `load: ${m.name}: the manifest cannot be read (${(e as Error).message}; a static value nested too deeply?) — use the manifest wax export wrote`,
    );
  }
  checkSealed(m, given, sealed.length === 1 ? new TextDecoder().decode(sealed[0]) : null);
  const sections = WebAssembly.Module.customSections(mod, m.constants.section);
  const constBytes = sections.length > 0 ? new Uint8Array(sections[0]!) : new Uint8Array(0);
  checkLayout(m, constBytes.length);
  const constants = m.constants.segments.map((s) => ({ offset: s.offset, bytes: constBytes.subarray(s.start, s.start + s.length) }));
  const slot = (l: ArrayLeaf): Slot => ({ offset: l.offset, size: SIZE(l.shape), dtype: l.dtype, shape: [...l.shape] });
  const inArrays = m.inputs.filter((l): l is ArrayLeaf => l.kind === "array");
  const layout: Layout = {
    arenaBytes: m.arena.bytes,
    inputs: inArrays.map(slot),
    outputs: m.outputs.filter((l): l is ArrayLeaf => l.kind === "array").map(slot),
    constants,
  };
  let exe: Executable;
  try {
    exe = await Executable.create(mod, layout);
  } catch (e) {
    throw new WasmModuleError(
      `load: ${m.name}: instantiating the wasm with a ${m.arena.bytes}-byte arena failed (${(e as Error).message}) — the engine may lack the memory, or the wasm is not the one exported with this manifest; re-export`,
    );
  }
  // Structure check in a canonical form: dict keys and attributes both as `.name` (a caller's
  // plain object stands for a Module's fields).
  // Also every proper prefix of an expected path, so that the check per call is set lookups.
  const expected = new Set<string>();
  const prefixes = new Set<string>();
  for (const l of m.inputs) {
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
      // An opaque static leaf (a function) was fixed at export: whatever the caller passes there, or nothing.
      if (l.kind === "static" && l.opaque) continue;
      const v = getAt(m, args, l.path);
      if (l.kind === "static") {
        if (!l.opaque && !jsonEqual(v, l.value)) {
          throw new ArtifactError(
            `${m.name}: input ${pathString(l.path)} is ${JSON.stringify(v)} but the function was exported for ${JSON.stringify(l.value)} — static (non-array) inputs are fixed at export; export again for another value`,
          );
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
    // Own properties only: a manifest path through "__proto__" or "constructor" finds nothing.
    if (cur === null || cur === undefined || (typeof cur !== "object" && typeof cur !== "function") || !Object.hasOwn(cur, name)) {
      throw new ArtifactError(
        `${m.name}: input ${pathString(path)} is missing (nothing at ${pathString(path.slice(0, i + 1))}) — pass the same structure as at export, as plain objects and arrays`,
      );
    }
    cur = (cur as Record<string | number, unknown>)[name];
  }
  return cur;
}

function isArrayLeaf(v: unknown): boolean {
  return ArrayBuffer.isView(v) || v instanceof RuntimeArray || (typeof v === "object" && v !== null && "shape" in v && "dtype" in v);
}

/**
 * Leaf paths of the caller's arguments (plain containers walked; arrays and scalars are leaves).
 * A path where the manifest expects a leaf is one, whatever is there: a nested JS array of any
 * rank stands for one array, and `toHost` checks its shape.
 */
function leafPaths(x: unknown, path: string, out: string[], expected: Set<string>): void {
  if (x === null || x === undefined) return;
  if (isArrayLeaf(x) || typeof x !== "object" || (path !== "" && expected.has(path))) {
    out.push(path || "<root>");
    return;
  }
  if (globalThis.Array.isArray(x)) {
    if (x.length > 0 && x.every((e) => typeof e === "number" || typeof e === "boolean") && path !== "") {
      out.push(path); // a nested JS array of numbers is one array leaf
      return;
    }
    x.forEach((e, i) => leafPaths(e, `${path}[${i}]`, out, expected));
    return;
  }
  for (const k of Object.keys(x)) leafPaths((x as Record<string, unknown>)[k], `${path}.${k}`, out, expected);
}

function checkStructure(m: Manifest, args: unknown[], expected: Set<string>, prefixes: Set<string>): void {
  const got: string[] = [];
  leafPaths(args, "", got, expected);
  const extra = got.filter((p) => !expected.has(p) && !prefixes.has(p));
  if (extra.length > 0) {
    throw new ArtifactError(
      `${m.name}: unexpected input ${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ` and ${extra.length - 3} more` : ""} — the function was exported for ${m.inputTree}`,
    );
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
  } else if (
    typeof v === "object" &&
    v !== null &&
    "shape" in v &&
    "dtype" in v &&
    typeof (v as { concreteValue?: unknown }).concreteValue === "function"
  ) {
    const c = (v as unknown as { concreteValue(): { data: unknown } | null }).concreteValue();
    [data, shape, dtype] = [c?.data, (v as { shape: number[] }).shape, (v as { dtype: string }).dtype];
  } else if ((typeof v === "number" || typeof v === "boolean") && l.shape.length === 0) {
    return l.dtype === "float32"
      ? Float32Array.of(Number(v))
      : l.dtype === "uint32"
        ? Uint32Array.of(Number(v))
        : l.dtype === "bool"
          ? Uint8Array.of(v ? 1 : 0)
          : Int32Array.of(Number(v));
  } else if (globalThis.Array.isArray(v)) {
    const flat = flattenNested(v, l.shape);
    if (!flat) throw new ArtifactError(`${where}: a nested JS array that is not of shape [${l.shape.join(",")}] — pass ${want}`);
    return l.dtype === "float32"
      ? Float32Array.from(flat)
      : l.dtype === "uint32"
        ? Uint32Array.from(flat)
        : l.dtype === "bool"
          ? Uint8Array.from(flat)
          : Int32Array.from(flat);
  } else {
    throw new ArtifactError(
      `${where}: expected ${want} (a TypedArray, a RuntimeArray or a wax array), got ${v === null ? "null" : typeof v}`,
    );
  }
  if (dtype !== l.dtype)
    throw new ArtifactError(
      `${where}: dtype ${dtype} but the function was exported for ${want} — convert it (e.g. Float32Array.from(...))`,
    );
  if (shape !== null && (shape.length !== l.shape.length || shape.some((d, i) => d !== l.shape[i]))) {
    throw new ArtifactError(
      `${where}: shape [${shape.join(",")}] but the function was exported for ${want} — export again for other shapes`,
    );
  }
  if ((data as HostArray).length !== size)
    throw new ArtifactError(
      `${where}: ${(data as HostArray).length} elements but the function was exported for ${want} (${size} elements)`,
    );
  return data as HostArray;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function buildOutput(m: Manifest, outs: HostArray[]): unknown {
  let k = 0;
  // Static values are copied per call, so a caller editing one does not edit the manifest.
  const values = m.outputs.map((l) =>
    l.kind === "array"
      ? new RuntimeArray(outs[k++]!, l.shape, l.dtype)
      : typeof l.value === "object" && l.value !== null
        ? structuredClone(l.value)
        : l.value,
  );
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
        if (typeof next !== "object" || next === null)
          throw new ArtifactError(
            `load: output path ${l.path.map((k) => JSON.stringify(k)).join(".")} goes through a leaf — the manifest's outputs are inconsistent; re-export the artifact`,
          );
        cur = next as Record<string | number, unknown>;
      }
    });
  });
  return root;
}
