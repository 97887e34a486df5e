/**
 * A non-finite loss or gradient is caught before the optimizer touches a weight, and named:
 * the loss, its terms, the first parameter (in the model's order) whose gradient is not
 * finite. The message says what that rules in and out instead of always blaming the
 * learning rate. Through the CLI: exit 1, and the last complete checkpoint stays.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createOptimizer } from "../../../src/runtime/optim/index.js";
import { tf, type Scalar, type Tensor } from "../../../src/runtime/backends/tf.js";
import { describeNonFinite, NonFiniteStep, type NonFiniteContext } from "../../../src/runtime/train/non-finite.js";
import { applyGradients, computeGradients, type TrainState } from "../../../src/runtime/train/step.js";
import { checkpointFiles, checkpointSteps } from "../../helpers/runs.js";
import { bdlc, TINY_MODEL, writeGlossCorpus } from "../../helpers/training.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function stateOf(values: Record<string, number[]>): TrainState {
  return {
    variables: new Map(Object.entries(values).map(([name, v]) => [name, tf.variable(tf.tensor1d(v), true)])),
    optimizer: createOptimizer({ kind: "adamw", lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weight_decay: 0 }, { noDecay: () => true }),
    clipNorm: 1,
  };
}

type Lookup = (name: string) => Tensor | undefined;
const sum = (t: Tensor | undefined) => tf.sum(t!) as Scalar;

describe("applyGradients on a non-finite step", () => {
  it.each<
    [
      string,
      Record<string, number[]>,
      (v: Lookup) => { loss: Scalar; terms: Record<string, Scalar> },
      { loss: number; gradient: string | null } | null,
    ]
  >([
    [
      "a NaN loss: the first non-finite gradient in the model's order, finite ones passed over",
      { first: [1, 2], second: [1], third: [-1] },
      // d/d second = log(third) = NaN; d/d third = second / third, finite; d/d first = 1.
      (v) => {
        const term = tf.mul(sum(v("second")), tf.log(sum(v("third")))) as Scalar;
        return { loss: tf.add(sum(v("first")), term) as Scalar, terms: { odd: term } };
      },
      { loss: NaN, gradient: "second" },
    ],
    [
      "a finite loss whose gradient is infinite",
      { a: [1], b: [0] },
      // sqrt at 0 is 0, its derivative 1 / (2 sqrt 0) is +Infinity.
      (v) => ({ loss: tf.add(sum(v("a")), tf.sqrt(sum(v("b")))) as Scalar, terms: {} }),
      { loss: 1, gradient: "b" },
    ],
    ["a finite step is applied", { a: [1, 2] }, (v) => ({ loss: sum(v("a")), terms: {} }), null],
  ])("%s", (_, values, lossOf, expected) => {
    const state = stateOf(values);
    const before = new Map([...state.variables].map(([n, t]) => [n, Array.from(t.dataSync())]));
    const tensors = tf.memory().numTensors;
    const g = computeGradients(state.variables, lossOf);
    let thrown: unknown = null;
    try {
      applyGradients(state, g, 1e-2);
    } catch (e) {
      thrown = e;
    }
    const after = new Map([...state.variables].map(([n, t]) => [n, Array.from(t.dataSync())]));
    if (expected === null) {
      expect(thrown).toBeNull();
      expect(after).not.toEqual(before);
    } else {
      expect(thrown).toBeInstanceOf(NonFiniteStep);
      const e = thrown as NonFiniteStep;
      expect(e.loss).toBe(expected.loss);
      expect(e.gradient).toBe(expected.gradient);
      // Caught before the update: no weight and no optimizer slot changed, no gradient left behind.
      expect(after).toEqual(before);
      expect(state.optimizer.state().step).toBe(0);
      expect(tf.memory().numTensors).toBe(tensors);
    }
    state.optimizer.dispose();
    for (const v of state.variables.values()) v.dispose();
  });
});

describe("describeNonFinite", () => {
  const base: NonFiniteContext = {
    run: "training",
    step: 7,
    weightsUnchanged: false,
    startedFrom: "the initial weights",
    previousLoss: 2.5,
    previousLr: 0.001,
    brokenWeight: null,
    kept: "the last complete checkpoint, runs/x/checkpoints/step-5, is kept as it was",
  };
  const nan = new NonFiniteStep(NaN, { mlm: NaN, nsp: 0.69 }, "encoder.layer.0.attention.query.kernel");
  it.each<[string, NonFiniteStep, Partial<NonFiniteContext>, string[], string[]]>([
    [
      "after updates: the step, each term, the gradient, the previous loss and the learning rate",
      nan,
      {},
      [
        "step 7",
        "the loss is NaN",
        "mlm NaN",
        "nsp 0.6900",
        "'encoder.layer.0.attention.query.kernel'",
        "step 6 was 2.5000",
        "learning rate 0.001",
        "--lr",
        "runs/x/checkpoints/step-5, is kept",
      ],
      [],
    ],
    [
      "the first step from a checkpoint: not the learning rate",
      nan,
      { weightsUnchanged: true, startedFrom: "the weights of the checkpoint of step 6", previousLoss: null, previousLr: null },
      [
        "step 7",
        "No update has changed the weights of the checkpoint of step 6 yet",
        "the learning rate is not the cause",
        "starting weights or this step's batch",
      ],
      ["--lr"],
    ],
    ["a weight already broken is named", nan, { brokenWeight: "embeddings.word" }, ["'embeddings.word' was already not finite"], ["--lr"]],
    [
      "a finite loss with an infinite gradient",
      new NonFiniteStep(3.25, {}, "pooler.kernel"),
      {},
      ["the loss is 3.2500", "but the gradient of 'pooler.kernel' is not finite"],
      [],
    ],
  ])("%s", (_, error, context, words, absent) => {
    const text = describeNonFinite(error, { ...base, ...context });
    for (const w of words) expect(text).toContain(w);
    for (const w of absent) expect(text).not.toContain(w);
  });
});

/** Every file under `dir`, by relative path: to show a refused command changed nothing. */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

