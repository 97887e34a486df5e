/**
 * `bdlc eval` and `bdlc mask-preview` through the built CLI, on a tiny model pretrained for
 * 30 steps: eval reproduces the held-out evaluation training ended with (same split, same
 * masks), from a run folder or one of its checkpoints, as text or JSON; mask-preview prints
 * masked training examples as text; bad input exits 1 with one clear line.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bdlc, ROOT, TINY_MODEL, trainingFolder } from "../helpers/training.js";

const MODEL = TINY_MODEL;

let dir: string;
let corpus: string;
let run: string;

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-eval-"));
  run = join(dir, "run");
  const r = bdlc(["train", MODEL, "--corpus", corpus, "--out", run, "--save-every", "10", "--seed", "5"]);
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

describe("bdlc eval", () => {
  it("prints held-out loss, accuracy and perplexity: the numbers training ended with", () => {
    const r = bdlc(["eval", run]);
    expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(0);
    const m =
      /^held-out MLM loss (\d+\.\d{3}), accuracy (\d+\.\d)%, perplexity (\d+\.\d) \((\d+) predicted tokens in (\d+) sequences\)$/m.exec(
        r.stdout,
      );
    expect(m, r.stdout).not.toBeNull();
    // The corpus and seed come from the checkpoint; the split and masks are training's.
    const final = readFileSync(join(run, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.kind === "eval")
      .at(-1);
    expect(final.step).toBe(30);
    expect(Number(m![1])).toBeCloseTo(final.mlm_loss, 3);
    expect(Number(m![4])).toBe(final.predicted);
    expect(Number(m![5])).toBe(final.examples);
  }, 120_000);

  it("--json prints one object; a checkpoint folder inside the run works too", () => {
    const r = bdlc(["eval", join(run, "checkpoints", "step-20"), "--corpus", corpus, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model: "tiny", step: 20, corpus, seed: 5 });
    for (const k of ["mlm_loss", "mlm_accuracy", "perplexity"]) expect(Number.isFinite(out[k])).toBe(true);
    expect(out.perplexity).toBeCloseTo(Math.exp(out.mlm_loss), 6);
    expect(out.mlm_accuracy).toBeGreaterThanOrEqual(0);
    expect(out.mlm_accuracy).toBeLessThanOrEqual(1);
    expect(out.predicted).toBeGreaterThan(0);
  }, 120_000);

  it("refuses a missing checkpoint, and a checkpoint with no tokenizer to be found", () => {
    const r = bdlc(["eval", join(dir, "nope")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nope: no such checkpoint folder/);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    const lone = join(dir, "lone");
    cpSync(join(run, "checkpoints", "step-30"), lone, { recursive: true });
    const r2 = bdlc(["eval", lone, "--corpus", corpus]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/no tokenizer\.json for .*lone.*--tokenizer/);
    const r3 = bdlc(["eval", lone, "--corpus", corpus, "--tokenizer", join(run, "tokenizer.json")]);
    expect(r3.status, r3.stderr).toBe(0);
    const r4 = bdlc(["eval", run, "--corpus", join(dir, "missing.txt")]);
    expect(r4.status).toBe(1);
    expect(r4.stderr).toMatch(/missing\.txt: no such file/);
  }, 120_000);
});

describe("bdlc mask-preview", () => {
  it("prints N masked examples as text, with the NSP label", () => {
    const r = bdlc(["mask-preview", MODEL, "-n", "3", "--corpus", corpus, "--tokenizer", join(run, "tokenizer.json")]);
    expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toContain("[MASK]");
      expect(line).toMatch(/^\[nsp [01] \((random B|B follows A)\)\] \[CLS\] .* \[SEP\] .* \[SEP\]$/);
    }
    // The same seed shows the same masks; another epoch shows other masks.
    const again = bdlc(["mask-preview", MODEL, "-n", "3", "--corpus", corpus, "--tokenizer", join(run, "tokenizer.json")]);
    expect(again.stdout).toBe(r.stdout);
    const other = bdlc(["mask-preview", MODEL, "-n", "3", "--corpus", corpus, "--tokenizer", join(run, "tokenizer.json"), "--epoch", "1"]);
    expect(other.status).toBe(0);
    expect(other.stdout).not.toBe(r.stdout);
  }, 120_000);

  it("trains a tokenizer when none is given, and says so", () => {
    const r = bdlc(["mask-preview", MODEL, "--corpus", corpus]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no --tokenizer given: training a wordpiece tokenizer \(vocab 400\)/);
    expect(r.stdout.trim().split("\n")).toHaveLength(5);
  }, 120_000);

  it("refuses a tokenizer of another vocabulary size and a bad -n", () => {
    const big = join(dir, "big.bdl");
    cpSync(join(ROOT, MODEL), join(dir, "tiny.bdl"));
    writeFileSync(big, `import "tiny.bdl"\n\nmodel big extends tiny {\n  vocab 500\n}\n`);
    const r = bdlc(["mask-preview", `${big}:big`, "--corpus", corpus, "--tokenizer", join(run, "tokenizer.json")]);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/has 400 tokens; model 'big' has vocab 500/);
    const r2 = bdlc(["mask-preview", MODEL, "-n", "0"]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/-n must be a positive integer/);
  }, 120_000);
});

describe("bdlc train refuses input that does not fit the model", () => {
  const MISMATCH = "test/fixtures/train/mismatch.bdl";

  it("a vocab the corpus cannot fill: says how many tokens it has, and leaves no run that looks complete", () => {
    const out = join(dir, "big-vocab");
    const r = bdlc(["train", `${MISMATCH}:big-vocab`, "--corpus", corpus, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the corpus yields only \d+ distinct tokens; vocab 30000 needs \d+ more/);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    expect(existsSync(join(out, "run.json"))).toBe(false);
    expect(existsSync(join(out, "tokenizer.json"))).toBe(false);
    expect(existsSync(join(out, "checkpoints", "step-10"))).toBe(false);
  }, 120_000);

  it("a teacher checkpoint of another model: names both models and the missing parameter", () => {
    const out = join(dir, "student");
    const r = bdlc(["train", `${MISMATCH}:tiny-student`, "--teacher", run, "--corpus", corpus, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /is a checkpoint of model 'tiny' \(as bdl.json describes it\), which does not fit model 'deep-teacher': .*layers\.2\./,
    );
    expect(r.stderr).not.toMatch(/internal error|    at /);
    expect(existsSync(join(out, "run.json"))).toBe(false);
  }, 120_000);

  it("--resume of a run of another model: refuses, and the run is untouched", () => {
    const copy = join(dir, "resume-other");
    cpSync(run, copy, { recursive: true });
    const before = readFileSync(join(copy, "log.jsonl"), "utf8");
    const r = bdlc(["train", `${MISMATCH}:deep-teacher`, "--corpus", corpus, "--out", copy, "--resume"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/this run trained model 'tiny'/);
    expect(readFileSync(join(copy, "log.jsonl"), "utf8")).toBe(before);
  }, 120_000);
});
