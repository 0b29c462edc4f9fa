/**
 * Serialisation in the safetensors format: round trips of nested pytrees with every dtype,
 * a file built byte by byte from the spec, the byte layout we write, and clear errors on
 * mismatched or corrupt input.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Array, Aval, array, makeJaxpr, registerPytreeNode, type DType } from "@wax/tracer";
import {
  SerialisationError,
  deserialiseLeaves,
  serialiseLeaves,
  tensorName,
  treeDeserialiseLeaves,
  treeSerialiseLeaves,
} from "../src/serialise";

class Pair {
  constructor(
    readonly left: unknown,
    readonly right: unknown,
    readonly tag: string,
  ) {}
}
registerPytreeNode(Pair, {
  flatten: (p: Pair) => [[p.left, p.right], p.tag],
  unflatten: (tag, [l, r]) => new Pair(l, r, tag as string),
  keys: () => [
    { kind: "attr", name: "left" },
    { kind: "attr", name: "right" },
  ],
});

const fn = (x: number) => x + 1;

function sample() {
  return {
    norm1: {
      weight: array([
        [1.5, -2.25],
        [3e-8, Infinity],
      ]),
      bias: array([NaN, -0]),
    },
    layers: [
      { bias: array([1, -2, 2147483647], { dtype: "int32" }), scale: array(4294967295, { dtype: "uint32" }) },
      {
        mask: array([true, false, true]),
        w64: array([Math.PI, 1e-300], { dtype: "float64" }),
        empty: array([], { dtype: "float32", shape: [0, 3] }),
      },
    ],
    pair: new Pair(array([7]), null, "static"),
    inference: false,
    p: 0.25,
    negZero: -0,
    big: -Infinity,
    name: "kept from like",
    activation: fn,
  };
}

/** A like tree with the same structure and different values everywhere. */
function zerosLikeSample() {
  const z = (x: Array) =>
    array(new (x.data.constructor as new (n: number) => ArrayLike<number>)(x.size) as never, { dtype: x.dtype, shape: x.shape });
  const s = sample();
  return {
    norm1: { weight: z(s.norm1.weight), bias: z(s.norm1.bias) },
    layers: [
      { bias: z(s.layers[0]!.bias!), scale: z(s.layers[0]!.scale!) },
      { mask: z(s.layers[1]!.mask!), w64: z(s.layers[1]!.w64!), empty: z(s.layers[1]!.empty!) },
    ],
    pair: new Pair(array([0]), null, "static"),
    inference: true,
    p: 0,
    negZero: 1,
    big: 0,
    name: "like's name",
    activation: Math.abs,
  };
}

function expectSameArray(a: unknown, b: Array) {
  expect(a).toBeInstanceOf(Array);
  const x = a as Array;
  expect(x.dtype).toBe(b.dtype);
  expect(x.shape).toEqual(b.shape);
  expect([...x.data].map((v) => (Object.is(v, -0) ? "-0" : String(v)))).toEqual(
    [...b.data].map((v) => (Object.is(v, -0) ? "-0" : String(v))),
  );
}

