/**
 * Hostile artifacts: every field of a real exported manifest (and its wasm) tampered with, one at
 * a time, is refused with a named `ArtifactError` that says which field; forged pairs (a wasm
 * re-sealed with the edited manifest and a matching sha256) are refused by the layout and tree
 * checks; manifest-controlled names never reach `Object.prototype`; the untampered artifact
 * still gives `filterJit`'s bits.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { array, np, random, type Array } from "@wax/tracer";
import { exportCompiled, filterJit } from "@wax/compiler";
import {
  ArtifactError,
  ArtifactFetchError,
  IntegrityError,
  ManifestError,
  RuntimeArray,
  SEALED_SECTION,
  WasmModuleError,
  load,
  sealedManifest,
  type Manifest,
} from "@wax/runtime";

const bits = (x: Float32Array | Int32Array | Uint32Array | Uint8Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
const waxData = (a: Array) => a.concreteValue()!.data as Float32Array;

const table = random.normal(random.PRNGKey(4), [2, 3]);
function model(p: { w: Array }, x: Array, opts: { scale: number }) {
  return { y: np.multiply(np.add(np.matmul(x, p.w), table), opts.scale), total: np.sum(x) };
}
const w = random.normal(random.PRNGKey(5), [4, 3]);
const x = random.normal(random.PRNGKey(6), [2, 4]);
const artifact = exportCompiled(model, { w }, x, { scale: 2 });

const clone = async () => {
  const a = await artifact;
  return { wasm: a.wasm.slice(), manifest: JSON.parse(JSON.stringify(a.manifest)) as Manifest };
};

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function customSection(name: string, payload: Uint8Array): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb(nameBytes.length), ...nameBytes, ...payload];
  return Uint8Array.from([0, ...leb(body.length), ...body]);
}

/** What a forger with both files can do: edit the manifest, re-seal it into the wasm, fix the hash. */
async function forge(edit: (m: Manifest) => void, sealed = true): Promise<{ wasm: Uint8Array; manifest: Manifest }> {
  const a = await artifact;
  const manifest = JSON.parse(JSON.stringify(a.manifest)) as Manifest;
  edit(manifest);
  // The exported wasm ends with the sealed section; cut it off and append the new one.
  const old = customSection(SEALED_SECTION, new TextEncoder().encode(sealedManifest(a.manifest)));
  const head = a.wasm.subarray(0, a.wasm.length - old.length);
  const tail = sealed ? customSection(SEALED_SECTION, new TextEncoder().encode(sealedManifest(manifest))) : new Uint8Array(0);
  const wasm = new Uint8Array(head.length + tail.length);
  wasm.set(head);
  wasm.set(tail, head.length);
  manifest.wasm = { ...manifest.wasm, bytes: wasm.length, sha256: await sha256Hex(wasm) };
  return { wasm, manifest };
}

type Out = { y: RuntimeArray; total: RuntimeArray };

describe("an untampered artifact", () => {
  it("loads and gives filterJit's bits", async () => {
    const { wasm, manifest } = await clone();
    expect(manifest.constants.segments.length).toBeGreaterThan(0);
    const f = await load<Out>(manifest, wasm);
    const out = f({ w: waxData(w) }, waxData(x), { scale: 2 });
    const ref = filterJit(model)({ w }, x, { scale: 2 });
    expect(bits(out.y.data)).toEqual(bits(waxData(ref.y)));
    expect(bits(out.total.data)).toEqual(bits(waxData(ref.total)));
  });

  it("a forged pair with nothing edited loads too (the forge helper is faithful)", async () => {
    const { wasm, manifest } = await forge(() => {});
    await expect(load(manifest, wasm)).resolves.toBeTypeOf("function");
  });
});

