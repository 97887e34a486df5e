import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  fromFloat32,
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
  type DType,
  type TensorEntry,
} from "../../../src/runtime/checkpoint/safetensors.js";
import { mulberry32 } from "../../../src/runtime/data/random.js";

const GOLDENS = fileURLToPath(new URL("../../fixtures/goldens/", import.meta.url));
const LABEL = "/models/x.safetensors";

// ----- helpers ------------------------------------------------------------------------------

const enc = new TextEncoder();

function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A file from a header (JSON text or a value to stringify) and a data buffer of `data` bytes. */
function craft(header: string | object, data: number | Uint8Array = 0, headerLength?: bigint): Uint8Array {
  const json = enc.encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data).map((_, i) => i & 0xff) : data;
  return concat(u64le(headerLength ?? BigInt(json.length)), json, body);
}

function bytesOf(values: number[], ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): Uint8Array {
  const a = new ctor(values);
  return new Uint8Array(a.buffer.slice(0));
}

function u16le(...vals: number[]): Uint8Array {
  const out = new Uint8Array(vals.length * 2);
  vals.forEach((v, i) => {
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  });
  return out;
}

function entry(name: string, dtype: DType, shape: number[], data: Uint8Array): TensorEntry {
  return { name, dtype, shape, data };
}

function parseError(bytes: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(bytes, LABEL);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    const err = e as SafetensorsError;
    expect(err.message.startsWith(`${LABEL}: `)).toBe(true);
    return err;
  }
  throw new Error("expected parseSafetensors to throw");
}

