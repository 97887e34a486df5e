import { describe, expect, it } from "vitest";
import { familyOfModelType, hfArchitecture } from "../../../src/model/hf/family.js";
import { baseModelName, isHfBuffer } from "../../../src/model/hf/names.js";
import { bertBase } from "../../helpers/resolved-fixtures.js";

describe("Hugging Face families", () => {
  it("reads the four model types and nothing else, inherited keys included", () => {
    expect(["bert", "roberta", "albert", "distilbert"].map(familyOfModelType)).toEqual(["bert", "roberta", "albert", "distilbert"]);
    expect([undefined, "gpt2", "constructor", "BERT", 1].map(familyOfModelType)).toEqual([null, null, null, null, null]);
  });

  it("picks the class from the pooler and heads, or says why none fits", () => {
    const bert = bertBase();
    expect(hfArchitecture(bert, "bert")).toEqual({ name: "BertForPreTraining", base: false });
    expect(hfArchitecture({ ...bert, objectives: [] }, "bert")).toEqual({ name: "BertModel", base: true });
    expect(hfArchitecture({ ...bert, objectives: [{ name: "mlm", weight: 1 }] }, "bert")).toMatch(/BertForMaskedLM has no pooler/);
  });

  it("base-model names drop the class prefix; heads have none", () => {
    expect(baseModelName("bert", "bert.encoder.layer.0.output.dense.weight")).toBe("encoder.layer.0.output.dense.weight");
    expect(baseModelName("bert", "cls.predictions.bias")).toBeNull();
    expect(baseModelName("distilbert", "distilbert.embeddings.word_embeddings.weight")).toBe("embeddings.word_embeddings.weight");
  });
});

describe("isHfBuffer", () => {
  it("knows the id buffers transformers saves, under any prefix, and no parameter", () => {
    expect(isHfBuffer("bert.embeddings.position_ids")).toBe(true);
    expect(isHfBuffer("embeddings.token_type_ids")).toBe(true);
    expect(isHfBuffer("bert.embeddings.position_embeddings.weight")).toBe(false);
    expect(isHfBuffer("my_position_ids")).toBe(false);
  });
});
