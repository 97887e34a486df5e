/**
 * The bias switches (attention_bias, mlp_bias, norm_bias false, as Hugging Face's ModernBERT
 * config) in the emitted encoder, against the plain-ops reference of
 * test/helpers/reference-encoder.ts, which adds zero for a bias the weights lack. Weights are
 * drawn at random, biases too, so a bias left in (or one dropped from a part that keeps it) shows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import { feedForwardKind, normPosition, type ResolvedModel } from "../../src/model/model.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { tf } from "../../src/runtime/backends/tf.js";
import {
  gatedTransform,
  layerNorm,
  maxDifference,
  plainTransform,
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
model tiny-no-attention-bias extends tiny-plain { attention_bias false }
model tiny-no-mlp-bias extends tiny-plain { mlp_bias false }
model tiny-no-norm-bias extends tiny-plain { norm_bias false }
model tiny-modern extends tiny-plain {
  attention_bias false mlp_bias false norm_bias false
  norm_position pre feed_forward gated activation silu
}
`;

const temp = tempFiles("bdl-bias-free-");

const models = (): Map<string, ResolvedModel> => resolvedModels(temp.file("tiny.bdl", SOURCE));

/** The embeddings as BERT sums them (positions 0.., segment 0), then their LayerNorm. */
function referenceEmbeddings(ids: tf.Tensor2D, w: Map<string, tf.Tensor>): tf.Tensor {
  const [, s] = ids.shape;
  const word = tf.gather(w.get("embeddings.word")!, ids);
  const position = tf.gather(w.get("embeddings.position")!, tf.range(0, s, 1, "int32"));
  const segment = tf.gather(w.get("embeddings.segment")!, tf.zerosLike(ids));
  return layerNorm(tf.add(tf.add(word, position), segment), w, "embeddings.norm", EPS);
}

describe("bias switches in the emitted encoder", () => {
  it("a part without bias has no bias tensor; every other tensor is the full model's", async () => {
    const all = models();
    const names = async (name: string) => (await loadGraph(all.get(name)!)).graph.parameters.map((p) => p.name);
    const full = await names("tiny-plain");
    const without = (pattern: RegExp) => full.filter((n) => !pattern.test(n));
    expect(await names("tiny-no-attention-bias")).toEqual(without(/\.attention\.(query|key|value|output)\.bias$/));
    expect(await names("tiny-no-mlp-bias")).toEqual(without(/\.ffn\.(intermediate|output)\.bias$/));
    expect(await names("tiny-no-norm-bias")).toEqual(without(/norm\.bias$/));
    // The heads keep theirs: the MLM transform and the decoder's own bias.
    expect(await names("tiny-no-norm-bias")).toEqual(expect.arrayContaining(["heads.mlm.transform.bias", "heads.mlm.bias"]));
  });

  it.each(["tiny-plain", "tiny-no-attention-bias", "tiny-no-mlp-bias", "tiny-no-norm-bias", "tiny-modern"])(
    "%s: embeddings and each layer as the reference",
    async (name) => {
      const model = models().get(name)!;
      const { graph } = await loadGraph(model);
      const w = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])), 2026);
      const x = referenceInputs();
      const out = graph.encode(
        graph.bindParams((n) => w.get(n)),
        x,
        EVAL,
      );
      expect(out.hiddenStates).toHaveLength(LAYERS + 1);
      let h = referenceEmbeddings(x.inputIds, w);
      expect(maxDifference(out.hiddenStates[0]!, h), `${name} embeddings`).toBeLessThan(1e-4);
      const pre = normPosition(model) === "pre";
      const transform = feedForwardKind(model) === "gated" ? gatedTransform("silu", TINY_SIZES) : plainTransform("gelu");
      for (let layer = 0; layer < LAYERS; layer++) {
        h = referenceLayer(h, x.attentionMask, w, layer, { pre, transform, sizes: TINY_SIZES });
        if (layer < LAYERS - 1) expect(maxDifference(out.hiddenStates[layer + 1]!, h), `${name} layer ${layer}`).toBeLessThan(1e-4);
      }
      if (pre) h = layerNorm(h, w, "encoder.final_norm", EPS);
      expect(maxDifference(out.lastHiddenState, h), `${name} last hidden state`).toBeLessThan(1e-4);
    },
  );

  it("the biases a full model has matter: leaving them out of its reference computes something else", async () => {
    const { graph } = await loadGraph(models().get("tiny-plain")!);
    const w = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])), 2026);
    const x = referenceInputs();
    const out = graph.encode(
      graph.bindParams((n) => w.get(n)),
      x,
      EVAL,
    );
    const noBias = new Map([...w].filter(([n]) => !n.endsWith(".bias")));
    let h = referenceEmbeddings(x.inputIds, noBias);
    for (let layer = 0; layer < LAYERS; layer++)
      h = referenceLayer(h, x.attentionMask, noBias, layer, { pre: false, transform: plainTransform("gelu"), sizes: TINY_SIZES });
    expect(maxDifference(out.lastHiddenState, h)).toBeGreaterThan(0.05);
  });
});
