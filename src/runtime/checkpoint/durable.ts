/** Durable writes: data reaches the disk before a rename makes it visible. */
import * as fs from "node:fs";

/**
 * At most this many bytes per write: one `fs.writeSync` (and `fs.writeFileSync`, which makes
 * one) refuses more than 2 GiB with ERR_OUT_OF_RANGE, and BERT-large's Adam moments are 2.7 GB.
 */
const WRITE_CHUNK = 1 << 30;

/** Writes a file and flushes it to disk. */
export function writeFileDurably(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, Math.min(WRITE_CHUNK, bytes.length - done));
    fs.fsyncSync(fd);
  } catch (e) {
    throw withPath(e, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Best effort: flush a folder so a rename inside it survives a crash (not supported everywhere, e.g. Windows). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // not supported here: the rename itself is still atomic
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

/**
 * Replaces `file` atomically: the data goes to `file.tmp-PID`, reaches the disk, and is renamed
 * over `file`. A kill or a full disk leaves the old file whole; the temporary file is removed on
 * failure. The error is re-thrown with the file's path (a write through a descriptor has none).
 */
export function replaceFile(file: string, data: string | Uint8Array): void {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    writeFileDurably(temp, data);
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw withPath(e, file);
  }
}

/** `e` with `path` set when the operating system's error lacks one, so the message can say which file. */
export function withPath(e: unknown, file: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === "object" && typeof err.code === "string" && err.path === undefined) err.path = file;
  return e;
}
