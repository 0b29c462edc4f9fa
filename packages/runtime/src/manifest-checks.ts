/**
 * Checks of a manifest beyond its schema: that it is the one sealed into its wasm, that its
 * arena layout fits (every buffer inside the arena, aligned, no two inputs or constants sharing
 * bytes, outputs aliasing others only exactly) and that its leaf paths form a tree. A manifest
 * is outside data: anything that does not fit is refused, before a byte is copied.
 */
import { IntegrityError, ManifestError } from "./errors";
import { canonicalJson, type Manifest, type ManifestKey, type ManifestLeaf } from "./manifest";

/** The largest arena a wasm32 memory can hold: 65536 pages of 64 KiB. */
export const MAX_ARENA_BYTES = 65536 * 65536;

const short = (x: unknown) => {
  const s = canonicalJson(x);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** The first place where `given` and `sealed` differ, as a field path (`inputs[0].offset`), or null. */
function firstDifference(given: unknown, sealed: unknown, path: string): [string, unknown, unknown] | null {
  const isObj = (x: unknown) => typeof x === "object" && x !== null && !globalThis.Array.isArray(x);
  if (globalThis.Array.isArray(given) && globalThis.Array.isArray(sealed)) {
    for (let i = 0; i < Math.min(given.length, sealed.length); i++) {
      const d = firstDifference(given[i], sealed[i], `${path}[${i}]`);
      if (d) return d;
    }
    return given.length === sealed.length ? null : [`${path}.length`, given.length, sealed.length];
  }
  if (isObj(given) && isObj(sealed)) {
    const g = given as Record<string, unknown>;
    const s = sealed as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(g), ...Object.keys(s)])].sort();
    for (const k of keys) {
      const d = firstDifference(Object.hasOwn(g, k) ? g[k] : undefined, Object.hasOwn(s, k) ? s[k] : undefined, path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return canonicalJson(given) === canonicalJson(sealed) ? null : [path || "<root>", given, sealed];
}

/** Refuses a manifest whose fields differ from the copy sealed into the wasm (`sealed` is that copy's text). */
export function checkSealed(m: Manifest, given: string, sealed: string | null): void {
  if (sealed === null) {
    throw new IntegrityError(
      `load: ${m.name}: the wasm carries no sealed manifest (section wax.manifest) — it was exported by an older wax or rebuilt by hand; re-export it with this wax`,
    );
  }
  if (given === sealed) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(sealed);
  } catch {
    throw new IntegrityError(`load: ${m.name}: the wasm's sealed manifest is not JSON — the wasm is damaged; re-export it`);
  }
  const [field, g, s] = firstDifference(JSON.parse(given), parsed, "") ?? ["<root>", given, sealed];
  throw new IntegrityError(
    `load: ${m.name}: the manifest's ${field} is ${short(g)} but the wasm was exported with ${short(s)} — the manifest was edited or belongs to another export; use the manifest written together with this wasm, or re-export`,
  );
}

const bytesOf = (shape: readonly number[]) => 4 * shape.reduce((a, b) => a * b, 1); // bools are 4-byte words in the arena

type Region = { field: string; kind: "input" | "output" | "constant"; start: number; end: number };

/**
 * Refuses a layout that does not fit its arena: buffers outside it or misaligned, inputs or
 * constants that share bytes with anything, outputs that overlap another buffer without being
 * exactly it (the compiler aliases an output only to a whole input, constant or output).
 */
export function checkLayout(m: Manifest, constantSectionBytes: number): void {
  const fail = (what: string) =>
    new ManifestError(`load: ${m.name}: ${what} — the manifest does not describe this wasm's arena; re-export the artifact`);
  const arena = m.arena.bytes;
  if (arena > MAX_ARENA_BYTES)
    throw fail(`arena.bytes is ${arena}, more than the ${MAX_ARENA_BYTES} bytes (4 GiB) a wasm32 memory can hold`);
  const regions: Region[] = [];
  const leaves = (which: "inputs" | "outputs", ls: readonly ManifestLeaf[]) =>
    ls.forEach((l, i) => {
      if (l.kind !== "array") return;
      const field = `${which}[${i}]`;
      const bytes = bytesOf(l.shape);
      if (l.offset % 4 !== 0) throw fail(`${field}.offset ${l.offset} is not a multiple of 4`);
      if (!(l.offset + bytes <= arena))
        throw fail(
          `${field} (${l.dtype}[${l.shape.join(",")}], ${bytes} bytes at offset ${l.offset}) lies outside the ${arena}-byte arena`,
        );
      regions.push({ field, kind: which === "inputs" ? "input" : "output", start: l.offset, end: l.offset + bytes });
    });
  leaves("inputs", m.inputs);
  leaves("outputs", m.outputs);
  m.constants.segments.forEach((s, j) => {
    const field = `constants.segments[${j}]`;
    if (s.offset + s.length > arena) throw fail(`${field} (${s.length} bytes at offset ${s.offset}) lies outside the ${arena}-byte arena`);
    if (s.start + s.length > constantSectionBytes)
      throw fail(
        `${field} (${s.length} bytes from ${s.start}) lies outside the ${constantSectionBytes}-byte section ${m.constants.section}`,
      );
    regions.push({ field, kind: "constant", start: s.offset, end: s.offset + s.length });
  });
  const live = regions.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 0; i < live.length; i++) {
    const a = live[i]!;
    for (let j = i + 1; j < live.length && live[j]!.start < a.end; j++) {
      const b = live[j]!;
      const exact = a.start === b.start && a.end === b.end;
      if (exact && (a.kind === "output" || b.kind === "output")) continue;
      throw fail(`${a.field} (bytes ${a.start}..${a.end}) and ${b.field} (bytes ${b.start}..${b.end}) share arena bytes`);
    }
  }
}

/**
 * Refuses leaf paths that do not form a tree: a path repeated, a path through another leaf, a
 * node mixing list positions and names, inputs not under an argument position.
 */
export function checkTrees(m: Manifest): void {
  for (const which of ["inputs", "outputs"] as const) {
    type Node = { leaf: string | null; children: Map<string, Node>; kinds: Set<string> };
    const root: Node = { leaf: null, children: new Map(), kinds: new Set() };
    m[which].forEach((l, i) => {
      const field = `${which}[${i}].path`;
      const fail = (what: string) =>
        new ManifestError(`load: ${m.name}: ${field} ${what} — the manifest's trees are inconsistent; re-export the artifact`);
      if (which === "inputs" && (l.path.length === 0 || !("index" in l.path[0]!))) throw fail(`does not start with an argument position`);
      let node = root;
      for (const k of l.path) {
        if (node.leaf !== null) throw fail(`goes through the leaf ${node.leaf}`);
        const kind = keyKind(k);
        node.kinds.add(kind);
        if (node.kinds.size > 1) throw fail(`mixes list positions and names under one node`);
        const name = "index" in k ? `#${k.index}` : `.${"attr" in k ? k.attr : k.key}`;
        let next = node.children.get(name);
        if (!next) node.children.set(name, (next = { leaf: null, children: new Map(), kinds: new Set() }));
        node = next;
      }
      if (node.leaf !== null) throw fail(`repeats the path of ${node.leaf}`);
      if (node.children.size > 0) throw fail(`is a leaf where other leaves lie below`);
      node.leaf = `${which}[${i}]`;
    });
  }
}

const keyKind = (k: ManifestKey) => ("index" in k ? "index" : "name");
