/**
 * ELECTRA trains end to end through the built CLI: a few steps of the tiny model with a
 * generator. Both loss terms are logged and the joint loss falls; the checkpoint holds the
 * shared embeddings once and the generator's own tensors under `generator.`; a run resumed
 * from an earlier checkpoint replays the generator's samples and ends bit for bit where the
 * uninterrupted run ended; `bdlc eval` evaluates the generator's MLM and `bdlc finetune`
 * fine-tunes the discriminator.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../../src/runtime/checkpoint/checkpoint.js";
import { checkpointSteps, differingTensors } from "../../helpers/runs.js";
import { bdlc, trainingFolder } from "../../helpers/training.js";

const MODEL = "test/fixtures/train/tiny-electra.bdl";

let dir: string;
let corpus: string;
let run: string;

function trainArgs(out: string): string[] {
  return [
    "train",
    MODEL,
    "--corpus",
    corpus,
    "--out",
    out,
    "--steps",
    "12",
    "--save-every",
    "4",
    "--log-every",
    "4",
    "--seed",
    "3",
    "--backend",
    "cpu",
  ];
}

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-electra-"));
  run = join(dir, "run");
  const r = bdlc(trainArgs(run));
  expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

describe("bdlc train on a model with a generator (ELECTRA)", () => {
  it("logs mlm and rtd, and the joint loss falls", () => {
    const train = readFileSync(join(run, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.kind === undefined);
    expect(train.map((e) => e.step)).toEqual([4, 8, 12]);
    for (const e of train) {
      expect(Object.keys(e.terms).sort()).toEqual(["mlm", "rtd"]);
      expect(e.loss).toBeCloseTo(e.terms.mlm + 50 * e.terms.rtd, 3);
    }
    expect(train.at(-1).loss).toBeLessThan(train[0].loss);
  });

  it("checkpoints the shared embeddings once and the generator's own tensors under generator.", () => {
    const { model, weights } = loadCheckpoint(join(run, "checkpoints", "step-12"));
    expect(model.generator).toEqual({ hidden: 16, layers: 2, heads: 2, intermediate: 32 });
    expect(weights.get("embeddings.word")?.shape).toEqual([400, 32]);
    expect([...weights.keys()].filter((n) => n.startsWith("generator.embeddings.")).sort()).toEqual([
      "generator.embeddings.projection.bias",
      "generator.embeddings.projection.kernel",
    ]);
    expect(weights.get("generator.layers.1.ffn.intermediate.kernel")?.shape).toEqual([16, 32]);
    expect(weights.get("heads.rtd.output.kernel")?.shape).toEqual([32, 1]);
    expect(weights.has("heads.mlm.transform.kernel")).toBe(false);
  });

  it("resumed from step 4, ends with every tensor bit-identical to the uninterrupted run", () => {
    const resumed = join(dir, "resumed");
    cpSync(run, resumed, { recursive: true });
    for (const step of [8, 12]) rmSync(join(resumed, "checkpoints", `step-${step}`), { recursive: true });
    const r = bdlc([...trainArgs(resumed), "--resume"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("resuming from step 4");
    expect(checkpointSteps(resumed).at(-1)).toBe(12);
    expect(differingTensors(resumed, run)).toEqual([]);
  }, 300_000);

  it("eval reports the generator's held-out MLM and the discriminator's replaced-token detection; finetune trains a classifier on the discriminator", () => {
    const e = bdlc(["eval", run, "--corpus", corpus, "--examples", "128", "--backend", "cpu", "--json"]);
    expect(e.status, e.stderr).toBe(0);
    const metrics = JSON.parse(e.stdout);
    expect(metrics.predicted).toBeGreaterThan(0);
    expect(Number.isFinite(metrics.mlm_loss)).toBe(true);
    // The discriminator's: loss and accuracy over real tokens, on the generator's samples (some replace, some equal the original).
    expect(Number.isFinite(metrics.rtd_loss)).toBe(true);
    expect(metrics.rtd_accuracy).toBeGreaterThan(0.5);
    expect(metrics.replaced).toBeGreaterThan(0);
    expect(metrics.replaced).toBeLessThan(0.5);
    const f = bdlc([
      "finetune",
      run,
      "--task",
      "wordnet-lexname",
      "--epochs",
      "1",
      "--max-examples",
      "64",
      "--max-test",
      "64",
      "--backend",
      "cpu",
      "--json",
    ]);
    expect(f.status, f.stderr).toBe(0);
    const result = JSON.parse(f.stdout);
    expect(result.model).toBe("tiny-electra");
    expect(Number.isFinite(result.last_loss)).toBe(true);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
