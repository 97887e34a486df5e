/**
 * `bdlc train --engine torch`: the run prepared as for the tfjs engine (the same run folder,
 * tokenizer, examples and first weights, from `prepareRun`), then written down for PyTorch
 * in `RUN/torch/`, and run there by the torch engine:
 *
 *   model.py, teacher.py       the compiled PyTorch modules (bdlc compile --target torch)
 *   init.safetensors           a new run's first weights, by parameter-table name
 *   teacher.safetensors        the teacher's weights, for a student
 *   train-NNNNN.safetensors    the training examples, unmasked (python/bdl_torch/shards.py)
 *   eval.safetensors           the held-out examples
 *   plan.json                  the settings, the step to resume from, the files above
 *   bdl_torch/                 the support package, so the folder runs without bdl
 *
 * The masks, batches and schedule are computed on the Python side from the seed as here, so
 * a prepared folder can be copied to a machine with PyTorch alone and run with the line that
 * `--dry-run` prints. The report is drawn here when the ranks are done.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitTorchModule } from "../compiler/emit/torch.js";
import type { ResolvedModel } from "../model/model.js";
import { writeWeights } from "../runtime/checkpoint/hf-weights.js";
import { writeSafetensors, type TensorEntry } from "../runtime/checkpoint/safetensors.js";
import type { Example } from "../runtime/data/types.js";
import type { Examples } from "../runtime/data/examples.js";
import { evalBatchSize } from "../runtime/train/evaluate.js";
import { prepareRun, writeReport, type TrainerOptions, type TrainSummary } from "../runtime/train/trainer.js";
import { launchLine, runPreparedTraining, supportPath, type Distribution } from "../torch/index.js";

/** Examples per shard: a shard's offsets stay well inside int32 at any sequence length. */
const SHARD_EXAMPLES = 1 << 16;

/** How the ranks compute: `auto` is bf16 autocast and fused attention on CUDA, neither on the CPU. */
export interface TorchOptions {
  precision: "auto" | "bf16" | "fp32";
  fusedAttention: "auto" | "on" | "off";
}

export interface TorchTrainOptions extends Omit<TrainerOptions, "graph" | "teacherGraph"> {
  distribution: Distribution;
  options: TorchOptions;
  /** Prepare the run folder and return the launch line without running it. */
  dryRun: boolean;
}

export type TorchTrainResult =
  | { prepared: true; launch: string }
  | { prepared: false; summary: TrainSummary }
  /** A node other than node 0 of several: its ranks are done; node 0 wrote the run folder. */
  | { prepared: false; follower: true };

