/**
 * The lines of a UTF-8 text file, read a chunk at a time: a corpus of any size is never one
 * string in memory (V8 cannot make a string over 512 MB, and a whole file with its split
 * lines cost several times its size). Decoding is strict: the first byte sequence that is
 * not UTF-8, and any NUL byte (a binary file), is an error naming its line and column. A
 * leading BOM is dropped; CRLF and lone CR end lines as LF does.
 */
import { closeSync, readSync } from "node:fs";
import { badByteReason, FileReadError, firstInvalidUtf8, openRegularFile } from "../../io/read-file.js";

const CHUNK_BYTES = 1 << 20;
/** Longer lines are refused: a file without line ends would otherwise become one huge string. */
export const MAX_LINE_CHARS = 1 << 26;

/**
 * Yields each line of `path` (without its line end), in order, with its 1-based number.
 * `fail` makes the error thrown for a missing, unreadable or non-text file; its message
 * starts with the path.
 */
export function* textLines(path: string, fail: (message: string) => Error): Generator<{ text: string; line: number }> {
  let fd: number;
  try {
    // Only a regular file, checked on the opened descriptor (a FIFO or /dev/zero is refused).
    fd = openRegularFile(path, Number.MAX_SAFE_INTEGER).fd;
  } catch (e) {
    if (e instanceof FileReadError) throw fail(e.message);
    throw e;
  }
  try {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
    const buffer = new Uint8Array(CHUNK_BYTES);
    let line = 1;
    let pending = ""; // the current line's text so far
    let lastWasCR = false;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      } catch (e) {
        throw fail(`${path}: cannot read (${(e as Error).message})`);
      }
      const bytes = buffer.subarray(0, n);
      const nul = bytes.indexOf(0);
      let text: string;
      try {
        if (nul >= 0) throw new Error("NUL");
        text = decoder.decode(bytes, { stream: n > 0 });
      } catch {
        // Locate the problem: decode what comes before it to count lines and columns.
        const bad = nul >= 0 ? Math.min(nul, firstInvalidUtf8(bytes)) : firstInvalidUtf8(bytes);
        const before = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, bad));
        const lines = before.split(/\r\n?|\n/);
        const at = `${path}:${line + lines.length - 1}:${(lines.length === 1 ? pending.length : 0) + lines.at(-1)!.length + 1}`;
        throw fail(`${at}: ${badByteReason(bytes[bad]!)}`);
      }
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 && lastWasCR && i === start) {
          // The LF of a CRLF split across two chunks: that line already ended.
          start = i + 1;
          lastWasCR = false;
          continue;
        }
        lastWasCR = false;
        if (c === 10 || c === 13) {
          yield { text: pending + text.slice(start, i), line: line++ };
          pending = "";
          if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
          else if (c === 13 && i === text.length - 1) lastWasCR = true;
          start = i + 1;
        }
      }
      pending += text.slice(start);
      if (pending.length > MAX_LINE_CHARS)
        throw fail(
          `${path}:${line}: the line is longer than ${MAX_LINE_CHARS / 2 ** 20} M characters; a corpus has one sentence, paragraph or JSON object per line`,
        );
      if (n === 0) break;
    }
    if (pending.length > 0) yield { text: pending, line };
  } finally {
    closeSync(fd);
  }
}
