/**
 * config.json written from a model reads back as the same model: `hfConfig` and
 * `readHfConfig` share one mapping of properties to keys, so a key renamed on one side only
 * fails here.
 */
import { describe, expect, it } from "vitest";
import { configProblem, hfConfig, readHfConfig } from "../../../src/model/hf/config.js";
import { hfArchitecture, hfFamily } from "../../../src/model/hf/family.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../../helpers/resolved-fixtures.js";

describe("hfConfig → readHfConfig", () => {
  it.each([
    ["bert", bertBase()],
    ["roberta", robertaBase()],
    ["albert", albertBase()],
    ["distilbert", distilbertBase()],
  ] as [string, ResolvedModel][])("%s reads back with its sizes, embeddings, sharing, pooler, heads and pad", (family, model) => {
    expect(hfFamily(model)).toBe(family);
    expect(configProblem(model, hfFamily(model))).toBeNull();
    const arch = hfArchitecture(model, hfFamily(model));
    if (typeof arch === "string") throw new Error(arch);
    const spec = readHfConfig(hfConfig(model, hfFamily(model), arch.name), "config.json");
    // Every key was written: nothing fell back to transformers' defaults.
    expect(spec.defaulted).toEqual([]);
    expect(spec.family).toBe(family);
    expect(spec.architecture).toBe(arch.name);
    for (const key of [
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
    ] as const) {
      expect(spec[key], key).toEqual(model[key]);
    }
    expect(spec.embeddings).toEqual(model.embeddings);
    expect(spec.sharing).toEqual(model.sharing);
    // Distillation objectives are training, not heads a checkpoint holds.
    const heads = model.objectives.map((o) => o.name).filter((o) => o === "mlm" || o === "nsp" || o === "sop");
    expect(spec.objectives).toEqual(heads);
    expect(spec.special["pad"]).toBe(model.special["pad"]);
  });
});
