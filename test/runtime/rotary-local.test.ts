/**
 * Rotary positions, local attention and ModernBERT's layer 0 without an attention LayerNorm
 * in the emitted encoder, against the plain-ops reference of test/helpers/reference-encoder.ts
 * (RoPE written out pair by pair, the window as a mask of its own). Weights are drawn at
 * random; the inputs have padding, and the second row's last query sees only padding within
 * its window, the case where masks must not add up to −∞.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import { isLocalLayer, rotaryBase, type ResolvedModel } from "../../src/model/model.js";
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

const SOURCE = `${tinyModelSource("tiny-plain")}
model tiny-rotary extends tiny-plain { attention { rotary 10000 } }
model tiny-local extends tiny-plain { layers 3 attention { window 2 global_every 2 } }
model tiny-local-rotary extends tiny-plain {
  layers 4
  attention { rotary 160000 window 2 global_every 3 local_rotary 100 }
}
model tiny-no-decoder-bias extends tiny-plain { decoder_bias false }
model tiny-modernbert extends tiny-local-rotary {
  norm_position pre feed_forward gated first_attention_norm false
  attention_bias false mlp_bias false norm_bias false classifier_bias false
}
`;

const temp = tempFiles("bdl-rotary-local-");
const models = (): Map<string, ResolvedModel> => resolvedModels(temp.file("tiny.bdl", SOURCE));

/** Word (+ learned position) + segment embeddings, then their LayerNorm. */
function referenceEmbeddings(ids: tf.Tensor2D, w: Map<string, tf.Tensor>): tf.Tensor {
  const [, s] = ids.shape;
  let sum = tf.add(tf.gather(w.get("embeddings.word")!, ids), tf.gather(w.get("embeddings.segment")!, tf.zerosLike(ids)));
  const position = w.get("embeddings.position");
  if (position) sum = tf.add(sum, tf.gather(position, tf.range(0, s, 1, "int32")));
  return layerNorm(sum, w, "embeddings.norm", TINY.eps);
}

async function encodeBoth(name: string) {
  const model = models().get(name)!;
  const { graph } = await loadGraph(model);
  const w = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])), 7);
  const x = referenceInputs();
  const out = graph.encode(
    graph.bindParams((n) => w.get(n)),
    x,
    EVAL,
  );
  const pre = model.norm_position === "pre";
  const transform = model.feed_forward === "gated" ? gatedTransform("gelu", TINY_SIZES) : plainTransform("gelu");
  let h = referenceEmbeddings(x.inputIds, w);
  const layers: number[] = [];
  for (let layer = 0; layer < model.layers; layer++) {
    const theta = rotaryBase(model, layer) ?? undefined;
    const window = isLocalLayer(model, layer) ? model.attention!.window! : undefined;
    h = referenceLayer(h, x.attentionMask, w, layer, {
      pre,
      transform,
      sizes: TINY_SIZES,
      attention: { theta, window },
      attentionNorm: !(layer === 0 && model.first_attention_norm === false),
    });
    if (layer < model.layers - 1) layers.push(maxDifference(out.hiddenStates[layer + 1]!, h));
  }
  if (pre) h = layerNorm(h, w, "encoder.final_norm", TINY.eps);
  return { model, graph, layers, last: maxDifference(out.lastHiddenState, h), out, w, x };
}

describe("rotary positions and local attention in the emitted encoder", () => {
  it.each(["tiny-rotary", "tiny-local", "tiny-local-rotary", "tiny-modernbert"])("%s: each layer as the reference", async (name) => {
    const { layers, last } = await encodeBoth(name);
    for (const [layer, d] of layers.entries()) expect(d, `${name} layer ${layer}`).toBeLessThan(1e-4);
    expect(last, `${name} last hidden state`).toBeLessThan(1e-4);
  });

  it("rotary models have no position table; ModernBERT's layer 0 has no attention LayerNorm and its head transform no bias", async () => {
    const all = models();
    const names = async (name: string) => (await loadGraph(all.get(name)!)).graph.parameters.map((p) => p.name);
    const plain = await names("tiny-plain");
    expect(await names("tiny-rotary")).toEqual(plain.filter((n) => n !== "embeddings.position"));
    const modern = await names("tiny-modernbert");
    expect(modern.filter((n) => n.startsWith("layers.0.attention.norm"))).toEqual([]);
    expect(modern).toContain("layers.1.attention.norm.weight");
    expect(modern).toContain("heads.mlm.transform.kernel");
    expect(modern).not.toContain("heads.mlm.transform.bias");
    expect(await names("tiny-no-decoder-bias")).toEqual(plain.filter((n) => n !== "heads.mlm.bias"));
  });

  it("without a decoder bias the MLM logits are the transform's output against the word table alone", async () => {
    const withBias = await loadGraph(models().get("tiny-plain")!);
    const without = await loadGraph(models().get("tiny-no-decoder-bias")!);
    const w = randomWeights(new Map(withBias.graph.parameters.map((p) => [p.name, p.shape])), 11);
    const h = tf.randomNormal([3, TINY.hidden], 0, 1, "float32", 5) as tf.Tensor2D;
    const a = withBias.graph.mlmLogits!(
      withBias.graph.bindParams((n) => w.get(n)),
      h,
    );
    const b = without.graph.mlmLogits!(
      without.graph.bindParams((n) => w.get(n)),
      h,
    );
    expect(maxDifference(tf.sub(a, b), tf.broadcastTo(w.get("heads.mlm.bias")!, a.shape))).toBeLessThan(1e-5);
  });

  it("the settings matter: positions change a rotary model's output, and the window a local model's", async () => {
    // A rotary model sees order: reversing the real tokens of a row changes its outputs, not just their order.
    const rotary = await encodeBoth("tiny-rotary");
    const reversed = rotary.graph.encode(
      rotary.graph.bindParams((n) => rotary.w.get(n)),
      {
        ...rotary.x,
        inputIds: tf.tensor2d(
          [
            [0, 3, 11, 9, 7, 2],
            [2, 13, 5, 3, 0, 0],
          ],
          undefined,
          "int32",
        ),
      },
      EVAL,
    );
    expect(
      maxDifference(
        tf.reverse(tf.slice(reversed.lastHiddenState, [0, 0, 0], [1, 6, -1]), 1),
        tf.slice(rotary.out.lastHiddenState, [0, 0, 0], [1, 6, -1]),
      ),
    ).toBeGreaterThan(1e-3);
    // The local model against the same weights in a model whose every layer is global.
    const local = await encodeBoth("tiny-local");
    const global = await loadGraph({ ...local.model, attention: undefined });
    const everywhere = global.graph.encode(
      global.graph.bindParams((n) => local.w.get(n)),
      local.x,
      EVAL,
    );
    expect(maxDifference(everywhere.lastHiddenState, local.out.lastHiddenState)).toBeGreaterThan(1e-3);
  });
});
