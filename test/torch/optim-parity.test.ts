/**
 * The torch engine's optimizers take the tfjs engine's steps: for Adam, AdamW and LAMB over a
 * small model's parameter table (its no-decay biases and LayerNorms included, one weight starting
 * at zero with a zero first gradient for LAMB's r = 1, one parameter left without a gradient for a
 * step and one that never gets one, a step whose norm is clipped, a step averaged over three
 * micro-batches), `applyGradients` with `createOptimizer` on the cpu backend and
 * `bdl_torch.optim.Optimizer.step` give the same norms, weights and moments; `learning_rate` is
 * `learningRate`; and each engine reads the other's optimizer files (optimizer.json,
 * optimizer.safetensors), which are the same bytes, and refuses a damaged one with the same message.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import type { OptimizerKind, ResolvedModel } from "../../src/model/model.js";
import { parameterTable, type ParamSpec } from "../../src/model/parameters.js";
import { useBackend } from "../../src/runtime/backends/backend.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { CheckpointError } from "../../src/runtime/checkpoint/checkpoint.js";
import type { WeightMap } from "../../src/runtime/checkpoint/hf-weights.js";
import { fromFloat32, writeSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
import { createRng } from "../../src/runtime/data/random.js";
import { createOptimizer, type OptimizerState } from "../../src/runtime/optim/optimizer.js";
import { learningRate, type ScheduleConfig } from "../../src/runtime/optim/schedule.js";
import { OPTIMIZER_META, OPTIMIZER_WEIGHTS, readOptimizerState } from "../../src/runtime/train/optimizer-files.js";
import { RunFolder } from "../../src/runtime/train/run-folder.js";
import { applyGradients, trainableVariables } from "../../src/runtime/train/step.js";
import { supportPath, torchPython } from "../../src/torch/index.js";
import { tempFiles } from "../helpers/temp-files.js";
import { skipTorch } from "./torch-here.js";

const REL = 1e-6;
const KINDS: OptimizerKind[] = ["adam", "adamw", "lamb"];
const DECAY = { adam: "linear", adamw: "cosine", lamb: "constant" } as const;
const CLIP_NORM = 1;
const STEPS = 5;
const CLIPPED_STEP = 3;

const SOURCE = `
model tiny {
  vocab 11 hidden 4 layers 1 heads 2 intermediate 6
  activation gelu norm_eps 1e-12 dropout 0 attention_dropout 0
  embeddings { positions 6 segments 2 }
  objectives { mlm weight 1 nsp weight 1 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 6 optimizer lamb lr 1e-2 weight_decay 0.1 eps 1e-6 }
}
`;

interface Step {
  grads: Record<string, number[]>;
  micro: number;
}
interface Run {
  kind: OptimizerKind;
  train: Record<string, unknown>;
  noDecay: string[];
  params: { name: string; shape: number[]; values: number[] }[];
  steps: Step[];
  schedule: ScheduleConfig;
  clipNorm: number;
  writeTo: string;
}
interface PlainState {
  kind: OptimizerKind;
  step: number;
  params: Record<string, { step: number; shape: number[]; m: number[]; v: number[] }>;
}
interface RunOut {
  norms: number[];
  rates: number[];
  weights: Record<string, number[]>;
  state: PlainState;
}
interface SchedulePoint extends ScheduleConfig {
  step: number;
}
interface Read {
  dir: string;
  table: ParamSpec[];
  kind: OptimizerKind;
}
type ReadOut = { state: PlainState } | { error: string };

const temp = tempFiles("bdl-optim-parity-");
let model: ResolvedModel;
let table: ParamSpec[];
/** The parameter that starts at zero (a weight that decays), and the one that never gets a gradient. */
let zeroParam = "";
let neverParam = "";

/** What the tfjs engine gave, per kind. */
const tfjsRuns = new Map<OptimizerKind, { run: Run; norms: number[]; rates: number[]; weights: WeightMap; state: OptimizerState }>();
const schedulePoints: SchedulePoint[] = [];
const reads: { name: string; read: Read; expected: () => OptimizerState }[] = [];
let torch: { runs: RunOut[]; schedule: number[]; reads: ReadOut[] };

function plain(state: OptimizerState): PlainState {
  const params: PlainState["params"] = {};
  for (const [name, p] of Object.entries(state.params))
    params[name] = { step: p.step, shape: p.shape, m: Array.from(p.m), v: Array.from(p.v) };
  return { kind: state.kind, step: state.step, params };
}

