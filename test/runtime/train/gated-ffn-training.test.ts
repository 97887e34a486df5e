/**
 * A gated feed-forward model trains end to end through the built CLI: a few steps of the
 * tiny model with `feed_forward gated` and `activation silu` (SwiGLU), whose loss is finite
 * and falls, and whose checkpoint holds the [H, 2·I] intermediate kernels and reads back as gated.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../../src/runtime/checkpoint/checkpoint.js";
import { bdlc, trainingFolder } from "../../helpers/training.js";

const MODEL = "test/fixtures/train/tiny-swiglu.bdl";

describe("bdlc train on a gated feed-forward model", () => {
  it("the loss is finite and falls, and the checkpoint is of the gated model", () => {
    const { dir, corpus } = trainingFolder("bdl-swiglu-");
    const out = join(dir, "run");
    const r = bdlc([
      "train",
      MODEL,
      "--corpus",
      corpus,
      "--out",
      out,
      "--steps",
      "20",
      "--save-every",
      "20",
      "--log-every",
      "5",
      "--seed",
      "3",
      "--backend",
      "cpu",
    ]);
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
    const ckpt = loadCheckpoint(join(out, "checkpoints", "step-20"));
    expect(ckpt.model.feed_forward).toBe("gated");
    expect(ckpt.model.activation).toBe("silu");
    expect(ckpt.weights.get("layers.0.ffn.intermediate.kernel")?.shape).toEqual([32, 2 * ckpt.model.intermediate]);
  }, 300_000);
});
