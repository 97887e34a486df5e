import { describe, expect, it } from "vitest";
import {
  architectureProperties,
  embeddingsProperties,
  groupText,
  objectiveSettings,
  OPTIMIZER_PROPERTIES,
  scheduleText,
  specialText,
  trainProperties,
  unitText,
} from "../../../src/compiler/unparse/model-text.js";
import { albertBase, bertBase } from "../../helpers/resolved-fixtures.js";

describe("model text", () => {
  it("writes the architecture in its fixed order, numbers as bdl writes them", () => {
    const m = bertBase();
    expect(architectureProperties(m).map(([k]) => k)).toEqual([
      "vocab",
      "hidden",
      "layers",
      "heads",
      "intermediate",
      "activation",
      "norm_eps",
      "dropout",
      "attention_dropout",
      "pooler",
    ]);
    expect(Object.fromEntries(architectureProperties({ ...m, norm_eps: 1e-12 }))["norm_eps"]).toBe("1e-12");
  });

  it("leaves factorize out of the embeddings only when it is unset", () => {
    expect(embeddingsProperties(bertBase().embeddings).map(([k]) => k)).toEqual(["positions", "offset", "segments"]);
    expect(embeddingsProperties(albertBase().embeddings).at(-1)).toEqual(["factorize", "128"]);
  });

  it("puts the optimizer's settings first in train", () => {
    const keys = trainProperties(bertBase().train).map(([k]) => k);
    expect(keys.slice(0, OPTIMIZER_PROPERTIES)).toEqual(["optimizer", "lr", "beta1", "beta2", "eps", "weight_decay"]);
    expect(keys.slice(OPTIMIZER_PROPERTIES)).toEqual(["warmup", "decay", "batch", "seq", "steps"]);
  });

  it("writes values in .bdl syntax", () => {
    expect(groupText({ name: "g", layers: [0, 1, 2, 3], share: ["ffn", "attention"] })).toBe("group g layers 0..3 share ffn attention");
    expect(groupText({ name: "g", layers: [0, 2], share: ["ffn", "attention"] }, ["attention", "ffn"])).toBe(
      "group g layers [0, 2] share attention ffn",
    );
    expect(objectiveSettings({ name: "distill", weight: 5, temperature: 0.0005 })).toBe("weight 5 temperature 5e-4");
    expect(objectiveSettings({ name: "mlm", weight: 1 })).toBe("weight 1");
    expect(scheduleText({ from: 0.15, to: 0.4, steps: 1000 })).toBe("0.15 -> 0.4 over 1000");
    expect(unitText({ kind: "ngram", n: 3 })).toBe("ngram 3");
    expect(unitText({ kind: "span", p: 0.25, max: 8 })).toBe("span p 0.25 max 8");
    expect(specialText({ zz: 1, mask: 4, pad: 0, aa: 2 })).toBe("pad 0 mask 4 aa 2 zz 1");
  });
});
