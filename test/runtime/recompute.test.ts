/**
 * Activation recomputation changes where a step's memory goes, never what it computes: the
 * emitted graph's gradients with every sublayer recomputed equal those without, bit for bit,
 * dropout included (the recomputed forward replays the masks), for post-LN, pre-LN gated,
 * ModernBERT-like (rotary, local, layer 0 without its attention LayerNorm) and shared
 * (ALBERT) layers — and a recomputed step keeps far fewer tensors alive at the end of its
 * forward pass.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { useBackend, type BackendName } from "../../src/runtime/backends/backend.js";
import { loadOnnxRuntime } from "../../src/runtime/backends/native/onnxruntime.js";
import { parameterTable } from "../../src/model/parameters.js";
import { initialWeights } from "../../src/runtime/init.js";
import { EVAL, stepRandomness } from "../../src/runtime/layers/dropout.js";
import { withRecomputation } from "../../src/runtime/layers/recompute.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { trainableVariables } from "../../src/runtime/train/step.js";
import type { AnyGraphModule, GraphInputs, GraphLabels } from "../../src/runtime/graph-module.js";

const SOURCE = `
model small-bert {
  vocab 60
  hidden 16
  layers 3
  heads 2
  intermediate 24
  dropout 0.2
  attention_dropout 0.3
  pooler tanh
  embeddings { positions 16 }
  objectives { mlm weight 1 nsp weight 1 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}

model small-deep extends small-bert {
  layers 6
}

model small-pre extends small-bert {
  norm_position pre
  feed_forward gated
  activation silu
  pooler none
  objectives { mlm weight 1 nsp off }
}

model small-modern extends small-pre {
  first_attention_norm false
  attention_bias false
  attention { rotary 10000 window 4 global_every 2 }
}

model small-albert extends small-bert {
  sharing all
  embeddings { factorize 8 }
  objectives { mlm weight 1 nsp off sop weight 1 }
}
`;

const dir = mkdtempSync(join(tmpdir(), "bdl-recompute-"));
const file = join(dir, "small.bdl");
writeFileSync(file, SOURCE);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await tf.setBackend("cpu");
});

const BATCH = 3;
const SEQ = 12;

/** A batch with padding in two rows and a few labelled positions, from a fixed pattern. */
function batch(): { x: GraphInputs; y: GraphLabels } {
  const ids: number[][] = [];
  const mask: number[][] = [];
  const types: number[][] = [];
  const labels: number[][] = [];
  for (let b = 0; b < BATCH; b++) {
    const real = SEQ - 3 * b;
    ids.push(Array.from({ length: SEQ }, (_, s) => (s < real ? 5 + ((b * 7 + s * 11) % 55) : 0)));
    mask.push(Array.from({ length: SEQ }, (_, s) => (s < real ? 1 : 0)));
    types.push(Array.from({ length: SEQ }, (_, s) => (s < real / 2 ? 0 : 1)));
    labels.push(Array.from({ length: SEQ }, (_, s) => (s < real && (s + b) % 4 === 1 ? 5 + ((s * 13 + b) % 55) : -100)));
  }
  const int = (m: number[][]) => tf.tensor2d(m, undefined, "int32");
  return {
    x: { inputIds: int(ids), attentionMask: int(mask), tokenTypeIds: int(types) },
    y: { labels: int(labels), nextSentenceLabel: tf.tensor1d([0, 1, 0], "int32"), sentenceOrderLabel: tf.tensor1d([1, 0, 1], "int32") },
  };
}

async function setUp(name: string): Promise<{ graph: AnyGraphModule; variables: Map<string, tf.Variable> }> {
  const checked = checkFile(file);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const model = checked.resolutions.get(name)!.model;
  const { graph } = await loadGraph(model);
  return { graph, variables: trainableVariables(initialWeights(parameterTable(model, null), 3, 0)) };
}

