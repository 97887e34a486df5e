/**
 * The gated feed-forward sublayer as the emitted encoder computes it, against the plain-ops
 * reference of test/helpers/reference-encoder.ts: Hugging Face's ModernBERT MLP, where x·Wi
 * ([B, S, 2·I]) splits into input (first half) and gate (second half) and the output is
 * (act(input) * gate)·Wo; gelu for GeGLU, silu for SwiGLU; post-LN and pre-LN. Weights are
 * drawn at random, so a swapped split, a missing gate or the wrong activation shows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { tf } from "../../src/runtime/backends/tf.js";
import {
  gatedTransform,
  layerNorm,
  maxDifference,
  randomWeights,
  referenceInputs,
  referenceLayer,
  resolvedModels,
  TINY,
  TINY_SIZES,
  tinyModelSource,
} from "../helpers/reference-encoder.js";
import { tempFiles } from "../helpers/temp-files.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const { hidden: H, intermediate: I, layers: LAYERS, eps: EPS } = TINY;

const SOURCE = `${tinyModelSource("tiny-plain")}
model tiny-geglu extends tiny-plain { feed_forward gated }
model tiny-swiglu extends tiny-plain { feed_forward gated activation silu }
model tiny-swiglu-pre extends tiny-swiglu { norm_position pre }
`;

const temp = tempFiles("bdl-gated-ffn-");

const models = (): Map<string, ResolvedModel> => resolvedModels(temp.file("tiny.bdl", SOURCE));

describe("feed_forward gated in the emitted encoder", () => {
  it("a gated layer's intermediate kernel is [H, 2·I]; nothing else in the table changes", async () => {
    const all = models();
    const plain = (await loadGraph(all.get("tiny-plain")!)).graph.parameters;
    const gated = (await loadGraph(all.get("tiny-geglu")!)).graph.parameters;
    expect(gated.map((p) => p.name)).toEqual(plain.map((p) => p.name));
    const changed = gated.filter((p, i) => p.shape.join() !== plain[i]!.shape.join()).map((p) => [p.name, p.shape]);
    expect(changed).toEqual([
      ["layers.0.ffn.intermediate.kernel", [H, 2 * I]],
      ["layers.0.ffn.intermediate.bias", [2 * I]],
      ["layers.1.ffn.intermediate.kernel", [H, 2 * I]],
      ["layers.1.ffn.intermediate.bias", [2 * I]],
    ]);
  });

  it.each([
    ["tiny-geglu", "gelu", false],
    ["tiny-swiglu", "silu", false],
    ["tiny-swiglu-pre", "silu", true],
  ] as const)("%s: (%s(input) * gate)·Wo in each layer, as the reference", async (name, act, pre) => {
    const { graph } = await loadGraph(models().get(name)!);
    const w = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])), 2025);
    const x = referenceInputs();
    const out = graph.encode(
      graph.bindParams((n) => w.get(n)),
      x,
      EVAL,
    );
    expect(out.hiddenStates).toHaveLength(LAYERS + 1);
    let h: tf.Tensor = out.hiddenStates[0]!;
    for (let layer = 0; layer < LAYERS; layer++) {
      h = referenceLayer(h, x.attentionMask, w, layer, { pre, transform: gatedTransform(act, TINY_SIZES), sizes: TINY_SIZES });
      if (layer < LAYERS - 1) expect(maxDifference(out.hiddenStates[layer + 1]!, h), `${name} layer ${layer}`).toBeLessThan(1e-4);
    }
    if (pre) h = layerNorm(h, w, "encoder.final_norm", EPS);
    expect(maxDifference(out.lastHiddenState, h), `${name} last hidden state`).toBeLessThan(1e-4);

    // The gate matters: the same weights with input and gate halves swapped compute something clearly different.
    const swapped = new Map(w);
    for (let layer = 0; layer < LAYERS; layer++) {
      const k = `layers.${layer}.ffn.intermediate`;
      const [kIn, kGate] = tf.split(w.get(`${k}.kernel`)!, 2, -1);
      const [bIn, bGate] = tf.split(w.get(`${k}.bias`)!, 2, -1);
      swapped.set(`${k}.kernel`, tf.concat([kGate!, kIn!], -1));
      swapped.set(`${k}.bias`, tf.concat([bGate!, bIn!], -1));
    }
    const other = graph.encode(
      graph.bindParams((n) => swapped.get(n)),
      x,
      EVAL,
    );
    expect(maxDifference(other.lastHiddenState, out.lastHiddenState)).toBeGreaterThan(0.05);
  });
});
