/**
 * A checkpoint of this project written as a Hugging Face folder, `config.json` +
 * `model.safetensors`, that transformers loads into the family's class with no missing or
 * unexpected keys. Refuses a model whose layout no transformers class has. A model with a
 * generator is ELECTRA's two checkpoints, written as `discriminator/` (ElectraForPreTraining)
 * and `generator/` (ElectraForMaskedLM) in one folder, each with the shared embeddings. A
 * fine-tuned classifier (`bdlc finetune --out`) is the family's `…ForSequenceClassification`
 * with its labels, where that class's head is the classifier's (model/hf/classifier.ts), refused otherwise.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadValidCheckpoint } from "./checkpoint.js";
import { writeFileDurably, writeFolderAtomically } from "../runtime/checkpoint/checkpoint.js";
import { electraPair, hfNaming } from "../model/hf/names.js";
import { hfArchitecture } from "../model/hf/family.js";
import { configProblem, hfClassifierConfig, hfConfig } from "../model/hf/config.js";
import { classifierEncoder, hfClassifierNaming } from "../model/hf/classifier.js";
import { FAMILY_NAME } from "../model/hf/family.js";
import { headOf, isClassifier, readClassifier } from "../runtime/checkpoint/classifier.js";
import type { LoadedCheckpoint } from "../runtime/checkpoint/checkpoint.js";
import { weightsToHf, weightsToHfNames, weightsToHfPair, type WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { writeSafetensors, type TensorEntry } from "../runtime/checkpoint/safetensors.js";
import { InputError } from "./input-error.js";
import { HF_PAIR_FOLDERS } from "./hf-folder.js";
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

/** One Hugging Face checkpoint folder written. */
export interface ExportedFolder {
  /** The folder: `out`, or one of its pair's subfolders. */
  dir: string;
  /** The transformers class the folder is for. */
  architecture: string;
  tensors: number;
}

export interface ExportHfResult {
  /** `out` itself; for a model with a generator, `out/discriminator` then `out/generator`. */
  folders: ExportedFolder[];
  /** The checkpoint folder read. */
  from: string;
  /** The tokenizer.json written with the weights, or null when the checkpoint's run has none. */
  tokenizer: string | null;
}

/** What one Hugging Face folder holds before it is written. */
interface HfFolderContents {
  architecture: string;
  config: Record<string, unknown>;
  entries: TensorEntry[];
}

type Tokenizer = { path: string; text: string; files: HfTokenizerFiles };

export function exportHf(o: ExportHfOptions): ExportHfResult {
  const ckpt = asInputErrors(() => loadValidCheckpoint(o.checkpoint));
  const model = ckpt.model;
  if (isClassifier(ckpt)) return exportClassifier(o, ckpt);
  if (model.generator) return exportPair(o, ckpt.dir, model, ckpt.weights);

  const { architecture, base, config } = hfClassAndConfig(model, `model '${model.name}'`);
  const tokenizer = tokenizerToWrite(o, ckpt.dir, model);
  // Base-model classes (BertModel, …) store their tensors without the class prefix.
  const { entries } = asInputErrors(() => weightsToHf(ckpt.weights, model, { withoutHeads: base }));
  asInputErrors(() =>
    writeFolderAtomically(o.out, (tmp) => fillHfFolder(tmp, { architecture, config, entries }, tokenizer), otherFilesProblem),
  );
  return { folders: [{ dir: o.out, architecture, tensors: entries.length }], from: ckpt.dir, tokenizer: tokenizer?.path ?? null };
}

/** A fine-tuned classifier as its family's `…ForSequenceClassification` folder, with its labels in config.json. */
function exportClassifier(o: ExportHfOptions, ckpt: LoadedCheckpoint): ExportHfResult {
  const model = ckpt.model;
  const { record, head } = asInputErrors(() => readClassifier(ckpt));
  const family = hfNaming(model).family;
  const refuse = (why: string): never => {
    throw new InputError(`cannot export the classifier ${ckpt.dir} as a Hugging Face ${FAMILY_NAME[family]} classifier: ${why}`);
  };
  const naming = hfClassifierNaming(model, record.pooling, headOf(record));
  if (typeof naming === "string") return refuse(naming);
  // A model with a generator was fine-tuned on its discriminator, which the class holds alone.
  const encoder = classifierEncoder(model);
  const problem = configProblem(encoder, family);
  if (problem) refuse(problem);
  const config = hfClassifierConfig(encoder, family, naming.architecture, record.labels);
  const tokenizer = tokenizerToWrite(o, ckpt.dir, model);
  const entries = asInputErrors(() => weightsToHfNames(new Map([...ckpt.weights, ...head]), naming.names));
  asInputErrors(() =>
    writeFolderAtomically(
      o.out,
      (tmp) => fillHfFolder(tmp, { architecture: naming.architecture, config, entries }, tokenizer),
      otherFilesProblem,
    ),
  );
  return {
    folders: [{ dir: o.out, architecture: naming.architecture, tensors: entries.length }],
    from: ckpt.dir,
    tokenizer: tokenizer?.path ?? null,
  };
}

