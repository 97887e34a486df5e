/** Test inputs written to a fresh temporary folder, and the error a call must throw. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect } from "vitest";

/** A folder removed after the test file, and `file(name, content)` writing a uniquely named file in it. */
export function tempFiles(prefix: string): { dir: string; file: (name: string, content: string | Buffer) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let fileNo = 0;
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, `${fileNo++}-${name}`);
    writeFileSync(path, content);
    return path;
  };
  return { dir, file };
}

/** The error `f` throws, checked to be an instance of `kind`. */
export function thrown<E extends Error>(kind: new (...args: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return e as E;
  }
  throw new Error(`expected a ${kind.name}`);
}
