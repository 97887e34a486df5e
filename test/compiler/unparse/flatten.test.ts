import { describe, expect, it } from "vitest";
import { flattenModel } from "../../../src/compiler/unparse/flatten.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../../helpers/resolved-fixtures.js";

function asRecord(m: ResolvedModel): Record<string, string> {
  return Object.fromEntries(flattenModel(m).map((p) => [p.path, p.text]));
}

describe("flattenModel", () => {
  it("writes bert in .bdl syntax, in canonical order", () => {
    expect(flattenModel(bertBase())).toEqual([
      { path: "vocab", text: "30522" },
      { path: "hidden", text: "768" },
      { path: "layers", text: "12" },
      { path: "heads", text: "12" },
      { path: "intermediate", text: "3072" },
      { path: "activation", text: "gelu" },
      { path: "norm_eps", text: "1e-12" },
      { path: "norm_position", text: "post" },
      { path: "feed_forward", text: "plain" },
      { path: "attention_bias", text: "true" },
      { path: "mlp_bias", text: "true" },
      { path: "norm_bias", text: "true" },
      { path: "classifier_bias", text: "true" },
      { path: "decoder_bias", text: "true" },
      { path: "first_attention_norm", text: "true" },
      { path: "dropout", text: "0.1" },
      { path: "attention_dropout", text: "0.1" },
      { path: "pooler", text: "tanh" },
      { path: "embeddings.positions", text: "512" },
      { path: "embeddings.offset", text: "0" },
      { path: "embeddings.segments", text: "2" },
      { path: "embeddings.factorize", text: "none" },
      { path: "attention.rotary", text: "none" },
      { path: "attention.window", text: "none" },
      { path: "attention.global_every", text: "1" },
      { path: "attention.local_rotary", text: "none" },
      { path: "generator", text: "none" },
      { path: "sharing", text: "none" },
      { path: "objectives.mlm", text: "weight 1" },
      { path: "objectives.nsp", text: "weight 1" },
      { path: "objectives.sop", text: "off" },
      { path: "objectives.distill", text: "off" },
      { path: "objectives.cosine", text: "off" },
      { path: "objectives.rtd", text: "off" },
      { path: "masking.rate", text: "0.15" },
      { path: "masking.fractions", text: "mask 0.8 random 0.1 keep 0.1" },
      { path: "masking.unit", text: "token" },
      { path: "masking.schedule", text: "static duplicates 10" },
      { path: "teacher", text: "none" },
      { path: "tokenizer", text: "wordpiece lowercase" },
      { path: "special", text: "pad 0 unk 100 cls 101 sep 102 mask 103" },
      { path: "train.optimizer", text: "adamw" },
      { path: "train.lr", text: "1e-4" },
      { path: "train.beta1", text: "0.9" },
      { path: "train.beta2", text: "0.999" },
      { path: "train.eps", text: "1e-6" },
      { path: "train.weight_decay", text: "0.01" },
      { path: "train.warmup", text: "10000" },
      { path: "train.decay", text: "linear" },
      { path: "train.batch", text: "256" },
      { path: "train.seq", text: "128" },
      { path: "train.steps", text: "1000000" },
      { path: "train.document_mask", text: "false" },
    ]);
  });

  it("has the same paths for every model", () => {
    const paths = (m: ResolvedModel) => flattenModel(m).map((p) => p.path);
    for (const m of [robertaBase(), albertBase(), distilbertBase()]) expect(paths(m)).toEqual(paths(bertBase()));
  });

  it("writes ELECTRA's generator on one line, its sizes in the record's order", () => {
    const electra = { ...bertBase(), generator: { hidden: 256, layers: 12, heads: 4, intermediate: 1024 } };
    expect(asRecord(electra)["generator"]).toBe("hidden 256 layers 12 heads 4 intermediate 1024");
  });

  it("writes the norm position, post unless the model says pre", () => {
    expect(asRecord(bertBase())["norm_position"]).toBe("post");
    expect(asRecord({ ...bertBase(), norm_position: "pre" })["norm_position"]).toBe("pre");
  });

  it("writes the feed-forward kind, plain unless the model says gated", () => {
    expect(asRecord(bertBase())["feed_forward"]).toBe("plain");
    expect(asRecord({ ...bertBase(), feed_forward: "gated" })["feed_forward"]).toBe("gated");
  });

  it("writes each bias switch, true unless the model says false", () => {
    for (const key of ["attention_bias", "mlp_bias", "norm_bias", "classifier_bias", "decoder_bias"] as const) {
      expect(asRecord(bertBase())[key], key).toBe("true");
      const record = asRecord({ ...bertBase(), [key]: false });
      expect(record[key], key).toBe("false");
      const others = ["attention_bias", "mlp_bias", "norm_bias", "classifier_bias", "decoder_bias"].filter((k) => k !== key);
      for (const other of others) expect(record[other], `${key}: ${other}`).toBe("true");
    }
  });

  it("writes ModernBERT's layer-0 norm switch and attention record, BERT's values otherwise", () => {
    const modern = asRecord({
      ...bertBase(),
      norm_position: "pre",
      first_attention_norm: false,
      attention: { rotary: 160000, window: 128, global_every: 3, local_rotary: 10000 },
    });
    expect(modern["first_attention_norm"]).toBe("false");
    expect([
      modern["attention.rotary"],
      modern["attention.window"],
      modern["attention.global_every"],
      modern["attention.local_rotary"],
    ]).toEqual(["160000", "128", "3", "10000"]);
    expect(asRecord(bertBase())["attention.rotary"]).toBe("none");
  });

  it("writes albert's factorization, sharing and masking unit", () => {
    const a = asRecord(albertBase());
    expect(a["embeddings.factorize"]).toBe("128");
    expect(a["sharing"]).toBe("all");
    expect(a["masking.unit"]).toBe("ngram 3");
    expect(a["tokenizer"]).toBe("sentencepiece lowercase");
    expect(a["train.lr"]).toBe("0.00176");
  });

  it("writes distilbert's teacher, distill objective and dynamic masking", () => {
    const d = asRecord(distilbertBase());
    expect(d["teacher"]).toBe("bert init layers [0, 2, 4, 7, 9, 11] init embeddings");
    expect(d["objectives.mlm"]).toBe("weight 2");
    expect(d["objectives.distill"]).toBe("weight 5 temperature 2");
    expect(d["objectives.cosine"]).toBe("weight 1");
    expect(d["masking.schedule"]).toBe("dynamic");
    expect(d["train.lr"]).toBe("5e-4");
  });

  it("writes a checkpoint, a moving rate, word masking", () => {
    const m = distilbertBase();
    m.teacher = { model: "bert", checkpoint: "checkpoints/bert-base", initLayers: null, initEmbeddings: false };
    m.masking = { ...m.masking, rate: { from: 0.15, to: 0.4, steps: 100000 }, unit: { kind: "word" } };
    const d = asRecord(m);
    expect(d["teacher"]).toBe('bert from "checkpoints/bert-base"');
    expect(d["masking.rate"]).toBe("0.15 -> 0.4 over 100000");
    expect(d["masking.unit"]).toBe("word");
  });

  it("writes span masking as one property with its p and max", () => {
    const m = bertBase();
    m.masking = { ...m.masking, unit: { kind: "span", p: 0.2, max: 10 } };
    expect(asRecord(m)["masking.unit"]).toBe("span p 0.2 max 10");
  });

  it("writes sharing groups as a block unless they mean `sharing all`", () => {
    const m = bertBase();
    m.sharing = [
      { name: "a", layers: [0, 1, 2, 3, 4, 5], share: ["attention", "ffn"] },
      { name: "b", layers: [6, 7, 8, 9, 10, 11], share: ["attention", "ffn"] },
    ];
    expect(asRecord(m)["sharing"]).toBe("{ group a layers 0..5 share attention ffn; group b layers 6..11 share attention ffn }");
    m.sharing = [{ name: "x", layers: [0, 2, 4], share: ["ffn"] }];
    expect(asRecord(m)["sharing"]).toBe("{ group x layers [0, 2, 4] share ffn }");
    m.sharing = [{ name: "x", layers: [...Array(12).keys()], share: ["attention"] }];
    expect(asRecord(m)["sharing"]).toBe("{ group x layers 0..11 share attention }");
  });

  it("writes special tokens in a fixed role order, whatever order they were declared in", () => {
    expect(asRecord(robertaBase())["special"]).toBe("pad 1 unk 3 cls 0 sep 2 mask 50264 bos 0 eos 2");
    const m = bertBase();
    m.special = { mask: 103, sep: 102, cls: 101, unk: 100, pad: 0 };
    expect(asRecord(m)["special"]).toBe("pad 0 unk 100 cls 101 sep 102 mask 103");
  });

  it("writes a tokenizer without lowercase", () => {
    expect(asRecord(robertaBase())["tokenizer"]).toBe("bpe");
  });
});
