/**
 * The one way bdl reads a file a user names: `.bdl` sources, corpora, task files, tokenizers
 * and JSON files.
 *
 * - Only regular files are read. The file is opened first (non-blocking, so opening a FIFO
 *   cannot hang) and then checked on the open descriptor, so `/dev/zero`, `/dev/urandom`, a
 *   FIFO, a socket or a directory is refused before a byte is read, and a path swapped after
 *   a check cannot slip something else in.
 * - The size limit is checked on the open descriptor and again while reading, so a file
 *   that grows (or reports size 0, as `/proc` files do) is still cut off at the limit.
 * - Text is strict UTF-8: the first invalid byte, or a NUL byte (binary data), is refused
 *   with its line and column rather than replaced by U+FFFD, which would silently corrupt a
 *   file that is written back (`fmt --write`). A leading byte order mark is dropped.
 *
 * Every refusal is a {@link FileReadError} whose message starts with the path.
 */
import * as fs from "node:fs";

/** Where in a file a text problem is: 1-based line and column (UTF-16 units), and the offset in `text`. */
export interface TextPosition {
  line: number;
  column: number;
  /** Offset into {@link FileReadError.text}. */
  offset: number;
}

export class FileReadError extends Error {
  constructor(
    readonly path: string,
    /** What is wrong, without the path: "is a directory, not a file". */
    readonly reason: string,
    /** For a text problem: where it is, and the file's text decoded leniently (for showing the line). */
    readonly position?: TextPosition,
    readonly text?: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}${position ? `:${position.line}:${position.column}` : ""}: ${reason}`, options);
    this.name = "FileReadError";
  }
}

/** Why a file that is not a regular file cannot be read, in words. */
function notRegular(st: fs.Stats): string {
  if (st.isDirectory()) return "is a directory, not a file";
  if (st.isCharacterDevice()) return "is a character device (a terminal or a stream such as /dev/zero), not a regular file";
  if (st.isBlockDevice()) return "is a block device, not a regular file";
  if (st.isFIFO()) return "is a named pipe (FIFO), not a regular file";
  if (st.isSocket()) return "is a socket, not a regular file";
  return "is not a regular file";
}

function describeOpenError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "too many levels of symbolic links";
  return `cannot open (${code ?? (e as Error).message})`;
}

/**
 * Opens `path` for reading and returns the descriptor with the file's size, or throws a
 * `FileReadError` when it is not a regular file or is larger than `maxBytes`.
 * The caller closes the descriptor.
 */
export function openRegularFile(path: string, maxBytes: number): { fd: number; size: number } {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new FileReadError(path, describeOpenError(e), undefined, undefined, { cause: e });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(path, notRegular(st));
    if (st.size > maxBytes) throw new FileReadError(path, `is ${st.size} bytes, more than the ${maxBytes} bytes allowed`);
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof FileReadError) throw e;
    throw new FileReadError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, undefined, undefined, {
      cause: e,
    });
  }
}

/** The bytes of a regular file of at most `maxBytes` bytes. */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  const { fd, size } = openRegularFile(path, maxBytes);
  try {
    // Read to the end rather than trust the size, up to one byte past the limit, so a file
    // that grows (or a /proc file that says 0) is neither cut short nor read without bound.
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw new FileReadError(path, `is more than the ${maxBytes} bytes allowed`);
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) return buffer.subarray(0, length);
      length += n;
    }
  } catch (e) {
    if (e instanceof FileReadError) throw e;
    throw new FileReadError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, undefined, undefined, {
      cause: e,
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Decodes strict UTF-8, or throws a `FileReadError` at the first invalid sequence or NUL
 * byte. `path` names the file in the message.
 */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  const nul = text === undefined ? -1 : text.indexOf("\0");
  if (text !== undefined && nul < 0) return text;
  // Only on failure: find the byte, then its line and column in the valid text before it.
  const bad = text === undefined ? firstInvalidUtf8(bytes) : Buffer.byteLength(text.slice(0, nul), "utf8") + (hasBom(bytes) ? 3 : 0);
  const before = new TextDecoder("utf-8").decode(bytes.subarray(0, bad));
  const lineStart = before.lastIndexOf("\n") + 1;
  const position: TextPosition = {
    line: countNewlines(before) + 1,
    column: before.length - lineStart + 1,
    offset: before.length,
  };
  throw new FileReadError(path, badByteReason(bytes[bad]!), position, new TextDecoder("utf-8").decode(bytes));
}

/** A regular file of at most `maxBytes` bytes, as strict UTF-8 text without a byte order mark. */
export function readTextFile(path: string, maxBytes: number): string {
  return decodeUtf8(readRegularFile(path, maxBytes), path);
}

/** The largest JSON file read (tokenizers, configs, run inputs); far above any real one. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** A JSON file: `readTextFile` then `JSON.parse`; invalid JSON is a `FileReadError` too. */
export function readJsonFile(path: string, maxBytes: number = MAX_JSON_BYTES): unknown {
  const text = readTextFile(path, maxBytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileReadError(path, `not valid JSON: ${(e as Error).message}`, undefined, undefined, { cause: e });
  }
}

/** What is wrong with a text file whose first bad byte is `byte` (a NUL, or not UTF-8). */
export function badByteReason(byte: number): string {
  return byte === 0
    ? "contains a NUL byte: this is binary data, not UTF-8 text"
    : `byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} is not valid UTF-8 (the file must be UTF-8 text)`;
}

function hasBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Index of the first byte that does not start a valid UTF-8 sequence (or of a NUL byte). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0) return i;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: sequence length and the allowed range of the second byte (excludes
    // overlong forms, UTF-16 surrogates and code points above U+10FFFF).
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
