/**
 * The training loop end to end, through the built CLI on a tiny model: the loss falls; the
 * same seed gives the same weights; log rows average the loss over their window; a run killed with SIGKILL after a checkpoint and
 * resumed ends with weights bit-identical to an uninterrupted run; bad input is refused.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, bdlc, ROOT, TINY_MODEL, trainingFolder } from "../../helpers/training.js";

const MODEL = TINY_MODEL;

let dir: string;
let corpus: string;
/** wasm: bit-reproducible, and far faster than the pure-JavaScript cpu backend (resume-backends.test.ts runs every backend). */
const BACKEND = "wasm";

function finalWeights(run: string): Buffer {
  const steps = readdirSync(join(run, "checkpoints"))
    .map((d) => Number(d.slice(5)))
    .sort((a, b) => b - a);
  return readFileSync(join(run, "checkpoints", `step-${steps[0]}`, "model.safetensors"));
}

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-train-"));
});

describe("bdlc train", () => {
  it("pretrains: the loss falls, and writes a log, checkpoints and a report", () => {
    const out = join(dir, "a");
    const r = bdlc([
      "train",
      MODEL,
      "--corpus",
      corpus,
      "--out",
      out,
      "--save-every",
      "10",
      "--log-every",
      "5",
      "--seed",
      "7",
      "--backend",
      BACKEND,
    ]);
    expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(0);
    const log = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const train = log.filter((e) => e.kind === undefined);
    expect(train.map((e) => e.step)).toEqual([5, 10, 15, 20, 25, 30]);
    for (const e of train) {
      expect(e).toHaveProperty("mlm");
      expect(e).toHaveProperty("nsp");
      expect(e.tokens_per_s).toBeGreaterThan(0);
      expect(e.lr).toBeGreaterThan(0);
    }
    expect(train.at(-1).loss).toBeLessThan(train[0].loss);
    expect(log.some((e) => e.kind === "eval")).toBe(true);
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("<svg");
    expect(report).toContain(`<th>engine</th><td>tfjs (${BACKEND})</td>`);
    expect(existsSync(join(out, "tokenizer.json"))).toBe(true);
    // The newest three checkpoints are kept: steps 10, 20, 30.
    expect(readdirSync(join(out, "checkpoints")).sort()).toEqual(["step-10", "step-20", "step-30"]);
  }, 300_000);

  it("the same seed gives the same weights", () => {
    const out = join(dir, "b");
    expect(bdlc(["train", MODEL, "--corpus", corpus, "--out", out, "--save-every", "10", "--seed", "7", "--backend", BACKEND]).status).toBe(
      0,
    );
    expect(finalWeights(out).equals(finalWeights(join(dir, "a")))).toBe(true);
    // Each log row's loss is the mean over its window, as the Hugging Face Trainer logs it:
    // b logs every 10 steps (the default), a every 5, over the same steps.
    const rows = (run: string) =>
      readFileSync(join(run, "log.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.kind === undefined);
    const [a, b] = [rows(join(dir, "a")), rows(out)];
    expect(b.map((e) => e.step)).toEqual([10, 20, 30]);
    expect(a.every((e) => e.steps_averaged === 5) && b.every((e) => e.steps_averaged === 10)).toBe(true);
    b.forEach((e, i) => {
      expect(e.loss).toBeCloseTo((a[2 * i].loss + a[2 * i + 1].loss) / 2, 10);
      expect(e.mlm).toBeCloseTo((a[2 * i].mlm + a[2 * i + 1].mlm) / 2, 10);
    });
  }, 300_000);

  it("a run killed with SIGKILL after a checkpoint, then resumed, ends bit-identical", async () => {
    const out = join(dir, "killed");
    const child = spawn(
      process.execPath,
      [BIN, "train", MODEL, "--corpus", corpus, "--out", out, "--save-every", "10", "--seed", "7", "--backend", BACKEND],
      { cwd: ROOT, stdio: "ignore" },
    );
    // Kill as soon as the first checkpoint is complete.
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (existsSync(join(out, "checkpoints", "step-10", "bdl.json"))) {
          child.kill("SIGKILL");
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > 240_000 || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error("no checkpoint appeared before the run ended"));
        }
      }, 20);
    });
    await new Promise((resolve) => child.on("exit", resolve));
    const resumed = bdlc([
      "train",
      MODEL,
      "--corpus",
      corpus,
      "--out",
      out,
      "--save-every",
      "10",
      "--seed",
      "7",
      "--backend",
      BACKEND,
      "--resume",
    ]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step (10|20)/);
    expect(finalWeights(out).equals(finalWeights(join(dir, "a")))).toBe(true);
    // The resumed log reads as one run: each step once, in order.
    const steps = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.kind === undefined)
      .map((e) => e.step);
    expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
  }, 300_000);

  it("refuses bad input with a clear message and leaves no run behind", () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    const r1 = bdlc(["train", MODEL, "--corpus", empty, "--out", join(dir, "e")]);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toMatch(/empty\.txt/);
    expect(r1.stderr).not.toMatch(/    at /);
    const binary = join(dir, "binary.bin");
    writeFileSync(binary, Buffer.from([0, 1, 2, 0, 255, 0]));
    const r2 = bdlc(["train", MODEL, "--corpus", binary, "--out", join(dir, "f")]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/binary/);
    const r3 = bdlc(["train", MODEL, "--corpus", join(dir, "missing.txt")]);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toMatch(/missing\.txt/);
    expect(existsSync(join(dir, "e", "checkpoints", "step-30"))).toBe(false);
  }, 120_000);
});
