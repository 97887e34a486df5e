import { describe, expect, it } from "vitest";
import { diffModels, renderDiff } from "../../src/compiler/diff.js";
import { albertBase, bertBase, distilbertBase } from "../helpers/resolved-fixtures.js";

describe("diffModels", () => {
  it("names every property albert changes from bert", () => {
    const d = diffModels(bertBase(), albertBase());
    expect(d.changes.map((c) => c.path)).toEqual([
      "vocab",
      "activation",
      "dropout",
      "attention_dropout",
      "embeddings.factorize",
      "sharing",
      "objectives.nsp",
      "objectives.sop",
      "masking.unit",
      "tokenizer",
      "special",
      "train.optimizer",
      "train.lr",
      "train.warmup",
      "train.batch",
      "train.seq",
      "train.steps",
    ]);
    expect(d.changes).toContainEqual({ path: "activation", before: "gelu", after: "gelu_new" });
    expect(d.changes).toContainEqual({ path: "objectives.nsp", before: "weight 1", after: "off" });
    expect(d.changes).toContainEqual({ path: "objectives.sop", before: "off", after: "weight 1" });
    expect(d.changes).toContainEqual({ path: "sharing", before: "none", after: "all" });
    expect(d.params.before.total).toBe(110_106_428);
    expect(d.params.after.total).toBe(11_813_810);
  });

  it("names the norm position and the final LayerNorm it adds", () => {
    const d = diffModels(bertBase(), { ...bertBase(), norm_position: "pre" });
    expect(d.changes).toEqual([{ path: "norm_position", before: "post", after: "pre" }]);
    const text = renderDiff(d, "a", "b");
    expect(text).toContain("  norm_position   post -> pre\n");
    // The final LayerNorm's weight and bias: 2 × hidden.
    expect(text).toContain("params.final_norm");
    expect(d.params.after.encoder - d.params.before.encoder).toBe(2 * 768);
  });

  it("names a change of span length distribution as a change of masking.unit, with no parameter change", () => {
    const span = (p: number, max: number) => ({
      ...bertBase(),
      masking: { ...bertBase().masking, unit: { kind: "span" as const, p, max } },
    });
    const d = diffModels(span(0.2, 10), span(0.3, 10));
    expect(d.changes).toEqual([{ path: "masking.unit", before: "span p 0.2 max 10", after: "span p 0.3 max 10" }]);
    expect(d.params.before).toEqual(d.params.after);
    expect(diffModels(bertBase(), span(0.2, 10)).changes).toEqual([{ path: "masking.unit", before: "token", after: "span p 0.2 max 10" }]);
  });

  it("names each bias switch turned off and the bias tensors it removes", () => {
    const d = diffModels(bertBase(), { ...bertBase(), attention_bias: false, norm_bias: false });
    expect(d.changes).toEqual([
      { path: "attention_bias", before: "true", after: "false" },
      { path: "norm_bias", before: "true", after: "false" },
    ]);
    const text = renderDiff(d, "a", "b");
    expect(text).toMatch(/\n  attention_bias +true -> false\n/);
    // Per layer four attention biases and two LayerNorm biases of width hidden; the embeddings' LayerNorm bias too.
    expect(d.params.before.encoder - d.params.after.encoder).toBe(12 * 6 * 768 + 768);
    expect(diffModels(bertBase(), { ...bertBase(), mlp_bias: false }).changes).toEqual([
      { path: "mlp_bias", before: "true", after: "false" },
    ]);
  });

  it("names the feed-forward kind and the gate's half of the intermediate kernel it adds", () => {
    const d = diffModels(bertBase(), { ...bertBase(), feed_forward: "gated" });
    expect(d.changes).toEqual([{ path: "feed_forward", before: "plain", after: "gated" }]);
    const text = renderDiff(d, "a", "b");
    expect(text).toContain("  feed_forward   plain -> gated\n");
    // Per layer, the gate columns of the intermediate kernel and their bias: hidden × intermediate + intermediate.
    expect(d.params.after.encoder - d.params.before.encoder).toBe(12 * (768 * 3072 + 3072));
  });

  it("finds nothing between a model and itself", () => {
    const d = diffModels(bertBase(), bertBase());
    expect(d.changes).toEqual([]);
    expect(d.params.before).toEqual(d.params.after);
  });

  it("passes each teacher to its model's count", () => {
    const large = { ...bertBase(), name: "large", hidden: 1024, heads: 16, intermediate: 4096 };
    const d = diffModels(distilbertBase(), distilbertBase(), { teacherA: bertBase(), teacherB: large });
    expect(d.changes).toEqual([]);
    expect(d.params.after.total - d.params.before.total).toBe(768 * 1024 + 1024);
  });
});

