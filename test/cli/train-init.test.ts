/**
 * `bdlc train --init W` starts a run from existing weights (a run folder, a checkpoint or a
 * Hugging Face folder of the same model) instead of a random draw, and `--tokenizer FILE`
 * uses a tokenizer instead of training one. Both are refused, by name, where they do not fit.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/runtime/checkpoint/checkpoint.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { cli, tokenizerWithOneMoreToken } from "../helpers/cli.js";
import { TINY_MODEL, trainingFolder } from "../helpers/training.js";

/** Largest |a − b| over two checkpoints' tensors of the same names. */
function maxDifference(a: string, b: string): number {
  const x = loadCheckpoint(a).weights;
  const y = loadCheckpoint(b).weights;
  let most = 0;
  for (const [name, w] of x) {
    const v = y.get(name)!.values;
    for (let i = 0; i < w.values.length; i++) most = Math.max(most, Math.abs(w.values[i]! - v[i]!));
  }
  return most;
}

let dir: string;
let corpus: string;
let base: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  ({ dir, corpus } = trainingFolder("bdl-train-init-"));
  base = path.join(dir, "base");
  const r = await cli("train", TINY_MODEL, "--corpus", corpus, "--out", base, "--steps", "5", "--save-every", "5", "--backend", "cpu");
  expect(r.code, r.err).toBe(0);
}, 300_000);

const train = (out: string, ...extra: string[]) =>
  cli("train", TINY_MODEL, "--corpus", corpus, "--out", path.join(dir, out), "--steps", "1", "--backend", "cpu", ...extra);

describe("bdlc train --init and --tokenizer", () => {
  it("--init starts from the given weights: with a vanishing learning rate the first step leaves them as they were", async () => {
    const tokenizer = path.join(base, "tokenizer.json");
    const r = await train("from-base", "--init", base, "--tokenizer", tokenizer, "--lr", "1e-12");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("starting from the --init weights");
    expect(r.err).not.toMatch(/training a wordpiece tokenizer/);
    expect(fs.readFileSync(path.join(dir, "from-base", "tokenizer.json"), "utf8")).toBe(fs.readFileSync(tokenizer, "utf8"));
    const step = (run: string, n: number) => path.join(dir, run, "checkpoints", `step-${n}`);
    expect(maxDifference(step("from-base", 1), path.join(base, "checkpoints", "step-5"))).toBeLessThan(1e-6);
    // Without --init the same command starts from a random draw, far from base's weights.
    const fresh = await train("fresh", "--tokenizer", tokenizer, "--lr", "1e-12");
    expect(fresh.code, fresh.err).toBe(0);
    expect(maxDifference(step("fresh", 1), path.join(base, "checkpoints", "step-5"))).toBeGreaterThan(1e-2);
  }, 300_000);

  it("refuses --init weights of another model, naming the difference, and --init or --tokenizer with --resume", async () => {
    const other = path.join(dir, "other.bdl");
    fs.copyFileSync(TINY_MODEL, path.join(dir, "tiny.bdl"));
    fs.writeFileSync(other, `import "tiny.bdl"\n\nmodel wide extends tiny {\n  intermediate 96\n}\n`);
    const r = await cli("train", `${other}:wide`, "--corpus", corpus, "--out", path.join(dir, "wide"), "--steps", "1", "--init", base);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not fit model 'wide': .*intermediate/);
    const resumed = await cli("train", TINY_MODEL, "--corpus", corpus, "--out", base, "--resume", "--init", base);
    expect(resumed.code).toBe(1);
    expect(resumed.err).toMatch(/--init starts a run from other weights; --resume continues the run/);
  }, 300_000);

  it("refuses a --tokenizer of another vocabulary, and one that differs from the run folder's", async () => {
    const bigger = path.join(dir, "bigger.json");
    tokenizerWithOneMoreToken(path.join(base, "tokenizer.json"), bigger);
    const r = await train("bigger", "--tokenizer", bigger);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--tokenizer .*bigger\.json has 401 tokens; model 'tiny' has vocab 400/);
    const folder = path.join(dir, "has-one");
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, "tokenizer.json"), "{}");
    const clash = await train("has-one", "--tokenizer", path.join(base, "tokenizer.json"));
    expect(clash.code).toBe(1);
    expect(clash.err).toMatch(/already holds another tokenizer/);
  }, 300_000);
});
