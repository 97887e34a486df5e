/**
 * Every family's layout through a compiled graph, forward and backward, beyond the three
 * goldens: RoBERTa's position offset, ALBERT's several groups, attention-only sharing, relu.
 * Each must give a finite loss and a gradient for every parameter, keyed by its Hugging Face name.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { hfNaming } from "../../src/model/hf/names.js";
import { initialWeights } from "../../src/runtime/init.js";
import { parameterTable } from "../../src/model/parameters.js";
import { runOnce } from "../../src/runtime/run.js";
import { tf } from "../../src/runtime/backends/tf.js";

const BASE = `
model base {
  vocab 60 hidden 16 layers 4 heads 2 intermediate 24
  embeddings { positions 16 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
`;

const CASES: [string, string][] = [
  [
    "roberta-like",
    "model m extends base { norm_eps 1e-5 pooler none embeddings { offset 2 segments 1 } objectives { mlm } special { bos 0 pad 1 eos 2 unk 3 mask 59 cls 0 sep 2 } }",
  ],
  [
    "albert, two groups",
    "model m extends base { activation gelu_new embeddings { factorize 8 } sharing { group a layers 0..1 share attention ffn group b layers 2..3 share attention ffn } objectives { mlm sop } }",
  ],
  [
    "attention-only sharing, relu",
    "model m extends base { activation relu sharing { group a layers 0..3 share attention } objectives { mlm nsp } }",
  ],
];

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe.each(CASES)("%s", (_, source) => {
  it("runs forward and backward with a gradient for every parameter", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bdl-family-"));
    writeFileSync(join(dir, "m.bdl"), BASE + source + "\n");
    const checked = checkFile(join(dir, "m.bdl"));
    expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    const model = checked.resolutions.get("m")!.model;
    const { graph } = await loadGraph(model);
    const pad = model.special["pad"]!;
    const inputs = {
      input_ids: [
        [2, 7, 9, 11, 3],
        [2, 8, 3, pad, pad],
      ],
      attention_mask: [
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ],
      labels: [
        [-100, 7, -100, 11, -100],
        [-100, 8, -100, -100, -100],
      ],
      ...(model.objectives.some((o) => o.name === "nsp") ? { next_sentence_label: [0, 1] } : {}),
      ...(model.objectives.some((o) => o.name === "sop") ? { sentence_order_label: [1, 0] } : {}),
    };
    const out = runOnce({ graph, weights: initialWeights(parameterTable(model), 5, pad) }, inputs);
    expect(Number.isFinite(out["loss"] as number)).toBe(true);
    const norms = out["grad_norms"] as Record<string, number>;
    // One norm per parameter: under its Hugging Face name, or under ours where the layout
    // has no Hugging Face equivalent (attention-only sharing, an NSP head on ALBERT).
    const naming = hfNaming(model);
    const hf = new Map(naming.names.map((n) => [n.name, n.hf]));
    const expected = parameterTable(model)
      .map((p) => hf.get(p.name) ?? p.name)
      .sort();
    expect(Object.keys(norms).sort()).toEqual(expected);
    if (naming.unrepresentable === null) expect(naming.names.length).toBe(expected.length);
  });
});
