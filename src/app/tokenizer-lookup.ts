/** Where the tokenizer.json of a checkpoint's run is, and reading one for a model. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ResolvedModel } from "../model/model.js";
import { loadTokenizer, TokenizerFormatError, type HfTokenizer } from "../runtime/tokenizers/index.js";
import { InputError } from "./input-error.js";
import { asInputErrors, INPUT_FILE_ERRORS } from "./user-errors.js";

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

/**
 * The tokenizer in `file`, refused (exit 1) unless its vocabulary is `model`'s. `named` is
 * how the message names the file (default: its path); `ofCheckpoint` names the model as the
 * checkpoint's.
 */
export function loadTokenizerFor(file: string, model: ResolvedModel, o: { named?: string; ofCheckpoint?: boolean } = {}): HfTokenizer {
  const tokenizer = asInputErrors(() => loadTokenizer(file), [TokenizerFormatError, ...INPUT_FILE_ERRORS]);
  if (tokenizer.vocabSize !== model.vocab) {
    const whose = o.ofCheckpoint ? "the checkpoint's model" : "model";
    throw new InputError(`${o.named ?? file} has ${tokenizer.vocabSize} tokens; ${whose} '${model.name}' has vocab ${model.vocab}`);
  }
  return tokenizer;
}
