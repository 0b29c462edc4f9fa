/**
 * Hostile safetensors files: headers whose tensors overlap, leave bytes uncovered, repeat a key
 * or point outside the data are refused with a `SerialisationError` saying what; a key named
 * `__proto__` stays an ordinary entry.
 */
import { describe, expect, it } from "vitest";
import { array } from "@wax/tracer";
import { SerialisationError, deserialiseLeaves, serialiseLeaves } from "../src/serialise";

/** A safetensors file from header text (not an object: so keys can repeat) and data bytes. */
function fileOf(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
const like = { a: array([0, 0]), b: array([0, 0]) };
const refused = (bytes: Uint8Array, message: RegExp) => {
  expect(() => deserialiseLeaves(bytes, like)).toThrow(SerialisationError);
  expect(() => deserialiseLeaves(bytes, like)).toThrow(message);
};

describe("deserialiseLeaves refuses hostile headers", () => {
  it("a well-formed file with the same layout loads (the baseline of the cases below)", () => {
    const ok = fileOf(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
      f32(1, 2, 3, 4),
    );
    const out = deserialiseLeaves(ok, like);
    expect(out.a.tolist()).toEqual([1, 2]);
    expect(out.b.tolist()).toEqual([3, 4]);
  });

  it("overlapping data_offsets", () => {
    const bytes = fileOf(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
      f32(1, 2, 3),
    );
    refused(bytes, /not a valid safetensors file: tensor 'b' \(data_offsets \[4, 12\]\) overlaps tensor 'a', which ends at 8 — /);
  });

  it("two tensors on the same bytes", () => {
    const bytes = fileOf(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      f32(1, 2),
    );
    refused(bytes, /overlaps tensor 'a'/);
  });

  it("bytes no tensor covers: a gap, and trailing bytes", () => {
    refused(
      fileOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}',
        f32(1, 2, 0, 3, 4),
      ),
      /bytes \[8, 12\) of the data section belong to no tensor/,
    );
    refused(
      fileOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        f32(1, 2, 3, 4, 5),
      ),
      /bytes \[16, 20\) of the data section belong to no tensor/,
    );
    refused(
      fileOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}',
        f32(0, 1, 2, 3, 4),
      ),
      /bytes \[0, 4\) of the data section belong to no tensor/,
    );
  });

  it("a repeated key, at the top level, inside an entry and in the metadata", () => {
    const a = '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
    const b = '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}';
    refused(fileOf(`{${a},${b},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, f32(1, 2, 3, 4)), /the header repeats the key "a"/);
    refused(
      fileOf(`{${a},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[8,16]}}`, f32(1, 2, 3, 4)),
      /the header repeats the key "data_offsets"/,
    );
    // The same key written with an escape is the same key.
    refused(fileOf(`{${a},${b},"\\u0061":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(1, 2, 3, 4)), /repeats the key "a"/);
    refused(fileOf(`{"__metadata__":{"x":"1","x":"2"},${a},${b}}`, f32(1, 2, 3, 4)), /repeats the key "x"/);
    // Equal keys in different objects, and keys inside strings and arrays, are fine.
    const fine = fileOf(`{"__metadata__":{"a":"{\\"a\\":1,\\"a\\":2}","b":"[\\"a\\",\\"a\\"]"},${a},${b}}`, f32(1, 2, 3, 4));
    expect(deserialiseLeaves(fine, like).b.tolist()).toEqual([3, 4]);
  });

  it("offsets out of range", () => {
    refused(
      fileOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,4294967304]}}',
        f32(1, 2, 3, 4),
      ),
      /tensor 'b' has data_offsets \[8, 4294967304\] outside the 16-byte data section/,
    );
    refused(
      fileOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        f32(1, 2, 3, 4),
      ),
      /tensor 'a' has data_offsets \[8, 0\] outside/,
    );
    refused(
      fileOf('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}', f32(1, 2)),
      /the entry of tensor 'b' is malformed/,
    );
  });

  it("a key named __proto__ is an ordinary (here: unused) tensor, not a prototype", () => {
    const bytes = fileOf(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"__proto__":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}',
      f32(1, 2, 3, 4),
    );
    refused(bytes, /the file has tensors that like does not: '__proto__'/);
    expect(({} as { dtype?: unknown }).dtype).toBeUndefined();
    const meta = fileOf(
      '{"__metadata__":{"__proto__":"true"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
      f32(1, 2, 3, 4),
    );
    expect(deserialiseLeaves(meta, like).a.tolist()).toEqual([1, 2]);
    // A leaf named like an Object.prototype member finds no metadata there.
    expect(() => deserialiseLeaves(meta, { ...like, toString: false })).toThrow(/no metadata entry 'toString'/);
  });

  it("what serialiseLeaves writes always tiles its data section", () => {
    const tree = { x: array([1, 2, 3]), e: array([]), y: array([[true, false]]), n: 3 };
    expect(deserialiseLeaves(serialiseLeaves(tree), tree).x.tolist()).toEqual([1, 2, 3]);
  });
});
