/**
 * The torch engine's data pipeline (python/bdl_torch: random, masking, batches, evaluate_data)
 * against the TypeScript one, exactly: the same seeds and draws, the same masks for every unit,
 * schedule and rate of masking (the reference models' blocks included), the same batch orders,
 * the same padded tensors, and the held-out evaluation's batches and numbers. The inputs are
 * built here with the real pipeline, and one Python process answers for all of them.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import type { MaskingConfig } from "../../src/model/model.js";
import { buildExamples, type SentencePairs } from "../../src/runtime/data/examples.js";
import {
  maskablePositions,
  maskExample,
  maskingRate,
  maskSeed,
  predictionBudget,
  sampleSpanLength,
  selectMaskedSpans,
  spanLengthProbabilities,
  type MaskContext,
} from "../../src/runtime/data/masking.js";
import { createRng, mulberry32, seedFrom, shuffle } from "../../src/runtime/data/random.js";
import type { Example, MaskedExample } from "../../src/runtime/data/types.js";
import { tf } from "../../src/runtime/backends/tf.js";
import type { AnyGraphModule, BoundParams, GraphInputs } from "../../src/runtime/graph-module.js";
import { collate } from "../../src/runtime/train/collate.js";
import { evalBatchSize, evaluateMlm } from "../../src/runtime/train/evaluate.js";
import { BatchOrder } from "../../src/runtime/train/schedule-data.js";
import { supportPath, torchPython } from "../../src/torch/index.js";
import { SPECIAL, syntheticDocuments, toyTokenizer } from "../runtime/data/toy.js";
import { skipTorch } from "./torch-here.js";

type Json = Record<string, unknown>;

// ── inputs ────────────────────────────────────────────────────────────────────────────

const special: Record<string, number> = { ...SPECIAL };

/** Examples of every kind the pipeline builds (NSP and SOP pairs, packed, with documents), and edge cases. */
function allExamples(): { examples: Example[]; kinds: Record<string, Example[]> } {
  const tok = toyTokenizer();
  const encode = (t: string) => tok.encode(t);
  const docs = syntheticDocuments(12, { seed: 5, minSentences: 2, maxSentences: 6 });
  const kinds: Record<string, Example[]> = {};
  for (const [pairs, seq, documentMask] of [
    ["nsp", 40, false],
    ["sop", 24, false],
    [null, 48, false],
    [null, 30, true],
  ] as [SentencePairs, number, boolean][]) {
    const kind = documentMask ? "documents" : (pairs ?? "packed");
    kinds[kind] = buildExamples(docs, encode, { seq, special, sentencePairs: pairs, seed: 3, documentMask }).slice(0, 24);
  }
  const ones = (n: number, from = 10) => Array.from({ length: n }, (_, i) => from + i);
  const edge: Example[] = [
    // one-token words, no specials at all: every position maskable
    { ids: ones(20), words: ones(20, 0), tokenTypes: ones(20).map(() => 0) },
    // only special tokens: nothing to mask
    { ids: [2, 3], words: [-1, -1], tokenTypes: [0, 0] },
    { ids: [2, 4, 0, 3], words: [-1, -1, -1, -1], tokenTypes: [0, 0, 0, 0], sentenceLabel: 1 },
    // [UNK] is maskable; a special id inside a word is not
    { ids: [2, 1, 1, 11, 3, 12, 13, 3], words: [-1, 0, 1, 2, 2, 3, 3, -1], tokenTypes: [0, 0, 0, 0, 0, 1, 1, 1], sentenceLabel: 0 },
    // one long word (longer than any budget) among short ones
    { ids: [2, ...ones(30, 100), 50, 51, 3], words: [-1, ...ones(30).map(() => 0), 1, 2, -1], tokenTypes: ones(34).map(() => 0) },
    // 80 one-token words: long spans and n-grams fit
    { ids: [2, ...ones(80, 200), 3], words: [-1, ...ones(80, 0), -1], tokenTypes: ones(82).map(() => 0) },
    // words shorter than ids: the missing ones count as special
    { ids: [2, 20, 21, 22, 23, 3], words: [-1, 0, 1], tokenTypes: [0, 0, 0, 0, 0, 0] },
    // an empty document list is still a document list
    { ids: [2, 30, 31, 3], words: [-1, 0, 0, -1], tokenTypes: [0, 0, 0, 0], documents: [] },
    // a single maskable token
    { ids: [2, 40, 3], words: [-1, 0, -1], tokenTypes: [0, 0, 0], documents: [0, 0, 0] },
  ];
  kinds["edge"] = edge;
  return { examples: Object.values(kinds).flat(), kinds };
}

