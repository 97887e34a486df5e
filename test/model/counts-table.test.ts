/**
 * Counts are a sum over the parameter table. For the reference models, the minis and a
 * spread of generated layouts (sizes, sharing groups of several shapes, factorized
 * embeddings, pooler or none, each objective set, teachers of the same and another width),
 * the counts must equal the table's sum and, key by key and in order, a closed-form
 * breakdown written here from the sizes alone, so a table entry that goes missing, is
 * duplicated or lands under the wrong key fails.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile, type CheckedProgram } from "../../src/compiler/semantics/check.js";
import { countParams } from "../../src/model/counts.js";
import { feedForwardKind, groupOwning, hasBias, normPosition, type ResolvedModel } from "../../src/model/model.js";
import { parameterTable } from "../../src/model/parameters.js";
import { tempFiles } from "../helpers/temp-files.js";

const MODELS_DIR = join(__dirname, "../../models");

interface Loaded {
  model: ResolvedModel;
  teacher: ResolvedModel | null;
}

/** Every model of a checked program, with its teacher's resolved model as `bdlc params` passes it. */
function loadedModels(checked: CheckedProgram): Loaded[] {
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return [...checked.resolutions.values()].map((r) => {
    const link = r.model.teacher;
    return { model: r.model, teacher: link ? (checked.resolutions.get(link.model)?.model ?? null) : null };
  });
}

function tableSum(model: ResolvedModel, teacher: ResolvedModel | null): number {
  return parameterTable(model, teacher).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
}

/** The breakdown Hugging Face's layout implies, from the sizes: one formula per module. */
function closedForm(model: ResolvedModel, teacher: ResolvedModel | null): Record<string, number> {
  const H = model.hidden;
  const I = model.intermediate;
  const E = model.embeddings.factorize ?? H;
  const V = model.vocab;
  const { positions, offset, segments } = model.embeddings;
  // A part without bias counts its kernels (and LayerNorm weights) only.
  const a = hasBias(model, "attention") ? 1 : 0;
  const f = hasBias(model, "mlp") ? 1 : 0;
  const ln = hasBias(model, "norm") ? 2 : 1;
  const c = hasBias(model, "classifier") ? 1 : 0;
  const d = hasBias(model, "decoder") ? 1 : 0;
  const attention = 4 * (H * H + a * H) + ln * H;
  // Gated: the first kernel and its bias are twice as wide (input and gate halves).
  const W = feedForwardKind(model) === "gated" ? 2 * I : I;
  const ffn = H * W + f * W + I * H + f * H + ln * H;
  const out: Record<string, number> = {};
  // Rotary positions have no table.
  const table = model.attention?.rotary ? 0 : positions + offset;
  out["embeddings"] = (V + table + segments) * E + ln * E;
  if (E !== H) out["embedding_projection"] = E * H + H;
  const listed = new Set<string>();
  for (let layer = 0; layer < model.layers; layer++) {
    let own = 0;
    // ModernBERT's layer 0 has no attention LayerNorm.
    const attentionHere = layer === 0 && model.first_attention_norm === false ? attention - ln * H : attention;
    for (const [part, size] of [
      ["attention", attentionHere],
      ["ffn", ffn],
    ] as const) {
      const group = groupOwning(model, layer, part);
      if (!group) own += size;
      else if (!listed.has(`${group.name}/${part}`)) {
        listed.add(`${group.name}/${part}`);
        out[`group.${group.name}`] = (out[`group.${group.name}`] ?? 0) + size;
      }
    }
    if (own > 0) out[`layer.${layer}`] = own;
  }
  // Pre-LN: the encoder's final LayerNorm, after the layers and before the pooler.
  if (normPosition(model) === "pre") out["final_norm"] = ln * H;
  if (model.pooler === "tanh") out["pooler"] = H * H + H;
  const has = (name: string) => model.objectives.some((o) => o.name === name);
  // The decoder's weight is the word table. With a generator, the MLM head is the generator's.
  const mlmHead = (width: number) => width * E + c * E + ln * E + d * V;
  if (has("mlm") && !model.generator) out["head.mlm"] = mlmHead(H);
  if (has("nsp")) out["head.nsp"] = 2 * H + 2;
  if (has("sop")) out["head.sop"] = 2 * H + 2;
  if (has("cosine") && teacher && teacher.hidden !== H) out["head.cosine_projection"] = H * teacher.hidden + teacher.hidden;
  if (has("rtd")) out["head.rtd"] = H * H + H + H + 1; // ELECTRA's discriminator head: dense, then one logit per token
  const g = model.generator;
  if (g) {
    // ELECTRA's generator: its own projection (when its width is not E), its layers and MLM head; the embeddings are shared.
    const layer = 4 * (g.hidden * g.hidden + g.hidden) + 2 * g.hidden + 2 * g.hidden * g.intermediate + g.intermediate + 3 * g.hidden;
    const projection = E === g.hidden ? 0 : E * g.hidden + g.hidden;
    out["generator"] = projection + g.layers * layer + mlmHead(g.hidden);
  }
  return out;
}

