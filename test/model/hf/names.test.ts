/**
 * The Hugging Face mapping beyond the three goldens: RoBERTa's position offset and names,
 * ALBERT's several layer groups, DistilBERT's names, and layouts no family can hold.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { hfFamily, hfNaming } from "../../../src/model/hf/names.js";
import { positionIds } from "../../../src/runtime/layers/embeddings.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../../helpers/resolved-fixtures.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("position ids", () => {
  it("count from 0 for BERT", () => {
    const ids = tf.tensor2d([[5, 6, 7, 0]], undefined, "int32");
    expect(positionIds(ids, { offset: 0, padId: 0 }).arraySync()).toEqual([[0, 1, 2, 3]]);
  });

  it("follow create_position_ids_from_input_ids for RoBERTa (pad 1, offset 2)", () => {
    // cumsum(input_ids != pad) * (input_ids != pad) + pad: padding gets the pad row.
    const ids = tf.tensor2d(
      [
        [0, 31, 2, 1, 1],
        [0, 2, 1, 1, 1],
      ],
      undefined,
      "int32",
    );
    const positions = positionIds(ids, { offset: 2, padId: 1 });
    expect(positions.arraySync()).toEqual([
      [2, 3, 4, 1, 1],
      [2, 3, 1, 1, 1],
    ]);
    // Ids, not values: an embedding lookup needs int32.
    expect(positions.dtype).toBe("int32");
  });
});

describe("Hugging Face names", () => {
  it("picks the family from the architecture", () => {
    expect([bertBase(), robertaBase(), albertBase(), distilbertBase()].map(hfFamily)).toEqual(["bert", "roberta", "albert", "distilbert"]);
  });

  it("RoBERTa: roberta.* encoder, lm_head with its layer_norm, the decoder tied", () => {
    const naming = hfNaming(robertaBase());
    const hf = new Map(naming.names.map((n) => [n.name, n.hf]));
    expect(hf.get("embeddings.position")).toBe("roberta.embeddings.position_embeddings.weight");
    expect(hf.get("layers.11.attention.query.kernel")).toBe("roberta.encoder.layer.11.attention.self.query.weight");
    expect(hf.get("heads.mlm.norm.weight")).toBe("lm_head.layer_norm.weight");
    expect(hf.get("heads.mlm.bias")).toBe("lm_head.bias");
    expect(naming.tiedAliases).toEqual({
      "lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight",
      "lm_head.decoder.bias": "lm_head.bias",
    });
    expect(naming.unrepresentable).toBeNull();
  });

  it("ALBERT with two groups of six layers: albert_layer_groups.0 and .1", () => {
    const model = albertBase();
    model.sharing = [
      { name: "a", layers: [0, 1, 2, 3, 4, 5], share: ["attention", "ffn"] },
      { name: "b", layers: [6, 7, 8, 9, 10, 11], share: ["attention", "ffn"] },
    ];
    const naming = hfNaming(model);
    const hf = new Map(naming.names.map((n) => [n.name, n.hf]));
    expect(hf.get("groups.a.ffn.intermediate.kernel")).toBe("albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight");
    expect(hf.get("groups.b.ffn.norm.bias")).toBe("albert.encoder.albert_layer_groups.1.albert_layers.0.full_layer_layer_norm.bias");
    expect(naming.unrepresentable).toBeNull();
  });

  it("refuses layouts ALBERT's layer groups cannot hold", () => {
    const attentionOnly = albertBase();
    attentionOnly.sharing = [{ name: "a", layers: [...Array(12).keys()], share: ["attention"] }];
    expect(hfNaming(attentionOnly).unrepresentable).toMatch(/shares only attention/);
    const uneven = albertBase();
    uneven.sharing = [
      { name: "a", layers: [0, 1, 2], share: ["attention", "ffn"] },
      { name: "b", layers: [3, 4, 5, 6, 7, 8, 9, 10, 11], share: ["attention", "ffn"] },
    ];
    expect(hfNaming(uneven).unrepresentable).toMatch(/contiguous and of equal size/);
  });

  it("refuses a pre-LN model in every family, by name, and names all its other tensors", () => {
    for (const base of [bertBase(), robertaBase(), albertBase(), distilbertBase()]) {
      const pre = { ...base, norm_position: "pre" as const };
      const naming = hfNaming(pre);
      expect(naming.unrepresentable).toMatch(
        / layers are post-LN \(LayerNorm after each residual sum, no final LayerNorm\), but model '.+' has norm_position pre$/,
      );
      expect(naming.family).toBe(hfFamily(base));
      expect(naming.names.map((n) => n.name)).toEqual(hfNaming(base).names.map((n) => n.name));
    }
    expect(hfNaming({ ...bertBase(), norm_position: "pre" }).unrepresentable).toMatch(/^BERT layers are post-LN/);
  });

  it("refuses a gated feed-forward model in every family, by name, and names every tensor as the plain model does", () => {
    for (const base of [bertBase(), robertaBase(), albertBase(), distilbertBase()]) {
      const gated = { ...base, feed_forward: "gated" as const };
      const naming = hfNaming(gated);
      expect(naming.unrepresentable).toMatch(
        / feed-forward layers are plain \(activation, no gate\), but model '.+' has feed_forward gated$/,
      );
      expect(naming.family).toBe(hfFamily(base));
      expect(naming.names.map((n) => n.name)).toEqual(hfNaming(base).names.map((n) => n.name));
    }
    expect(hfNaming({ ...robertaBase(), feed_forward: "gated" }).unrepresentable).toMatch(/^RoBERTa feed-forward layers are plain/);
    // Both refusals apply to a gated pre-LN model: it names the feed-forward one first.
    expect(hfNaming({ ...bertBase(), feed_forward: "gated", norm_position: "pre" }).unrepresentable).toMatch(/has feed_forward gated$/);
  });

  it("refuses a model with a bias-free part in every family, by name, and names the tensors it has as the full model does", () => {
    for (const base of [bertBase(), robertaBase(), albertBase(), distilbertBase()]) {
      for (const part of ["attention", "mlp", "norm"] as const) {
        const model = { ...base, [`${part}_bias`]: false };
        const naming = hfNaming(model);
        expect(naming.unrepresentable, part).toMatch(
          new RegExp(` dense layers and LayerNorms all have biases, but model '.+' has ${part}_bias false$`),
        );
        expect(naming.family).toBe(hfFamily(base));
        const full = new Map(hfNaming(base).names.map((n) => [n.name, n.hf]));
        expect(naming.names.length, part).toBeLessThan(full.size);
        for (const n of naming.names) expect(n.hf, n.name).toBe(full.get(n.name));
      }
    }
    expect(hfNaming({ ...robertaBase(), norm_bias: false }).unrepresentable).toMatch(/^RoBERTa dense layers and LayerNorms/);
    // A gated model without biases names the feed-forward refusal first.
    expect(hfNaming({ ...bertBase(), feed_forward: "gated", mlp_bias: false }).unrepresentable).toMatch(/has feed_forward gated$/);
  });

  it("DistilBERT: transformer.layer.N with q_lin … output_layer_norm, vocab_projector tied", () => {
    const naming = hfNaming(distilbertBase());
    const hf = new Map(naming.names.map((n) => [n.name, n.hf]));
    expect(hf.get("layers.5.attention.output.kernel")).toBe("distilbert.transformer.layer.5.attention.out_lin.weight");
    expect(hf.get("layers.0.ffn.norm.weight")).toBe("distilbert.transformer.layer.0.output_layer_norm.weight");
    expect(hf.has("embeddings.segment")).toBe(false);
    expect(naming.tiedAliases).toEqual({ "vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight" });
  });

  it("kernels are transposed, everything else is not", () => {
    for (const n of hfNaming(bertBase()).names) expect(n.transpose, n.name).toBe(n.name.endsWith(".kernel"));
  });
});
