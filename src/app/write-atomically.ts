/** Writing a file the user asked for, so that an interrupted run never leaves half of it. */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { InputError } from "./input-error.js";

/** Write then rename, so an interrupted run never leaves a half-written file under the real name. */
export function writeAtomically(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new InputError(`cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
