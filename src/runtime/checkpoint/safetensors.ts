/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors), in
 * pure Node with no tfjs dependency.
 *
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header] [byte buffer]
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets are
 * relative to the start of the byte buffer) plus an optional `__metadata__` map of strings.
 *
 * The reader is defensive: a truncated, corrupt or hostile file is always a `SafetensorsError`
 * whose message starts with the file's label and says what is wrong; it never crashes, hangs or
 * allocates more than the file itself (the header length is checked against the file size and
 * a 16 MiB cap, and its number of entries against a cap, before anything is decoded). Like
 * Hugging Face's reader, it requires the tensors to tile the byte buffer exactly: no
 * overlaps, no gaps, no trailing bytes.
 *
 * The writer reproduces Hugging Face's layout byte for byte: tensors ordered by descending dtype
 * alignment and then by name (for a single-dtype file that is simply name order), contiguous
 * offsets, `__metadata__` first, compact JSON, header padded with spaces to a multiple of 8.
 */
import * as fs from "node:fs";
import { dirname } from "node:path";
import { syncDirectory } from "./durable.js";
import { FileReadError, openRegularFile } from "../../io/read-file.js";
import { constants as bufferConstants } from "node:buffer";

export type DType = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian bytes, exactly as in the file (a view into the file's bytes when parsed). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Every problem with a safetensors file or tensor; the message starts with the file's label. */
export class SafetensorsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SafetensorsError";
  }
}

/**
 * The largest header accepted. Hugging Face's reader allows 100 MB, but parsing that much
 * JSON of empty tensors costs gigabytes; a BERT-large header is about 40 KB, and a header of
 * {@link MAX_TENSORS} tensors with long names fits easily.
 */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * The most tensors a header may list, counted on its bytes before it is parsed (bdl's
 * largest models have a few hundred; the largest sharded checkpoints a few thousand per file).
 */
export const MAX_TENSORS = 65_536;

const METADATA_KEY = "__metadata__";

/** Bytes per element. */
const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

/**
 * The position of each dtype in Hugging Face's `Dtype` enum ("increasing alignment order"); the
 * writer sorts tensors by descending rank, then by name.
 */
const DTYPE_RANK: Readonly<Record<DType, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  F16: 4,
  BF16: 5,
  I32: 6,
  F32: 7,
  F64: 8,
  I64: 9,
};

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, value);
}

