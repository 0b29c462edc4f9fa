/**
 * Saving and loading the leaves of a pytree (Equinox's `tree_serialise_leaves` /
 * `tree_deserialise_leaves`) in the safetensors format, so that other tools (PyTorch, JAX via
 * `safetensors.flax`, Hugging Face) can read the weights.
 *
 * Layout (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length `N`;
 * `N` bytes of JSON, `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}}`, padded with spaces so the data starts 8-byte aligned; then the raw
 * little-endian tensor bytes, offsets relative to the start of that data section.
 *
 * Tensor names are the leaves' key paths joined with dots: an object key or a Module field
 * gives its name, a JS-array position its index (`{norm1: {weight}}` → `"norm1.weight"`,
 * `{layers: [{bias}]}` → `"layers.0.bias"`; a lone array at the root is named `""`). Names
 * must be unique, so a key containing a dot that collides with a nested path is an error.
 *
 * Leaves are handled as Equinox's default filter specs do: arrays become tensors; JS booleans
 * and numbers (a Module's `inference` flag, `Dropout.p`) go into `__metadata__` under their
 * name, as text (`"true"`, `"0.5"`, `"NaN"`), and are restored from the file on load; every
 * other leaf (strings, functions) is not saved and keeps the `like` value on load.
 */
import {
  Array,
  Aval,
  ConcreteArray,
  WaxError,
  keystr,
  shortDtype,
  treeFlattenWithPath,
  type DType,
  type KeyEntry,
  type TypedArray,
} from "@wax/tracer";
import { z } from "zod";

/** A file or byte buffer that does not match the expected format or the `like` tree. */
export class SerialisationError extends WaxError {}

const SAFETENSORS_DTYPE: Record<DType, string> = { float32: "F32", float64: "F64", int32: "I32", uint32: "U32", bool: "BOOL" };
const FROM_SAFETENSORS: Record<string, DType> = { F32: "float32", F64: "float64", I32: "int32", U32: "uint32", BOOL: "bool" };
const ITEM_SIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, bool: 1 };
const METADATA = "__metadata__";
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const tensorEntry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

type TensorEntry = z.infer<typeof tensorEntry>;

/** The safetensors name of a key path: entries joined by dots (see the module docs). */
export function tensorName(path: readonly KeyEntry[]): string {
  return path.map((k) => (k.kind === "index" ? String(k.index) : k.name)).join(".");
}

/** A leaf's name for messages: the tensor name, or "the root". */
const label = (name: string) => (name === "" ? "the root" : `'${name}'`);

function encodeScalar(v: number | boolean): string {
  if (typeof v === "boolean") return String(v);
  return Object.is(v, -0) ? "-0" : String(v);
}

type Named = { name: string; path: readonly KeyEntry[]; leaf: unknown };

function namedLeaves(op: string, tree: unknown): Named[] {
  const [pairs] = treeFlattenWithPath(tree);
  const seen = new Map<string, readonly KeyEntry[]>();
  return pairs.map(([path, leaf]) => {
    const name = tensorName(path);
    const saved = leaf instanceof Array || leaf instanceof Aval || typeof leaf === "boolean" || typeof leaf === "number";
    if (saved) {
      if (name === METADATA)
        throw new SerialisationError(`${op}: a leaf is named "${METADATA}", which safetensors reserves — rename that key`);
      const other = seen.get(name);
      if (other) {
        throw new SerialisationError(
          `${op}: leaves ${keystr(other)} and ${keystr(path)} both get the tensor name '${name}' — rename a key so that no key contains a dot`,
        );
      }
      seen.set(name, path);
    }
    return { name, path, leaf };
  });
}

function littleEndianBytes(data: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const size = data.BYTES_PER_ELEMENT;
  data.forEach((v: number, i: number) => {
    if (data instanceof Float32Array) view.setFloat32(i * size, v, true);
    else if (data instanceof Float64Array) view.setFloat64(i * size, v, true);
    else if (data instanceof Int32Array) view.setInt32(i * size, v, true);
    else if (data instanceof Uint32Array) view.setUint32(i * size, v, true);
    else view.setUint8(i, v);
  });
  return out;
}