/** Initial weights: N(0, 0.2²) matrices, LayerNorm weights near 1, biases at 0 (as they start), one weight all zeros. */
function initialWeights(seed: number): WeightMap {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const weights: WeightMap = new Map();
  for (const spec of table) {
    const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.name !== zeroParam && spec.init !== "zeros")
      for (let i = 0; i < values.length; i++) values[i] = spec.init === "ones" ? 1 + 0.1 * normal() : 0.2 * normal();
    weights.set(spec.name, { shape: spec.shape, values });
  }
  return weights;
}

/** Gradients of each step: small ones (norm below the clipping threshold) but for the clipped step's. */
function gradientsOf(seed: number): Step[] {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const skipped = new Set([table[3]!.name, table.find((p) => !p.decay)!.name]);
  return Array.from({ length: STEPS }, (_, t) => {
    const micro = t === STEPS - 1 ? 3 : 1;
    const scale = (t === CLIPPED_STEP ? 1 : 0.01) * micro;
    const grads: Record<string, number[]> = {};
    for (const spec of table) {
      if (spec.name === neverParam || (t === 2 && skipped.has(spec.name))) continue;
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const zero = t === 0 && spec.name === zeroParam;
      grads[spec.name] = Array.from(Float32Array.from({ length: size }, () => (zero ? 0 : scale * normal())));
    }
    return { grads, micro };
  });
}

/** The run on the tfjs engine, as the trainer takes its steps (applyGradients). */
function trainOnTfjs(run: Run): { norms: number[]; rates: number[]; weights: WeightMap; state: OptimizerState } {
  const initial: WeightMap = new Map(run.params.map((p) => [p.name, { shape: p.shape, values: Float32Array.from(p.values) }]));
  const variables = trainableVariables(initial);
  const optimizer = createOptimizer(
    {
      kind: run.kind,
      lr: model.train.lr,
      beta1: model.train.beta1,
      beta2: model.train.beta2,
      eps: model.train.eps,
      weight_decay: model.train.weight_decay,
    },
    { noDecay: (name) => run.noDecay.includes(name) },
  );
  const norms: number[] = [];
  const rates: number[] = [];
  run.steps.forEach((step, t) => {
    const lr = learningRate(t, run.schedule);
    const grads = new Map(Object.entries(step.grads).map(([name, g]) => [name, tf.tensor(g, variables.get(name)!.shape, "float32")]));
    norms.push(applyGradients({ variables, optimizer, clipNorm: run.clipNorm }, { loss: 0, terms: {}, grads }, lr, step.micro).gradNorm);
    rates.push(lr);
  });
  const weights: WeightMap = new Map(
    [...variables].map(([name, v]) => [name, { shape: v.shape, values: (v.dataSync() as Float32Array).slice() }]),
  );
  const state = optimizer.state();
  // Copies: the live moments go with the optimizer.
  const copied: OptimizerState = {
    ...state,
    params: Object.fromEntries(Object.entries(state.params).map(([n, p]) => [n, { ...p, m: p.m.slice(), v: p.v.slice() }])),
  };
  for (const v of variables.values()) v.dispose();
  optimizer.dispose();
  return { norms, rates, weights, state: copied };
}

