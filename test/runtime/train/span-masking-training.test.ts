/**
 * A model with SpanBERT span masking trains end to end through the built CLI: a few steps of
 * the tiny model with `unit span`, whose loss is finite and falls, whose checkpoint keeps the
 * unit, and whose masks `bdlc mask-preview` shows as runs of predicted tokens.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../../src/runtime/checkpoint/checkpoint.js";
import { bdlc, trainingFolder } from "../../helpers/training.js";

const MODEL = "test/fixtures/train/tiny-span.bdl";

describe("bdlc train on a model with unit span", () => {
  it("the loss is finite and falls, the checkpoint keeps the unit, and mask-preview shows spans", () => {
    const { dir, corpus } = trainingFolder("bdl-span-");
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
    expect(loadCheckpoint(join(out, "checkpoints", "step-20")).model.masking.unit).toEqual({ kind: "span", p: 0.2, max: 10 });

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
