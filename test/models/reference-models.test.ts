/**
 * The reference models of models/ and the language spec's examples, through the whole
 * front end: they check cleanly, and their parameter counts are Hugging Face's.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { renderLine } from "../../src/compiler/diagnostics.js";
import { countParams } from "../../src/model/counts.js";

function resolved(file: string, name: string) {
  const checked = checkFile(file);
  expect(checked.diagnostics.map(renderLine)).toEqual([]);
  const r = checked.resolutions.get(name)!;
  const teacher = r.model.teacher ? checked.resolutions.get(r.model.teacher.model)!.model : null;
  return { model: r.model, counts: countParams(r.model, teacher) };
}

describe("reference models", () => {
  // transformers 4.38: sum(p.numel() for p in model.parameters()), tied tensors once.
  it.each([
    ["bert", 109_482_240, 110_106_428],
    ["roberta", 124_055_040, 124_697_433],
    ["albert", 11_683_584, 11_813_810],
    ["distilbert", 66_362_880, 66_985_530],
    // ModernBertForMaskedLM (transformers 5.17, whose tensors the modernbert golden lists) at ModernBERT-base's config.
    ["modernbert", 149_014_272, 149_655_232],
  ])("%s has Hugging Face's parameter counts", (name, encoder, total) => {
    const { counts } = resolved(`models/${name}.bdl`, name);
    expect(counts.encoder).toBe(encoder);
    expect(counts.total).toBe(total);
  });

  it.each(readdirSync("models").filter((f) => f.endsWith(".bdl")))("models/%s checks with no diagnostics", (file) => {
    expect(checkFile(`models/${file}`).diagnostics.map(renderLine)).toEqual([]);
  });

  it("says what the spec says of each reference model", () => {
    const roberta = resolved("models/roberta.bdl", "roberta").model;
    expect(roberta.embeddings).toEqual({ positions: 512, offset: 2, segments: 1, factorize: null });
    expect(roberta.objectives.map((o) => o.name)).toEqual(["mlm"]);
    expect(roberta.masking.schedule).toEqual({ kind: "dynamic" });
    expect(roberta.train).toMatchObject({ optimizer: "adamw", lr: 6e-4, beta2: 0.98, warmup: 24000, batch: 8192, seq: 512, steps: 500000 });
    expect(roberta.special).toMatchObject({ bos: 0, pad: 1, eos: 2, unk: 3, mask: 50264 });

    const albert = resolved("models/albert.bdl", "albert").model;
    expect(albert.sharing).toEqual([{ name: "all", layers: [...Array(12).keys()], share: ["attention", "ffn"] }]);
    expect(albert.objectives.map((o) => o.name)).toEqual(["mlm", "sop"]);
    expect(albert.masking.unit).toEqual({ kind: "ngram", n: 3 });
    expect(albert.train).toMatchObject({ optimizer: "lamb", lr: 0.00176, warmup: 3125, batch: 4096, seq: 512, steps: 125000 });

    const distil = resolved("models/distilbert.bdl", "distilbert").model;
    expect(distil.objectives).toEqual([
      { name: "mlm", weight: 2 },
      { name: "distill", weight: 5, temperature: 2 },
      { name: "cosine", weight: 1 },
    ]);
    expect(distil.teacher).toEqual({ model: "bert", checkpoint: null, initLayers: [0, 2, 4, 7, 9, 11], initEmbeddings: true });
    expect(distil.train).toMatchObject({ optimizer: "adamw", lr: 5e-4, batch: 4000 });
  });

  it("mini models are small enough to pretrain on a laptop CPU and keep their family's recipe", () => {
    for (const family of ["bert", "roberta", "albert", "distilbert"]) {
      const { model, counts } = resolved(`models/${family}-mini.bdl`, `${family}-mini`);
      expect(model.bases[0]).toBe(family);
      expect(model.hidden).toBeLessThanOrEqual(256);
      expect(model.layers).toBeLessThanOrEqual(4);
      expect(model.train.seq).toBe(128);
      expect(counts.total).toBeLessThan(6_000_000);
    }
    const student = resolved("models/distilbert-mini.bdl", "distilbert-mini").model;
    expect(student.teacher).toMatchObject({ model: "bert-mini", initLayers: [0, 2], initEmbeddings: true });
  });
});

describe("the language spec's examples", () => {
  // Copied verbatim from the spec's ```bdl blocks; they import the reference models.
  const examples = readdirSync("test/fixtures/spec").filter((f) => f.endsWith(".bdl"));

  it.each(examples)("%s checks", (file) => {
    expect(checkFile(`test/fixtures/spec/${file}`).diagnostics.map(renderLine)).toEqual([]);
  });

  it("meaning matches the comments: the grouped model has 18,969,020 parameters and the student 66,985,530", () => {
    expect(resolved("test/fixtures/spec/example-2.bdl", "grouped").counts.total).toBe(18_969_020);
    const student = resolved("test/fixtures/spec/example-2.bdl", "student");
    expect(student.counts.total).toBe(66_985_530);
    expect(student.model.masking.rate).toEqual({ from: 0.15, to: 0.4, steps: 100000 });
    expect(student.model.teacher).toEqual({
      model: "bert",
      checkpoint: "checkpoints/bert-base",
      initLayers: [0, 2, 4, 7, 9, 11],
      initEmbeddings: true,
    });
    const grouped = resolved("test/fixtures/spec/example-2.bdl", "grouped").model;
    expect(grouped.sharing.map((g) => [g.name, g.layers.length, g.share])).toEqual([
      ["a", 6, ["attention", "ffn"]],
      ["b", 6, ["attention", "ffn"]],
    ]);
    expect(grouped.masking).toMatchObject({ unit: { kind: "ngram", n: 3 }, schedule: { kind: "static", duplicates: 10 } });
  });
});
