import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import { CheckpointError, loadCheckpoint, saveCheckpoint, writeFolderAtomically } from "../../../src/runtime/checkpoint/checkpoint.js";
import type { WeightMap } from "../../../src/runtime/checkpoint/hf-weights.js";
import { readSafetensors } from "../../../src/runtime/checkpoint/safetensors.js";
import { parameterTable } from "../../../src/model/parameters.js";

const GOLDENS = "test/fixtures/goldens";

function model(file: string, name: string): ResolvedModel {
  const checked = checkFile(`${GOLDENS}/${file}`);
  return checked.resolutions.get(name)!.model;
}

/** Deterministic, distinct values for every parameter. */
function weightsOf(m: ResolvedModel, seed = 1): WeightMap {
  const out: WeightMap = new Map();
  let k = seed;
  for (const spec of parameterTable(m)) {
    const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(k++ * 0.7) * 0.3;
    out.set(spec.name, { shape: spec.shape, values });
  }
  return out;
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bdl-ckpt-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips the model, every weight bit for bit, and the metadata", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const weights = weightsOf(bert);
    const dir = path.join(tmp, "nested", "ckpt");
    saveCheckpoint(dir, bert, weights, { step: 42, meta: { note: "hello" } });
    expect(fs.readdirSync(dir).sort()).toEqual(["bdl.json", "model.safetensors"]);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "bdl.json"), "utf8"));
    expect(meta).toMatchObject({ format: 1, step: 42, note: "hello" });
    expect(readSafetensors(path.join(dir, "model.safetensors")).metadata).toEqual({ format: "bdl" });

    const loaded = loadCheckpoint(dir, { model: bert });
    expect(loaded.model).toEqual(bert);
    expect(loaded.meta.step).toBe(42);
    expect([...loaded.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, w] of weights) {
      const got = loaded.weights.get(name)!;
      expect(got.shape, name).toEqual(w.shape);
      expect(Buffer.from(got.values.buffer).equals(Buffer.from(w.values.buffer)), name).toBe(true);
    }
  });

  it("writes atomically: no temp or old folder is left, and an existing checkpoint is replaced", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const dir = path.join(tmp, "ckpt");
    saveCheckpoint(dir, bert, weightsOf(bert, 1), { step: 1 });
    saveCheckpoint(dir, bert, weightsOf(bert, 2), { step: 2 });
    expect(fs.readdirSync(tmp)).toEqual(["ckpt"]);
    const loaded = loadCheckpoint(dir);
    expect(loaded.meta.step).toBe(2);
    expect(loaded.weights.get("embeddings.word")!.values[0]).toBe(weightsOf(bert, 2).get("embeddings.word")!.values[0]);
  });

  it("leaves the old folder in place and no temp folder when writing fails", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const dir = path.join(tmp, "ckpt");
    saveCheckpoint(dir, bert, weightsOf(bert), { step: 1 });
    expect(() =>
      writeFolderAtomically(
        dir,
        (t) => {
          fs.writeFileSync(path.join(t, "half"), "x");
          throw new Error("disk full");
        },
        () => null,
      ),
    ).toThrow(/disk full/);
    expect(fs.readdirSync(tmp)).toEqual(["ckpt"]);
    expect(loadCheckpoint(dir).meta.step).toBe(1);
  });

  it("refuses weights that are not the model's parameter table", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const weights = weightsOf(bert);
    weights.delete("pooler.kernel");
    expect(() => saveCheckpoint(path.join(tmp, "c"), bert, weights)).toThrow(/lack 1 parameter.*pooler\.kernel/);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it("refuses to replace a folder that is not a checkpoint", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const dir = path.join(tmp, "precious");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "keep me");
    expect(() => saveCheckpoint(dir, bert, weightsOf(bert))).toThrow(/refusing to replace .*not a checkpoint/);
    expect(fs.readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("keep me");
  });

  it("reads a run folder's latest checkpoints/step-N", () => {
    const bert = model("bert.bdl", "tiny-bert");
    for (const step of [5, 100, 20])
      saveCheckpoint(path.join(tmp, "run", "checkpoints", `step-${step}`), bert, weightsOf(bert, step), { step });
    const loaded = loadCheckpoint(path.join(tmp, "run"));
    expect(loaded.meta.step).toBe(100);
    expect(loaded.dir).toBe(path.join(tmp, "run", "checkpoints", "step-100"));
  });

  it("names the first difference when the checkpoint is of another model", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const albert = model("albert.bdl", "tiny-albert");
    saveCheckpoint(path.join(tmp, "c"), bert, weightsOf(bert));
    expect(() => loadCheckpoint(path.join(tmp, "c"), { model: albert })).toThrow(CheckpointError);
    expect(() => loadCheckpoint(path.join(tmp, "c"), { model: albert })).toThrow(
      /checkpoint of model 'tiny-bert' \(as bdl.json describes it\), which does not fit model 'tiny-albert': parameter 'embeddings\.word' is \[99, 16\] in model 'tiny-albert' but \[99, 32\] in the checkpoint/,
    );
    const wider = { ...bert, name: "wider", intermediate: 64 };
    expect(() => loadCheckpoint(path.join(tmp, "c"), { model: wider })).toThrow(
      /'layers\.0\.ffn\.intermediate\.kernel' is \[32, 64\] in model 'wider' but \[32, 37\]/,
    );
    // Attention settings that change no shape: a window.
    const local = { ...bert, name: "local", attention: { rotary: null, window: 4, global_every: 2, local_rotary: null } };
    expect(() => loadCheckpoint(path.join(tmp, "c"), { model: local })).toThrow(
      /model 'local' has attention \{ rotary none window 4 global_every 2 local_rotary none \}, the checkpoint's model \{ rotary none window none/,
    );
    const relu = { ...bert, name: "relu", activation: "relu" as const };
    expect(() => loadCheckpoint(path.join(tmp, "c"), { model: relu })).toThrow(
      /model 'relu' has activation relu, the checkpoint's model gelu/,
    );
  });

  it("keeps a pre-LN model's norm position; a post-LN model's metadata has none", () => {
    const post = model("bert.bdl", "tiny-bert");
    const pre: ResolvedModel = { ...post, name: "tiny-pre", norm_position: "pre" };
    saveCheckpoint(path.join(tmp, "post"), post, weightsOf(post));
    saveCheckpoint(path.join(tmp, "pre"), pre, weightsOf(pre));
    expect(JSON.parse(fs.readFileSync(path.join(tmp, "post", "bdl.json"), "utf8")).model).not.toHaveProperty("norm_position");
    const loaded = loadCheckpoint(path.join(tmp, "pre"), { model: pre });
    expect(loaded.model.norm_position).toBe("pre");
    expect(loaded.weights.get("encoder.final_norm.bias")?.shape).toEqual([32]);
    // Either way round, the final LayerNorm tells the two apart.
    expect(() => loadCheckpoint(path.join(tmp, "post"), { model: pre })).toThrow(
      /model 'tiny-pre' has parameter 'encoder\.final_norm\.weight' \[32\], which the checkpoint lacks/,
    );
    expect(() => loadCheckpoint(path.join(tmp, "pre"), { model: post })).toThrow(
      /the checkpoint has parameter 'encoder\.final_norm\.weight', which model 'tiny-bert' lacks/,
    );
    fs.writeFileSync(path.join(tmp, "pre", "bdl.json"), JSON.stringify({ format: 1, model: { ...pre, norm_position: "post" } }));
    expect(() => loadCheckpoint(path.join(tmp, "pre"))).toThrow(/'norm_position' is "post", not "pre" or absent/);
  });

  it("keeps a gated model's feed-forward kind; a plain model's metadata has none", () => {
    const plain = model("bert.bdl", "tiny-bert");
    const gated: ResolvedModel = { ...plain, name: "tiny-glu", feed_forward: "gated" };
    saveCheckpoint(path.join(tmp, "plain"), plain, weightsOf(plain));
    saveCheckpoint(path.join(tmp, "glu"), gated, weightsOf(gated));
    expect(JSON.parse(fs.readFileSync(path.join(tmp, "plain", "bdl.json"), "utf8")).model).not.toHaveProperty("feed_forward");
    const loaded = loadCheckpoint(path.join(tmp, "glu"), { model: gated });
    expect(loaded.model.feed_forward).toBe("gated");
    expect(loaded.weights.get("layers.0.ffn.intermediate.kernel")?.shape).toEqual([32, 2 * plain.intermediate]);
    expect(() => loadCheckpoint(path.join(tmp, "plain"), { model: gated })).toThrow(
      /parameter 'layers\.0\.ffn\.intermediate\.kernel' is \[32, \d+\] in model 'tiny-glu'/,
    );
    fs.writeFileSync(path.join(tmp, "glu", "bdl.json"), JSON.stringify({ format: 1, model: { ...gated, feed_forward: "plain" } }));
    expect(() => loadCheckpoint(path.join(tmp, "glu"))).toThrow(/'feed_forward' is "plain", not "gated" or absent/);
  });

  it("keeps a bias-free model's switches and tensors; a full model's metadata has none", () => {
    const full = model("bert.bdl", "tiny-bert");
    const bare: ResolvedModel = { ...full, name: "tiny-bare", attention_bias: false, norm_bias: false };
    saveCheckpoint(path.join(tmp, "full"), full, weightsOf(full));
    saveCheckpoint(path.join(tmp, "bare"), bare, weightsOf(bare));
    const metadata = JSON.parse(fs.readFileSync(path.join(tmp, "full", "bdl.json"), "utf8")).model;
    for (const k of ["attention_bias", "mlp_bias", "norm_bias"]) expect(metadata).not.toHaveProperty(k);
    const loaded = loadCheckpoint(path.join(tmp, "bare"), { model: bare });
    expect([loaded.model.attention_bias, loaded.model.mlp_bias, loaded.model.norm_bias]).toEqual([false, undefined, false]);
    expect(loaded.weights.has("layers.0.attention.query.bias")).toBe(false);
    expect(loaded.weights.has("layers.0.ffn.output.bias")).toBe(true);
    expect(() => loadCheckpoint(path.join(tmp, "full"), { model: bare })).toThrow(
      /the checkpoint has parameter '.*bias', which model 'tiny-bare' lacks/,
    );
    fs.writeFileSync(path.join(tmp, "bare", "bdl.json"), JSON.stringify({ format: 1, model: { ...bare, norm_bias: true } }));
    expect(() => loadCheckpoint(path.join(tmp, "bare"))).toThrow(/'norm_bias' is true, not false or absent/);
  });

  it("gives clear errors for missing and corrupt files", () => {
    const bert = model("bert.bdl", "tiny-bert");
    expect(() => loadCheckpoint(path.join(tmp, "nope"))).toThrow(/nope: no such checkpoint folder/);
    fs.mkdirSync(path.join(tmp, "empty"));
    expect(() => loadCheckpoint(path.join(tmp, "empty"))).toThrow(/is not a checkpoint: it has no bdl\.json/);
    fs.mkdirSync(path.join(tmp, "run", "checkpoints"), { recursive: true });
    expect(() => loadCheckpoint(path.join(tmp, "run"))).toThrow(/has no checkpoint yet/);

    const dir = path.join(tmp, "c");
    saveCheckpoint(dir, bert, weightsOf(bert));
    const st = path.join(dir, "model.safetensors");
    const bytes = fs.readFileSync(st);
    fs.writeFileSync(st, bytes.subarray(0, bytes.length - 10));
    expect(() => loadCheckpoint(dir)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir)).toThrow(/model\.safetensors: .*(truncated|trailing|beyond)/);
    fs.rmSync(st);
    expect(() => loadCheckpoint(dir)).toThrow(/missing model\.safetensors/);
    fs.writeFileSync(path.join(dir, "bdl.json"), "{ not json");
    expect(() => loadCheckpoint(dir)).toThrow(/bdl\.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, "bdl.json"), JSON.stringify({ format: 7, model: bert }));
    expect(() => loadCheckpoint(dir)).toThrow(/format 7 was written by a newer bdl/);
    fs.writeFileSync(path.join(dir, "bdl.json"), JSON.stringify({ format: 1, model: { ...bert, hidden: "32" } }));
    expect(() => loadCheckpoint(dir)).toThrow(/'model' is not a resolved model: 'hidden' is not a positive integer/);
  });

  it("finds tensors of the wrong shape or name in model.safetensors", () => {
    const bert = model("bert.bdl", "tiny-bert");
    const dir = path.join(tmp, "c");
    saveCheckpoint(dir, bert, weightsOf(bert));
    // Claim the checkpoint is of a model with one more layer: its tensors are then missing.
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "bdl.json"), "utf8"));
    meta.model.layers = 4;
    fs.writeFileSync(path.join(dir, "bdl.json"), JSON.stringify(meta));
    expect(() => loadCheckpoint(dir)).toThrow(/lack 16 parameter\(s\) of model 'tiny-bert': layers\.3\./);
  });
});
