/**
 * This project's checkpoint format: a folder holding
 *
 *   model.safetensors   every parameter under our names (parameters.ts), in our layout
 *                       (dense kernels [in, out]), float32, `__metadata__` {"format": "bdl"}
 *   bdl.json            { "format": 1, "model": ResolvedModel, "teacher"?: ResolvedModel,
 *                         "step"?: number, … } — open for more (training adds optimizer state
 *                         files next to these and records them here)
 *
 * A checkpoint is written atomically: everything goes into `${dir}.tmp-<pid>`, which is then
 * renamed into place (an existing checkpoint is renamed away first and removed after), so the
 * real name never holds a half-written folder.
 *
 * `loadCheckpoint` accepts a checkpoint folder, a `bdlc train --out` run folder, whose
 * checkpoints live in `checkpoints/step-N/` (the highest N is taken), or a `bdlc finetune
 * --out` folder, whose classifier lives in `classifier/` (see classifier.ts).
 */
import * as fs from "node:fs";
import { FileReadError, readJsonFile } from "../../io/read-file.js";
import * as path from "node:path";
import {
  ACTIVATIONS,
  attentionConfig,
  feedForwardKind,
  OBJECTIVE_ORDER,
  OPTIMIZER_KINDS,
  POOLERS,
  TOKENIZER_KINDS,
  type ResolvedModel,
} from "../../model/model.js";
import { parameterTable, type ParamSpec } from "../../model/parameters.js";
import { diskErrorMessage, diskProblem } from "../system-error.js";
import { syncDirectory, writeFileDurably } from "./durable.js";
import { nonFiniteProblem } from "./finite.js";
import type { WeightMap } from "./hf-weights.js";
import { fromFloat32, readSafetensors, SafetensorsError, toFloat32, writeSafetensors, type TensorEntry } from "./safetensors.js";

export const CHECKPOINT_FORMAT = 1;
export const WEIGHTS_FILE = "model.safetensors";
export const META_FILE = "bdl.json";
/** Where `bdlc finetune --out DIR` saves the fine-tuned classifier: `DIR/classifier/`. */
export const CLASSIFIER_FOLDER = "classifier";

/** Every problem with reading or writing a checkpoint; the message names the folder and what is wrong. */
export class CheckpointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CheckpointError";
  }
}

/** The contents of `bdl.json`. */
export interface CheckpointMeta {
  format: number;
  model: ResolvedModel;
  /** The teacher's resolved model, for a student whose parameters depend on it (cosine projection). */
  teacher?: ResolvedModel;
  step?: number;
  [key: string]: unknown;
}

export interface CheckpointExtra {
  /** The model's teacher, recorded so the parameter table can be rebuilt on load. */
  teacher?: ResolvedModel | null;
  step?: number;
  /** More fields for bdl.json (must not be `format`, `model` or `teacher`). */
  meta?: Record<string, unknown>;
  /**
   * More files written into the checkpoint folder (optimizer state, …), by file name: text,
   * bytes, or tensors written as a safetensors file one tensor at a time (never one buffer
   * holding them all: BERT-large's Adam moments are 2.7 GB).
   */
  files?: Record<string, string | Uint8Array | { safetensors: TensorEntry[] }>;
}

