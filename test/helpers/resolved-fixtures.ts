/**
 * Hand-built resolved models for unit tests of the phases after resolution (params, diff,
 * graph, print), so those tests do not depend on the parser. Integration tests read the
 * real `models/*.bdl` instead.
 */
import type { ResolvedModel } from "../../src/model/model.js";

export function bertBase(): ResolvedModel {
  return {
    name: "bert",
    file: "models/bert.bdl",
    bases: [],
    vocab: 30522,
    hidden: 768,
    layers: 12,
    heads: 12,
    intermediate: 3072,
    activation: "gelu",
    norm_eps: 1e-12,
    dropout: 0.1,
    attention_dropout: 0.1,
    pooler: "tanh",
    embeddings: { positions: 512, offset: 0, segments: 2, factorize: null },
    sharing: [],
    objectives: [
      { name: "mlm", weight: 1 },
      { name: "nsp", weight: 1 },
    ],
    masking: {
      rate: 0.15,
      mask: 0.8,
      random: 0.1,
      keep: 0.1,
      unit: { kind: "token" },
      schedule: { kind: "static", duplicates: 10 },
    },
    teacher: null,
    tokenizer: { kind: "wordpiece", lowercase: true },
    special: { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 },
    train: {
      optimizer: "adamw",
      lr: 1e-4,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-6,
      weight_decay: 0.01,
      warmup: 10000,
      decay: "linear",
      batch: 256,
      seq: 128,
      steps: 1000000,
    },
    expect: [],
  };
}

export function robertaBase(): ResolvedModel {
  const m = bertBase();
  return {
    ...m,
    name: "roberta",
    file: "models/roberta.bdl",
    bases: ["bert"],
    vocab: 50265,
    norm_eps: 1e-5,
    pooler: "none",
    embeddings: { positions: 512, offset: 2, segments: 1, factorize: null },
    objectives: [{ name: "mlm", weight: 1 }],
    masking: { ...m.masking, schedule: { kind: "dynamic" } },
    tokenizer: { kind: "bpe", lowercase: false },
    special: { bos: 0, pad: 1, eos: 2, unk: 3, cls: 0, sep: 2, mask: 50264 },
    train: { ...m.train, lr: 6e-4, beta2: 0.98, warmup: 24000, batch: 8192, seq: 512, steps: 500000 },
  };
}

export function albertBase(): ResolvedModel {
  const m = bertBase();
  return {
    ...m,
    name: "albert",
    file: "models/albert.bdl",
    bases: ["bert"],
    vocab: 30000,
    activation: "gelu_new",
    dropout: 0,
    attention_dropout: 0,
    embeddings: { ...m.embeddings, factorize: 128 },
    sharing: [{ name: "all", layers: [...Array(12).keys()], share: ["attention", "ffn"] }],
    objectives: [
      { name: "mlm", weight: 1 },
      { name: "sop", weight: 1 },
    ],
    masking: { ...m.masking, unit: { kind: "ngram", n: 3 } },
    tokenizer: { kind: "sentencepiece", lowercase: true },
    special: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 },
    train: { ...m.train, optimizer: "lamb", lr: 0.00176, warmup: 3125, batch: 4096, seq: 512, steps: 125000 },
  };
}

export function distilbertBase(): ResolvedModel {
  const m = bertBase();
  return {
    ...m,
    name: "distilbert",
    file: "models/distilbert.bdl",
    bases: ["bert"],
    layers: 6,
    pooler: "none",
    embeddings: { ...m.embeddings, segments: 0 },
    objectives: [
      { name: "mlm", weight: 2 },
      { name: "distill", weight: 5, temperature: 2 },
      { name: "cosine", weight: 1 },
    ],
    masking: { ...m.masking, schedule: { kind: "dynamic" } },
    teacher: { model: "bert", checkpoint: null, initLayers: [0, 2, 4, 7, 9, 11], initEmbeddings: true },
    train: { ...m.train, lr: 5e-4, batch: 4000 },
  };
}
