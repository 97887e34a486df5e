/**
 * Where the LayerNorms sit, as the emitted encoder computes it: a pre-LN model's layers are
 * x + Attn(LN(x)) and x + FFN(LN(x)), and a final LayerNorm follows the last one; a post-LN
 * model's are LN(x + Attn(x)) and LN(x + FFN(x)). Both are checked against the plain-ops
 * reference of test/helpers/reference-encoder.ts, from the embeddings' output on, with weights
 * drawn at random (LayerNorm weights too, so a LayerNorm in the wrong place shows).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { tf } from "../../src/runtime/backends/tf.js";
import {
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

const SOURCE = `${tinyModelSource("tiny-post")}
model tiny-pre extends tiny-post { norm_position pre }
`;

const temp = tempFiles("bdl-norm-position-");

function models(): { post: ResolvedModel; pre: ResolvedModel } {
  const all = resolvedModels(temp.file("tiny.bdl", SOURCE));
  return { post: all.get("tiny-post")!, pre: all.get("tiny-pre")! };
}

describe("norm_position in the emitted encoder", () => {
  it("pre: x + Attn(LN(x)), x + FFN(LN(x)) in each layer, then the final LayerNorm; post: LN after each residual sum", async () => {
    const { post, pre } = models();
    const graphs = { post: (await loadGraph(post)).graph, pre: (await loadGraph(pre)).graph };
    const shapes = new Map([...graphs.pre.parameters, ...graphs.post.parameters].map((p) => [p.name, p.shape]));
    const w = randomWeights(shapes, 2024);
    // What pre-LN adds to the table: one LayerNorm after the layers.
    expect(graphs.pre.parameters.map((p) => p.name).filter((n) => !graphs.post.parameters.some((q) => q.name === n))).toEqual([
      "encoder.final_norm.weight",
      "encoder.final_norm.bias",
    ]);

    const x = referenceInputs();
    const outputs: Record<"post" | "pre", tf.Tensor> = { post: tf.scalar(0), pre: tf.scalar(0) };
    for (const kind of ["post", "pre"] as const) {
      const graph = graphs[kind];
      const out = graph.encode(
        graph.bindParams((name) => w.get(name)),
        x,
        EVAL,
      );
      expect(out.hiddenStates).toHaveLength(LAYERS + 1);
      expect(out.hiddenStates.at(-1)).toBe(out.lastHiddenState);
      let h: tf.Tensor = out.hiddenStates[0]!;
      for (let layer = 0; layer < LAYERS; layer++) {
        h = referenceLayer(h, x.attentionMask, w, layer, { pre: kind === "pre", transform: plainTransform("gelu"), sizes: TINY_SIZES });
        // Before the last layer, the hidden states are the layers' own outputs (unnormalised when pre-LN).
        if (layer < LAYERS - 1) expect(maxDifference(out.hiddenStates[layer + 1]!, h), `${kind} layer ${layer}`).toBeLessThan(1e-4);
      }
      if (kind === "pre") h = layerNorm(h, w, "encoder.final_norm", EPS);
      expect(maxDifference(out.lastHiddenState, h), `${kind} last hidden state`).toBeLessThan(1e-4);
      outputs[kind] = out.lastHiddenState;
    }
    // The same weights in the two structures compute clearly different things.
    expect(maxDifference(outputs.post, outputs.pre)).toBeGreaterThan(0.1);
  });
});