export interface LoadedCheckpoint {
  /** The checkpoint folder actually read (for a run folder: its latest checkpoint). */
  dir: string;
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  weights: WeightMap;
  meta: CheckpointMeta;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function code(e: unknown): string {
  return diskErrorMessage(e) ?? (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Builds a folder under a temporary name beside `dir` and renames it into place. An existing
 * `dir` is first passed to `mayReplace`, which returns why it must not be replaced (or null);
 * it is then renamed away, and removed once the new folder is in place. On any failure the
 * temporary folder is removed and the old folder (if any) is left under its name.
 */
export function writeFolderAtomically(dir: string, fill: (tmp: string) => void, mayReplace: (existing: string) => string | null): void {
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  let exists = false;
  try {
    const st = fs.statSync(target);
    if (!st.isDirectory()) throw new CheckpointError(`cannot write '${dir}': it exists and is not a folder`);
    exists = true;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new CheckpointError(`cannot write '${dir}': ${code(e)}`, { cause: e });
  }
  if (exists) {
    const why = mayReplace(target);
    if (why !== null) throw new CheckpointError(`refusing to replace '${dir}': ${why}`);
  }
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
  } catch (e) {
    throw new CheckpointError(`cannot write '${dir}': ${code(e)}`, { cause: e });
  }
  try {
    fill(tmp);
    if (exists) {
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(target, old);
      try {
        fs.renameSync(tmp, target);
      } catch (e) {
        fs.renameSync(old, target);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (e instanceof CheckpointError) throw e;
    // A full or read-only disk is the machine's problem, whichever writer met it.
    const disk = diskProblem(e instanceof SafetensorsError ? e.cause : e);
    if (disk !== null) throw new CheckpointError(`cannot write the checkpoint ${dir}: ${disk}`, { cause: e });
    if (e instanceof SafetensorsError) throw e;
    throw new CheckpointError(`cannot write '${dir}': ${code(e)}`, { cause: e });
  }
  syncDirectory(path.dirname(target));
}

export { writeFileDurably } from "./durable.js";

const RESERVED_META = new Set(["format", "model", "teacher"]);

/**
 * Writes `weights` (our names and layout) as a checkpoint of `model` into `dir`, atomically.
 * The weights must be exactly the model's parameter table, with its shapes.
 */
export function saveCheckpoint(dir: string, model: ResolvedModel, weights: WeightMap, extra: CheckpointExtra = {}): void {
  const teacher = extra.teacher ?? null;
  const table = parameterTable(model, teacher);
  const problem = weightsProblem(table, new Map([...weights].map(([n, w]) => [n, w.shape])), `model '${model.name}'`, "the weights");
  if (problem) throw new CheckpointError(`cannot save a checkpoint of model '${model.name}': ${problem}`);
  for (const [name, w] of weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.values.length !== n)
      throw new CheckpointError(`cannot save '${name}': shape [${w.shape.join(", ")}] needs ${n} values, got ${w.values.length}`);
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra.meta ?? {})) {
    if (RESERVED_META.has(k)) throw new CheckpointError(`bdl.json field '${k}' is written by saveCheckpoint itself`);
    meta[k] = v;
  }
  const json: Record<string, unknown> = {
    format: CHECKPOINT_FORMAT,
    model,
    ...(teacher ? { teacher } : {}),
    ...(extra.step !== undefined ? { step: extra.step } : {}),
    ...meta,
  };
  const files = extra.files ?? {};
  for (const name of Object.keys(files)) {
    if (name === WEIGHTS_FILE || name === META_FILE || name !== path.basename(name) || name === "." || name === "..") {
      throw new CheckpointError(`cannot add file '${name}' to a checkpoint: not a plain file name, or one saveCheckpoint writes itself`);
    }
  }
  writeFolderAtomically(
    dir,
    (tmp) => {
      const entries = table.map((spec) => fromFloat32(spec.name, spec.shape, weights.get(spec.name)!.values));
      writeSafetensors(path.join(tmp, WEIGHTS_FILE), entries, { format: "bdl" });
      for (const [name, data] of Object.entries(files)) {
        if (typeof data === "object" && "safetensors" in data) writeSafetensors(path.join(tmp, name), data.safetensors);
        else writeFileDurably(path.join(tmp, name), data);
      }
      writeFileDurably(path.join(tmp, META_FILE), JSON.stringify(json, null, 2) + "\n");
    },
    (existing) => {
      const entries = fs.readdirSync(existing);
      return entries.length === 0 || entries.includes(META_FILE) ? null : `it exists and is not a checkpoint (no ${META_FILE})`;
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `p` looks like a checkpoint folder, a run folder or a fine-tuning folder (as opposed to, say, a Hugging Face folder). */
export function isCheckpointPath(p: string): boolean {
  return (
    fs.existsSync(path.join(p, META_FILE)) ||
    isDirectory(path.join(p, "checkpoints")) ||
    fs.existsSync(path.join(p, CLASSIFIER_FOLDER, META_FILE))
  );
}

/** The checkpoint folder `p` means: itself, a fine-tuning folder's `classifier/`, or a run folder's `checkpoints/step-N` with the highest N. */
export function resolveCheckpointDir(p: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new CheckpointError(
      `${p}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such checkpoint folder" : `cannot read: ${code(e)}`}`,
    );
  }
  if (!st.isDirectory()) {
    throw new CheckpointError(`${p} is a file; a checkpoint is a folder holding ${META_FILE} and ${WEIGHTS_FILE}`);
  }
  if (fs.existsSync(path.join(p, META_FILE))) return p;
  const classifier = path.join(p, CLASSIFIER_FOLDER);
  if (fs.existsSync(path.join(classifier, META_FILE))) return classifier;
  const runDir = path.join(p, "checkpoints");
  if (isDirectory(runDir)) {
    let best: { step: number; dir: string } | null = null;
    for (const entry of fs.readdirSync(runDir)) {
      const m = /^step-(\d+)$/.exec(entry);
      const dir = path.join(runDir, entry);
      if (!m || !fs.existsSync(path.join(dir, META_FILE))) continue;
      const step = Number(m[1]);
      if (best === null || step > best.step) best = { step, dir };
    }
    if (best === null) throw new CheckpointError(`${p}: the run folder has no checkpoint yet (no checkpoints/step-N/${META_FILE})`);
    return best.dir;
  }
  throw new CheckpointError(`${p} is not a checkpoint: it has no ${META_FILE} (nor is it a run folder with checkpoints/step-N/)`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isOneOf(x: unknown, names: readonly string[]): boolean {
  return typeof x === "string" && names.includes(x);
}

/** Enough of a ResolvedModel's shape for the parameter table and naming not to trip over garbage. */
function modelProblem(x: unknown): string | null {
  if (!isObject(x)) return "not an object";
  if (typeof x["name"] !== "string") return "'name' is not a string";
  for (const k of ["vocab", "hidden", "layers", "heads", "intermediate"]) {
    if (!Number.isSafeInteger(x[k]) || (x[k] as number) < 1) return `'${k}' is not a positive integer`;
  }
  for (const k of ["norm_eps", "dropout", "attention_dropout"]) if (typeof x[k] !== "number") return `'${k}' is not a number`;
  if (!isOneOf(x["activation"], ACTIVATIONS))
    return `'activation' is ${JSON.stringify(x["activation"])}, not one of ${ACTIVATIONS.join(", ")}`;
  // Absent in a post-LN model (see ResolvedModel.norm_position); only `pre` is ever written.
  if (x["norm_position"] !== undefined && x["norm_position"] !== "pre")
    return `'norm_position' is ${JSON.stringify(x["norm_position"])}, not "pre" or absent`;
  // Absent in a plain feed-forward model (see ResolvedModel.feed_forward); only `gated` is ever written.
  if (x["feed_forward"] !== undefined && x["feed_forward"] !== "gated")
    return `'feed_forward' is ${JSON.stringify(x["feed_forward"])}, not "gated" or absent`;
  // Absent in a model whose parts all have biases (see ResolvedModel.attention_bias); only `false` is ever written.
  for (const k of ["attention_bias", "mlp_bias", "norm_bias", "classifier_bias", "decoder_bias", "first_attention_norm"])
    if (x[k] !== undefined && x[k] !== false) return `'${k}' is ${JSON.stringify(x[k])}, not false or absent`;
  // Absent with learned positions and global attention (see ResolvedModel.attention).
  if (x["attention"] !== undefined) {
    const a = x["attention"];
    if (!isObject(a)) return "'attention' is not an object";
    for (const k of ["rotary", "local_rotary"])
      if (a[k] !== null && !(typeof a[k] === "number" && (a[k] as number) > 0)) return `'attention.${k}' is not a positive number or null`;
    if (a["window"] !== null && !(Number.isSafeInteger(a["window"]) && (a["window"] as number) >= 1))
      return "'attention.window' is not a positive integer or null";
    if (!Number.isSafeInteger(a["global_every"]) || (a["global_every"] as number) < 1)
      return "'attention.global_every' is not a positive integer";
  }
  if (!isOneOf(x["pooler"], POOLERS)) return `'pooler' is ${JSON.stringify(x["pooler"])}, not one of ${POOLERS.join(", ")}`;
  const e = x["embeddings"];
  if (!isObject(e)) return "'embeddings' is not an object";
  for (const k of ["positions", "offset", "segments"])
    if (!Number.isSafeInteger(e[k]) || (e[k] as number) < 0) return `'embeddings.${k}' is not an integer`;
  if (e["factorize"] !== null && !Number.isSafeInteger(e["factorize"])) return "'embeddings.factorize' is not an integer or null";
  const sharing = x["sharing"];
  if (!Array.isArray(sharing)) return "'sharing' is not a list";
  for (const g of sharing) {
    if (
      !isObject(g) ||
      typeof g["name"] !== "string" ||
      !Array.isArray(g["layers"]) ||
      !g["layers"].every(Number.isSafeInteger) ||
      !Array.isArray(g["share"])
    ) {
      return "'sharing' holds an entry that is not a sharing group";
    }
  }
  const objectives = x["objectives"];
  if (
    !Array.isArray(objectives) ||
    !objectives.every((o) => isObject(o) && isOneOf(o["name"], OBJECTIVE_ORDER) && typeof o["weight"] === "number")
  ) {
    return `'objectives' is not a list of objectives (each named one of ${OBJECTIVE_ORDER.join(", ")}, with a weight)`;
  }
  if (!isObject(x["special"])) return "'special' is not an object";
  if (!isObject(x["train"]) || !isObject(x["masking"]) || !isObject(x["tokenizer"])) return "'train', 'masking' or 'tokenizer' is missing";
  if (!isOneOf(x["tokenizer"]["kind"], TOKENIZER_KINDS))
    return `'tokenizer.kind' is ${JSON.stringify(x["tokenizer"]["kind"])}, not one of ${TOKENIZER_KINDS.join(", ")}`;
  if (!isOneOf(x["train"]["optimizer"], OPTIMIZER_KINDS))
    return `'train.optimizer' is ${JSON.stringify(x["train"]["optimizer"])}, not one of ${OPTIMIZER_KINDS.join(", ")}`;
  return null;
}

/**
 * What is wrong with tensors `have` (name → shape) for the parameter `table`, or null: the
 * first missing, misshapen and unexpected tensors, named.
 */
function weightsProblem(table: readonly ParamSpec[], have: Map<string, number[]>, whose: string, what: string): string | null {
  const problems: string[] = [];
  const missing = table.filter((p) => !have.has(p.name)).map((p) => p.name);
  if (missing.length > 0) problems.push(`${what} lack ${missing.length} parameter(s) of ${whose}: ${preview(missing)}`);
  for (const p of table) {
    const shape = have.get(p.name);
    if (shape && shape.join(",") !== p.shape.join(",")) {
      problems.push(`'${p.name}' is [${shape.join(", ")}] in ${what}, but ${whose} needs [${p.shape.join(", ")}]`);
      break;
    }
  }
  const names = new Set(table.map((p) => p.name));
  const unexpected = [...have.keys()].filter((n) => !names.has(n));
  if (unexpected.length > 0) problems.push(`${what} hold ${unexpected.length} tensor(s) ${whose} does not have: ${preview(unexpected)}`);
  return problems.length > 0 ? problems.join("; ") : null;
}

function preview(names: string[]): string {
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/**
 * The first difference between the model a checkpoint was saved for and `expected`: a
 * parameter one has and the other lacks or holds in another shape, then the settings that
 * change the computation without changing any shape. Null when the checkpoint fits.
 */
/** `rotary 160000 window 128 …`: the attention record as a message shows it. */
function attentionText(model: ResolvedModel): string {
  const a = attentionConfig(model);
  const show = (v: number | null) => (v === null ? "none" : String(v));
  return `{ rotary ${show(a.rotary)} window ${show(a.window)} global_every ${a.global_every} local_rotary ${show(a.local_rotary)} }`;
}

export function checkpointMismatch(
  saved: ResolvedModel,
  savedTeacher: ResolvedModel | null,
  expected: ResolvedModel,
  expectedTeacher: ResolvedModel | null,
): string | null {
  const ours = parameterTable(expected, expectedTeacher);
  const theirs = new Map(parameterTable(saved, savedTeacher).map((p) => [p.name, p.shape]));
  for (const p of ours) {
    const shape = theirs.get(p.name);
    if (!shape) return `model '${expected.name}' has parameter '${p.name}' [${p.shape.join(", ")}], which the checkpoint lacks`;
    if (shape.join(",") !== p.shape.join(",")) {
      return `parameter '${p.name}' is [${p.shape.join(", ")}] in model '${expected.name}' but [${shape.join(", ")}] in the checkpoint`;
    }
  }
  const names = new Set(ours.map((p) => p.name));
  for (const name of theirs.keys()) {
    if (!names.has(name)) return `the checkpoint has parameter '${name}', which model '${expected.name}' lacks`;
  }
  const settings: [string, unknown, unknown][] = [
    ["heads", expected.heads, saved.heads],
    ["activation", expected.activation, saved.activation],
    // The shapes already differ between the kinds (W2 is [I, H] either way, W1 [H, I] or [H, 2·I]); named for a clear message all the same.
    ["feed_forward", feedForwardKind(expected), feedForwardKind(saved)],
    ["norm_eps", expected.norm_eps, saved.norm_eps],
    ["embeddings offset", expected.embeddings.offset, saved.embeddings.offset],
    // Rotary bases and windows change no shape.
    ["attention", attentionText(expected), attentionText(saved)],
  ];
  for (const [what, want, got] of settings) {
    if (want !== got) return `model '${expected.name}' has ${what} ${String(want)}, the checkpoint's model ${String(got)}`;
  }
  return null;
}

/**
 * The first rule `model` breaks (with `teacher` its teacher, `label` the file it came from),
 * or null. The compiler owns the rules; the runtime only asks.
 */
export type ModelValidator = (model: ResolvedModel, teacher: ResolvedModel | null, label: string) => string | null;

/**
 * Reads a checkpoint folder, or a run folder's latest checkpoint. With `expected`, the
 * checkpoint must be of a model with the same parameter table (and the same settings that
 * change the computation); otherwise the error names the first difference.
 */
export function loadCheckpoint(
  p: string,
  expected?: { model: ResolvedModel; teacher?: ResolvedModel | null },
  validate?: ModelValidator,
): LoadedCheckpoint {
  const dir = resolveCheckpointDir(p);
  const metaPath = path.join(dir, META_FILE);
  let meta: unknown;
  try {
    meta = readJsonFile(metaPath);
  } catch (e) {
    if (e instanceof FileReadError) throw new CheckpointError(e.message, { cause: e });
    throw e;
  }
  if (!isObject(meta)) throw new CheckpointError(`${metaPath}: expected a JSON object`);
  if (meta["format"] !== CHECKPOINT_FORMAT) {
    const f = meta["format"];
    throw new CheckpointError(
      typeof f === "number" && f > CHECKPOINT_FORMAT
        ? `${metaPath}: checkpoint format ${f} was written by a newer bdl (this one reads format ${CHECKPOINT_FORMAT})`
        : `${metaPath}: 'format' must be ${CHECKPOINT_FORMAT}, got ${JSON.stringify(f) ?? "nothing"}`,
    );
  }
  const modelIssue = modelProblem(meta["model"]);
  if (modelIssue) throw new CheckpointError(`${metaPath}: 'model' is not a resolved model: ${modelIssue}`);
  if (meta["teacher"] !== undefined) {
    const teacherIssue = modelProblem(meta["teacher"]);
    if (teacherIssue) throw new CheckpointError(`${metaPath}: 'teacher' is not a resolved model: ${teacherIssue}`);
  }
  const model = meta["model"] as ResolvedModel;
  const teacher = (meta["teacher"] as ResolvedModel | undefined) ?? null;
  // Hand-edited or foreign: held to the rules `bdlc check` holds a .bdl model to.
  for (const [role, m] of [
    ["model", model],
    ["teacher", teacher],
  ] as const) {
    const invalid = m && validate ? validate(m, role === "model" ? teacher : null, metaPath) : null;
    if (invalid) throw new CheckpointError(`${metaPath}: ${role} '${m!.name}' is not valid: ${invalid}`);
  }
  const checkpoint = meta as CheckpointMeta;

  if (expected) {
    const mismatch = checkpointMismatch(model, teacher, expected.model, expected.teacher ?? null);
    if (mismatch) {
      throw new CheckpointError(
        `${dir} is a checkpoint of model '${model.name}' (as ${META_FILE} describes it), which does not fit model '${expected.model.name}': ${mismatch}`,
      );
    }
  }

  const weightsPath = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(weightsPath)) throw new CheckpointError(`${dir}: missing ${WEIGHTS_FILE}`);
  let file;
  try {
    file = readSafetensors(weightsPath);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message, { cause: e });
    throw e;
  }
  const table = parameterTable(model, teacher);
  const problem = weightsProblem(table, new Map([...file.tensors].map(([n, t]) => [n, t.shape])), `model '${model.name}'`, weightsPath);
  if (problem) throw new CheckpointError(problem);
  const weights: WeightMap = new Map();
  for (const spec of table) {
    const entry = file.tensors.get(spec.name)!;
    if (entry.dtype !== "F32") throw new CheckpointError(`${weightsPath}: tensor '${spec.name}' is ${entry.dtype}; checkpoints hold F32`);
    const values = toFloat32(entry);
    const nonFinite = nonFiniteProblem(values);
    if (nonFinite)
      throw new CheckpointError(
        `${weightsPath}: tensor '${spec.name}' holds ${nonFinite}; weights must be finite (a diverged or damaged checkpoint: use an earlier one)`,
      );
    weights.set(spec.name, { shape: spec.shape.slice(), values });
  }
  return { dir, model, teacher, weights, meta: checkpoint };
}
