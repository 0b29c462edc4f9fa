/**
 * Compiled artifact export → load → call round trips (`exportCompiled` in @wax/compiler,
 * `load` in @wax/runtime), bit for bit against the in-process `filterJit`, and every
 * rejection case of the loader.
 */
import { describe, expect, it } from "vitest";
import { array, np, random, type Array } from "@wax/tracer";
import { exportCompiled, filterJit } from "@wax/compiler";
import { ArtifactError, RuntimeArray, hasFeature, load, type Manifest } from "@wax/runtime";

const bits = (x: Float32Array | Int32Array | Uint32Array | Uint8Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
const waxData = (a: Array) => a.concreteValue()!.data as Float32Array;

function affine(params: { w: Array; b: Array }, x: Array, mode: string) {
  const y = np.tanh(np.add(np.matmul(x, params.w), params.b));
  return { y, mode, norm: np.sqrt(np.sum(np.square(y))) };
}

describe("export → load → call", () => {
  const w = random.normal(random.PRNGKey(1), [3, 4]);
  const b = random.normal(random.PRNGKey(2), [4]);
  const x = random.normal(random.PRNGKey(3), [5, 3]);

  it("pytree inputs and outputs with static leaves, bit for bit with filterJit", async () => {
    const { wasm, manifest } = await exportCompiled(affine, { w, b }, x, "train");
    expect(manifest.name).toBe("affine");
    expect(manifest.inputs.map((l) => l.kind)).toEqual(["array", "array", "array", "static"]);
    expect(manifest.outputs.find((l) => l.kind === "static")).toEqual({ path: [{ key: "mode" }], kind: "static", value: "train" });
    const f = await load(JSON.parse(JSON.stringify(manifest)), wasm);
    const out = f({ w: waxData(w), b: new RuntimeArray(waxData(b), [4], "float32") }, waxData(x), "train") as {
      y: RuntimeArray;
      mode: string;
      norm: RuntimeArray;
    };
    const ref = filterJit(affine)({ w, b }, x, "train");
    expect(out.mode).toBe("train");
    expect(out.y.shape).toEqual([5, 4]);
    expect(bits(out.y.data)).toEqual(bits(waxData(ref.y)));
    expect(bits(out.norm.data)).toEqual(bits(waxData(ref.norm)));
    // wax arrays and nested JS arrays are accepted too.
    const again = f({ w, b: b.tolist() }, x, "train") as { y: RuntimeArray };
    expect(bits(again.y.data)).toEqual(bits(out.y.data));
  });

  it("closed-over arrays become constants carried inside the wasm", async () => {
    const table = random.uniform(random.PRNGKey(7), [6]);
    const lookup = (v: Array) => np.multiply(v, table);
    const { wasm, manifest } = await exportCompiled(lookup, np.ones([6]));
    expect(manifest.constants.segments.length).toBeGreaterThan(0);
    const f = await load(manifest, wasm);
    const out = f(new Float32Array([1, 2, 3, 4, 5, 6])) as RuntimeArray;
    const ref = filterJit(lookup)(array([1, 2, 3, 4, 5, 6]));
    expect(bits(out.data)).toEqual(bits(waxData(ref)));
    expect(out.tolist()).toEqual(ref.tolist());
  });

  it("int and bool inputs and outputs", async () => {
    const g = (i: Array, m: Array) => [np.add(i, 1), np.logicalNot(m), np.where(m, i, 0)];
    const i = array([1, 2, 3], { dtype: "int32" });
    const m = array([true, false, true]);
    const { wasm, manifest } = await exportCompiled(g, i, m);
    const f = await load(manifest, wasm);
    const [a, c, d] = f(new Int32Array([1, 2, 3]), new Uint8Array([1, 0, 1])) as RuntimeArray[];
    expect(a!.tolist()).toEqual([2, 3, 4]);
    expect(c!.tolist()).toEqual([false, true, false]);
    expect(d!.tolist()).toEqual([1, 0, 3]);
  });
});

describe("load refuses", () => {
  const x = array([1, 2, 3]);
  const double = (v: Array, opts: { scale: number }) => np.multiply(v, opts.scale);
  const artifact = exportCompiled(double, x, { scale: 2 });
  const fresh = async () => {
    const a = await artifact;
    return { wasm: a.wasm.slice(), manifest: JSON.parse(JSON.stringify(a.manifest)) as Manifest };
  };

  it("a wrong format version", async () => {
    const { wasm, manifest } = await fresh();
    (manifest as { formatVersion: number }).formatVersion = 99;
    await expect(load(manifest, wasm)).rejects.toThrow(/format version 99 is not supported \(this runtime reads version 1\)/);
  });

  it("a manifest that does not match the schema", async () => {
    const { wasm, manifest } = await fresh();
    delete (manifest as Partial<Manifest>).arena;
    await expect(load(manifest, wasm)).rejects.toThrow(ArtifactError);
    await expect(
      load({ ...manifest, inputs: [{ path: [], kind: "array", dtype: "float64", shape: [3], offset: 0 }] }, wasm),
    ).rejects.toThrow(/invalid manifest/);
  });

  it("a sha256 mismatch", async () => {
    const { wasm, manifest } = await fresh();
    wasm[wasm.length - 1]! ^= 0xff;
    await expect(load(manifest, wasm)).rejects.toThrow(/sha256 is [0-9a-f]{64} but the manifest says/);
  });

  it("a missing WebAssembly feature", async () => {
    const { wasm, manifest } = await fresh();
    manifest.features = ["simd128", "relaxed-simd"];
    // With the feature present, the edited list no longer matches the manifest sealed into the wasm.
    if (hasFeature("relaxed-simd")) await expect(load(manifest, wasm)).rejects.toThrow(/manifest's features/);
    else await expect(load(manifest, wasm)).rejects.toThrow(/needs the WebAssembly feature relaxed-simd/);
  });

  it("inputs of the wrong structure, shape, dtype or static value", async () => {
    const { wasm, manifest } = await fresh();
    const f = await load(manifest, wasm);
    expect((f(new Float32Array([1, 2, 3]), { scale: 2 }) as RuntimeArray).tolist()).toEqual([2, 4, 6]);
    expect(() => f(new Float32Array([1, 2]), { scale: 2 })).toThrow(
      /input \[0\]: 2 elements but the function was exported for float32\[3\]/,
    );
    expect(() => f(new Int32Array([1, 2, 3]), { scale: 2 })).toThrow(
      /input \[0\]: dtype int32 but the function was exported for float32\[3\]/,
    );
    expect(() => f(new RuntimeArray(new Float32Array(3), [3, 1], "float32"), { scale: 2 })).toThrow(/shape \[3,1\]/);
    expect(() => f(new Float32Array(3), { scale: 3 })).toThrow(/input \[1\]\['scale'\] is 3 but the function was exported for 2/);
    expect(() => f(new Float32Array(3))).toThrow(/input \[1\]\['scale'\] is missing/);
    expect(() => f(new Float32Array(3), { scale: 2, extra: new Float32Array(1) })).toThrow(/unexpected input \[1\]\.extra/);
    expect(() => f("nope", { scale: 2 })).toThrow(/expected float32\[3\]/);
  });
});

describe("the seed model's exported inference", () => {
  it("gives the in-process jitted outputs bit for bit", async () => {
    const { irExamples, main } = await import("../examples/stateful");
    const { fn, args } = irExamples.evaluate();
    const { wasm, manifest } = await exportCompiled(fn, ...args);
    expect(manifest.inputs).toHaveLength(1); // the trained weights and state are constants
    const f = await load(manifest, wasm);
    const run = main({ log: () => {} });
    const out = f(waxData(run.testXs)) as RuntimeArray;
    expect(out.shape).toEqual([5, 3]);
    expect(bits(out.data)).toEqual(bits(waxData(run.predTestYs)));
  });
});
