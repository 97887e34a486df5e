/** Where the tokenizer.json of a checkpoint's run is. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InputError } from "./input-error.js";

/**
 * The tokenizer.json of the run a checkpoint belongs to: `CKPT/tokenizer.json` (a run folder,
 * or a checkpoint folder that carries its own), or the run folder two levels above a
 * `checkpoints/step-N` folder. `explicit` (a --tokenizer flag) wins. Throws an InputError
 * naming the places it looked.
 */
export function findTokenizer(ckpt: string, checkpointDir: string, explicit: string | undefined): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new InputError(`${explicit}: no such tokenizer file`);
    return explicit;
  }
  const candidates = [
    join(ckpt, "tokenizer.json"),
    join(checkpointDir, "tokenizer.json"),
    join(dirname(dirname(resolve(checkpointDir))), "tokenizer.json"),
  ];
  const unique = [...new Set(candidates.map((c) => resolve(c)))];
  for (const c of unique) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not there: try the next place
    }
  }
  throw new InputError(`no tokenizer.json for ${ckpt}: looked in ${unique.join(", ")}; give one with --tokenizer FILE`);
}