describe("renderDiff", () => {
  const text = renderDiff(diffModels(bertBase(), albertBase()), "models/bert.bdl:bert", "models/albert.bdl:albert");
  const lines = text.split("\n");

  it("starts with the two labels", () => {
    expect(lines[0]).toBe("--- models/bert.bdl:bert");
    expect(lines[1]).toBe("+++ models/albert.bdl:albert");
  });

  it("prints one aligned line per changed property", () => {
    const width = "embeddings.factorize".length;
    expect(lines).toContain(`  ${"activation".padEnd(width)}   gelu -> gelu_new`);
    expect(lines).toContain(`  ${"vocab".padEnd(width)}   30522 -> 30000`);
    expect(lines).toContain(`  ${"embeddings.factorize".padEnd(width)}   none -> 128`);
    expect(lines).toContain(`  ${"train.optimizer".padEnd(width)}   adamw -> lamb`);
    expect(lines).toContain(`  ${"train.lr".padEnd(width)}   1e-4 -> 0.00176`);
    expect(lines).toContain(`  ${"special".padEnd(width)}   pad 0 unk 100 cls 101 sep 102 mask 103 -> pad 0 unk 1 cls 2 sep 3 mask 4`);
  });

  it("prints the parameter counts and their change after a blank line", () => {
    const blank = lines.indexOf("");
    expect(blank).toBe(2 + 17);
    expect(lines[blank + 1]).toMatch(/^ {2}params\.encoder +109,482,240 -> 11,683,584 {2}\(-97,798,656, -89\.3%\)$/);
    expect(lines[blank + 2]).toMatch(/^ {2}params\.total +110,106,428 -> 11,813,810 {2}\(-98,292,618, -89\.3%\)$/);
  });

  it("lists the components whose counts differ, layers and groups summed as one", () => {
    expect(text).toMatch(/params\.embeddings +23,837,184 -> 3,906,048 {2}\(-19,931,136, -83\.6%\)/);
    expect(text).toMatch(/params\.layers +85,054,464 -> 7,087,872 {2}\(-77,966,592, -91\.7%\)/);
    expect(text).not.toMatch(/params\.layer\.0|params\.group\./);
    expect(text).toMatch(/params\.embedding_projection +- -> 99,072 {2}\(\+99,072\)/);
    expect(text).toMatch(/params\.head\.nsp +1,538 -> - /);
    expect(text).not.toMatch(/params\.pooler/);
  });

  it("says when nothing differs, and still prints the counts", () => {
    const same = renderDiff(diffModels(bertBase(), bertBase()), "a", "b");
    expect(same).toBe(
      [
        "--- a",
        "+++ b",
        "  no architectural differences",
        "",
        "  params.encoder   109,482,240 -> 109,482,240  (no change)",
        "  params.total     110,106,428 -> 110,106,428  (no change)",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic", () => {
    expect(renderDiff(diffModels(bertBase(), albertBase()), "a", "b")).toBe(renderDiff(diffModels(bertBase(), albertBase()), "a", "b"));
  });
});