/** Bytes per element of a dtype. */
export function dtypeSize(dtype: DType): number {
  return DTYPE_SIZE[dtype];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

function fail(label: string, message: string, cause?: unknown): never {
  throw new SafetensorsError(`${label}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Checks the u64 header length against the cap and the file size; returns it as a number. */
function checkHeaderLength(n: bigint, fileSize: number, label: string): number {
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(label, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
  const len = Number(n);
  if (len > fileSize - 8) {
    fail(label, `header length ${len} is larger than the ${fileSize - 8} bytes that follow it in the file (truncated or corrupt)`);
  }
  return len;
}

/**
 * An upper bound on the entries of the JSON object in `header`, from its bytes alone: the
 * commas directly inside the outermost braces, plus one. Stops counting past `limit`.
 */
function countTopLevelEntries(header: Uint8Array, limit: number): number {
  let depth = 0;
  let entries = 1;
  for (let i = 0; i < header.length && entries <= limit; i++) {
    const b = header[i]!;
    if (b === 0x22 /* " */) {
      // Skip the string, and any escaped character in it.
      for (i++; i < header.length && header[i] !== 0x22; i++) if (header[i] === 0x5c /* \ */) i++;
    } else if (b === 0x7b /* { */ || b === 0x5b /* [ */) depth++;
    else if (b === 0x7d /* } */ || b === 0x5d /* ] */) depth--;
    else if (b === 0x2c /* , */ && depth === 1) entries++;
  }
  return entries;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A short rendering of a header value for messages; bounded, so hostile nesting can't recurse deeply. */
function show(value: unknown, depth = 2): string {
  let s: string;
  if (value === null || typeof value !== "object") {
    s = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? JSON.stringify(value) : String(value);
  } else if (depth <= 0) {
    s = Array.isArray(value) ? "[...]" : "{...}";
  } else if (Array.isArray(value)) {
    const items = value.slice(0, 8).map((v) => show(v, depth - 1));
    s = `[${items.join(",")}${value.length > 8 ? ",..." : ""}]`;
  } else {
    const keys = Object.keys(value);
    const items = keys.slice(0, 4).map((k) => `${JSON.stringify(k)}:${show((value as Record<string, unknown>)[k], depth - 1)}`);
    s = `{${items.join(",")}${keys.length > 4 ? ",..." : ""}}`;
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `"name"` for messages, shortened if absurdly long. */
function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 197)}...` : name);
}

/**
 * Elements in `shape` times `size`, or `undefined` when that exceeds `limit` (so a hostile shape
 * can't overflow: every partial product is kept at or below `limit` ≤ 2^53).
 */
function byteLength(shape: readonly number[], size: number, limit: number): number | undefined {
  if (shape.some((d) => d === 0)) return 0;
  let bytes = size;
  for (const d of shape) {
    if (bytes > limit / d) return undefined;
    bytes *= d;
  }
  return bytes > limit ? undefined : bytes;
}

interface Span {
  name: string;
  begin: number;
  end: number;
}

/** Parses a whole safetensors file held in memory. `label` (usually the path) prefixes errors. */
export function parseSafetensors(bytes: Uint8Array, label: string): SafetensorsFile {
  if (bytes.length < 8) {
    fail(label, `file is ${bytes.length} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = checkHeaderLength(view.getBigUint64(0, true), bytes.length, label);
  const headerBytes = bytes.subarray(8, 8 + headerLen);
  if (headerBytes[0] !== 0x7b /* { */) {
    fail(label, `header must be a JSON object but does not start with '{' (corrupt or not a safetensors file)`);
  }

  // Bounded before parsing: JSON.parse of a header of a million empty tensors takes gigabytes.
  if (countTopLevelEntries(headerBytes, MAX_TENSORS + 1) > MAX_TENSORS + 1) {
    fail(label, `header lists more than ${MAX_TENSORS} tensors, more than bdl reads in one file (corrupt or not a checkpoint of a model)`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch (e) {
    fail(label, "header is not valid UTF-8", e);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(label, `header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!isPlainObject(header)) {
    fail(label, `header must be a JSON object, got ${Array.isArray(header) ? "an array" : show(header)}`);
  }

  const dataStart = 8 + headerLen;
  const bufferLen = bytes.length - dataStart;
  const metadata: [string, string][] = [];
  const spans: Span[] = [];
  const infos: { name: string; dtype: DType; shape: number[] }[] = [];

  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === METADATA_KEY) {
      if (!isPlainObject(value)) fail(label, `"${METADATA_KEY}" must be an object of strings, got ${show(value)}`);
      for (const key of Object.keys(value)) {
        const v = value[key];
        if (typeof v !== "string") {
          fail(label, `"${METADATA_KEY}" value for ${quoteName(key)} must be a string, got ${show(v)}`);
        }
        metadata.push([key, v]);
      }
      continue;
    }
    const where = `tensor ${quoteName(name)}`;
    if (!isPlainObject(value)) fail(label, `${where}: entry must be an object, got ${show(value)}`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (dtype === undefined) fail(label, `${where}: missing "dtype"`);
    if (shape === undefined) fail(label, `${where}: missing "shape"`);
    if (offsets === undefined) fail(label, `${where}: missing "data_offsets"`);
    if (!isDType(dtype)) {
      fail(label, `${where}: unknown dtype ${show(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(", ")})`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(label, `${where}: shape must be an array of non-negative integers, got ${show(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(label, `${where}: data_offsets must be two non-negative integers [begin, end], got ${show(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(label, `${where}: data_offsets [${begin}, ${end}] has begin after end`);
    if (end > bufferLen) {
      fail(label, `${where}: data_offsets [${begin}, ${end}] extend beyond the ${bufferLen}-byte data buffer (truncated or corrupt)`);
    }
    const size = DTYPE_SIZE[dtype];
    const expected = byteLength(shape as number[], size, Number.MAX_SAFE_INTEGER);
    if (expected !== end - begin) {
      const desc = expected === undefined ? "more than 2^53" : String(expected);
      fail(
        label,
        `${where}: shape [${(shape as number[]).join(", ")}] of ${dtype} (${size} bytes each) needs ${desc} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    spans.push({ name, begin, end });
    infos.push({ name, dtype, shape: (shape as number[]).slice() });
  }

  // The tensors must tile the data buffer exactly.
  const sorted = spans.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: Span | undefined;
  for (const s of sorted) {
    if (prev !== undefined && s.begin < covered) {
      fail(
        label,
        `tensors ${quoteName(prev.name)} [${prev.begin}, ${prev.end}] and ${quoteName(s.name)} [${s.begin}, ${s.end}] overlap in the data buffer`,
      );
    }
    if (s.begin > covered) {
      fail(label, `bytes [${covered}, ${s.begin}) of the data buffer are not covered by any tensor (gap before ${quoteName(s.name)})`);
    }
    covered = s.end;
    prev = s;
  }
  if (covered !== bufferLen) {
    fail(
      label,
      `the data buffer has ${bufferLen} bytes but the tensors cover only ${covered}: ${bufferLen - covered} trailing bytes not covered by any tensor (incomplete metadata or corrupt file)`,
    );
  }

  const tensors = new Map<string, TensorEntry>();
  for (let i = 0; i < infos.length; i++) {
    const info = infos[i]!;
    const span = spans[i]!;
    tensors.set(info.name, {
      name: info.name,
      dtype: info.dtype,
      shape: info.shape,
      data: bytes.subarray(dataStart + span.begin, dataStart + span.end),
    });
  }
  // Object.fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return { tensors, metadata: Object.fromEntries(metadata) };
}

/** Reads and parses a safetensors file; any problem (including I/O) is a `SafetensorsError`. */
export function readSafetensors(path: string): SafetensorsFile {
  let fd: number;
  let size: number;
  try {
    // Only a regular file is opened for reading, and never blocks (a FIFO would).
    ({ fd, size } = openRegularFile(path, bufferConstants.MAX_LENGTH));
  } catch (e) {
    if (e instanceof FileReadError) fail(path, e.reason, e);
    throw e;
  }
  try {
    if (size < 8) {
      fail(path, `file is ${size} bytes, shorter than the 8-byte header length (truncated or not a safetensors file)`);
    }
    // Check the header length before reading a (possibly huge) file that can't be valid.
    const prefix = new Uint8Array(8);
    readFully(fd, prefix, 0, path);
    checkHeaderLength(new DataView(prefix.buffer).getBigUint64(0, true), size, path);
    const bytes = new Uint8Array(size);
    bytes.set(prefix, 0);
    readFully(fd, bytes.subarray(8), 8, path);
    return parseSafetensors(bytes, path);
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // nothing useful to do
    }
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Fills `target` from `fd` at `position`; a short read means the file shrank while reading. */
function readFully(fd: number, target: Uint8Array, position: number, label: string): void {
  let done = 0;
  while (done < target.length) {
    let n: number;
    try {
      n = fs.readSync(fd, target, done, target.length - done, position + done);
    } catch (e) {
      fail(label, `read failed: ${errorMessage(e)}`, e);
    }
    if (n === 0) fail(label, `file ended after ${position + done} bytes while reading (it changed while being read)`);
    done += n;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

interface Prepared {
  header: Uint8Array; // u64 length + padded JSON
  ordered: TensorEntry[];
  dataBytes: number;
}

/** Validates the tensors and builds the header, in Hugging Face's order and layout. */
function prepare(tensors: Iterable<TensorEntry>, metadata: Record<string, string> | undefined, label: string): Prepared {
  const keyed: { t: TensorEntry; key: Uint8Array }[] = [];
  const seen = new Set<string>();
  for (const t of tensors) {
    const where = `tensor ${quoteName(String(t.name))}`;
    if (typeof t.name !== "string") fail(label, `${where}: name must be a string`);
    if (t.name === METADATA_KEY) fail(label, `a tensor cannot be named "${METADATA_KEY}"`);
    if (seen.has(t.name)) fail(label, `${where}: duplicate tensor name`);
    seen.add(t.name);
    if (!isDType(t.dtype)) fail(label, `${where}: unknown dtype ${show(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
      fail(label, `${where}: shape must be an array of non-negative integers, got ${show(t.shape)}`);
    }
    if (!(t.data instanceof Uint8Array)) fail(label, `${where}: data must be a Uint8Array`);
    const expected = byteLength(t.shape, DTYPE_SIZE[t.dtype], Number.MAX_SAFE_INTEGER);
    if (expected !== t.data.length) {
      fail(
        label,
        `${where}: shape [${t.shape.join(", ")}] of ${t.dtype} needs ${expected ?? "more than 2^53"} bytes but data has ${t.data.length}`,
      );
    }
    keyed.push({ t, key: utf8.encode(t.name) });
  }
  // Descending dtype alignment, then name by UTF-8 bytes (Rust's String order).
  keyed.sort((a, b) => DTYPE_RANK[b.t.dtype] - DTYPE_RANK[a.t.dtype] || compareBytes(a.key, b.key));

  const parts: string[] = [];
  const meta = metadata === undefined ? [] : Object.keys(metadata);
  if (meta.length > 0) {
    for (const k of meta) {
      const v = metadata![k];
      if (typeof v !== "string") fail(label, `metadata value for ${quoteName(k)} must be a string, got ${show(v)}`);
    }
    // JSON.stringify escapes exactly as serde_json does (quote, backslash, control characters).
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(Object.fromEntries(meta.map((k) => [k, metadata![k]])))}`);
  }
  let offset = 0;
  for (const { t } of keyed) {
    const end = offset + t.data.length;
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + padded);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  header.fill(0x20 /* space */, 8 + json.length);
  return { header, ordered: keyed.map((k) => k.t), dataBytes: offset };
}

/**
 * Serializes tensors in Hugging Face's layout: sorted (by descending dtype alignment, then
 * name), contiguous, `__metadata__` first (omitted when empty), header padded with spaces to a
 * multiple of 8.
 */
export function serializeSafetensors(tensors: Iterable<TensorEntry>, metadata?: Record<string, string>): Uint8Array {
  const { header, ordered, dataBytes } = prepare(tensors, metadata, "safetensors");
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let at = header.length;
  for (const t of ordered) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: the bytes go to `${path}.tmp-${pid}`, which is fsynced
 * and then renamed over `path`, so `path` always holds either the old or the new content. The
 * temp file is removed on failure.
 */
export function writeSafetensors(path: string, tensors: Iterable<TensorEntry>, metadata?: Record<string, string>): void {
  const { header, ordered } = prepare(tensors, metadata, path);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    writeFully(fd, header);
    for (const t of ordered) writeFully(fd, t.data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    fail(path, `cannot write: ${errorMessage(e)}`, e);
  }
  syncDirectory(dirname(path));
}

function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
}

// ---------------------------------------------------------------------------------------------
// Float conversion
// ---------------------------------------------------------------------------------------------

let halfTable: Float32Array | undefined;

/** All 65536 float16 values as float32 (exact: every half is representable as a float). */
function halfToFloatTable(): Float32Array {
  if (halfTable !== undefined) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0)
      table[h] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) table[h] = frac === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = table;
  return table;
}

function elementCount(entry: TensorEntry, label: string): number {
  const size = DTYPE_SIZE[entry.dtype];
  const bytes =
    Array.isArray(entry.shape) && entry.shape.every(isCount) ? byteLength(entry.shape, size, Number.MAX_SAFE_INTEGER) : undefined;
  if (bytes === undefined || bytes !== entry.data.length) {
    fail(label, `shape ${show(entry.shape)} of ${entry.dtype} does not match the ${entry.data.length} bytes of data`);
  }
  return bytes / size;
}

/**
 * The tensor's values as float32: F32 copied (whatever the data's alignment), F16, BF16 and F64
 * converted (F64 rounds to nearest). Integer and bool dtypes are an error.
 */
export function toFloat32(entry: TensorEntry): Float32Array {
  const label = `tensor ${quoteName(entry.name)}`;
  if (entry.dtype !== "F32" && entry.dtype !== "F16" && entry.dtype !== "BF16" && entry.dtype !== "F64") {
    fail(label, `cannot convert dtype ${show(entry.dtype)} to float32 (only F32, F16, BF16 and F64)`);
  }
  const n = elementCount(entry, label);
  const src = entry.data;
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case "F32": {
      if (LITTLE_ENDIAN) {
        new Uint8Array(out.buffer).set(src);
      } else {
        const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      }
      break;
    }
    case "F16": {
      const table = halfToFloatTable();
      for (let i = 0; i < n; i++) out[i] = table[src[2 * i]! | (src[2 * i + 1]! << 8)]!;
      break;
    }
    case "BF16": {
      // A bfloat16 is the top half of a float32: place its bits there (NaN payloads survive).
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = ((src[2 * i]! | (src[2 * i + 1]! << 8)) << 16) >>> 0;
      break;
    }
    case "F64": {
      const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      break;
    }
  }
  return out;
}

/** An F32 entry holding a copy of `values` (little-endian); the shape must match its length. */
export function fromFloat32(name: string, shape: number[], values: Float32Array): TensorEntry {
  const label = `tensor ${quoteName(name)}`;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(label, `shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  const bytes = byteLength(shape, 4, Number.MAX_SAFE_INTEGER);
  if (bytes !== values.length * 4) {
    fail(
      label,
      `shape [${shape.join(", ")}] has ${bytes === undefined ? "more than 2^51" : bytes / 4} elements but ${values.length} values were given`,
    );
  }
  let data: Uint8Array;
  if (LITTLE_ENDIAN) {
    // A view, not a copy: the entry is written before its values change (a checkpoint is
    // written synchronously), and a copy of every tensor doubled a save's memory.
    data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  } else {
    data = new Uint8Array(values.length * 4);
    const dv = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  }
  return { name, dtype: "F32", shape: shape.slice(), data };
}