function expectCountsFromTable({ model, teacher }: Loaded): void {
  const counts = countParams(model, teacher);
  expect(counts.total).toBe(tableSum(model, teacher));
  expect(Object.entries(counts.breakdown)).toEqual(Object.entries(closedForm(model, teacher)));
  const encoder = Object.entries(counts.breakdown)
    .filter(([k]) => !k.startsWith("head.") && k !== "generator")
    .reduce((a, [, n]) => a + n, 0);
  expect(counts.encoder).toBe(encoder);
}

const referenceFiles = readdirSync(MODELS_DIR)
  .filter((f) => f.endsWith(".bdl"))
  .sort();

describe("counts of the models in models/ are the parameter table's sum", () => {
  it("models/ holds the six reference models and their minis", () => {
    expect(referenceFiles).toEqual([
      "albert-mini.bdl",
      "albert.bdl",
      "bert-mini.bdl",
      "bert.bdl",
      "distilbert-mini.bdl",
      "distilbert.bdl",
      "electra-mini.bdl",
      "electra.bdl",
      "modernbert-mini.bdl",
      "modernbert.bdl",
      "roberta-mini.bdl",
      "roberta.bdl",
    ]);
  });

  it.each(referenceFiles)("%s", (file) => {
    for (const loaded of loadedModels(checkFile(join(MODELS_DIR, file)))) expectCountsFromTable(loaded);
  });

  // The README's table, which Hugging Face's `sum(p.numel() for p in model.parameters())` gives.
  it.each([
    ["bert", 109_482_240, 110_106_428],
    ["roberta", 124_055_040, 124_697_433],
    ["albert", 11_683_584, 11_813_810],
    ["distilbert", 66_362_880, 66_985_530],
  ] as const)("%s counts as Hugging Face does", (name, encoder, total) => {
    const loaded = loadedModels(checkFile(join(MODELS_DIR, `${name}.bdl`))).find((l) => l.model.name === name)!;
    const counts = countParams(loaded.model, loaded.teacher);
    expect([counts.encoder, counts.total]).toEqual([encoder, total]);
    expect(tableSum(loaded.model, loaded.teacher)).toBe(total);
  });
});

const BASE = `
model base {
  vocab 50 hidden 8 layers 4 heads 2 intermediate 12
  embeddings { positions 16 }
  objectives { mlm }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
model wide-teacher extends base { hidden 12 heads 3 intermediate 20 layers 2 }
model same-teacher extends base { layers 2 }
`;

/** Sharing blocks for a 4-layer model: none, all, whole groups, partial, two groups on one layer, a group not at layer 0. */
const SHARING = [
  "",
  "sharing all",
  "sharing { group a layers 0..1 share attention ffn group b layers 2..3 share attention ffn }",
  "sharing { group att layers 0..3 share attention }",
  "sharing { group f layers [1, 3] share ffn }",
  "sharing { group a layers 0..1 share attention group f layers 1..2 share ffn }",
  "sharing { group late layers 2..3 share attention ffn }",
  "sharing { group odd layers [3, 1] share attention }",
];

/** Objective sets; the teacher ones name a teacher of another width (cosine projects) or the same, with the student's vocab. */
const OBJECTIVES = [
  "objectives { mlm }",
  "objectives { mlm nsp }",
  "objectives { mlm sop }",
  "objectives { mlm off nsp }",
  "objectives { mlm distill } teacher same-teacher",
  "objectives { mlm distill cosine } teacher wide-teacher",
  "objectives { mlm distill cosine } teacher same-teacher",
];

const SIZES = ["hidden 8 heads 2 intermediate 12", "hidden 12 heads 3 intermediate 7", "hidden 16 heads 4 intermediate 32"];
const VOCABS = [50, 37, 64];

/** Every sharing block × objective set, with sizes, factorization, pooler and segments varied along. */
function generatedModels(): string[] {
  const models: string[] = [];
  let n = 0;
  for (const sharing of SHARING) {
    for (const objectives of OBJECTIVES) {
      const sizes = SIZES[n % SIZES.length]!;
      // `distill` compares logits over the vocabulary: a student with a teacher keeps the teachers' vocab.
      const vocab = objectives.includes("teacher") ? 50 : VOCABS[(n + Math.floor(n / 3)) % VOCABS.length]!;
      const factorize = n % 3 === 1 ? "factorize 4" : "";
      // nsp and sop classify the pooled output: only models without them may drop the pooler.
      const pooler = n % 2 === 0 && !/nsp|sop/.test(objectives) ? "pooler none" : "";
      const segments = n % 4 === 3 ? "segments 0 offset 2" : "";
      const norm = n % 5 === 2 ? "norm_position pre" : "";
      const ffn = n % 3 === 2 ? "feed_forward gated" : "";
      const bias = [
        "",
        "attention_bias false",
        "mlp_bias false",
        "",
        "norm_bias false",
        "attention_bias false mlp_bias false norm_bias false",
      ][n % 6];
      const head = ["", "classifier_bias false", "", "decoder_bias false"][n % 4];
      const rotary = n % 7 === 3 ? "attention { rotary 10000 window 2 global_every 2 }" : "";
      models.push(
        `model g${n} extends base { vocab ${vocab} ${sizes} layers 4 ${pooler} ${norm} ${ffn} ${bias} ${head} embeddings { ${factorize} ${segments} } ${rotary} ${sharing} ${objectives} }`,
      );
      n++;
    }
  }
  // Other depths, with and without sharing.
  models.push(`model g${n++} extends base { layers 1 }`, `model g${n++} extends base { layers 3 sharing all objectives { mlm sop } }`);
  models.push(`model g${n++} extends base { layers 6 embeddings { factorize 2 } sharing { group x layers 0..4 share ffn } }`);
  return models;
}

