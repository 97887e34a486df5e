import { describe, expect, it } from "vitest";
import type { Expectation, ResolvedModel } from "../../src/model/model.js";
import { countParams, formatCount, formatRounded, meetsExpectation } from "../../src/model/counts.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../helpers/resolved-fixtures.js";

/** The `grouped` model of the language spec: BERT's vocab, factorized, two sharing groups, mlm + sop. */
function grouped(): ResolvedModel {
  const m = bertBase();
  return {
    ...m,
    name: "grouped",
    activation: "gelu_new",
    embeddings: { ...m.embeddings, factorize: 128 },
    sharing: [
      { name: "a", layers: [0, 1, 2, 3, 4, 5], share: ["attention", "ffn"] },
      { name: "b", layers: [6, 7, 8, 9, 10, 11], share: ["attention", "ffn"] },
    ],
    objectives: [
      { name: "mlm", weight: 1 },
      { name: "sop", weight: 1 },
    ],
  };
}

function sumOf(r: Record<string, number>, keep: (key: string) => boolean = () => true): number {
  return Object.entries(r)
    .filter(([k]) => keep(k))
    .reduce((a, [, v]) => a + v, 0);
}

// BERT-base sizes, by hand.
const H = 768;
const I = 3072;
const ATTENTION = 4 * (H * H + H) + 2 * H;
const FFN = H * I + I + I * H + H + 2 * H;

describe("countParams on the reference models (Hugging Face counts)", () => {
  it.each([
    ["bert", bertBase, 109_482_240, 110_106_428],
    ["roberta", robertaBase, 124_055_040, 124_697_433],
    ["albert", albertBase, 11_683_584, 11_813_810],
    ["distilbert", distilbertBase, 66_362_880, 66_985_530],
  ] as const)("%s", (_name, make, encoder, total) => {
    const model = make();
    const teacher = model.teacher ? bertBase() : null;
    const p = countParams(model, teacher);
    expect(p.encoder).toBe(encoder);
    expect(p.total).toBe(total);
    expect(sumOf(p.breakdown)).toBe(p.total);
    expect(sumOf(p.breakdown, (k) => !k.startsWith("head."))).toBe(p.encoder);
  });

  it("grouped (factorized, two groups, mlm + sop) totals 18,969,020", () => {
    const p = countParams(grouped());
    expect(p.total).toBe(18_969_020);
    expect(Object.keys(p.breakdown)).toEqual([
      "embeddings",
      "embedding_projection",
      "group.a",
      "group.b",
      "pooler",
      "head.mlm",
      "head.sop",
    ]);
  });

  it("breaks bert down into embeddings, each layer, pooler and heads", () => {
    const p = countParams(bertBase());
    expect(Object.keys(p.breakdown)).toEqual([
      "embeddings",
      ...Array.from({ length: 12 }, (_, i) => `layer.${i}`),
      "pooler",
      "head.mlm",
      "head.nsp",
    ]);
    expect(p.breakdown["embeddings"]).toBe(768 * (30522 + 512 + 2 + 2));
    expect(p.breakdown["layer.0"]).toBe(ATTENTION + FFN);
    expect(p.breakdown["pooler"]).toBe(H * H + H);
    // Decoder weight is tied to the word embeddings: only transform, LayerNorm and decoder bias.
    expect(p.breakdown["head.mlm"]).toBe(H * H + H + 2 * H + 30522);
    expect(p.breakdown["head.nsp"]).toBe(H * 2 + 2);
  });

  it("albert's one group holds a single layer's weights", () => {
    const p = countParams(albertBase());
    expect(p.breakdown["group.all"]).toBe(ATTENTION + FFN);
    expect(p.breakdown["embedding_projection"]).toBe(128 * H + H);
    expect(Object.keys(p.breakdown).some((k) => k.startsWith("layer."))).toBe(false);
  });

  it("a group sharing only attention, plus a layer in no group", () => {
    const m: ResolvedModel = {
      ...bertBase(),
      layers: 4,
      sharing: [{ name: "att", layers: [0, 1, 2], share: ["attention"] }],
    };
    const p = countParams(m);
    expect(Object.keys(p.breakdown)).toEqual([
      "embeddings",
      "group.att",
      "layer.0",
      "layer.1",
      "layer.2",
      "layer.3",
      "pooler",
      "head.mlm",
      "head.nsp",
    ]);
    expect(p.breakdown["group.att"]).toBe(ATTENTION);
    expect(p.breakdown["layer.0"]).toBe(FFN);
    expect(p.breakdown["layer.2"]).toBe(FFN);
    expect(p.breakdown["layer.3"]).toBe(ATTENTION + FFN);
    const embeddings = 768 * (30522 + 512 + 2 + 2);
    const encoder = embeddings + ATTENTION + 3 * FFN + (ATTENTION + FFN) + (H * H + H);
    expect(p.encoder).toBe(encoder);
    expect(p.total).toBe(encoder + (H * H + H + 2 * H + 30522) + (2 * H + 2));
  });

  it("a group sharing only ffn counts one ffn for the group", () => {
    const m: ResolvedModel = { ...bertBase(), sharing: [{ name: "f", layers: [2, 3], share: ["ffn"] }] };
    const p = countParams(m);
    expect(p.breakdown["group.f"]).toBe(FFN);
    expect(p.breakdown["layer.2"]).toBe(ATTENTION);
    expect(p.total).toBe(countParams(bertBase()).total - FFN);
  });

  it("cosine adds a projection only for a teacher of another width", () => {
    const student = distilbertBase();
    expect(countParams(student).breakdown["head.cosine_projection"]).toBeUndefined();
    expect(countParams(student, bertBase()).breakdown["head.cosine_projection"]).toBeUndefined();

    const large: ResolvedModel = { ...bertBase(), name: "large", hidden: 1024, heads: 16, intermediate: 4096 };
    const p = countParams(student, large);
    expect(p.breakdown["head.cosine_projection"]).toBe(768 * 1024 + 1024);
    expect(p.encoder).toBe(66_362_880);
    expect(p.total).toBe(66_985_530 + 768 * 1024 + 1024);
  });

  it("no pooler and no segments for roberta-like settings", () => {
    const m: ResolvedModel = { ...bertBase(), pooler: "none", embeddings: { ...bertBase().embeddings, segments: 0 } };
    const p = countParams(m);
    expect(p.breakdown["pooler"]).toBeUndefined();
    expect(p.breakdown["embeddings"]).toBe(768 * (30522 + 512 + 2));
  });
});