interface MaskCase {
  name: string;
  masking: MaskingConfig;
  vocab: number;
  special: Record<string, number>;
}

const base: MaskingConfig = { rate: 0.15, mask: 0.8, random: 0.1, keep: 0.1, unit: { kind: "token" }, schedule: { kind: "dynamic" } };

/** Every unit, schedule and rate form, odd probabilities, small vocabularies, and the reference models' blocks. */
function allConfigs(): MaskCase[] {
  const c = (name: string, over: Partial<MaskingConfig>, vocab = 30522): MaskCase => ({
    name,
    masking: { ...base, ...over },
    vocab,
    special,
  });
  const cases: MaskCase[] = [
    c("token dynamic", {}),
    c("token static 10", { schedule: { kind: "static", duplicates: 10 } }),
    c("token static 2.5", { schedule: { kind: "static", duplicates: 2.5 } }),
    c("token static 0", { schedule: { kind: "static", duplicates: 0 } }),
    c("word 0.3", { unit: { kind: "word" }, rate: 0.3 }),
    c("word static 3", { unit: { kind: "word" }, schedule: { kind: "static", duplicates: 3 } }),
    c("ngram 3", { unit: { kind: "ngram", n: 3 }, rate: 0.25 }),
    c("ngram 2 static 4", { unit: { kind: "ngram", n: 2 }, schedule: { kind: "static", duplicates: 4 } }),
    c("ngram 1", { unit: { kind: "ngram", n: 1 } }),
    c("ngram 5.7", { unit: { kind: "ngram", n: 5.7 }, rate: 0.4 }),
    c("span 0.2 10", { unit: { kind: "span", p: 0.2, max: 10 } }),
    c("span 0.5 3 static", { unit: { kind: "span", p: 0.5, max: 3 }, schedule: { kind: "static", duplicates: 5 }, rate: 0.3 }),
    c("span 1 10", { unit: { kind: "span", p: 1, max: 10 } }),
    c("span 0.05 20", { unit: { kind: "span", p: 0.05, max: 20 }, rate: 0.5 }),
    c("span 0.3 7.5", { unit: { kind: "span", p: 0.3, max: 7.5 }, mask: 0.6, random: 0.3, keep: 0.1 }),
    c("ramp", { rate: { from: 0.05, to: 0.4, steps: 1000 } }),
    c("ramp span", { rate: { from: 0.4, to: 0.1, steps: 77 }, unit: { kind: "span", p: 0.2, max: 10 } }),
    c("ramp steps 0", { rate: { from: 0.05, to: 0.3, steps: 0 } }),
    c("rate 0", { rate: 0 }),
    c("rate 1 word", { rate: 1, unit: { kind: "word" } }),
    c("rate 0.5 ties", { rate: 0.5 }),
    c("all random, vocab 9", { mask: 0, random: 1, keep: 0 }, 9),
    c("all kept", { mask: 0, random: 0, keep: 1 }),
    c("half random span", { mask: 0.5, random: 0.5, keep: 0, unit: { kind: "span", p: 0.2, max: 10 } }, 6),
  ];
  // Every reference model's block (models/*.bdl, each model once), with its vocabulary and special ids.
  const seen = new Set<string>();
  for (const file of readdirSync("models").filter((f) => f.endsWith(".bdl"))) {
    for (const [name, { model }] of checkFile(`models/${file}`).resolutions) {
      const m: MaskCase = { name: `${file} ${name}`, masking: model.masking, vocab: model.vocab, special: model.special };
      const key = JSON.stringify([m.masking, m.vocab, m.special]);
      if (!seen.has(key)) cases.push(m);
      seen.add(key);
    }
  }
  return cases;
}

