/**
 * The manifest checks on hand-made manifests (no compiler): canonical JSON, the sealed copy, the
 * arena layout and the trees.
 */
import { describe, expect, it } from "vitest";
import { IntegrityError, ManifestError, canonicalJson, sealedManifest, type Manifest } from "../index";
import { checkLayout, checkSealed, checkTrees } from "../src/manifest-checks";

const base = (): Manifest => ({
  format: "wax-artifact",
  formatVersion: 1,
  waxVersion: "0.1.0",
  name: "f",
  wasm: { file: "f.wasm", bytes: 0, sha256: "0".repeat(64) },
  features: ["simd128"],
  arena: { bytes: 64 },
  constants: { section: "wax.constants", segments: [{ offset: 32, start: 0, length: 8 }] },
  inputs: [{ path: [{ index: 0 }], kind: "array", dtype: "float32", shape: [2, 2], offset: 0 }],
  outputs: [
    { path: [{ key: "y" }], kind: "array", dtype: "float32", shape: [4], offset: 16 },
    { path: [{ key: "x" }], kind: "array", dtype: "float32", shape: [4], offset: 0 }, // an input passed through: exact alias
    { path: [{ key: "mode" }], kind: "static", value: "train" },
  ],
  inputTree: "PyTreeDef([*])",
  outputTree: "PyTreeDef({mode: 'train', x: *, y: *})",
});

describe("canonicalJson", () => {
  it("one text whatever the key order, with __proto__ an ordinary key", () => {
    expect(canonicalJson({ b: [1, { d: 2, c: undefined }], a: "x" })).toBe('{"a":"x","b":[1,{"d":2}]}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"z":1},"a":0}'))).toBe('{"__proto__":{"z":1},"a":0}');
  });

  it("the sealed copy leaves out the wasm field only", () => {
    const m = base();
    const other = { ...base(), wasm: { file: "g.wasm", bytes: 1, sha256: "1".repeat(64) } };
    expect(sealedManifest(m)).toBe(sealedManifest(other));
    expect(sealedManifest(m)).not.toContain("f.wasm");
  });
});

describe("checkSealed", () => {
  it("names the first field that differs from the sealed copy", () => {
    const m = base();
    const sealed = sealedManifest(m);
    expect(() => checkSealed(m, sealedManifest(m), sealed)).not.toThrow();
    (m.outputs[0] as { offset: number }).offset = 0;
    expect(() => checkSealed(m, sealedManifest(m), sealed)).toThrow(IntegrityError);
    expect(() => checkSealed(m, sealedManifest(m), sealed)).toThrow(
      /the manifest's outputs\[0\]\.offset is 0 but the wasm was exported with 16/,
    );
    expect(() => checkSealed(m, sealedManifest(m), null)).toThrow(/carries no sealed manifest/);
  });
});

describe("checkLayout", () => {
  it("accepts a layout that fits, with an output exactly aliasing an input", () => {
    expect(() => checkLayout(base(), 8)).not.toThrow();
  });

  const cases: [string, (m: Manifest) => void, RegExp][] = [
    [
      "an output partly over an input",
      (m) => ((m.outputs[0] as { offset: number }).offset = 8),
      /inputs\[0\] \(bytes 0\.\.16\) and outputs\[0\] \(bytes 8\.\.24\) share arena bytes/,
    ],
    [
      "a constant over an input",
      (m) => (m.constants.segments[0]!.offset = 4),
      /inputs\[0\] .* and constants\.segments\[0\] .* share arena bytes/,
    ],
    [
      "a constant past the section",
      (m) => (m.constants.segments[0]!.start = 4),
      /constants\.segments\[0\] \(8 bytes from 4\) lies outside the 8-byte section wax\.constants/,
    ],
    ["an arena of more than 4 GiB", (m) => (m.arena.bytes = 2 ** 33), /arena\.bytes is 8589934592, more than/],
    [
      "a shape past the arena",
      (m) => ((m.outputs[0] as { shape: number[] }).shape = [100]),
      /outputs\[0\] \(float32\[100\], 400 bytes at offset 16\) lies outside the 64-byte arena/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    it(`refuses ${what}`, () => {
      const m = base();
      edit(m);
      expect(() => checkLayout(m, 8)).toThrow(ManifestError);
      expect(() => checkLayout(m, 8)).toThrow(message);
    });
  }
});

describe("checkTrees", () => {
  it("refuses repeated, crossing and mixed paths", () => {
    expect(() => checkTrees(base())).not.toThrow();
    const rep = base();
    rep.outputs[1]!.path = [{ key: "y" }];
    expect(() => checkTrees(rep)).toThrow(/outputs\[1\]\.path repeats the path of outputs\[0\]/);
    const cross = base();
    cross.outputs[1]!.path = [{ key: "y" }, { index: 0 }];
    expect(() => checkTrees(cross)).toThrow(/outputs\[1\]\.path goes through the leaf outputs\[0\]/);
    const mixed = base();
    mixed.outputs[1]!.path = [{ index: 0 }];
    expect(() => checkTrees(mixed)).toThrow(/outputs\[1\]\.path mixes list positions and names/);
    const below = base();
    below.outputs.unshift({ path: [], kind: "static", value: null });
    expect(() => checkTrees(below)).toThrow(/goes through the leaf outputs\[0\]/);
  });
});