/** How far two float32 arrays are apart: elements not bit-identical, and the largest relative difference. */
function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { differ: number; rel: number } {
  expect(actual.length).toBe(expected.length);
  let differ = 0;
  let rel = 0;
  for (let i = 0; i < expected.length; i++) {
    const [a, b] = [actual[i]!, expected[i]!];
    if (Object.is(a, b)) continue;
    differ++;
    rel = Math.max(rel, Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
  }
  return { differ, rel };
}

function writtenByTfjs(label: string, state: OptimizerState, weights: WeightMap): string {
  const folder = new RunFolder(path.join(temp.dir, label));
  folder.create();
  folder.saveStep(STEPS, model, null, weights, state, {}, 1);
  return path.join(folder.checkpoints, `step-${STEPS}`);
}

beforeAll(async () => {
  if (skipTorch) return;
  await useBackend("cpu");
  const checked = checkFile(temp.file("tiny.bdl", SOURCE));
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  model = checked.resolutions.get("tiny")!.model;
  table = parameterTable(model, null);
  zeroParam = table.find((p) => p.decay && p.init === "normal" && p.shape.length === 2 && !p.name.includes("embeddings"))!.name;
  neverParam = table[table.length - 1]!.name;

  const initial = initialWeights(1);
  const steps = gradientsOf(2);
  for (const kind of KINDS) {
    const run: Run = {
      kind,
      train: { ...model.train, optimizer: kind },
      noDecay: table.filter((p) => !p.decay).map((p) => p.name),
      params: table.map((p) => ({ name: p.name, shape: p.shape, values: Array.from(initial.get(p.name)!.values) })),
      steps,
      schedule: { lr: model.train.lr, warmup: 2, decay: DECAY[kind], steps: STEPS },
      clipNorm: CLIP_NORM,
      writeTo: fs.mkdtempSync(path.join(temp.dir, `torch-${kind}-`)),
    };
    const result = trainOnTfjs(run);
    tfjsRuns.set(kind, { run, ...result });
    const dir = writtenByTfjs(`tfjs-${kind}`, result.state, result.weights);
    reads.push({ name: `${kind} as written by tfjs`, read: { dir, table, kind }, expected: () => result.state });
  }

  // Damaged or foreign optimizer files, each engine to refuse them alike.
  const adam = tfjsRuns.get("adam")!;
  const adamDir = reads[0]!.read.dir;
  const copy = (name: string, change: (dir: string) => void): string => {
    const dir = path.join(temp.dir, `damaged-${name}`);
    fs.cpSync(adamDir, dir, { recursive: true });
    change(dir);
    return dir;
  };
  const first = Object.keys(adam.state.params)[0]!;
  const refused = (name: string, read: Read) => reads.push({ name, read, expected: () => adam.state });
  refused("another kind", { dir: adamDir, table, kind: "lamb" });
  refused("a parameter the model lacks", { dir: adamDir, table: table.filter((p) => p.name !== first), kind: "adam" });
  refused("another shape", {
    dir: adamDir,
    table: table.map((p) => (p.name === first ? { ...p, shape: [...p.shape, 1] } : p)),
    kind: "adam",
  });
  refused("no optimizer.json", { dir: copy("no-meta", (d) => fs.rmSync(path.join(d, OPTIMIZER_META))), table, kind: "adam" });
  refused("no optimizer.safetensors", { dir: copy("no-weights", (d) => fs.rmSync(path.join(d, OPTIMIZER_WEIGHTS))), table, kind: "adam" });
  const edited = (d: string, edit: (json: Record<string, any>) => void) => {
    const json = JSON.parse(fs.readFileSync(path.join(d, OPTIMIZER_META), "utf8"));
    edit(json);
    fs.writeFileSync(path.join(d, OPTIMIZER_META), JSON.stringify(json));
  };
  refused("a negative step", { dir: copy("step", (d) => edited(d, (j) => (j["step"] = -1))), table, kind: "adam" });
  refused("an entry without a step", {
    dir: copy("entry", (d) => edited(d, (j) => delete j["params"][first]["step"])),
    table,
    kind: "adam",
  });
  refused("a missing moment", {
    dir: copy("moment", (d) => {
      const p = adam.state.params[first]!;
      writeSafetensors(path.join(d, OPTIMIZER_WEIGHTS), [fromFloat32(`m.${first}`, p.shape, p.m)]);
    }),
    table,
    kind: "adam",
  });

  // The schedule around its edges: warmup 0 and 1, the warmup's last and first steps after, the last step and past it.
  for (const decay of ["linear", "cosine", "constant"] as const)
    for (const lr of [1e-3, 5e-4, 0.1, 0])
      for (const [warmup, steps] of [
        [0, 10],
        [1, 1],
        [1, 10],
        [10, 110],
        [100, 1000],
        [7, 3],
        [0, 0],
      ] as const)
        for (let step = 0; step <= steps + 3; step += steps > 200 ? 7 : 1) schedulePoints.push({ step, lr, warmup, decay, steps });

  const jobPath = temp.file(
    "job.json",
    JSON.stringify({ runs: KINDS.map((k) => tfjsRuns.get(k)!.run), schedule: schedulePoints, reads: reads.map((r) => r.read) }),
  );
  const outPath = path.join(temp.dir, "out.json");
  const python = spawnSync(torchPython().command, [path.join(__dirname, "optim-parity.py"), jobPath, outPath], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: [supportPath(), process.env["PYTHONPATH"]].filter(Boolean).join(":") },
    timeout: 120_000,
  });
  expect(python.status, python.stderr).toBe(0);
  torch = JSON.parse(fs.readFileSync(outPath, "utf8"));
}, 120_000);

