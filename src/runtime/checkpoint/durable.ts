/** Durable writes: data reaches the disk before a rename makes it visible. */
import * as fs from "node:fs";

/** Writes a file and flushes it to disk. */
export function writeFileDurably(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
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