export async function trainOnTorch(o: TorchTrainOptions): Promise<TorchTrainResult> {
  const prepared = prepareRun(o);
  const dir = join(o.out, "torch");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.py"), emitTorchModule(o.model, o.teacher).text);
  cpSync(join(supportPath(), "bdl_torch"), join(dir, "bdl_torch"), { recursive: true, filter: (p) => !p.includes("__pycache__") });
  const plan: Record<string, unknown> = {
    module: "model.py",
    resume: prepared.start > 0 ? prepared.start : null,
    sentence_pairs: prepared.pairs,
    precision: o.options.precision,
    fused_attention: o.options.fusedAttention,
    settings: {
      steps: o.steps,
      batch: o.batch,
      accumulate: o.accumulate,
      lr: o.lr,
      seed: o.seed,
      save_every: o.saveEvery,
      keep: o.keep,
      log_every: o.logEvery,
      eval_every: o.evalEvery,
      clip_norm: o.clipNorm,
      eval_batch: evalBatchSize(o.model.train.seq),
    },
    meta: { seed: o.seed, corpus: o.corpus.name },
    shards: writeShards(dir, prepared.examples, o.model),
    eval: prepared.evalExamples.length > 0 ? writeExampleFile(join(dir, "eval.safetensors"), prepared.evalExamples, o.model) : null,
  };
  if (prepared.start === 0) {
    writeWeights(
      join(dir, "init.safetensors"),
      prepared.weights,
      prepared.table.map((p) => p.name),
    );
    plan["init"] = "init.safetensors";
  }
  if (o.teacher && o.teacherWeights) {
    writeFileSync(join(dir, "teacher.py"), emitTorchModule(o.teacher, null).text);
    writeWeights(join(dir, "teacher.safetensors"), o.teacherWeights);
    plan["teacher"] = { module: "teacher.py", weights: "teacher.safetensors" };
  }
  writeFileSync(join(dir, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
  if (o.dryRun) {
    const { argv, env } = launchLine(o.out, o.distribution);
    const line = [...Object.entries(env).map(([k, v]) => `${k}=${shellWord(v)}`), ...argv.map(shellWord)].join(" ");
    return { prepared: true, launch: line };
  }
  o.onStepLoop?.();
  await runPreparedTraining(
    o.out,
    o.distribution,
    (e) => {
      if (e.event === "message") o.progress.message(e.text);
      else if (e.event === "progress")
        o.progress.update({ step: e.step, steps: e.steps, loss: e.loss, tokensPerSecond: e.tokens_per_s, eta: e.eta });
    },
    o.shouldStop,
  );
  o.progress.done();
  if (o.distribution.nodeRank > 0) return { prepared: false, follower: true };
  const summary = { ...JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")), out: o.out } as TrainSummary;
  writeReport({ ...o, engine: torchEngineLabel(o.distribution.nproc * o.distribution.nnodes) }, prepared.folder, summary);
  return { prepared: false, summary };
}

/** How a report names the torch engine: its processes, and the device where it is known. */
export function torchEngineLabel(processes: number, device?: string): string {
  return `torch (${processes} process${processes === 1 ? "" : "es"}${device === undefined ? "" : `, ${device}`})`;
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function int32Entry(name: string, values: number[] | Int32Array): TensorEntry {
  const array = values instanceof Int32Array ? values : Int32Array.from(values);
  return { name, dtype: "I32", shape: [array.length], data: new Uint8Array(array.buffer, array.byteOffset, array.byteLength) };
}

function writeShards(dir: string, examples: Examples, model: ResolvedModel): { file: string; examples: number }[] {
  const shards: { file: string; examples: number }[] = [];
  for (let start = 0, n = 0; start < examples.length; start += SHARD_EXAMPLES, n++) {
    const part: Example[] = [];
    for (let i = start; i < Math.min(examples.length, start + SHARD_EXAMPLES); i++) part.push(examples.get(i));
    const file = `train-${String(n).padStart(5, "0")}.safetensors`;
    shards.push(writeExampleFile(join(dir, file), part, model));
  }
  return shards;
}

/** One shard: the examples' tokens end to end, with offsets (python/bdl_torch/shards.py reads it). */
function writeExampleFile(path: string, examples: readonly Example[], model: ResolvedModel): { file: string; examples: number } {
  const total = examples.reduce((n, e) => n + e.ids.length, 0);
  const ids = new Int32Array(total);
  const words = new Int32Array(total);
  const types = new Int32Array(total);
  const documents = model.train.document_mask ? new Int32Array(total) : null;
  const offsets = new Int32Array(examples.length + 1);
  const labels = new Int32Array(examples.length);
  let at = 0;
  examples.forEach((e, i) => {
    ids.set(e.ids, at);
    words.set(e.words, at);
    types.set(e.tokenTypes, at);
    if (documents) documents.set(e.documents ?? e.ids.map(() => 0), at);
    at += e.ids.length;
    offsets[i + 1] = at;
    labels[i] = e.sentenceLabel ?? -1;
  });
  const entries = [int32Entry("ids", ids), int32Entry("words", words), int32Entry("token_types", types)];
  if (documents) entries.push(int32Entry("documents", documents));
  entries.push(int32Entry("offsets", offsets), int32Entry("sentence_labels", labels));
  writeSafetensors(path, entries);
  return { file: path.split("/").at(-1)!, examples: examples.length };
}