describe.skipIf(skipTorch)("the torch engine's optimizers (bdl_torch.optim)", () => {
  it("cover what they should: a clipped step and unclipped ones, a skipped parameter, LAMB's zero weight", () => {
    const { norms, state } = tfjsRuns.get("lamb")!;
    norms.forEach((n, t) => expect(n > CLIP_NORM, `step ${t}: norm ${n}`).toBe(t === CLIPPED_STEP));
    expect(state.params[neverParam]).toBeUndefined();
    expect(state.params[table[3]!.name]!.step).toBe(STEPS - 1);
    expect(state.params[zeroParam]!.step).toBe(STEPS);
  });

  for (const [i, kind] of KINDS.entries()) {
    it(`${kind}: the same gradient norms, rates, weights and moments as the tfjs engine (≤ ${REL} relative)`, () => {
      const tfjs = tfjsRuns.get(kind)!;
      const ours = torch.runs[i]!;
      const norms = compare(ours.norms, tfjs.norms);
      expect(norms.rel).toBeLessThanOrEqual(REL);
      expect(ours.rates).toEqual(tfjs.rates);
      expect(ours.state.kind).toBe(kind);
      expect(ours.state.step).toBe(tfjs.state.step);
      expect(Object.keys(ours.state.params)).toEqual(Object.keys(tfjs.state.params));
      const total = { differ: norms.differ, rel: norms.rel, values: ours.norms.length };
      const add = (c: { differ: number; rel: number }, n: number) => {
        total.differ += c.differ;
        total.rel = Math.max(total.rel, c.rel);
        total.values += n;
      };
      for (const [name, w] of tfjs.weights) {
        const c = compare(ours.weights[name]!, w.values);
        expect(c.rel, `${name}: weights`).toBeLessThanOrEqual(REL);
        add(c, w.values.length);
      }
      for (const [name, p] of Object.entries(tfjs.state.params)) {
        const theirs = ours.state.params[name]!;
        expect([theirs.step, theirs.shape], name).toEqual([p.step, p.shape]);
        for (const moment of ["m", "v"] as const) {
          const c = compare(theirs[moment], p[moment]);
          expect(c.rel, `${name}: ${moment}`).toBeLessThanOrEqual(REL);
          add(c, p[moment].length);
        }
      }
      console.log(
        total.differ === 0
          ? `${kind}: norms, weights and moments bit-exact (${total.values} values)`
          : `${kind}: ${total.differ} of ${total.values} values differ, by at most ${total.rel.toExponential(2)} relative`,
      );
    });
  }

  it("learning_rate is learningRate: exactly, but for cosine decay within Math.cos's and glibc's cos's ulp", () => {
    expect(torch.schedule).toHaveLength(schedulePoints.length);
    let cosineUlps = 0;
    schedulePoints.forEach((p, i) => {
      const [ours, theirs] = [torch.schedule[i]!, learningRate(p.step, p)];
      const where = JSON.stringify(p);
      if (p.decay === "cosine" && p.step >= p.warmup) {
        // cos one ulp (≤ 2⁻⁵³) apart, which 1 + cos can round up to a 2⁻⁵² step and cancellation
        // makes large relative to the rate: the bound is absolute, lr · 2⁻⁵¹.
        expect(Math.abs(ours - theirs), where).toBeLessThanOrEqual(p.lr * 2 ** -51);
        expect(Math.fround(ours), where).toBe(Math.fround(theirs));
        if (ours !== theirs) cosineUlps++;
      } else expect(ours, where).toBe(theirs);
    });
    console.log(
      `schedule: ${schedulePoints.length} rates, all exact but ${cosineUlps} cosine ones (libm's last bit), all equal as float32`,
    );
  });

  it("reads the tfjs engine's optimizer files, and refuses damaged ones with its messages", () => {
    reads.forEach(({ name, read, expected }, i) => {
      const ours = torch.reads[i]!;
      let message: string | null = null;
      try {
        readOptimizerState(read.dir, read.table, read.kind);
      } catch (e) {
        expect(e, name).toBeInstanceOf(CheckpointError);
        message = (e as Error).message;
      }
      if (message === null) expect(ours, name).toEqual({ state: plain(expected()) });
      else expect(ours, name).toEqual({ error: message });
    });
  });

  for (const [i, kind] of KINDS.entries()) {
    it(`${kind}: writes optimizer files that tfjs reads, the bytes tfjs writes`, () => {
      const written = tfjsRuns.get(kind)!.run.writeTo;
      const state = readOptimizerState(written, table, kind);
      expect(plain(state)).toEqual(torch.runs[i]!.state);
      // Written again by the tfjs engine, the same state gives the same files.
      const again = writtenByTfjs(`tfjs-again-${kind}`, state, tfjsRuns.get(kind)!.weights);
      for (const file of [OPTIMIZER_META, OPTIMIZER_WEIGHTS])
        expect(fs.readFileSync(path.join(written, file)).equals(fs.readFileSync(path.join(again, file))), file).toBe(true);
    });
  }
});
