/** The emitted trainStep: the loss falls on a fixed batch, and no tensor outlives its step. */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { readSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
import { weightsFromHf } from "../../src/runtime/checkpoint/hf-weights.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { createOptimizer } from "../../src/runtime/optim/index.js";
import { tf } from "../../src/runtime/backends/tf.js";
import type { TrainState } from "../../src/runtime/train/step.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("trainStep", () => {
  it("lowers the loss of a fixed batch and keeps tf.memory().numTensors flat across steps", async () => {
    const checked = checkFile("test/fixtures/goldens/bert.bdl");
    const model = checked.resolutions.get("tiny-bert")!.model;
    const { graph } = await loadGraph(model);
    const weights = weightsFromHf(readSafetensors("test/fixtures/goldens/bert/model.safetensors"), model, "bert");
    const inputs = JSON.parse(readFileSync("test/fixtures/goldens/bert/inputs.json", "utf8"));
    const x = {
      inputIds: tf.tensor2d(inputs.input_ids, undefined, "int32"),
      attentionMask: tf.tensor2d(inputs.attention_mask, undefined, "int32"),
      tokenTypeIds: tf.tensor2d(inputs.token_type_ids, undefined, "int32"),
    };
    const y = {
      labels: tf.tensor2d(inputs.labels, undefined, "int32"),
      nextSentenceLabel: tf.tensor1d(inputs.next_sentence_label, "int32"),
    };
    const state: TrainState = {
      variables: new Map([...weights].map(([n, w]) => [n, tf.variable(tf.tensor(w.values, w.shape))])),
      optimizer: createOptimizer(
        { kind: "adamw", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weight_decay: 0.01 },
        { noDecay: (n) => !graph.parameters.find((p) => p.name === n)!.decay },
      ),
      clipNorm: 1,
    };
    const losses: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) {
      losses.push(graph.trainStep(state, 1e-3, x, y, EVAL).loss);
      counts.push(tf.memory().numTensors);
    }
    // The first step creates the optimizer's moments; after that nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(losses[11]!).toBeLessThan(losses[0]! * 0.8);
    // The first step's loss is the golden's: training starts from exactly the Hugging Face model.
    const golden = JSON.parse(readFileSync("test/fixtures/goldens/bert/outputs.json", "utf8"));
    expect(Math.abs(losses[0]! - golden.loss) / golden.loss).toBeLessThan(2e-4);
    state.optimizer.dispose();
    for (const v of state.variables.values()) v.dispose();
  });
});
