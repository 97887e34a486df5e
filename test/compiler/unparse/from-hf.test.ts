import { describe, expect, it } from "vitest";
import { MODEL_NAME, sanitizeModelName } from "../../../src/compiler/unparse/from-hf.js";

describe("sanitizeModelName", () => {
  it.each([
    ["bert-base-uncased", "bert-base-uncased"],
    ["models--google--bert", "models-google-bert"],
    ["--x--", "x"],
    ["a b  c", "a-b-c"],
    ["_x.y", "_x-y"],
    ["9lives", "hf-9lives"],
    ["é-ü", "hf-model"],
    ["...", "hf-model"],
    ["", "hf-model"],
  ])("%j becomes %j", (text, name) => {
    expect(sanitizeModelName(text)).toBe(name);
  });

  it("always yields a valid model name", () => {
    for (const text of ["9", "-_-", "a😀b", "x--y", " lead"]) expect(MODEL_NAME.test(sanitizeModelName(text))).toBe(true);
  });
});

describe("MODEL_NAME", () => {
  it.each([
    ["bert-mini", true],
    ["_x", true],
    ["a-", false],
    ["-a", false],
    ["9a", false],
    ["a--b", false],
  ])("%j is a model name: %s", (text, ok) => {
    expect(MODEL_NAME.test(text)).toBe(ok);
  });
});