function gradientsOf(graph: AnyGraphModule, variables: Map<string, tf.Variable>, recompute: boolean, step: number) {
  const { x, y } = batch();
  const g = withRecomputation(recompute, () => graph.gradients(variables, x, y, stepRandomness(11, step)));
  const values = new Map([...g.grads].map(([n, t]) => [n, t.dataSync() as Float32Array]));
  for (const t of g.grads.values()) t.dispose();
  tf.dispose([...Object.values(x), ...Object.values(y)]);
  return { loss: g.loss, terms: g.terms, values };
}

const BACKENDS_HERE: BackendName[] = ["cpu", "wasm", ...(loadOnnxRuntime() ? (["native"] as const) : [])];

describe.each(BACKENDS_HERE)("%s", (backend) => {
  it.each(["small-bert", "small-pre", "small-modern", "small-albert"])(
    "%s: recomputed gradients equal the taped ones bit for bit",
    async (name) => {
      await useBackend(backend);
      const { graph, variables } = await setUp(name);
      for (const step of [0, 1]) {
        const taped = gradientsOf(graph, variables, false, step);
        const recomputed = gradientsOf(graph, variables, true, step);
        expect(recomputed.loss).toBe(taped.loss);
        expect(recomputed.terms).toEqual(taped.terms);
        expect([...recomputed.values.keys()].sort()).toEqual([...taped.values.keys()].sort());
        for (const [n, v] of taped.values) expect(Buffer.from(recomputed.values.get(n)!.buffer), n).toEqual(Buffer.from(v.buffer));
        // Dropout is on: a different step draws different masks, so the comparison is not vacuous.
        if (step === 1) expect(taped.loss).not.toBe(gradientsOf(graph, variables, false, 0).loss);
      }
      for (const v of variables.values()) v.dispose();
    },
  );
});

describe("memory", () => {
  it("a recomputed forward pass keeps only each sublayer's input; an untaped one frees every sublayer's temporaries", async () => {
    await useBackend("cpu");
    const { graph, variables } = await setUp("small-bert");
    const { x, y } = batch();
    const params = graph.bindParams((n) => variables.get(n));
    /** Tensors alive after a step, over those alive before it. */
    const keptByForward = (recompute: boolean): number => {
      const before = tf.memory().numTensors;
      const g = withRecomputation(recompute, () => graph.gradients(variables, x, y, stepRandomness(1, 0)));
      for (const t of g.grads.values()) t.dispose();
      return tf.memory().numTensors - before;
    };
    // Nothing leaks either way: after the step only what it returned was alive (and is freed).
    expect(keptByForward(false)).toBe(0);
    expect(keptByForward(true)).toBe(0);

    // The forward pass as the gradient sees it: tensors alive when the loss is ready.
    const aliveAtLoss = (recompute: boolean): number => {
      let alive = 0;
      const g = withRecomputation(recompute, () =>
        tf.variableGrads(() => {
          const loss = graph.loss(params, x, y, stepRandomness(1, 0)).loss;
          alive = tf.memory().numTensors;
          return loss;
        }, [...variables.values()]),
      );
      tf.dispose([g.value, ...Object.values(g.grads)]);
      return alive;
    };
    const taped = aliveAtLoss(false);
    const recomputed = aliveAtLoss(true);
    expect(recomputed).toBeLessThan(taped * 0.75);

    // Without a tape (a teacher's or an evaluation's forward pass) each sublayer frees its
    // temporaries on return: three more layers leave only their two outputs each alive.
    const aliveAfterEncode = (g: AnyGraphModule, vs: Map<string, tf.Variable>): number => {
      const before = tf.memory().numTensors;
      let alive = 0;
      tf.tidy(() => {
        g.encode(
          g.bindParams((n) => vs.get(n)),
          x,
          EVAL,
        );
        alive = tf.memory().numTensors - before;
      });
      return alive;
    };
    const deep = await setUp("small-deep");
    expect(aliveAfterEncode(deep.graph, deep.variables) - aliveAfterEncode(graph, variables)).toBe(2 * 3);
    tf.dispose([...Object.values(x), ...Object.values(y)]);
    for (const v of [...variables.values(), ...deep.variables.values()]) v.dispose();
  });
});