const SEEDS = [42, 0, 4294967295, 123456789, 7];
const EPOCHS = [0, 1, 3, 12, 40];
const STEPS = [0, 1, 38, 500, 999, 1000, 5000];

interface Case {
  example: number;
  config: number;
  seed: number;
  epoch: number;
  index: number;
  step: number;
  spans: boolean;
}

function allCases(examples: number, configs: number): Case[] {
  const rng = createRng(11);
  const cases: Case[] = [];
  for (let config = 0; config < configs; config++)
    for (let example = 0; example < examples; example++)
      for (let k = 0; k < 2; k++)
        cases.push({
          example,
          config,
          seed: SEEDS[rng.int(SEEDS.length)]!,
          epoch: EPOCHS[rng.int(EPOCHS.length)]!,
          index: rng.int(100_000),
          step: STEPS[rng.int(STEPS.length)]!,
          spans: k === 0 && example % 4 === 0,
        });
  return cases;
}

const ctxOf = (c: Case, m: MaskCase): MaskContext => ({
  seed: c.seed,
  epoch: c.epoch,
  index: c.index,
  step: c.step,
  vocab: m.vocab,
  special: m.special,
});

const maskedJson = (m: MaskedExample): Json => ({
  inputIds: m.inputIds,
  labels: m.labels,
  tokenTypes: m.tokenTypes,
  sentenceLabel: m.sentenceLabel ?? null,
  documents: m.documents ?? null,
});

const toArray = (t: tf.Tensor | undefined) => (t ? (t.arraySync() as unknown) : undefined);

