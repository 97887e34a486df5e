/**
 * The newer block and objective choices train end to end through the built CLI, together:
 * a few steps of the tiny model with pre-LN layers (layer 0 without its attention LayerNorm),
 * SwiGLU feed-forward layers, rotary positions with a local layer, and span masking. The loss is finite and falls; the checkpoint holds the final LayerNorm and the
 * [H, 2·I] intermediate kernels and reads back with every choice; `bdlc mask-preview` shows
 * the masks as runs of predicted tokens. (Each choice is checked alone, layer by layer, in
 * test/runtime/norm-position.test.ts, gated-feed-forward.test.ts, gradients/ and
 * data/span-masking.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../../src/runtime/checkpoint/checkpoint.js";
import { bdlc, trainingFolder } from "../../helpers/training.js";

const MODEL = "test/fixtures/train/tiny-modern.bdl";

describe("bdlc train on a pre-LN, SwiGLU, rotary, local, span-masked model", () => {
  it("the loss is finite and falls, the checkpoint keeps every choice, and mask-preview shows spans", () => {
    const { dir, corpus } = trainingFolder("bdl-modern-");
    const out = join(dir, "run");
    const args = ["--corpus", corpus, "--out", out, "--steps", "20", "--save-every", "20", "--log-every", "5", "--seed", "3"];
    const r = bdlc(["train", MODEL, ...args, "--backend", "cpu"]);
    expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(0);
    const train = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.kind === undefined);
    expect(train.map((e) => e.step)).toEqual([5, 10, 15, 20]);
    for (const e of train) expect(Number.isFinite(e.loss), `step ${e.step}`).toBe(true);
    expect(train.at(-1).loss).toBeLessThan(train[0].loss);

    expect(readdirSync(join(out, "checkpoints"))).toEqual(["step-20"]);
    const { model, weights } = loadCheckpoint(join(out, "checkpoints", "step-20"));
    expect(model.norm_position).toBe("pre");
    expect(model.feed_forward).toBe("gated");
    expect(model.activation).toBe("silu");
    expect(model.masking.unit).toEqual({ kind: "span", p: 0.2, max: 10 });
    expect(weights.get("encoder.final_norm.weight")?.shape).toEqual([32]);
    expect(weights.get("layers.0.ffn.intermediate.kernel")?.shape).toEqual([32, 2 * model.intermediate]);
    expect(model.attention).toEqual({ rotary: 10000, window: 8, global_every: 2, local_rotary: null });
    expect(model.first_attention_norm).toBe(false);
    expect(weights.has("embeddings.position")).toBe(false);
    expect(weights.has("layers.0.attention.norm.weight")).toBe(false);
    expect(weights.has("layers.1.attention.norm.weight")).toBe(true);
    expect(weights.has("heads.mlm.transform.bias")).toBe(false);

    const tokenizer = join(out, "tokenizer.json");
    expect(existsSync(tokenizer)).toBe(true);
    const preview = bdlc(["mask-preview", MODEL, "--corpus", corpus, "--tokenizer", tokenizer, "-n", "8", "--seed", "3"]);
    expect(preview.status, preview.stderr).toBe(0);
    const lines = preview.stdout.trim().split("\n");
    expect(lines).toHaveLength(8);
    // Spans of several words, all [MASK] together: a run of at least three masks somewhere.
    expect(lines.some((l) => /\[MASK\] \[MASK\] \[MASK\]/.test(l))).toBe(true);
  }, 300_000);
});
