/**
 * What the trainer runs is the emitted code: the emitted `trainStep`, and for gradient
 * accumulation the emitted `gradients` of each micro-batch, move every weight exactly as
 * gradients taken of the graph's `loss` directly and applied by the runtime do.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { readSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
import { weightsFromHf, type WeightMap } from "../../src/runtime/checkpoint/hf-weights.js";
import { stepRandomness } from "../../src/runtime/layers/dropout.js";
import { createOptimizer } from "../../src/runtime/optim/index.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { accumulate, applyGradients, computeGradients, trainableVariables, type TrainState } from "../../src/runtime/train/step.js";
import type { AnyGraphModule, GraphInputs, GraphLabels } from "../../src/runtime/graph-module.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const model = checkFile("test/fixtures/goldens/bert.bdl").resolutions.get("tiny-bert")!.model;
const inputs = JSON.parse(readFileSync("test/fixtures/goldens/bert/inputs.json", "utf8"));

function batch(rows: number[]): { x: GraphInputs; y: GraphLabels } {
  const pick = (m: number[][]) => rows.map((r) => m[r]!);
  return {
    x: {
      inputIds: tf.tensor2d(pick(inputs.input_ids), undefined, "int32"),
      attentionMask: tf.tensor2d(pick(inputs.attention_mask), undefined, "int32"),
      tokenTypeIds: tf.tensor2d(pick(inputs.token_type_ids), undefined, "int32"),
    },
    y: {
      labels: tf.tensor2d(pick(inputs.labels), undefined, "int32"),
      nextSentenceLabel: tf.tensor1d(
        rows.map((r) => inputs.next_sentence_label[r]),
        "int32",
      ),
    },
  };
}

function stateOf(graph: AnyGraphModule, weights: WeightMap): TrainState {
  const decay = new Map(graph.parameters.map((p) => [p.name, p.decay]));
  return {
    variables: trainableVariables(weights),
    optimizer: createOptimizer(
      { kind: "adamw", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weight_decay: 0.01 },
      { noDecay: (n) => !decay.get(n) },
    ),
    clipNorm: 1,
  };
}

function weightsOf(state: TrainState): Map<string, Float32Array> {
  return new Map([...state.variables].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

function dispose(state: TrainState): void {
  state.optimizer.dispose();
  for (const v of state.variables.values()) v.dispose();
}

describe("the emitted training step", () => {
  it("trainStep and accumulated gradients update the weights bit for bit as the graph's loss does", async () => {
    const { graph } = await loadGraph(model);
    const weights = weightsFromHf(readSafetensors("test/fixtures/goldens/bert/model.safetensors"), model, "bert");
    const rows = inputs.input_ids.map((_: unknown, i: number) => i) as number[];
    expect(rows.length).toBeGreaterThan(1);
    const halves = [rows.slice(0, Math.ceil(rows.length / 2)), rows.slice(Math.ceil(rows.length / 2))].map(batch);
    const whole = batch(rows);
    const lossOf = (b: { x: GraphInputs; y: GraphLabels }, m: number) => (lookup: (name: string) => tf.Tensor | undefined) =>
      graph.loss(graph.bindParams(lookup), b.x, b.y, stepRandomness(7, m));

    // One batch: the emitted trainStep against gradients of `loss` applied by the runtime.
    const [emitted, direct] = [stateOf(graph, weights), stateOf(graph, weights)];
    for (let step = 0; step < 3; step++) {
      const a = graph.trainStep(emitted, 1e-3, whole.x, whole.y, stepRandomness(7, step));
      const b = applyGradients(direct, computeGradients(direct.variables, lossOf(whole, step)), 1e-3);
      expect(a).toEqual(b);
    }
    expect(weightsOf(emitted)).toEqual(weightsOf(direct));

    // Two micro-batches: the emitted gradients of each, summed and averaged, against the same of `loss`.
    const [emittedSum, directSum] = [stateOf(graph, weights), stateOf(graph, weights)];
    for (let step = 0; step < 2; step++) {
      const ours = halves.map((h, m) => graph.gradients(emittedSum.variables, h.x, h.y, stepRandomness(7, step * 2 + m)));
      const theirs = halves.map((h, m) => computeGradients(directSum.variables, lossOf(h, step * 2 + m)));
      const a = applyGradients(emittedSum, accumulate(ours[0]!, ours[1]!), 1e-3, 2);
      const b = applyGradients(directSum, accumulate(theirs[0]!, theirs[1]!), 1e-3, 2);
      expect(a).toEqual(b);
    }
    expect(weightsOf(emittedSum)).toEqual(weightsOf(directSum));
    // The steps moved the weights: the comparisons are not between untouched copies.
    const initial = new Map([...weights].map(([n, w]) => [n, w.values]));
    expect(weightsOf(emitted)).not.toEqual(initial);
    expect(weightsOf(emittedSum)).not.toEqual(initial);
    for (const s of [emitted, direct, emittedSum, directSum]) dispose(s);
    for (const b of [whole, ...halves]) tf.dispose([...Object.values(b.x), ...Object.values(b.y)]);
  });
});