describe("a tampered manifest is refused, naming the field", () => {
  const cases: [string, (m: Manifest) => void, RegExp, new (message: string) => ArtifactError][] = [
    ["format", (m) => ((m as { format: string }).format = "wax-artefact"), /invalid manifest — format/, ManifestError],
    ["formatVersion", (m) => ((m as { formatVersion: number }).formatVersion = 2), /format version 2 is not supported/, ManifestError],
    ["waxVersion", (m) => (m.waxVersion = "9.9.9"), /manifest's waxVersion is "9\.9\.9" but the wasm was exported with/, IntegrityError],
    ["name", (m) => (m.name = "other"), /manifest's name is "other"/, IntegrityError],
    [
      "wasm.file",
      (m) => (m.wasm.file = "../../etc/x.wasm"),
      /wasm\.file "\.\.\/\.\.\/etc\/x\.wasm" is not a plain file name/,
      ManifestError,
    ],
    ["wasm.bytes", (m) => (m.wasm.bytes += 1), /wasm\.bytes says/, IntegrityError],
    ["wasm.sha256", (m) => (m.wasm.sha256 = "0".repeat(64)), /sha256 is [0-9a-f]{64} but the manifest says 0{64}/, IntegrityError],
    ["features", (m) => (m.features = []), /manifest's features\.length is 0/, IntegrityError],
    ["arena.bytes", (m) => (m.arena.bytes = 2 ** 40), /manifest's arena\.bytes is 1099511627776/, IntegrityError],
    ["constants.section", (m) => (m.constants.section = "elsewhere"), /manifest's constants\.section is "elsewhere"/, IntegrityError],
    [
      "constants.segments[0].offset",
      (m) => (m.constants.segments[0]!.offset += 4),
      /manifest's constants\.segments\[0\]\.offset/,
      IntegrityError,
    ],
    [
      "constants.segments[0].length",
      (m) => (m.constants.segments[0]!.length = 2 ** 30),
      /manifest's constants\.segments\[0\]\.length/,
      IntegrityError,
    ],
    [
      "inputs[0].offset",
      (m) => ((m.inputs[0] as { offset: number }).offset = (m.outputs[0] as { offset: number }).offset),
      /manifest's inputs\[0\]\.offset/,
      IntegrityError,
    ],
    [
      "inputs[1].dtype",
      (m) => ((m.inputs[1] as { dtype: string }).dtype = "int32"),
      /manifest's inputs\[1\]\.dtype is "int32" but the wasm was exported with "float32"/,
      IntegrityError,
    ],
    [
      "inputs[1].shape",
      (m) => ((m.inputs[1] as { shape: number[] }).shape = [4, 2]),
      /manifest's inputs\[1\]\.shape\[0\] is 4/,
      IntegrityError,
    ],
    ["inputs[2].value", (m) => ((m.inputs[2] as { value: unknown }).value = 3), /manifest's inputs\[2\]\.value is 3/, IntegrityError],
    ["outputs[0].offset", (m) => ((m.outputs[0] as { offset: number }).offset += 4), /manifest's outputs\[0\]\.offset/, IntegrityError],
    [
      "outputs[0].path",
      (m) => (m.outputs[0]!.path = [{ key: "__proto__" }]),
      /manifest's outputs\[0\]\.path\[0\]\.key is "__proto__"/,
      IntegrityError,
    ],
    ["outputs (one removed)", (m) => m.outputs.pop(), /manifest's outputs\.length is 1/, IntegrityError],
    ["inputTree", (m) => (m.inputTree = "x"), /manifest's inputTree is "x"/, IntegrityError],
    ["outputTree", (m) => (m.outputTree = "x"), /manifest's outputTree is "x"/, IntegrityError],
    [
      "a static value nested 100000 deep",
      (m) => ((m.inputs[2] as { value: unknown }).value = JSON.parse("[".repeat(100000) + "]".repeat(100000)) as unknown),
      /the manifest cannot be read .* — /,
      ManifestError,
    ],
  ];
  for (const [field, edit, message, Kind] of cases) {
    it(field, async () => {
      const { wasm, manifest } = await clone();
      edit(manifest);
      const err = await load(manifest, wasm).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Kind);
      expect(err).toBeInstanceOf(ArtifactError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/ — /); // and says what to do
    });
  }
});

describe("a tampered wasm is refused", () => {
  it("one flipped byte: sha256 mismatch", async () => {
    const { wasm, manifest } = await clone();
    wasm[20] ^= 1;
    await expect(load(manifest, wasm)).rejects.toThrow(IntegrityError);
  });

  it("garbage with a matching sha256: WasmModuleError", async () => {
    const { manifest } = await clone();
    const garbage = new TextEncoder().encode("this is not webassembly");
    manifest.wasm = { ...manifest.wasm, bytes: garbage.length, sha256: await sha256Hex(garbage) };
    await expect(load(manifest, garbage)).rejects.toThrow(WasmModuleError);
    await expect(load(manifest, garbage)).rejects.toThrow(/the wasm does not compile .* — /);
  });

  it("a wasm without the sealed manifest", async () => {
    const { wasm, manifest } = await forge(() => {}, false);
    await expect(load(manifest, wasm)).rejects.toThrow(/carries no sealed manifest .* re-export/);
  });
});

describe("a forged pair (re-sealed, re-hashed) is refused by the layout and tree checks", () => {
  const arr = (l: Manifest["inputs"][number]) => l as { offset: number; shape: number[]; dtype: string };
  const cases: [string, (m: Manifest) => void, RegExp][] = [
    ["an oversized arena", (m) => (m.arena.bytes = 2 ** 40), /arena\.bytes is 1099511627776, more than the 4294967296 bytes/],
    [
      "an arena larger than the module declares",
      (m) => (m.arena.bytes += 65536 * 4),
      /instantiating the wasm with a \d+-byte arena failed/,
    ],
    [
      "an input offset moved onto an output",
      (m) => (arr(m.inputs[1]!).offset = arr(m.outputs[1]!).offset),
      /inputs\[1\] .* and outputs\[1\] .* share arena bytes|outputs\[1\] .* and inputs\[1\] .* share arena bytes/,
    ],
    [
      "two inputs overlapping",
      (m) => (arr(m.inputs[1]!).offset = arr(m.inputs[0]!).offset + 4),
      /inputs\[0\] .* and inputs\[1\] .* share arena bytes/,
    ],
    ["an offset outside the arena", (m) => (arr(m.outputs[0]!).offset = m.arena.bytes), /outputs\[0\] .* lies outside the \d+-byte arena/],
    ["a misaligned offset", (m) => (arr(m.inputs[0]!).offset += 2), /inputs\[0\]\.offset \d+ is not a multiple of 4/],
    [
      "a shape whose size runs past the arena",
      (m) => (arr(m.inputs[0]!).shape = [65536, 65536]),
      /inputs\[0\] \(float32\[65536,65536\], 17179869184 bytes/,
    ],
    [
      "a constant segment outside the arena",
      (m) => (m.constants.segments[0]!.offset = m.arena.bytes - 4),
      /constants\.segments\[0\] .* lies outside the \d+-byte arena/,
    ],
    [
      "an oversized constant segment",
      (m) => (m.constants.segments[0]!.length = 2 ** 20),
      /constants\.segments\[0\] .* lies outside the|share arena bytes/,
    ],
    ["a constant segment overlapping an input", (m) => (m.constants.segments[0]!.offset = arr(m.inputs[0]!).offset), /share arena bytes/],
    ["a repeated output path", (m) => (m.outputs[1]!.path = m.outputs[0]!.path), /outputs\[1\]\.path repeats the path of outputs\[0\]/],
    [
      "an output path through another output",
      (m) => (m.outputs[1]!.path = [...m.outputs[0]!.path, { key: "inner" }]),
      /outputs\[1\]\.path goes through the leaf outputs\[0\]/,
    ],
    [
      "an input path mixing positions and names",
      (m) => (m.inputs[1]!.path = [{ key: "nope" }]),
      /inputs\[1\]\.path does not start with an argument position/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    it(what, async () => {
      const { wasm, manifest } = await forge(edit);
      const err = await load(manifest, wasm).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ArtifactError);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe("a pinned sha256", () => {
  it("refuses a forged pair the manifest alone cannot tell apart, and accepts the real artifact", async () => {
    const real = await clone();
    const pinned = real.manifest.wasm.sha256;
    await expect(load(real.manifest, real.wasm, { sha256: pinned })).resolves.toBeTypeOf("function");
    const forged = await forge((m) => ((m.inputs[2] as { value: unknown }).value = { scale: 3 }));
    await expect(load(forged.manifest, forged.wasm)).resolves.toBeTypeOf("function");
    await expect(load(forged.manifest, forged.wasm, { sha256: pinned })).rejects.toThrow(
      /but you pinned [0-9a-f]{64} — this is not the artifact you trust/,
    );
  });
});

describe("manifest-controlled names", () => {
  it("an output key named __proto__ is a field, not a prototype change", async () => {
    const f = (v: Array) => Object.fromEntries([["__proto__", { inner: np.multiply(v, 2) }]]);
    const { wasm, manifest } = await exportCompiled(f, array([1, 2]));
    const g = await load(JSON.parse(JSON.stringify(manifest)), wasm);
    const out = g(new Float32Array([1, 2])) as Record<string, unknown>;
    expect(({} as { inner?: unknown }).inner).toBeUndefined();
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect((out["__proto__"] as { inner: RuntimeArray }).inner.tolist()).toEqual([2, 4]);
  });

  it("an input path through __proto__ finds nothing on the caller's objects", async () => {
    const f = (o: { a: Array }) => np.add(o.a, 1);
    const { wasm, manifest } = await exportCompiled(f, { a: array([1, 2]) });
    const g = await load(manifest, wasm);
    expect((g({ a: [1, 2] }) as RuntimeArray).tolist()).toEqual([2, 3]);
    const { wasm: w2, manifest: m2 } = await (async () => {
      const a = JSON.parse(JSON.stringify(manifest)) as Manifest;
      const old = customSection(SEALED_SECTION, new TextEncoder().encode(sealedManifest(manifest)));
      a.inputs[0]!.path = [{ index: 0 }, { key: "constructor" }];
      const head = wasm.subarray(0, wasm.length - old.length);
      const tail = customSection(SEALED_SECTION, new TextEncoder().encode(sealedManifest(a)));
      const bytes = new Uint8Array([...head, ...tail]);
      a.wasm = { ...a.wasm, bytes: bytes.length, sha256: await sha256Hex(bytes) };
      return { wasm: bytes, manifest: a };
    })();
    const h = await load(m2, w2);
    // Before, `"constructor" in {}` found Object itself on the prototype chain.
    expect(() => h({})).toThrow(/input \[0\]\['constructor'\] is missing/);
    expect((h({ constructor: [5, 6] }) as RuntimeArray).tolist()).toEqual([6, 7]);
  });
});

describe("load's other arguments", () => {
  it("a relative path outside a browser", async () => {
    await expect(load("relative/path.json")).rejects.toThrow(ArtifactFetchError);
    await expect(load("relative/path.json")).rejects.toThrow(
      /cannot be resolved outside a browser page\) — pass the parsed manifest object/,
    );
  });

  it("text that is not JSON", async () => {
    await expect(load("{oops")).rejects.toThrow(ManifestError);
    await expect(load("{oops")).rejects.toThrow(/the manifest text is not valid JSON .* — pass the contents of NAME\.manifest\.json/);
  });

  it("a file: URL in Node, with the wasm next to it", async () => {
    const { wasm, manifest } = await clone();
    const dir = mkdtempSync(join(tmpdir(), "wax-artifact-"));
    writeFileSync(join(dir, `${manifest.name}.manifest.json`), JSON.stringify(manifest));
    writeFileSync(join(dir, manifest.wasm.file), wasm);
    const f = await load<Out>(pathToFileURL(join(dir, `${manifest.name}.manifest.json`)));
    expect(f({ w: waxData(w) }, waxData(x), { scale: 2 }).y.shape).toEqual([2, 3]);
    await expect(load(pathToFileURL(join(dir, "missing.manifest.json")))).rejects.toThrow(ArtifactFetchError);
  });
});

describe("opaque static inputs", () => {
  it("a function argument fixed at export may be passed again or left out", async () => {
    const act = (v: Array) => np.tanh(v);
    const apply = (v: Array, f: (v: Array) => Array) => f(v);
    const { wasm, manifest } = await exportCompiled(apply, array([1, 2]), act);
    expect(manifest.inputs[1]).toMatchObject({ kind: "static", opaque: true });
    const g = await load<RuntimeArray>(manifest, wasm);
    expect(bits(g([1, 2], act).data)).toEqual(bits(g([1, 2]).data));
    expect(bits(g([1, 2], act).data)).toEqual(bits(waxData(filterJit(apply)(array([1, 2]), act))));
  });
});

describe("nested JS arrays as inputs", () => {
  it("rank 2 and rank 3 nested arrays are accepted and give the TypedArray's bits", async () => {
    const f = (a: Array, b: { c: Array }) => [np.multiply(a, 3), np.sum(b.c)];
    const a = array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const c = array([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    const { wasm, manifest } = await exportCompiled(f, a, { c });
    const g = await load<[RuntimeArray, RuntimeArray]>(manifest, wasm);
    const [p, q] = g(a.tolist(), { c: c.tolist() });
    const [r, s] = g(waxData(a), { c: waxData(c) });
    expect(p.tolist()).toEqual([
      [3, 6, 9],
      [12, 15, 18],
    ]);
    expect(bits(p.data)).toEqual(bits(r.data));
    expect(bits(q.data)).toEqual(bits(s.data));
    expect(() =>
      g(
        [
          [1, 2],
          [3, 4],
        ],
        { c: c.tolist() },
      ),
    ).toThrow(/input \[0\]: a nested JS array that is not of shape \[2,3\]/);
    expect(() =>
      g(a.tolist(), {
        c: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toThrow(/input \[1\]\.c|input \[1\]\['c'\]/);
  });
});