function fromLittleEndian(bytes: Uint8Array, dtype: DType, n: number): TypedArray {
  const copy = bytes.slice(); // aligned, owned buffer
  if (dtype === "bool") return copy.map((b) => (b !== 0 ? 1 : 0));
  if (LITTLE_ENDIAN) {
    if (dtype === "float32") return new Float32Array(copy.buffer, 0, n);
    if (dtype === "float64") return new Float64Array(copy.buffer, 0, n);
    if (dtype === "int32") return new Int32Array(copy.buffer, 0, n);
    return new Uint32Array(copy.buffer, 0, n);
  }
  const view = new DataView(copy.buffer);
  const size = ITEM_SIZE[dtype];
  const out =
    dtype === "float32"
      ? new Float32Array(n)
      : dtype === "float64"
        ? new Float64Array(n)
        : dtype === "int32"
          ? new Int32Array(n)
          : new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      dtype === "float32"
        ? view.getFloat32(i * size, true)
        : dtype === "float64"
          ? view.getFloat64(i * size, true)
          : dtype === "int32"
            ? view.getInt32(i * size, true)
            : view.getUint32(i * size, true);
  }
  return out;
}

/**
 * The safetensors bytes of `tree`'s leaves (see the module docs for names and which leaves
 * are saved). Arrays must be concrete.
 *
 * @example
 * const bytes = serialiseLeaves({ linear: { weight, bias }, inference: false });
 */
export function serialiseLeaves(tree: unknown): Uint8Array {
  const header: Record<string, unknown> = {};
  const metadata: Record<string, string> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { name, leaf } of namedLeaves("serialiseLeaves", tree)) {
    if (leaf instanceof Array) {
      const c = leaf.concreteValue();
      if (c === null) {
        throw new SerialisationError(
          `serialiseLeaves: the leaf ${label(name)} is a traced ${leaf.aval} — serialise outside filterJit/grad/vmap, on concrete arrays`,
        );
      }
      const bytes = littleEndianBytes(c.data);
      header[name] = { dtype: SAFETENSORS_DTYPE[c.dtype], shape: [...c.shape], data_offsets: [offset, offset + bytes.byteLength] };
      chunks.push(bytes);
      offset += bytes.byteLength;
    } else if (leaf instanceof Aval) {
      throw new SerialisationError(
        `serialiseLeaves: the leaf ${label(name)} is an abstract ${leaf} with no data — serialise a tree of concrete arrays`,
      );
    } else if (typeof leaf === "boolean" || typeof leaf === "number") {
      metadata[name] = encodeScalar(leaf);
    }
  }
  const json = JSON.stringify(Object.keys(metadata).length > 0 ? { [METADATA]: metadata, ...header } : header);
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.byteLength / 8) * 8;
  if (padded !== headerBytes.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  let at = 8 + padded;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

interface ParsedFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  data: Uint8Array;
}

function corrupt(op: string, what: string): SerialisationError {
  return new SerialisationError(
    `${op}: not a valid safetensors file: ${what} — check that the file was written by treeSerialiseLeaves or another safetensors writer and is complete`,
  );
}

