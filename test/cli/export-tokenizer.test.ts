/**
 * `bdlc export-hf` writes the run's tokenizer beside the weights: tokenizer.json as training
 * saved it, and the tokenizer_config.json and special_tokens_map.json from which transformers'
 * AutoTokenizer builds a PreTrainedTokenizerFast over it, each special role named by the
 * token its id has. Checked here against what those classes read (transformers is not at
 * hand in the suite).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../../src/runtime/tokenizers/hf-json.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { cli, tokenizerWithOneMoreToken } from "../helpers/cli.js";
import { TINY_MODEL, trainingFolder } from "../helpers/training.js";

const json = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

let dir: string;
let run: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  let corpus: string;
  ({ dir, corpus } = trainingFolder("bdl-export-tokenizer-"));
  run = path.join(dir, "run");
  const r = await cli("train", TINY_MODEL, "--corpus", corpus, "--out", run, "--steps", "2", "--backend", "cpu");
  expect(r.code, r.err).toBe(0);
}, 300_000);

describe("bdlc export-hf with the run's tokenizer", () => {
  it("writes tokenizer.json as trained, and names every special role by its token", async () => {
    const out = path.join(dir, "hf");
    const r = await cli("export-hf", run, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("tokenizer.json, tokenizer_config.json, special_tokens_map.json");
    expect(fs.readdirSync(out).sort()).toEqual([
      "config.json",
      "model.safetensors",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    expect(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8")).toBe(fs.readFileSync(path.join(run, "tokenizer.json"), "utf8"));

    // tiny.bdl: pad 0 unk 1 cls 2 sep 3 mask 4, a wordpiece tokenizer, 32 positions, segments 2.
    const tokenizer = loadTokenizer(path.join(out, "tokenizer.json"));
    const map = json(path.join(out, "special_tokens_map.json"));
    expect(map).toEqual({
      pad_token: tokenizer.idToToken(0),
      unk_token: tokenizer.idToToken(1),
      cls_token: tokenizer.idToToken(2),
      sep_token: tokenizer.idToToken(3),
      mask_token: tokenizer.idToToken(4),
    });
    expect(map.mask_token).toBe("[MASK]");
    const config = json(path.join(out, "tokenizer_config.json"));
    expect(config).toMatchObject({ tokenizer_class: "PreTrainedTokenizerFast", model_max_length: 32, ...map });
    expect(config.model_input_names).toEqual(["input_ids", "token_type_ids", "attention_mask"]);
    // The special tokens are declared as such in tokenizer.json, at the ids the model uses.
    const added = json(path.join(out, "tokenizer.json")).added_tokens as { id: number; content: string; special: boolean }[];
    for (const [id, content] of [0, 1, 2, 3, 4].map((i) => [i, tokenizer.idToToken(i)] as const))
      expect(
        added.find((t) => t.id === id),
        content,
      ).toMatchObject({ content, special: true });
  }, 120_000);

  it("finds the run's tokenizer from a checkpoint folder inside it, and replaces its own earlier export", async () => {
    const out = path.join(dir, "hf-step");
    for (let i = 0; i < 2; i++) {
      const r = await cli("export-hf", path.join(run, "checkpoints", "step-2"), "--out", out);
      expect(r.code, r.err).toBe(0);
    }
    expect(fs.existsSync(path.join(out, "tokenizer_config.json"))).toBe(true);
  }, 120_000);

  it("refuses a --tokenizer whose vocabulary is not the model's, naming both, and writes nothing", async () => {
    const other = path.join(dir, "other-tokenizer.json");
    tokenizerWithOneMoreToken(path.join(run, "tokenizer.json"), other);
    const out = path.join(dir, "hf-refused");
    const r = await cli("export-hf", run, "--out", out, "--tokenizer", other);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/other-tokenizer\.json has 401 tokens; the checkpoint's model 'tiny' has vocab 400/);
    expect(fs.existsSync(out)).toBe(false);
  }, 120_000);
});