describe("bdlc train with a loss that becomes NaN", () => {
  it("exits 1 naming the step, the terms and the gradient; the last checkpoint stays, and a resume says it is not the learning rate", () => {
    const dir = mkdtempSync(join(tmpdir(), "bdl-nan-"));
    const corpus = join(dir, "corpus.txt");
    writeGlossCorpus(corpus);
    const out = join(dir, "run");
    // Warmup makes the first update's rate 0; the second's (2e29) blows the weights up.
    const args = [
      "train",
      TINY_MODEL,
      "--corpus",
      corpus,
      "--out",
      out,
      "--lr",
      "1e30",
      "--save-every",
      "2",
      "--log-every",
      "1",
      "--backend",
      "wasm",
    ];
    const r = bdlc(args);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /training stopped at step 3: the loss is NaN \(mlm NaN, nsp NaN\); the first non-finite gradient is that of '[\w.]+'/,
    );
    expect(r.stderr).toContain("the loss at step 2 was");
    expect(r.stderr).toContain("--lr");
    const kept = join(out, "checkpoints", "step-2");
    expect(r.stderr).toContain(`the last complete checkpoint, ${kept}, is kept as it was`);
    expect(checkpointSteps(out)).toEqual([2]);
    expect([...checkpointFiles(out, 2).keys()]).toEqual(
      expect.arrayContaining(["bdl.json", "model.safetensors", "optimizer.json", "optimizer.safetensors"]),
    );

    // Resuming repeats step 3 from the saved weights: now the first step of the run, so the
    // message rules the learning rate out; nothing in the run folder changes.
    const before = snapshot(out);
    const again = bdlc([...args, "--resume"]);
    expect(again.status, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/training stopped at step 3: the loss is NaN/);
    expect(again.stderr).toContain(
      "No update has changed the weights of the checkpoint of step 2 yet, so the learning rate is not the cause",
    );
    expect(snapshot(out)).toEqual(before);
  }, 240_000);
});