function parse(op: string, bytes: Uint8Array): ParsedFile {
  if (bytes.byteLength < 8) throw corrupt(op, `${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (n > bytes.byteLength - 8) throw corrupt(op, `the header length is ${n} bytes but only ${bytes.byteLength - 8} follow`);
  let raw: unknown;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    raw = JSON.parse(text);
  } catch (e) {
    throw corrupt(op, `the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || globalThis.Array.isArray(raw)) throw corrupt(op, "the header is not a JSON object");
  // JSON.parse keeps the last of repeated keys; a file that says two things about one tensor is refused.
  const repeated = repeatedKey(text);
  if (repeated !== null) throw corrupt(op, `the header repeats the key ${JSON.stringify(repeated)}`);
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, TensorEntry>();
  // Object.fromEntries and Object.hasOwn on read: a key "__proto__" stays an ordinary entry.
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === METADATA) {
      const m =
        typeof value === "object" && value !== null && !globalThis.Array.isArray(value)
          ? Object.entries(value as Record<string, unknown>)
          : null;
      if (!m || m.some(([, v]) => typeof v !== "string")) throw corrupt(op, `"${METADATA}" must map strings to strings`);
      metadata = Object.fromEntries(m as [string, string][]);
      continue;
    }
    const t = tensorEntry.safeParse(value);
    if (!t.success) throw corrupt(op, `the entry of tensor '${name}' is malformed (${z.prettifyError(t.error).replace(/\n/g, " ")})`);
    const [begin, end] = t.data.data_offsets;
    if (begin > end || end > data.byteLength) {
      throw corrupt(op, `tensor '${name}' has data_offsets [${begin}, ${end}] outside the ${data.byteLength}-byte data section`);
    }
    const dtype = FROM_SAFETENSORS[t.data.dtype];
    if (dtype !== undefined) {
      const want = t.data.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
      if (end - begin !== want)
        throw corrupt(
          op,
          `tensor '${name}' (${t.data.dtype}[${t.data.shape.join(",")}]) needs ${want} bytes but its data_offsets span ${end - begin}`,
        );
    }
    tensors.set(name, t.data);
  }
  // As the reference implementation requires: the tensors tile the data section exactly, in
  // some order: no two share a byte (a write through one would change the other) and no byte
  // is left over (hidden data, or a truncated tensor table).
  const spans = [...tensors].sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]);
  let at = 0;
  let prev = "";
  for (const [name, t] of spans) {
    const [begin, end] = t.data_offsets;
    if (begin < at) throw corrupt(op, `tensor '${name}' (data_offsets [${begin}, ${end}]) overlaps tensor '${prev}', which ends at ${at}`);
    if (begin > at) throw corrupt(op, `bytes [${at}, ${begin}) of the data section belong to no tensor`);
    at = end;
    prev = name;
  }
  if (at < data.byteLength) throw corrupt(op, `bytes [${at}, ${data.byteLength}) of the data section belong to no tensor`);
  return { tensors, metadata, data };
}

/**
 * The first key that appears twice in one object of a JSON text (already known to be valid
 * JSON), or null. A small scan: strings are skipped whole, and a string right after `{` or `,`
 * inside an object is a key.
 */
function repeatedKey(text: string): string | null {
  const stack: (Set<string> | null)[] = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
      expectKey = false;
    } else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") expectKey = stack[stack.length - 1] != null;
  }
  return null;
}

/**
 * Rebuilds a tree like `like` from safetensors bytes. Array leaves of `like` (or `Aval`s,
 * as shape/dtype specs) are read from the tensor of the same name and must match its shape
 * and dtype exactly; JS booleans and numbers are read from `__metadata__`; other leaves keep
 * the `like` value. Every tensor in the file must be used. Throws a `SerialisationError`
 * naming the leaf and both shapes/dtypes on any mismatch.
 *
 * @example
 * const model2 = deserialiseLeaves(bytes, model); // same structure, weights from the bytes
 */