describe("counts of generated layouts are the parameter table's sum", () => {
  const { file } = tempFiles("bdl-counts-");
  const sources = generatedModels();
  const checked = checkFile(file("generated.bdl", BASE + sources.join("\n") + "\n"));

  it.each(sources.map((s, i) => [`g${i}`, s] as const))("%s: %s", (name) => {
    const loaded = loadedModels(checked).find((l) => l.model.name === name);
    expect(loaded).toBeDefined();
    expectCountsFromTable(loaded!);
  });

  it("covers every sharing shape and both teacher widths", () => {
    const models = loadedModels(checked).filter((l) => /^g\d+$/.test(l.model.name));
    expect(models).toHaveLength(sources.length);
    expect(models.some((l) => l.model.sharing.some((g) => g.share.length === 1 && g.share[0] === "ffn"))).toBe(true);
    expect(models.some((l) => l.model.sharing.length === 2)).toBe(true);
    expect(models.some((l) => normPosition(l.model) === "pre" && l.model.sharing.length > 0 && l.model.pooler === "tanh")).toBe(true);
    expect(models.some((l) => normPosition(l.model) === "pre" && l.model.embeddings.factorize !== null)).toBe(true);
    expect(models.some((l) => l.model.embeddings.factorize !== null && l.model.pooler === "none")).toBe(true);
    const gated = (l: Loaded) => feedForwardKind(l.model) === "gated";
    expect(models.some((l) => gated(l) && l.model.sharing.some((g) => g.share.includes("ffn")))).toBe(true);
    expect(models.some((l) => gated(l) && normPosition(l.model) === "pre")).toBe(true);
    expect(models.some((l) => gated(l) && l.model.embeddings.factorize === null && l.model.sharing.length === 0)).toBe(true);
    const biasFree = (l: Loaded, part: "attention" | "mlp" | "norm") => !hasBias(l.model, part);
    expect(models.some((l) => biasFree(l, "attention") && l.model.sharing.some((g) => g.share.includes("attention")))).toBe(true);
    expect(models.some((l) => biasFree(l, "mlp") && feedForwardKind(l.model) === "gated")).toBe(true);
    expect(models.some((l) => biasFree(l, "norm") && normPosition(l.model) === "pre")).toBe(true);
    expect(models.some((l) => biasFree(l, "norm") && l.model.objectives.some((o) => o.name === "mlm"))).toBe(true);
    expect(models.some((l) => "head.cosine_projection" in countParams(l.model, l.teacher).breakdown)).toBe(true);
    expect(models.some((l) => l.teacher?.hidden === l.model.hidden && l.model.objectives.some((o) => o.name === "cosine"))).toBe(true);
  });

  /*
   * By hand: vocab 50, hidden 8, intermediate 12, positions 16, segments 2, factorize 4,
   * four layers in two groups of two, pooler, mlm + sop.
   *   embeddings   (50 + 16 + 2) * 4 + 2 * 4           =   280
   *   projection   4 * 8 + 8                           =    40
   *   one layer    attention 4 * (64 + 8) + 16 = 304; ffn 96 + 12 + 96 + 8 + 16 = 228; 532
   *   two groups   2 * 532                             = 1,064
   *   pooler       64 + 8                              =    72   → encoder 1,456
   *   mlm          8 * 4 + 4 + 8 + 50                  =    94
   *   sop          16 + 2                              =    18   → total 1,568
   */
  it("a small factorized, two-group model counts 1,456 / 1,568 by hand", () => {
    const source = BASE + "model hand extends base { embeddings { factorize 4 } " + SHARING[2] + " objectives { mlm sop } }\n";
    const hand = loadedModels(checkFile(file("hand.bdl", source))).find((l) => l.model.name === "hand")!;
    const counts = countParams(hand.model, hand.teacher);
    expect([counts.encoder, counts.total]).toEqual([1_456, 1_568]);
    expect(counts.breakdown).toEqual({
      embeddings: 280,
      embedding_projection: 40,
      "group.a": 532,
      "group.b": 532,
      pooler: 72,
      "head.mlm": 94,
      "head.sop": 18,
    });
  });
});