function exp(text: string, value: number, scale: number, decimals: number): Expectation {
  return { key: "params", text, value, scale, decimals };
}

describe("meetsExpectation", () => {
  it("rounds at the written precision", () => {
    expect(meetsExpectation(exp("19M", 19, 1e6, 0), 18_969_020)).toBe(true);
    expect(meetsExpectation(exp("18M", 18, 1e6, 0), 18_969_020)).toBe(false);
    expect(meetsExpectation(exp("11.8M", 11.8, 1e6, 1), 11_813_810)).toBe(true);
    expect(meetsExpectation(exp("11.9M", 11.9, 1e6, 1), 11_813_810)).toBe(false);
    expect(meetsExpectation(exp("110M", 110, 1e6, 0), 110_106_428)).toBe(true);
    expect(meetsExpectation(exp("66.99M", 66.99, 1e6, 2), 66_985_530)).toBe(true);
    expect(meetsExpectation(exp("67M", 67, 1e6, 0), 66_985_530)).toBe(true);
    expect(meetsExpectation(exp("0.1B", 0.1, 1e9, 1), 110_106_428)).toBe(true);
    expect(meetsExpectation(exp("124697K", 124697, 1e3, 0), 124_697_433)).toBe(true);
  });

  it("an integer with scale 1 must be exact", () => {
    expect(meetsExpectation(exp("110106428", 110106428, 1, 0), 110_106_428)).toBe(true);
    expect(meetsExpectation(exp("110106427", 110106427, 1, 0), 110_106_428)).toBe(false);
  });
});

describe("formatting counts", () => {
  it("formatCount groups thousands", () => {
    expect(formatCount(110106428)).toBe("110,106,428");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1000)).toBe("1,000");
    expect(formatCount(0)).toBe("0");
    expect(formatCount(-97798656)).toBe("-97,798,656");
  });

  it("formatRounded writes the scale's suffix", () => {
    expect(formatRounded(18969020, 1e6, 0)).toBe("19M");
    expect(formatRounded(11813810, 1e6, 1)).toBe("11.8M");
    expect(formatRounded(110106428, 1e9, 2)).toBe("0.11B");
    expect(formatRounded(124697433, 1e3, 0)).toBe("124697K");
    expect(formatRounded(42, 1, 0)).toBe("42");
  });
});