function headerOf(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

/** A small valid file: several dtypes, metadata. */
function sample(): { tensors: TensorEntry[]; metadata: Record<string, string> } {
  const i64 = new Uint8Array(24);
  new DataView(i64.buffer).setBigInt64(0, 1n, true);
  new DataView(i64.buffer).setBigInt64(8, -2n, true);
  new DataView(i64.buffer).setBigInt64(16, 9007199254740993n, true);
  return {
    tensors: [
      entry("encoder.layer.0.weight", "F32", [2, 3], bytesOf([1, 2, 3, 4, 5, 6])),
      entry("embeddings.position_ids", "I64", [1, 3], i64),
      entry("encoder.layer.0.bias", "F32", [3], bytesOf([-1, 0.5, 1e-8])),
      entry("pooler.half", "F16", [2], u16le(0x3c00, 0xc000)),
      entry("mask", "BOOL", [3], new Uint8Array([1, 0, 1])),
      entry("scalar", "F32", [], bytesOf([42])),
      entry("empty", "F32", [0, 4], new Uint8Array(0)),
    ],
    metadata: { format: "pt" },
  };
}

// ----- round trip and Hugging Face compatibility ----------------------------------------------

describe("serialize / parse round trip", () => {
  it("gives back the same names, dtypes, shapes, bytes and metadata", () => {
    const { tensors, metadata } = sample();
    const bytes = serializeSafetensors(tensors, metadata);
    const file = parseSafetensors(bytes, LABEL);
    expect(file.metadata).toEqual({ format: "pt" });
    expect([...file.tensors.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());
    for (const t of tensors) {
      const got = file.tensors.get(t.name)!;
      expect(got.name).toBe(t.name);
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
      // A view into the file, not a copy.
      expect(got.data.buffer).toBe(bytes.buffer);
    }
    // Re-serializing is a fixed point.
    expect(serializeSafetensors(file.tensors.values(), file.metadata)).toEqual(bytes);
  });

  it("lays out like Hugging Face: dtype alignment then name, contiguous, header padded to 8", () => {
    const { tensors, metadata } = sample();
    const bytes = serializeSafetensors(tensors, metadata);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = headerOf(bytes);
    expect(header).toMatch(/^\{"__metadata__":\{"format":"pt"\},/);
    expect(header.trimEnd().length).toBeGreaterThan(n - 8);
    expect(header.slice(header.trimEnd().length)).toMatch(/^ *$/);
    const parsed = JSON.parse(header) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const names = Object.keys(parsed).filter((k) => k !== "__metadata__");
    expect(names).toEqual([
      "embeddings.position_ids", // I64
      "empty", // F32, by name
      "encoder.layer.0.bias",
      "encoder.layer.0.weight",
      "scalar",
      "pooler.half", // F16
      "mask", // BOOL
    ]);
    let offset = 0;
    for (const name of names) {
      const [b, e] = parsed[name]!.data_offsets;
      expect(b).toBe(offset);
      offset = e;
    }
    expect(bytes.length).toBe(8 + n + offset);
  });

  it("matches Hugging Face's own serializer test vectors", () => {
    // From safetensors' Rust tests (test_serialization, test_empty).
    const data = bytesOf([0, 1, 2, 3, 4, 5]);
    const out = serializeSafetensors([entry("attn.0", "F32", [1, 2, 3], data)]);
    expect(Array.from(out.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerOf(out)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(Array.from(out.subarray(72))).toEqual(Array.from(data));

    expect(Array.from(serializeSafetensors([]))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = serializeSafetensors([], { framework: "pt" });
    expect(Array.from(withMeta.subarray(0, 8))).toEqual([40, 0, 0, 0, 0, 0, 0, 0]);
    expect(headerOf(withMeta)).toBe('{"__metadata__":{"framework":"pt"}}     ');
    expect(parseSafetensors(withMeta, LABEL).metadata).toEqual({ framework: "pt" });
    expect(parseSafetensors(serializeSafetensors([]), LABEL).tensors.size).toBe(0);
  });

  it("escapes names like serde_json and sorts them by UTF-8 bytes", () => {
    const t = (name: string) => entry(name, "U8", [1], new Uint8Array([7]));
    const names = ['q"uote', "back\\slash", "tab\there", "ctl\u0001", "é", "\u{1F600}", "\uFFFD", "a/b"];
    const bytes = serializeSafetensors(names.map(t));
    const header = headerOf(bytes);
    expect(header).toContain('"q\\"uote"');
    expect(header).toContain('"tab\\there"');
    expect(header).toContain('"ctl\\u0001"');
    expect(header).toContain('"a/b"');
    expect(header).toContain('"é"');
    const order = Object.keys(JSON.parse(header) as object);
    const byUtf8 = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(order).toEqual(byUtf8);
    expect([...parseSafetensors(bytes, LABEL).tensors.keys()].sort()).toEqual([...names].sort());
  });

  for (const model of ["bert", "albert"]) {
    it(`re-serializes the Hugging Face-written ${model} checkpoint byte for byte`, () => {
      const file = path.join(GOLDENS, model, "model.safetensors");
      const original = new Uint8Array(fs.readFileSync(file));
      const parsed = readSafetensors(file);
      expect(parsed.metadata).toEqual({ format: "pt" });
      expect(parsed.tensors.size).toBeGreaterThan(10);
      const again = serializeSafetensors(parsed.tensors.values(), parsed.metadata);
      expect(again.length).toBe(original.length);
      expect(Buffer.compare(Buffer.from(again), Buffer.from(original))).toBe(0);
      // The F32 values decode, and round-trip through fromFloat32.
      for (const t of parsed.tensors.values()) {
        expect(t.dtype).toBe("F32");
        const values = toFloat32(t);
        expect(values.every(Number.isFinite)).toBe(true);
        expect(fromFloat32(t.name, t.shape, values).data).toEqual(new Uint8Array(t.data));
      }
    });
  }
});

// ----- float conversion -----------------------------------------------------------------------

describe("toFloat32 / fromFloat32", () => {
  it("converts F16 exactly", () => {
    const halves = [0x3c00, 0xc000, 0x3800, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x0000, 0x3555];
    const expected = [1, -2, 0.5, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, -0, 0, 0.333251953125];
    const out = toFloat32(entry("h", "F16", [halves.length], u16le(...halves)));
    expect(Array.from(out)).toEqual(expected);
    expect(Object.is(out[9], -0)).toBe(true);
    expect(toFloat32(entry("h", "F16", [2], u16le(0x7e00, 0xfc01))).every(Number.isNaN)).toBe(true);
  });

  it("converts BF16 exactly", () => {
    const halves = [0x3f80, 0xc000, 0x3f00, 0x0001, 0x007f, 0x7f80, 0xff80, 0x8000, 0x4049];
    const expected = [1, -2, 0.5, 2 ** -133, 127 * 2 ** -133, Infinity, -Infinity, -0, 3.140625];
    const out = toFloat32(entry("b", "BF16", [3, 3], u16le(...halves)));
    expect(Array.from(out)).toEqual(expected);
    expect(Number.isNaN(toFloat32(entry("b", "BF16", [1], u16le(0x7fc0)))[0])).toBe(true);
  });

  it("copies F32 from an unaligned offset and converts F64", () => {
    const values = [1.5, -2.25, 3e-39, 1e30];
    const backing = new Uint8Array(1 + 16 + 3);
    backing.set(bytesOf(values), 1);
    const data = backing.subarray(1, 17);
    expect(data.byteOffset % 4).toBe(1);
    const out = toFloat32(entry("f", "F32", [2, 2], data));
    expect(Array.from(out)).toEqual(Array.from(new Float32Array(values)));
    // A copy: changing the file's bytes doesn't change the result.
    data.fill(0);
    expect(out[0]).toBe(1.5);

    // A real file whose data starts at an odd offset (header length 9 is legal).
    const header = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = header.length % 2 === 0 ? `${header} ` : header; // 8 + odd: data at an odd offset
    const file = parseSafetensors(craft(padded, bytesOf([7, -8])), LABEL);
    const t = file.tensors.get("t")!;
    expect(t.data.byteOffset % 4).not.toBe(0);
    expect(Array.from(toFloat32(t))).toEqual([7, -8]);

    const f64 = toFloat32(entry("d", "F64", [3], bytesOf([0.1, -1e300, 2.5], Float64Array)));
    expect(Array.from(f64)).toEqual([Math.fround(0.1), -Infinity, 2.5]);
  });

  it("rejects integer dtypes and inconsistent entries", () => {
    expect(() => toFloat32(entry("ids", "I64", [1], new Uint8Array(8)))).toThrow(SafetensorsError);
    expect(() => toFloat32(entry("ids", "I64", [1], new Uint8Array(8)))).toThrow(/"ids".*I64/);
    expect(() => toFloat32(entry("m", "BOOL", [1], new Uint8Array(1)))).toThrow(/BOOL/);
    expect(() => toFloat32(entry("w", "F32", [3], new Uint8Array(8)))).toThrow(/does not match/);
  });

  it("fromFloat32 views little-endian bytes without copying them, and checks the shape", () => {
    const v = new Float32Array([1, 2, 3, 4, 5, 6]);
    const e = fromFloat32("w", [2, 3], v.subarray(0, 6));
    expect(e).toMatchObject({ name: "w", dtype: "F32", shape: [2, 3] });
    expect(Array.from(e.data.subarray(0, 4))).toEqual([0, 0, 0x80, 0x3f]);
    // A view: saving a checkpoint no longer holds a second copy of every tensor.
    expect(e.data.buffer).toBe(v.buffer);
    v[0] = 9;
    expect(toFloat32(e)[0]).toBe(9);
    expect(fromFloat32("s", [], new Float32Array([3])).data.length).toBe(4);
    expect(() => fromFloat32("w", [4], v)).toThrow(/"w".*4 elements but 6/);
    expect(() => fromFloat32("w", [-1, -6], v)).toThrow(SafetensorsError);
  });
});

// ----- validation ----------------------------------------------------------------------------

describe("parseSafetensors rejects corrupt and hostile files", () => {
  const ok = { t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };

  it("accepts the baseline used below", () => {
    expect(parseSafetensors(craft(ok, 8), LABEL).tensors.get("t")!.shape).toEqual([2]);
  });

  it("rejects a file shorter than 8 bytes", () => {
    expect(parseError(new Uint8Array(0)).message).toMatch(/0 bytes, shorter than the 8-byte header length/);
    expect(parseError(new Uint8Array(7)).message).toMatch(/7 bytes, shorter than/);
  });

  it("checks the header length against the file and the cap before decoding", () => {
    expect(parseError(craft(ok, 8, 1000n)).message).toMatch(/header length 1000 is larger than the \d+ bytes that follow/);
    expect(parseError(craft(ok, 8, BigInt(MAX_HEADER_BYTES + 1))).message).toMatch(
      new RegExp(`header length ${MAX_HEADER_BYTES + 1} exceeds the ${MAX_HEADER_BYTES}-byte limit`),
    );
    for (const n of [2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n]) {
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      expect(parseError(craft(ok, 8, n)).message).toMatch(new RegExp(`header length ${n} exceeds`));
      expect(performance.now() - t0).toBeLessThan(50);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10_000_000);
    }
    // Zero-length header.
    expect(parseError(craft("", 0)).message).toMatch(/JSON object/);
  });

  it("counts the tensors a header lists before parsing it: a million empty tensors once cost gigabytes", () => {
    const entries = Array.from({ length: MAX_TENSORS + 1 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    // Not valid JSON at the end: were it parsed first, that would be the error reported.
    const tooMany = `{${entries.join(",")},"x":}`;
    expect(parseError(craft(tooMany, 0)).message).toBe(
      `${LABEL}: header lists more than ${MAX_TENSORS} tensors, more than bdl reads in one file (corrupt or not a checkpoint of a model)`,
    );
    // Commas inside names, shapes and nested objects are not entries.
    const justEnough = `{${entries.slice(0, MAX_TENSORS).join(",")},"__metadata__":{"a,b":"c,d,{,[,\\",","e":"f"}}`;
    expect(parseSafetensors(craft(justEnough, 0), LABEL).tensors.size).toBe(MAX_TENSORS);
  });

  it("rejects a header that is not UTF-8, not JSON, or not an object", () => {
    const bad = concat(
      enc.encode('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\xff'),
      new Uint8Array([0xff, 0xfe]),
      enc.encode('":1}'),
    );
    expect(parseError(concat(u64le(BigInt(bad.length)), bad)).message).toMatch(/not valid UTF-8/);
    expect(parseError(craft("{dtype: F32}", 0)).message).toMatch(/not valid JSON/);
    expect(parseError(craft('{"t": {"dtype": "F32"', 0)).message).toMatch(/not valid JSON/);
    expect(parseError(craft("[1, 2]", 0)).message).toMatch(/JSON object/);
    expect(parseError(craft('"str"', 0)).message).toMatch(/JSON object/);
    expect(parseError(craft(" {}", 0)).message).toMatch(/JSON object/);
    expect(parseError(craft("\uFEFF{}", 0)).message).toMatch(/JSON object/);
    expect(parseError(craft("{} x", 0)).message).toMatch(/not valid JSON/);
    // Deeply nested JSON: an error, not a stack overflow.
    const deep = `{"t":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    expect(parseError(craft(deep, 0)).message).toMatch(/tensor "t": entry must be an object|not valid JSON/);
  });

  it("rejects entries that are not objects or miss fields", () => {
    expect(parseError(craft({ t: 5 }, 0)).message).toMatch(/tensor "t": entry must be an object, got 5/);
    expect(parseError(craft({ t: [1] }, 0)).message).toMatch(/entry must be an object/);
    expect(parseError(craft({ t: null }, 0)).message).toMatch(/entry must be an object, got null/);
    expect(parseError(craft({ t: { shape: [2], data_offsets: [0, 8] } }, 8)).message).toMatch(/tensor "t": missing "dtype"/);
    expect(parseError(craft({ t: { dtype: "F32", data_offsets: [0, 8] } }, 8)).message).toMatch(/missing "shape"/);
    expect(parseError(craft({ t: { dtype: "F32", shape: [2] } }, 8)).message).toMatch(/missing "data_offsets"/);
  });

  it("rejects unknown dtypes", () => {
    for (const dtype of ["F8_E4M3", "f32", "Q4_0", 4, null, "__proto__", "toString"]) {
      const msg = parseError(craft({ t: { dtype, shape: [2], data_offsets: [0, 8] } }, 8)).message;
      expect(msg).toMatch(/tensor "t": unknown dtype/);
    }
  });

  it("rejects shapes that are not arrays of non-negative safe integers", () => {
    for (const shape of [2, "2", [-1], [1.5], [2 ** 53], ["2"], [null], [[2]], { 0: 2 }]) {
      const msg = parseError(craft({ t: { dtype: "F32", shape, data_offsets: [0, 8] } }, 8)).message;
      expect(msg).toMatch(/tensor "t": shape must be an array of non-negative integers/);
    }
  });

  it("rejects a shape whose size disagrees with the offsets, without overflowing", () => {
    expect(parseError(craft({ t: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, 20)).message).toMatch(
      /tensor "t": shape \[2, 3\] of F32 \(4 bytes each\) needs 24 bytes but data_offsets \[0, 20\] span 20/,
    );
    expect(parseError(craft({ t: { dtype: "I64", shape: [3], data_offsets: [0, 12] } }, 12)).message).toMatch(/needs 24 bytes/);
    // Products that overflow 2^53 (and 2^64: 2^32 * 2^32 * 2^2 = 0 mod 2^64).
    for (const shape of [
      [2 ** 52, 2 ** 52],
      [2 ** 32, 2 ** 32, 4],
      [2 ** 26, 2 ** 26, 2 ** 26, 2 ** 26, 1],
      [9007199254740991, 2],
    ]) {
      const msg = parseError(craft({ t: { dtype: "F32", shape, data_offsets: [0, 0] } }, 0)).message;
      expect(msg).toMatch(/needs more than 2\^53 bytes/);
    }
    // A zero dimension makes the tensor empty whatever the others are.
    const empty = parseSafetensors(craft({ t: { dtype: "F32", shape: [9007199254740991, 0], data_offsets: [0, 0] } }, 0), LABEL);
    expect(empty.tensors.get("t")!.data.length).toBe(0);
  });

  it("rejects bad data_offsets", () => {
    const msg = (data_offsets: unknown, data = 8) => parseError(craft({ t: { dtype: "U8", shape: [8], data_offsets } }, data)).message;
    for (const bad of [[0], [0, 8, 9], "0,8", [0, "8"], [0.5, 8.5], [-8, 0], [0, 2 ** 53], null, { 0: 0, 1: 8 }]) {
      expect(msg(bad)).toMatch(/tensor "t": data_offsets must be two non-negative integers/);
    }
    expect(msg([8, 0])).toMatch(/data_offsets \[8, 0\] has begin after end/);
    expect(msg([0, 8], 4)).toMatch(/data_offsets \[0, 8\] extend beyond the 4-byte data buffer/);
    expect(msg([100, 108], 8)).toMatch(/extend beyond/);
  });

  it("rejects overlapping tensors, gaps and trailing bytes", () => {
    const u8 = (b: number, e: number) => ({ dtype: "U8", shape: [e - b], data_offsets: [b, e] });
    expect(parseError(craft({ a: u8(0, 8), b: u8(4, 12) }, 12)).message).toMatch(/tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/);
    // Listed out of order in the header: still found.
    expect(parseError(craft({ b: u8(4, 12), a: u8(0, 8) }, 12)).message).toMatch(/"a" \[0, 8\] and "b" \[4, 12\] overlap/);
    expect(parseError(craft({ a: u8(0, 8), b: u8(0, 8) }, 8)).message).toMatch(/overlap/);
    expect(parseError(craft({ a: u8(0, 8), z: u8(4, 4) }, 8)).message).toMatch(/overlap/);
    expect(parseError(craft({ a: u8(0, 4), b: u8(8, 12) }, 12)).message).toMatch(
      /bytes \[4, 8\) of the data buffer are not covered by any tensor \(gap before "b"\)/,
    );
    expect(parseError(craft({ b: u8(4, 8) }, 8)).message).toMatch(/bytes \[0, 4\) .* not covered/);
    expect(parseError(craft({ a: u8(0, 8) }, 12)).message).toMatch(
      /data buffer has 12 bytes but the tensors cover only 8: 4 trailing bytes/,
    );
    expect(parseError(craft({}, 1)).message).toMatch(/1 trailing bytes/);
    // Zero-length tensors may sit anywhere on a boundary; tensors may be listed in any order.
    const fine = parseSafetensors(craft({ z: u8(8, 8), b: u8(4, 8), e: u8(0, 0), a: u8(0, 4), y: u8(4, 4) }, 8), LABEL);
    expect([...fine.tensors.values()].map((t) => t.data.length)).toEqual([0, 4, 0, 4, 0]);
    expect(Array.from(fine.tensors.get("b")!.data)).toEqual([4, 5, 6, 7]);
  });

  it("checks __metadata__ and treats special names as plain keys", () => {
    expect(parseError(craft({ __metadata__: "pt" }, 0)).message).toMatch(/"__metadata__" must be an object of strings, got "pt"/);
    expect(parseError(craft({ __metadata__: ["pt"] }, 0)).message).toMatch(/"__metadata__" must be an object of strings/);
    expect(parseError(craft({ __metadata__: null }, 0)).message).toMatch(/"__metadata__" must be an object of strings/);
    expect(parseError(craft({ __metadata__: { format: 1 } }, 0)).message).toMatch(
      /"__metadata__" value for "format" must be a string, got 1/,
    );
    expect(parseError(craft({ __metadata__: { a: { b: "c" } } }, 0)).message).toMatch(/value for "a" must be a string/);

    const header =
      '{"__metadata__":{"__proto__":"x","constructor":"y"},"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"hasOwnProperty":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}';
    const file = parseSafetensors(craft(header, 2), LABEL);
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect(Object.keys(file.metadata)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(file.metadata, "__proto__")?.value).toBe("x");
    expect([...file.tensors.keys()]).toEqual(["__proto__", "hasOwnProperty"]);
    // And it round-trips byte for byte (up to HF ordering, which this header already has).
    const again = serializeSafetensors(file.tensors.values(), file.metadata);
    expect(headerOf(again).trimEnd()).toBe(header);
  });

  // Asserted as a ratio, not a time, so it holds on a slow or loaded machine: four times the
  // entries must cost well under the sixteen times a quadratic reader would.
  it("parses a 10,000-entry header, entries in any order, in time linear in its entries", () => {
    const header = (n: number) => {
      const tensors: TensorEntry[] = [];
      for (let i = 0; i < n; i++)
        tensors.push(entry(`layer.${i}.w`, i % 3 === 0 ? "I32" : "F32", [1, 2], new Uint8Array(8).fill(i & 0xff)));
      const bytes = serializeSafetensors(tensors, { format: "pt" });
      // Reverse the header's entry order so the reader has to sort by offset.
      const parsed = JSON.parse(headerOf(bytes)) as Record<string, unknown>;
      const reversed = Object.fromEntries(Object.entries(parsed).reverse());
      return [bytes, craft(reversed, bytes.subarray(8 + headerOf(bytes).length))];
    };
    const fastest = (files: Uint8Array[]) => {
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const t0 = performance.now();
        for (const b of files) parseSafetensors(b, LABEL);
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const large = header(10_000);
    for (const b of large) {
      const file = parseSafetensors(b, LABEL);
      expect(file.tensors.size).toBe(10_000);
      expect(Array.from(file.tensors.get("layer.4321.w")!.data)).toEqual(new Array(8).fill(4321 & 0xff));
    }
    const small = fastest(header(2_500));
    const big = fastest(large);
    expect(big / small, `2,500 entries: ${small.toFixed(1)} ms, 10,000: ${big.toFixed(1)} ms`).toBeLessThan(8);
  });
});

describe("serializeSafetensors rejects inconsistent input", () => {
  const t = (over: Partial<TensorEntry>): TensorEntry => ({ name: "w", dtype: "F32", shape: [2], data: new Uint8Array(8), ...over });
  const err = (tensors: TensorEntry[], metadata?: Record<string, string>) => {
    try {
      serializeSafetensors(tensors, metadata);
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      return (e as Error).message;
    }
    throw new Error("expected serializeSafetensors to throw");
  };

  it("checks names, dtypes, shapes, sizes and metadata", () => {
    expect(err([t({}), t({})])).toMatch(/tensor "w": duplicate tensor name/);
    expect(err([t({ name: "__metadata__" })])).toMatch(/cannot be named "__metadata__"/);
    expect(err([t({ dtype: "Q4" as DType })])).toMatch(/unknown dtype "Q4"/);
    expect(err([t({ shape: [-2] })])).toMatch(/shape must be an array of non-negative integers/);
    expect(err([t({ shape: [3] })])).toMatch(/needs 12 bytes but data has 8/);
    expect(err([t({})], { a: 1 } as unknown as Record<string, string>)).toMatch(/metadata value for "a" must be a string/);
    // Empty metadata is omitted, like Hugging Face's writer with no metadata.
    expect(headerOf(serializeSafetensors([t({})], {}))).not.toContain("__metadata__");
  });
});

// ----- fuzzing ---------------------------------------------------------------------------------

describe("fuzzing", () => {
  it("never throws anything but SafetensorsError, and never slowly", () => {
    const { tensors, metadata } = sample();
    const base = serializeSafetensors(tensors, metadata);
    const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
    const rand = mulberry32(0xbd1);
    const int = (n: number) => Math.floor(rand() * n);
    const special = enc.encode('{}[],:"0123456789-.eE \\u');
    let parsedOk = 0;
    let rejected = 0;
    let slowest = 0;

    for (let iter = 0; iter < 4000; iter++) {
      let b: Uint8Array = base.slice();
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) {
        switch (int(8)) {
          case 0: // flip bits anywhere
            if (b.length > 0) {
              const i = int(b.length);
              b[i] = b[i]! ^ (1 << int(8));
            }
            break;
          case 1: // overwrite a header byte with a JSON-significant one
            if (b.length > 8) b[8 + int(Math.min(headerLen, b.length - 8))] = special[int(special.length)]!;
            break;
          case 2: // overwrite a header byte with anything
            if (b.length > 8) b[8 + int(Math.min(headerLen, b.length - 8))] = int(256);
            break;
          case 3: // truncate
            b = b.slice(0, int(b.length + 1));
            break;
          case 4: // append
            b = concat(
              b,
              new Uint8Array(1 + int(16)).map(() => int(256)),
            );
            break;
          case 5: {
            // change the header length
            if (b.length < 8) break;
            const choices = [BigInt(headerLen + int(17) - 8), BigInt(int(b.length * 2)), 2n ** BigInt(int(64)), 2n ** 64n - 1n];
            new DataView(b.buffer).setBigUint64(0, choices[int(choices.length)]!, true);
            break;
          }
          case 6: {
            // change a digit in the header (shapes and offsets)
            const text = headerOf(b.length >= 8 + headerLen ? b : base);
            const digits = [...text.matchAll(/\d/g)];
            const d = digits[int(digits.length)];
            if (d !== undefined && 8 + d.index < b.length) b[8 + d.index] = 0x30 + int(10);
            break;
          }
          case 7: {
            // splice a chunk of the header elsewhere
            if (b.length <= 16) break;
            const from = 8 + int(Math.min(headerLen, b.length - 8));
            const len = 1 + int(12);
            const to = 8 + int(Math.min(headerLen, b.length - 8));
            b.copyWithin(to, from, Math.min(from + len, b.length));
            break;
          }
        }
      }
      const check = (input: Uint8Array): number => {
        const t0 = performance.now();
        try {
          const file = parseSafetensors(input, LABEL);
          parsedOk++;
          // Whatever parsed is self-consistent and decodable.
          let total = 0;
          for (const t of file.tensors.values()) {
            total += t.data.length;
            if (t.dtype === "F32" || t.dtype === "F16" || t.dtype === "BF16" || t.dtype === "F64") toFloat32(t);
          }
          const n = Number(new DataView(input.buffer).getBigUint64(0, true));
          expect(8 + n + total).toBe(input.length);
        } catch (e) {
          if (!(e instanceof SafetensorsError) || !e.message.startsWith(`${LABEL}: `)) {
            throw new Error(`mutation ${iter} threw ${String(e)}`, { cause: e });
          }
          rejected++;
        }
        return performance.now() - t0;
      };
      let dt = check(b);
      // Re-time a slow case once, so a GC pause or a busy machine isn't mistaken for a hang.
      if (dt > 50) dt = check(b);
      slowest = Math.max(slowest, dt);
      if (dt > 50) throw new Error(`mutation ${iter} took ${dt.toFixed(1)} ms`);
    }
    expect(rejected).toBeGreaterThan(1000);
    expect(parsedOk).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(50);
  });
});

// ----- files ------------------------------------------------------------------------------------

describe("readSafetensors / writeSafetensors", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bdl-safetensors-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes a file that reads back, leaving no temp file", () => {
    const { tensors, metadata } = sample();
    const file = path.join(dir, "model.safetensors");
    writeSafetensors(file, tensors, metadata);
    expect(fs.readdirSync(dir)).toEqual(["model.safetensors"]);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(serializeSafetensors(tensors, metadata));
    const back = readSafetensors(file);
    expect(back.metadata).toEqual(metadata);
    expect(Array.from(toFloat32(back.tensors.get("encoder.layer.0.weight")!))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("replaces the target by rename: old content stays whole until the new file is complete", () => {
    const file = path.join(dir, "model.safetensors");
    const old = [fromFloat32("w", [2], new Float32Array([1, 2]))];
    writeSafetensors(file, old);
    const oldBytes = fs.readFileSync(file);
    // A hard link keeps the old inode: were the target rewritten in place it would change too.
    fs.linkSync(file, path.join(dir, "old-link"));
    const next = [fromFloat32("w", [3], new Float32Array([3, 4, 5])), fromFloat32("v", [1], new Float32Array([6]))];
    writeSafetensors(file, next);
    expect(fs.readFileSync(path.join(dir, "old-link"))).toEqual(oldBytes);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(serializeSafetensors(next));
    expect(fs.readdirSync(dir).sort()).toEqual(["model.safetensors", "old-link"]);

    // Invalid tensors: nothing is written, the old file stays.
    expect(() => writeSafetensors(file, [{ ...next[0]!, shape: [7] }])).toThrow(SafetensorsError);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(serializeSafetensors(next));
    // An iterable that fails midway: same.
    function* failing(): Generator<TensorEntry> {
      yield next[0]!;
      throw new Error("boom");
    }
    expect(() => writeSafetensors(file, failing())).toThrow("boom");
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(serializeSafetensors(next));
    expect(fs.readdirSync(dir).sort()).toEqual(["model.safetensors", "old-link"]);
  });

  it("removes the temp file when the rename fails", () => {
    const target = path.join(dir, "occupied");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "keep"), "x");
    let caught: unknown;
    try {
      writeSafetensors(target, [fromFloat32("w", [1], new Float32Array([1]))]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SafetensorsError);
    expect((caught as Error).message.startsWith(`${target}: cannot write`)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["occupied"]);
    expect(() => writeSafetensors(path.join(dir, "missing", "m.safetensors"), [])).toThrow(SafetensorsError);
  });

  it("reports unreadable, short and oversized files as SafetensorsError", () => {
    const missing = path.join(dir, "nope.safetensors");
    expect(() => readSafetensors(missing)).toThrow(SafetensorsError);
    expect(() => readSafetensors(missing)).toThrow(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: no such file`));
    expect(() => readSafetensors(dir)).toThrow(SafetensorsError);

    const short = path.join(dir, "short.safetensors");
    fs.writeFileSync(short, new Uint8Array(5));
    expect(() => readSafetensors(short)).toThrow(/short\.safetensors: file is 5 bytes, shorter than/);

    // A large sparse file whose header length is absurd is rejected before its body is read.
    const big = path.join(dir, "big.safetensors");
    fs.writeFileSync(big, u64le(2n ** 63n));
    fs.truncateSync(big, 1 << 30);
    const t0 = performance.now();
    expect(() => readSafetensors(big)).toThrow(/big\.safetensors: header length 9223372036854775808 exceeds/);
    expect(performance.now() - t0).toBeLessThan(200);

    const corrupt = path.join(dir, "corrupt.safetensors");
    fs.writeFileSync(corrupt, craft({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4));
    expect(() => readSafetensors(corrupt)).toThrow(/corrupt\.safetensors: tensor "t": data_offsets \[0, 8\] extend beyond/);
  });
});