describe("round trips", () => {
  it("restores every array (all dtypes, NaN, -0, inf, empty), booleans and numbers from the bytes; other leaves come from like", () => {
    const s = sample();
    const out = deserialiseLeaves(serialiseLeaves(s), zerosLikeSample());
    expectSameArray(out.norm1.weight, s.norm1.weight);
    expectSameArray(out.norm1.bias, s.norm1.bias);
    expectSameArray(out.layers[0]!.bias, s.layers[0]!.bias!);
    expectSameArray(out.layers[0]!.scale, s.layers[0]!.scale!);
    expectSameArray(out.layers[1]!.mask, s.layers[1]!.mask!);
    expectSameArray(out.layers[1]!.w64, s.layers[1]!.w64!);
    expectSameArray(out.layers[1]!.empty, s.layers[1]!.empty!);
    expect(out.pair).toBeInstanceOf(Pair);
    expectSameArray(out.pair.left, s.pair.left as Array);
    expect(out.pair.right).toBeNull();
    expect(out.inference).toBe(false);
    expect(out.p).toBe(0.25);
    expect(Object.is(out.negZero, -0)).toBe(true);
    expect(out.big).toBe(-Infinity);
    expect(out.name).toBe("like's name");
    expect(out.activation).toBe(Math.abs);
  });

  it("accepts Avals as shape/dtype specs in like", () => {
    const out = deserialiseLeaves(serialiseLeaves({ w: array([[1, 2, 3]]) }), { w: new Aval([1, 3], "float32") });
    expect((out.w as unknown as Array).toArray()).toEqual([[1, 2, 3]]);
  });

  it("writes and reads files, adding .safetensors when the name has no extension", () => {
    const dir = mkdtempSync(join(tmpdir(), "wax-serialise-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const written = treeSerialiseLeaves(join(dir, "model"), sample());
    expect(written).toBe(join(dir, "model.safetensors"));
    expect(readFileSync(written).byteLength).toBe(serialiseLeaves(sample()).byteLength);
    const out = treeDeserialiseLeaves(join(dir, "model"), zerosLikeSample());
    expectSameArray(out.norm1.weight, sample().norm1.weight);
    expect(out.inference).toBe(false);
    const explicit = treeSerialiseLeaves(join(dir, "w.st"), { a: array([1]) });
    expect(explicit).toBe(join(dir, "w.st"));
  });
});

describe("without a filesystem", () => {
  it("the file functions point to the byte-level ones", () => {
    const spy = vi.spyOn(process, "getBuiltinModule").mockReturnValue(undefined as never);
    try {
      expect(() => treeSerialiseLeaves("x.safetensors", { a: array([1]) })).toThrow(
        /treeSerialiseLeaves: no filesystem in this environment — use serialiseLeaves\(tree\)/,
      );
      expect(() => treeDeserialiseLeaves("x.safetensors", { a: array([1]) })).toThrow(/treeDeserialiseLeaves: no filesystem/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("the bytes follow the safetensors spec", () => {
  it("8-byte LE header length, space-padded JSON header, offsets relative to the data section", () => {
    const bytes = serialiseLeaves({ b: array([1, 2], { dtype: "int32" }), a: { x: array([0.5]) }, flag: true });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeLessThanOrEqual(n);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    const header = JSON.parse(text);
    // leaves in flattening order (object keys sorted): a.x, b; flag is metadata
    expect(header).toEqual({
      __metadata__: { flag: "true" },
      "a.x": { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "I32", shape: [2], data_offsets: [4, 12] },
    });
    const data = bytes.subarray(8 + n);
    expect(data.byteLength).toBe(12);
    expect(new DataView(data.buffer, data.byteOffset).getFloat32(0, true)).toBe(0.5);
    expect(new DataView(data.buffer, data.byteOffset).getInt32(8, true)).toBe(2);
  });

  it("names tensors by key path: fields and keys by name, list positions by index", () => {
    expect(
      tensorName([
        { kind: "attr", name: "norm1" },
        { kind: "attr", name: "weight" },
      ]),
    ).toBe("norm1.weight");
    expect(
      tensorName([
        { kind: "key", name: "layers" },
        { kind: "index", index: 0 },
        { kind: "key", name: "bias" },
      ]),
    ).toBe("layers.0.bias");
    expect(tensorName([])).toBe("");
  });
});

/** Builds a safetensors file by hand from the spec: header object and raw data bytes. */
function handBuilt(header: object, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) while (json.length % 8 !== 0) json += " ";
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("reading a file written by another tool", () => {
  it("reads a hand-built file with unordered offsets, F64/U32/BOOL and metadata with extra keys", () => {
    const data = new Uint8Array(8 + 8 + 3 + 4);
    const dv = new DataView(data.buffer);
    dv.setFloat64(0, -1.5, true); // w64 at [0, 8)
    dv.setFloat32(8, 2.5, true); // "encoder.layers.0.weight" [2] at [8, 16)
    dv.setFloat32(12, -3, true);
    data.set([1, 0, 1], 16); // mask at [16, 19)
    dv.setUint32(19, 3000000000, true); // count at [19, 23), unaligned
    const bytes = handBuilt(
      {
        "encoder.layers.0.weight": { dtype: "F32", shape: [2], data_offsets: [8, 16] },
        count: { dtype: "U32", shape: [], data_offsets: [19, 23] },
        mask: { dtype: "BOOL", shape: [3], data_offsets: [16, 19] },
        w64: { dtype: "F64", shape: [1, 1], data_offsets: [0, 8] },
        __metadata__: { format: "pt", inference: "true" },
      },
      data,
      false,
    );
    const like = {
      encoder: { layers: [{ weight: new Aval([2], "float32") }] },
      count: new Aval([], "uint32"),
      mask: new Aval([3], "bool"),
      w64: new Aval([1, 1], "float64"),
      inference: false,
    };
    const out = deserialiseLeaves(bytes, like) as unknown as {
      encoder: { layers: { weight: Array }[] };
      count: Array;
      mask: Array;
      w64: Array;
      inference: boolean;
    };
    expect(out.encoder.layers[0]!.weight.toArray()).toEqual([2.5, -3]);
    expect(out.count.toArray()).toBe(3000000000);
    expect(out.mask.toArray()).toEqual([true, false, true]);
    expect(out.w64.toArray()).toEqual([[-1.5]]);
    expect(out.inference).toBe(true);
  });
});

describe("errors", () => {
  const bytes = serialiseLeaves({ layers: [{ weight: array([[1, 2, 3]]), bias: array([1, 2], { dtype: "int32" }) }], inference: false });

  it("a shape mismatch names the tensor and both shapes", () => {
    const like = {
      layers: [
        {
          weight: array([
            [1, 2],
            [3, 4],
          ]),
          bias: array([0, 0], { dtype: "int32" }),
        },
      ],
      inference: false,
    };
    expect(() => deserialiseLeaves(bytes, like)).toThrow(SerialisationError);
    expect(() => deserialiseLeaves(bytes, like)).toThrow(
      /tensor 'layers\.0\.weight' is F32\[1,3\] in the file but F32\[2,2\] \(f32\[2,2\]\) in like \(a different shape\)/,
    );
  });

  it("a dtype mismatch names the tensor and both dtypes", () => {
    const like = { layers: [{ weight: array([[1, 2, 3]]), bias: array([0, 0]) }], inference: false };
    expect(() => deserialiseLeaves(bytes, like)).toThrow(
      /tensor 'layers\.0\.bias' is I32\[2\] in the file but F32\[2\] \(f32\[2\]\) in like \(a different dtype\)/,
    );
  });

  it("a missing tensor, an extra tensor and a missing metadata entry are structure errors", () => {
    const more = { layers: [{ weight: array([[1, 2, 3]]), bias: array([0, 0], { dtype: "int32" }), scale: array([1]) }], inference: false };
    expect(() => deserialiseLeaves(bytes, more)).toThrow(
      /the file has no tensor 'layers\.0\.scale' for f32\[1\] \(it has 'layers\.0\.bias', 'layers\.0\.weight'\)/,
    );
    const fewer = { layers: [{ weight: array([[1, 2, 3]]) }], inference: false };
    expect(() => deserialiseLeaves(bytes, fewer)).toThrow(/the file has tensors that like does not: 'layers\.0\.bias'/);
    const flag = { layers: [{ weight: array([[1, 2, 3]]), bias: array([0, 0], { dtype: "int32" }) }], inference: false, p: 0.5 };
    expect(() => deserialiseLeaves(bytes, flag)).toThrow(/no metadata entry 'p' for the number leaf/);
    const wrongType = { layers: [{ weight: array([[1, 2, 3]]), bias: array([0, 0], { dtype: "int32" }) }], inference: 1 };
    expect(() => deserialiseLeaves(bytes, wrongType)).toThrow(/metadata 'inference' is "false" but like has a number there/);
  });

  it("corrupt headers and data are rejected with what is wrong", () => {
    const like = { w: array([1, 2]) };
    expect(() => deserialiseLeaves(new Uint8Array(5), like)).toThrow(
      /not a valid safetensors file: 5 bytes, shorter than the 8-byte header length/,
    );
    const truncated = serialiseLeaves(like).subarray(0, 20);
    expect(() => deserialiseLeaves(truncated, like)).toThrow(/the header length is \d+ bytes but only 12 follow/);
    const garbage = handBuilt({}, new Uint8Array(0));
    garbage.set(new TextEncoder().encode("{nojson "), 8);
    expect(() => deserialiseLeaves(garbage, like)).toThrow(/the header is not UTF-8 JSON/);
    expect(() => deserialiseLeaves(handBuilt([1, 2] as unknown as object, new Uint8Array(0)), like)).toThrow(
      /the header is not a JSON object/,
    );
    expect(() => deserialiseLeaves(handBuilt({ w: { dtype: "F32", shape: [2] } }, new Uint8Array(8)), like)).toThrow(
      /the entry of tensor 'w' is malformed.*data_offsets/,
    );
    expect(() => deserialiseLeaves(handBuilt({ w: { dtype: "F32", shape: [2], data_offsets: [0, 16] } }, new Uint8Array(8)), like)).toThrow(
      /data_offsets \[0, 16\] outside the 8-byte data section/,
    );
    expect(() => deserialiseLeaves(handBuilt({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), like)).toThrow(
      /needs 12 bytes but its data_offsets span 8/,
    );
    expect(() => deserialiseLeaves(handBuilt({ w: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), like)).toThrow(
      /dtype F16, which wax does not support/,
    );
    expect(() => deserialiseLeaves(handBuilt({ __metadata__: { a: 1 } }, new Uint8Array(0)), {})).toThrow(
      /"__metadata__" must map strings to strings/,
    );
  });

  it("colliding names, traced arrays and abstract leaves cannot be serialised", () => {
    expect(() => serialiseLeaves({ "a.b": array([1]), a: { b: array([2]) } })).toThrow(
      /\['a'\]\['b'\] and \['a\.b'\] both get the tensor name 'a\.b'|\['a\.b'\] and \['a'\]\['b'\] both get the tensor name 'a\.b'/,
    );
    expect(() => serialiseLeaves({ w: new Aval([2], "float32" as DType) })).toThrow(/abstract f32\[2\] with no data/);
    expect(() => makeJaxpr((x: Array) => (serialiseLeaves({ x }), x))(array([1]))).toThrow(
      /serialiseLeaves: the leaf 'x' is a traced f32\[1\] — serialise outside/,
    );
  });
});