/** The TypeScript Batch under the names the torch module's Batch gives its fields. */
function batchJson(b: ReturnType<typeof collate>): Json {
  const out: Json = {
    input_ids: toArray(b.x.inputIds),
    attention_mask: toArray(b.x.attentionMask),
    labels: toArray(b.y.labels),
    token_type_ids: toArray(b.x.tokenTypeIds),
    next_sentence_label: toArray(b.y.nextSentenceLabel),
    sentence_order_label: toArray(b.y.sentenceOrderLabel),
    document_ids: toArray(b.x.documentIds),
    dtypes: ["torch.int64"],
    tokens: b.tokens,
    predicted: b.predicted,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

// ── the held-out evaluation, through evaluateMlm itself with a stand-in model ──────────────

const EVAL_HIDDEN = 8;
const EVAL_VOCAB = 4096;
/** What the stand-in adds to the logit of a row's input token, more than the rest can add up to: kept tokens are guessed right. */
const EVAL_BOOST = 32;

/**
 * Integer weights and a last row v/4096 over features in {-1, 0, 1} and a last feature 1 (plus
 * the boost): every logit is a multiple of 1/4096 below 2^6 in size, exact in float32 whatever
 * the order of the sums, and no two logits of a row tie, so both engines agree on every argmax.
 */
function evalWeights(): number[][] {
  const rng = createRng(99);
  return Array.from({ length: EVAL_HIDDEN }, (_, k) =>
    Array.from({ length: EVAL_VOCAB }, (_, v) => (k === EVAL_HIDDEN - 1 ? v / EVAL_VOCAB : rng.int(5) - 2)),
  );
}

/** The stand-in's hidden states, as data_parity.py's `features` computes them: [B, S] ids → [B, S, 1 + EVAL_HIDDEN], the id first. */
function features(ids: number[][]): number[][][] {
  return ids.map((row) =>
    row.map((id, s) => [
      id,
      ...Array.from({ length: EVAL_HIDDEN }, (_, k) => (k === EVAL_HIDDEN - 1 ? 1 : ((id * (k + 3) + s * 7 + k) % 3) - 1)),
    ]),
  );
}

/** A model for evaluateMlm that records the inputs it is given and scores with `weights` (see data_parity.py's `logits_of`). */
function standIn(weights: number[][], seen: GraphInputs[]): AnyGraphModule {
  const w = tf.tensor2d(weights);
  return {
    config: { name: "stand-in", vocab: EVAL_VOCAB, special },
    encode: (_params: BoundParams, x: GraphInputs) => {
      seen.push(Object.fromEntries(Object.entries(x).map(([k, t]) => [k, (t as tf.Tensor).arraySync()])) as unknown as GraphInputs);
      return { lastHiddenState: tf.tensor3d(features(x.inputIds.arraySync() as number[][])) };
    },
    mlmLogits: (_params: BoundParams, h: tf.Tensor2D) => {
      const id = tf.cast(tf.reshape(tf.slice(h, [0, 0], [-1, 1]), [-1]), "int32") as tf.Tensor1D;
      return tf.add(tf.matMul(tf.slice(h, [0, 1], [-1, -1]), w), tf.mul(tf.oneHot(id, EVAL_VOCAB), EVAL_BOOST));
    },
  } as unknown as AnyGraphModule;
}

// ── the run ───────────────────────────────────────────────────────────────────────────

describe.skipIf(skipTorch)("the torch engine's data pipeline is the TypeScript one, exactly", () => {
  const { examples, kinds } = allExamples();
  const configs = allConfigs();
  const cases = allCases(examples.length, configs.length);
  const weights = evalWeights();
  const evalSets = [
    {
      examples: kinds["packed"]!,
      masking: { ...base, rate: { from: 0.2, to: 0.05, steps: 100 } },
      batch: 7,
      seed: 42,
      withSegments: true,
    },
    {
      examples: kinds["documents"]!,
      masking: { ...base, unit: { kind: "span", p: 0.2, max: 10 }, schedule: { kind: "static", duplicates: 10 } },
      batch: evalBatchSize(30),
      seed: 5,
      withSegments: false,
    },
    {
      examples: [...kinds["documents"]!.slice(0, 5), ...kinds["edge"]!],
      masking: { ...base, unit: { kind: "ngram", n: 3 } },
      batch: 4,
      seed: 0,
      withSegments: false,
    },
  ] as { examples: Example[]; masking: MaskingConfig; batch: number; seed: number; withSegments: boolean }[];
  // Batches of each kind: pairs with segments, packed without, with documents, mixed, edge cases.
  // Batches of each kind: pairs with segments, packed without, with documents, mixed, edge cases.
  const collateSets = (
    [
      [kinds["nsp"]!.slice(0, 8), 0, "nsp", true],
      [kinds["sop"]!.slice(0, 9), 1, "sop", true],
      [kinds["sop"]!.slice(3, 6), 0, null, false],
      [kinds["packed"]!.slice(0, 12), 0, null, false],
      [kinds["documents"]!.slice(0, 8), 5, null, true],
      [[...kinds["documents"]!.slice(0, 2), ...kinds["packed"]!.slice(0, 2)], 0, null, false],
      [kinds["edge"]!.slice(0, 4), 0, "nsp", false],
      [kinds["edge"]!.slice(4), 0, "sop", true],
    ] as [Example[], number, SentencePairs, boolean][]
  ).map(([batch, padId, objective, withSegments]) => ({
    padId,
    objective,
    withSegments,
    masked: batch.map((ex, i) => maskExample(ex, configs[i % 4]!.masking, { seed: 3, epoch: 1, index: i, step: 0, vocab: 30522, special })),
  }));
  const request = {
    random: {
      parts: [
        [],
        [0],
        [42, "mask", 0, 17],
        [4294967295, "order", 3],
        ["", ""],
        ["ab", "c"],
        ["a", "bc"],
        [1, "1"],
        [-1, -0, 2 ** 53, 2 ** 60, 1e21, 0.1, 1.5, 1e-7, 123.456],
        ["héllo wörld", "日本語", "emoji 😀", "\ud800 lone"],
        [7, "examples", 12345],
      ],
      seeds: [0, 1, 42, 4294967295, 2 ** 32 + 5, -1, -123456789, 1.9, -2.7, 2 ** 40 + 3],
      draws: 500,
      ns: [1, 2, 3, 7, 10, 100, 1000, 30522, 2 ** 31, 4294967296],
      shuffles: [
        [0, 1],
        [1, 2],
        [2, 3],
        [10, 4],
        [257, 42],
      ],
    },
    masking: { examples, configs, cases },
    functions: {
      rates: [
        0.15,
        { from: 0.05, to: 0.4, steps: 1000 },
        { from: 0.4, to: 0.1, steps: 77 },
        { from: 0, to: 1, steps: 3 },
        { from: 0.1, to: 0.3, steps: 0 },
      ].flatMap((rate) => [-5, 0, 1, 2, 38, 76, 77, 999, 1000, 1001].map((step) => [rate, step])),
      budgets: [0, 0.1, 0.15, 0.5, 0.25, 1 / 3, 0.3, 1].flatMap((rate) =>
        [0, 1, 2, 3, 5, 6, 7, 9, 10, 14, 20, 50, 101, 509].map((n) => [rate, n]),
      ),
      probabilities: [0.2, 0.1, 0.15, 0.3, 0.5, 0.05, 0.01, 0.99, 1, 0.7].flatMap((p) =>
        [1, 2, 3, 5, 10, 20, 64, 7.5].map((max) => [p, max]),
      ),
      lengths: [
        [0.2, 10, 1, 2000],
        [0.3, 7, 2, 2000],
        [0.05, 20, 3, 2000],
        [0.15, 10, 4, 2000],
      ],
    },
    orders: [
      { examples: 7, batch: 3, seed: 42, steps: [...Array(25).keys()] },
      { examples: 10, batch: 10, seed: 1, steps: [0, 1, 2, 3, 4] },
      { examples: 5, batch: 8, seed: 9, steps: [0, 1, 2, 3, 9] },
      { examples: 1, batch: 4, seed: 0, steps: [0, 1, 2] },
      { examples: 13, batch: 4, seed: 4294967295, steps: [30, 0, 31, 3, 100, 2] },
    ],
    collate: collateSets,
    evalBatchSizes: [1, 16, 30, 64, 128, 129, 256, 512, 1024, 8192],
    eval: evalSets.map((e) => ({ ...e, padId: 0, vocab: EVAL_VOCAB, special, weights, boost: EVAL_BOOST })),
  };

  let response: Json;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "bdl-data-parity-"));
    try {
      writeFileSync(join(dir, "request.json"), JSON.stringify(request));
      const run = spawnSync(torchPython().command, ["test/torch/data_parity.py", join(dir, "request.json"), join(dir, "response.json")], {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: supportPath() },
      });
      if (run.status !== 0) throw new Error(`data_parity.py failed (${run.status}):\n${run.stderr}`);
      response = JSON.parse(readFileSync(join(dir, "response.json"), "utf8")) as Json;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("seedFrom, mulberry32, rng.int and shuffle", () => {
    const r = request.random;
    const seqs = r.seeds.map((seed) => {
      const draw = mulberry32(seed);
      const rng = createRng(seed);
      return { floats: Array.from({ length: r.draws }, () => draw()), ints: r.ns.map((n) => rng.int(n)) };
    });
    expect(response["random"]).toEqual({
      seeds: r.parts.map((parts) => seedFrom(...(parts as (number | string)[]))),
      sequences: seqs,
      shuffles: r.shuffles.map(([size, seed]) => shuffle([...Array(size!).keys()], createRng(seed!))),
    });
  });

  it("maskingRate, predictionBudget, spanLengthProbabilities and sampleSpanLength", () => {
    const f = request.functions;
    expect(response["functions"]).toEqual({
      rates: f.rates.map(([rate, step]) => maskingRate(rate as MaskingConfig["rate"], step as number)),
      budgets: f.budgets.map(([rate, n]) => predictionBudget(rate!, n!)),
      probabilities: f.probabilities.map(([p, max]) => spanLengthProbabilities(p!, max!)),
      lengths: f.lengths.map(([p, max, seed, draws]) => {
        const rng = createRng(seed!);
        return Array.from({ length: draws! }, () => sampleSpanLength(rng, p!, max!));
      }),
    });
  });

  it(`maskExample for ${cases.length} (example, config, context) cases: every masking unit, schedule and rate`, () => {
    const got = response["masking"] as { masked: Json[]; spans: number[][][]; seeds: number[]; maskable: number[][] };
    expect(got.masked).toHaveLength(cases.length);
    const wrong: string[] = [];
    const spans: number[][][] = [];
    const maskable: number[][] = [];
    cases.forEach((c, i) => {
      const m = configs[c.config]!;
      const ex = examples[c.example]!;
      const ctx = ctxOf(c, m);
      const expected = maskedJson(maskExample(ex, m.masking, ctx));
      if (JSON.stringify(expected) !== JSON.stringify(got.masked[i]) || got.seeds[i] !== maskSeed(m.masking, ctx))
        wrong.push(`case ${i} (${m.name}, example ${c.example}, ${JSON.stringify(c)})`);
      if (c.spans) {
        spans.push(selectMaskedSpans(ex, m.masking, ctx));
        maskable.push(maskablePositions(ex, m.special));
      }
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(got.spans).toEqual(spans);
    expect(got.maskable).toEqual(maskable);
    // The cases do exercise every replacement: masks, random ids and kept tokens all occur.
    const all = cases.map((c) => maskExample(examples[c.example]!, configs[c.config]!.masking, ctxOf(c, configs[c.config]!)));
    const labelled = all.flatMap((m) => m.labels.map((l, i) => [l, m.inputIds[i]!]).filter(([l]) => l !== -100));
    expect(labelled.length).toBeGreaterThan(20_000);
    expect(labelled.some(([l, x]) => x === SPECIAL.mask && l !== x)).toBe(true);
    expect(labelled.some(([l, x]) => x === l)).toBe(true);
    expect(labelled.some(([l, x]) => x !== l && x !== SPECIAL.mask)).toBe(true);
  });

  it("BatchOrder.slots over several epochs, the last one partial, in any order of steps", () => {
    expect(response["orders"]).toEqual(
      request.orders.map((o) => {
        const order = new BatchOrder(o.examples, o.batch, o.seed);
        return o.steps.map((step) => order.slots(step));
      }),
    );
  });

  it("collate: the padded tensors, under the torch Batch's names, and the token counts", () => {
    const expected = collateSets.map((c) => {
      const b = collate(c.masked, c.padId, c.objective, c.withSegments);
      try {
        return batchJson(b);
      } finally {
        b.dispose();
      }
    });
    expect(response["collate"]).toEqual(expected);
  });

  it("evalBatchSize", () => {
    expect(response["evalBatchSizes"]).toEqual(request.evalBatchSizes.map(evalBatchSize));
  });

  it("the held-out evaluation: evaluateMlm's batches, in its order, and its numbers from the same logits", async () => {
    const got = response["eval"] as { batches: Json[]; result: Record<string, number> }[];
    const accuracies: number[] = [];
    for (const [k, e] of evalSets.entries()) {
      const seen: GraphInputs[] = [];
      const result = await evaluateMlm(standIn(weights, seen), {} as BoundParams, e.examples, e.masking, {
        seed: e.seed,
        batch: e.batch,
        padId: 0,
        withSegments: e.withSegments,
      });
      const ours = got[k]!;
      expect(ours.batches).toHaveLength(seen.length);
      ours.batches.forEach((b, i) => {
        const x = seen[i] as unknown as Record<string, unknown>;
        expect(b["input_ids"]).toEqual(x["inputIds"]);
        expect(b["attention_mask"]).toEqual(x["attentionMask"]);
        expect(b["token_type_ids"]).toEqual(x["tokenTypeIds"]);
        expect(b["document_ids"]).toEqual(x["documentIds"]);
        expect(b["next_sentence_label"]).toBeUndefined();
      });
      expect(ours.result["predicted"]).toBe(result!.predicted);
      expect(ours.result["examples"]).toBe(result!.examples);
      expect(ours.result["mlm_accuracy"]).toBe(result!.mlm_accuracy);
      accuracies.push(result!.mlm_accuracy);
      // log-softmax rounds differently in the two engines: float32 noise, nothing more.
      expect(Math.abs(ours.result["mlm_loss"]! / result!.mlm_loss - 1)).toBeLessThan(1e-6);
      expect(Math.abs(ours.result["perplexity"]! / result!.perplexity - 1)).toBeLessThan(1e-5);
    }
    // The stand-in guesses every kept token, so accuracy is not trivially 0 and checks the labels.
    expect(Math.max(...accuracies)).toBeGreaterThan(0.03);
  });
});