/**
 * ELECTRA's two checkpoints in `out/discriminator` and `out/generator`. The whole of `out` is
 * written atomically, not each subfolder: a pair of one export's discriminator and another's
 * generator would disagree on the embeddings they share.
 */
function exportPair(o: ExportHfOptions, checkpointDir: string, model: ResolvedModel, weights: WeightMap): ExportHfResult {
  const pair = electraPair(model);
  const discriminator = hfClassAndConfig(pair.discriminator.model, `the discriminator of model '${model.name}'`);
  const generator = hfClassAndConfig(pair.generator.model, `the generator of model '${model.name}'`);
  const tokenizer = tokenizerToWrite(o, checkpointDir, model);
  // A generator learns by mlm and the discriminator by rtd (BDL058), so both are pretraining
  // classes (never a base model) and their tensors keep the `electra.` prefix.
  const tensors = asInputErrors(() => weightsToHfPair(weights, model));
  const sides: [string, HfFolderContents][] = [
    [HF_PAIR_FOLDERS.discriminator, { ...discriminator, entries: tensors.discriminator.entries }],
    [HF_PAIR_FOLDERS.generator, { ...generator, entries: tensors.generator.entries }],
  ];
  asInputErrors(() =>
    writeFolderAtomically(
      o.out,
      (tmp) => {
        for (const [side, contents] of sides) {
          fs.mkdirSync(path.join(tmp, side));
          fillHfFolder(path.join(tmp, side), contents, tokenizer);
        }
      },
      pairFolderProblem,
    ),
  );
  return {
    folders: sides.map(([side, c]) => ({ dir: path.join(o.out, side), architecture: c.architecture, tensors: c.entries.length })),
    from: checkpointDir,
    tokenizer: tokenizer?.path ?? null,
  };
}

/** The transformers class of `model` (one encoder: the model, or one of a pair) and its config.json, or an InputError saying why there is none. */
function hfClassAndConfig(model: ResolvedModel, what: string): { architecture: string; base: boolean; config: Record<string, unknown> } {
  const naming = hfNaming(model);
  const refuse = (why: string): never => {
    throw new InputError(`cannot export ${what} as a Hugging Face ${naming.family} checkpoint: ${why}`);
  };
  if (naming.unrepresentable) refuse(naming.unrepresentable);
  const arch = hfArchitecture(model, naming.family);
  if (typeof arch === "string") refuse(arch);
  const { name: architecture, base } = arch as { name: string; base: boolean };
  const problem = configProblem(model, naming.family);
  if (problem) refuse(problem);
  return { architecture, base, config: hfConfig(model, naming.family, architecture) };
}

/** Writes one Hugging Face folder's files into the (new, empty) folder `dir`. */
function fillHfFolder(dir: string, contents: HfFolderContents, tokenizer: Tokenizer | null): void {
  writeSafetensors(path.join(dir, "model.safetensors"), contents.entries, { format: "pt" });
  writeFileDurably(path.join(dir, "config.json"), JSON.stringify(contents.config, null, 2) + "\n");
  if (tokenizer) {
    writeFileDurably(path.join(dir, "tokenizer.json"), tokenizer.text);
    writeFileDurably(path.join(dir, "tokenizer_config.json"), JSON.stringify(tokenizer.files.tokenizerConfig, null, 2) + "\n");
    writeFileDurably(path.join(dir, "special_tokens_map.json"), JSON.stringify(tokenizer.files.specialTokensMap, null, 2) + "\n");
  }
}

/** Why an existing folder may not be replaced by a Hugging Face folder: it holds files of other kinds. */
function otherFilesProblem(existing: string): string | null {
  const others = fs.readdirSync(existing).filter((f) => !OUR_FILES.has(f));
  return others.length === 0
    ? null
    : `it holds files other than a Hugging Face folder's config, weights and tokenizer (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
}

/** Why an existing folder may not be replaced by an ELECTRA pair: it holds more than the pair's two Hugging Face folders. */
function pairFolderProblem(existing: string): string | null {
  const sides = new Set<string>(Object.values(HF_PAIR_FOLDERS));
  const others = fs.readdirSync(existing).filter((f) => !sides.has(f) || !fs.statSync(path.join(existing, f)).isDirectory());
  if (others.length > 0)
    return `it holds files other than the ${[...sides].map((s) => `${s}/`).join(" and ")} folders of a model with a generator (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
  for (const side of sides) {
    const why = otherFilesProblem(path.join(existing, side));
    if (why) return `its ${side}/ folder: ${why}`;
  }
  return null;
}

/**
 * The run's tokenizer, checked against the model, with the files transformers reads beside it;
 * null when none is given and the checkpoint's run has none (an imported checkpoint).
 */
function tokenizerToWrite(o: ExportHfOptions, checkpointDir: string, model: ResolvedModel): Tokenizer | null {
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