export function deserialiseLeaves<T>(bytes: Uint8Array, like: T): T {
  const op = "deserialiseLeaves";
  const file = parse(op, bytes);
  const used = new Set<string>();
  const leaves = namedLeaves(op, like).map(({ name, leaf }) => {
    if (leaf instanceof Array || leaf instanceof Aval) {
      const aval = leaf instanceof Array ? leaf.aval : leaf;
      const entry = file.tensors.get(name);
      if (entry === undefined) {
        const have = [...file.tensors.keys()].map((k) => `'${k}'`).join(", ") || "none";
        throw new SerialisationError(
          `${op}: the file has no tensor ${label(name)} for ${aval} (it has ${have}) — it was saved from a differently structured tree`,
        );
      }
      used.add(name);
      const dtype = FROM_SAFETENSORS[entry.dtype];
      const fileDesc = `${entry.dtype}[${entry.shape.join(",")}]`;
      if (dtype !== aval.dtype || entry.shape.length !== aval.ndim || entry.shape.some((d, i) => d !== aval.shape[i])) {
        const likeDesc = `${SAFETENSORS_DTYPE[aval.dtype]}[${aval.shape.join(",")}] (${shortDtype(aval.dtype)}[${aval.shape.join(",")}])`;
        const what =
          dtype === undefined
            ? `dtype ${entry.dtype}, which wax does not support`
            : dtype !== aval.dtype
              ? "a different dtype"
              : "a different shape";
        throw new SerialisationError(
          `${op}: tensor ${label(name)} is ${fileDesc} in the file but ${likeDesc} in like (${what}) — load into a tree built with the same shapes and dtypes`,
        );
      }
      const [begin, end] = entry.data_offsets;
      return new ConcreteArray(
        new Aval(entry.shape, dtype, aval.weakType),
        fromLittleEndian(file.data.subarray(begin, end), dtype, aval.size),
      );
    }
    if (typeof leaf === "boolean" || typeof leaf === "number") {
      const text = Object.hasOwn(file.metadata, name) ? file.metadata[name] : undefined;
      if (text === undefined) {
        throw new SerialisationError(
          `${op}: the file has no metadata entry ${label(name)} for the ${typeof leaf} leaf there — it was saved from a differently structured tree`,
        );
      }
      if (typeof leaf === "boolean") {
        if (text !== "true" && text !== "false")
          throw new SerialisationError(
            `${op}: metadata ${label(name)} is "${text}" but like has a boolean there — expected "true" or "false"`,
          );
        used.add(name);
        return text === "true";
      }
      const v = Number(text);
      if (text.trim() === "" || (Number.isNaN(v) && text !== "NaN")) {
        throw new SerialisationError(`${op}: metadata ${label(name)} is "${text}" but like has a number there — expected a number`);
      }
      used.add(name);
      return v;
    }
    return leaf;
  });
  const unused = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new SerialisationError(
      `${op}: the file has tensors that like does not: ${unused.map((k) => `'${k}'`).join(", ")} — load into a tree of the same structure as the saved one`,
    );
  }
  const [, def] = treeFlattenWithPath(like);
  return def.unflatten(leaves) as T;
}

/** `.safetensors` is added when the file name has no extension (as Equinox adds `.eqx`). */
function withSuffix(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.includes(".") ? path : `${path}.safetensors`;
}

type Fs = { readFileSync(path: string): Uint8Array; writeFileSync(path: string, data: Uint8Array): void };

function fs(op: string): Fs {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const mod = get?.("node:fs") as Fs | undefined;
  if (!mod)
    throw new SerialisationError(
      `${op}: no filesystem in this environment — use serialiseLeaves(tree) / deserialiseLeaves(bytes, like) and store the bytes yourself`,
    );
  return mod;
}

/**
 * Writes `tree`'s leaves to `path` in the safetensors format (Node only; adds
 * `.safetensors` when `path` has no extension). Returns the path written.
 *
 * @example
 * treeSerialiseLeaves("model.safetensors", model);
 */
export function treeSerialiseLeaves(path: string, tree: unknown): string {
  const file = withSuffix(path);
  fs("treeSerialiseLeaves").writeFileSync(file, serialiseLeaves(tree));
  return file;
}

/**
 * Reads a tree like `like` from a safetensors file written by `treeSerialiseLeaves` (or any
 * writer using the same names). See `deserialiseLeaves` for the checks.
 *
 * @example
 * const model = treeDeserialiseLeaves("model.safetensors", makeWithState(Model)(key)[0]);
 */
export function treeDeserialiseLeaves<T>(path: string, like: T): T {
  const bytes = fs("treeDeserialiseLeaves").readFileSync(withSuffix(path));
  return deserialiseLeaves(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), like);
}
