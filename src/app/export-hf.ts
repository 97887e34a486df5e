/**
 * A checkpoint of this project written as a Hugging Face folder, `config.json` +
 * `model.safetensors`, that transformers loads into the family's class with no missing or
 * unexpected keys. Refuses a model whose layout no transformers class has.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadValidCheckpoint } from "./checkpoint.js";
import { writeFileDurably, writeFolderAtomically } from "../runtime/checkpoint/checkpoint.js";
import { hfNaming } from "../model/hf/names.js";
import { hfArchitecture } from "../model/hf/family.js";
import { configProblem, hfConfig } from "../model/hf/config.js";
import { weightsToHf } from "../runtime/checkpoint/hf-weights.js";
import { writeSafetensors } from "../runtime/checkpoint/safetensors.js";
import { InputError } from "./input-error.js";
import { findTokenizer, loadTokenizerFor } from "./tokenizer-lookup.js";
import { hfTokenizerFiles, type HfTokenizerFiles } from "../model/hf/tokenizer-config.js";
import type { ResolvedModel } from "../model/model.js";
import { asInputErrors } from "./user-errors.js";

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
const OUR_FILES = new Set(["config.json", "model.safetensors", ...TOKENIZER_FILES]);

export interface ExportHfOptions {
  /** A checkpoint folder, or a run folder meaning its latest checkpoint. */
  checkpoint: string;
  /** The Hugging Face folder to write. */
  out: string;
  /** The tokenizer.json to write with it; absent: the run's, where the checkpoint has one. */
  tokenizer?: string;
}

export interface ExportHfResult {
  /** The transformers class the folder is for. */
  architecture: string;
  tensors: number;
  /** The checkpoint folder read. */
  from: string;
  /** The tokenizer.json written with the weights, or null when the checkpoint's run has none. */
  tokenizer: string | null;
}

export function exportHf(o: ExportHfOptions): ExportHfResult {
  const ckpt = asInputErrors(() => loadValidCheckpoint(o.checkpoint));
  const model = ckpt.model;
  const naming = hfNaming(model);
  const refuse = (why: string): never => {
    throw new InputError(`cannot export model '${model.name}' as a Hugging Face ${naming.family} checkpoint: ${why}`);
  };
  if (naming.unrepresentable) refuse(naming.unrepresentable);
  const arch = hfArchitecture(model, naming.family);
  if (typeof arch === "string") refuse(arch);
  const { name: architecture, base } = arch as { name: string; base: boolean };
  const problem = configProblem(model, naming.family);
  if (problem) refuse(problem);

  const config = hfConfig(model, naming.family, architecture);
  const tokenizer = tokenizerToWrite(o, ckpt.dir, model);
  // Base-model classes (BertModel, …) store their tensors without the class prefix.
  const { entries } = asInputErrors(() => weightsToHf(ckpt.weights, model, { withoutHeads: base }));
  asInputErrors(() =>
    writeFolderAtomically(
      o.out,
      (tmp) => {
        writeSafetensors(path.join(tmp, "model.safetensors"), entries, { format: "pt" });
        writeFileDurably(path.join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
        if (tokenizer) {
          writeFileDurably(path.join(tmp, "tokenizer.json"), tokenizer.text);
          writeFileDurably(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokenizer.files.tokenizerConfig, null, 2) + "\n");
          writeFileDurably(path.join(tmp, "special_tokens_map.json"), JSON.stringify(tokenizer.files.specialTokensMap, null, 2) + "\n");
        }
      },
      (existing) => {
        const others = fs.readdirSync(existing).filter((f) => !OUR_FILES.has(f));
        return others.length === 0
          ? null
          : `it holds files other than a Hugging Face folder's config, weights and tokenizer (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
      },
    ),
  );
  return { architecture, tensors: entries.length, from: ckpt.dir, tokenizer: tokenizer?.path ?? null };
}

/**
 * The run's tokenizer, checked against the model, with the files transformers reads beside it;
 * null when none is given and the checkpoint's run has none (an imported checkpoint).
 */
function tokenizerToWrite(
  o: ExportHfOptions,
  checkpointDir: string,
  model: ResolvedModel,
): { path: string; text: string; files: HfTokenizerFiles } | null {
  let file: string;
  try {
    file = findTokenizer(o.checkpoint, checkpointDir, o.tokenizer);
  } catch (e) {
    if (o.tokenizer === undefined && e instanceof InputError) return null;
    throw e;
  }
  const tokenizer = loadTokenizerFor(file, model, { ofCheckpoint: true });
  const files = hfTokenizerFiles(model, (id) => tokenizer.idToToken(id));
  return { path: file, text: fs.readFileSync(file, "utf8"), files };
}
