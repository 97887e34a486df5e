/**
 * `bdlc train --engine torch` end to end, through the built CLI on a small corpus:
 *
 *   - DDP is real: `--nproc 2` (gloo, two local processes) ends with the weights of `--nproc 1`
 *     at the same global batch (1e-6), both ranks with identical weights, and so does
 *     `--accumulate 2` (the parts' gradients add up to the batch's);
 *   - a run killed with `kill -9` and resumed ends bit for bit where the uninterrupted one does;
 *   - the tfjs engine's `bdlc eval` of a torch checkpoint gives the held-out loss torch logged,
 *     and the report names the engine;
 *   - `--dry-run` prepares a folder that the printed line trains with PyTorch alone (no Node.js),
 *     and `bdlc report` draws its report afterwards;
 *   - Ctrl-C stops after a step with a checkpoint (exit 130), and the run resumes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSafetensors, toFloat32 } from "../../src/runtime/checkpoint/safetensors.js";
import { torchPython } from "../../src/torch/index.js";
import { checkpointSteps, differingTensors, startBdlc, waitFor } from "../helpers/runs.js";
import { bdlc, ROOT, trainingFolder } from "../helpers/training.js";
import { skipTorch } from "./torch-here.js";

let dir = "";
let corpus = "";
let model = "";
/** The uninterrupted single-process run every other run is compared with. */
let reference = "";

/** 12 steps of a tiny model without dropout (dropout draws differ with the ranks' share of the batch). */
function trainArgs(out: string, ...more: string[]): string[] {
  return [
    "train",
    model,
    "--engine",
    "torch",
    "--corpus",
    corpus,
    "--out",
    out,
    "--steps",
    "12",
    "--save-every",
    "4",
    "--log-every",
    "2",
    "--seed",
    "3",
    ...more,
  ];
}

function newestWeights(run: string): Map<string, Float32Array> {
  const file = join(run, "checkpoints", `step-${checkpointSteps(run).at(-1)}`, "model.safetensors");
  const parsed = parseSafetensors(readFileSync(file), file);
  return new Map([...parsed.tensors].map(([name, t]) => [name, toFloat32(t)]));
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

const summaryOf = (run: string) => JSON.parse(readFileSync(join(run, "torch", "summary.json"), "utf8"));

beforeAll(() => {
  if (skipTorch) return;
  ({ dir, corpus } = trainingFolder("bdl-torch-train-"));
  model = join(dir, "exact.bdl");
  writeFileSync(
    model,
    `import ${JSON.stringify(join(ROOT, "test/fixtures/train/tiny.bdl"))}\nmodel tiny-exact extends tiny {\n  dropout 0\n  attention_dropout 0\n}\n`,
  );
  reference = join(dir, "reference");
  const r = bdlc(trainArgs(reference));
  expect(r.status, r.stderr).toBe(0);
  expect(checkpointSteps(reference).at(-1)).toBe(12);
}, 300_000);

describe.skipIf(skipTorch)("bdlc train --engine torch", () => {
  it("--nproc 2 ends with the weights of --nproc 1 at the same global batch, both ranks alike", () => {
    const out = join(dir, "two");
    const r = bdlc(trainArgs(out, "--nproc", "2"));
    expect(r.status, r.stderr).toBe(0);
    expect(maxDifference(newestWeights(out), newestWeights(reference))).toBeLessThan(1e-6);
    expect(summaryOf(out)).toMatchObject({ ranks: 2, ranksAgree: true });
  }, 300_000);

  it("--accumulate 2 ends with the weights of one pass over the batch", () => {
    const out = join(dir, "accumulated");
    const r = bdlc(trainArgs(out, "--accumulate", "2"));
    expect(r.status, r.stderr).toBe(0);
    expect(maxDifference(newestWeights(out), newestWeights(reference))).toBeLessThan(1e-6);
  }, 300_000);

  it("a run killed with kill -9 and resumed ends bit for bit where the uninterrupted one does", async () => {
    const out = join(dir, "killed");
    const run = startBdlc(trainArgs(out));
    await waitFor(run, () => checkpointSteps(out).includes(4), "checkpoint step-4");
    // The whole process group: bdlc and the training process it started.
    spawnSync("pkill", ["-9", "-f", out]);
    run.process.kill("SIGKILL");
    await run.exited;
    expect(checkpointSteps(out).at(-1)!).toBeLessThan(12);
    const resumed = bdlc(trainArgs(out, "--resume"));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(checkpointSteps(out).at(-1)).toBe(12);
    expect(differingTensors(out, reference)).toEqual([]);
    const steps = (run: string) =>
      readFileSync(join(run, "log.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.kind === undefined)
        .map((e) => [e.step, e.loss]);
    expect(steps(out)).toEqual(steps(reference));
  }, 300_000);

  it("its checkpoint evaluates on the tfjs engine to the held-out loss torch logged; the report names the engine", () => {
    const logged = readFileSync(join(reference, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((e) => e.kind === "eval");
    expect(logged.step).toBe(12);
    const r = bdlc(["eval", reference, "--corpus", corpus, "--backend", "cpu"]);
    expect(r.status, r.stderr).toBe(0);
    const loss = Number(/held-out MLM loss ([\d.]+)/.exec(r.stdout)![1]);
    expect(Math.abs(loss - logged.mlm_loss)).toBeLessThan(1e-3);
    expect(readFileSync(join(reference, "report.html"), "utf8")).toContain("torch (1 process)");
  }, 300_000);

  it("trains ELECTRA (its generator's samples) and a distilled student (its teacher's outputs); tfjs evaluates both to what torch logged", () => {
    const teacher = join(dir, "teacher");
    const student = join(dir, "student.bdl");
    writeFileSync(
      student,
      `import ${JSON.stringify(join(ROOT, "test/fixtures/train/tiny.bdl"))}
model tiny-student extends tiny {
  layers 1
  embeddings { segments 0 }
  pooler none
  objectives { nsp off mlm weight 2 distill weight 5 temperature 2 cosine weight 1 }
  teacher tiny { init layers [1] init embeddings }
}
`,
    );
    const base = ["--engine", "torch", "--corpus", corpus, "--steps", "4", "--log-every", "2"];
    expect(bdlc(["train", "test/fixtures/train/tiny.bdl", "--out", teacher, ...base]).status).toBe(0);
    for (const [out, args] of [
      [join(dir, "electra"), ["train", "test/fixtures/train/tiny-electra.bdl", "--out", join(dir, "electra"), ...base]],
      [join(dir, "distilled"), ["train", student, "--teacher", teacher, "--out", join(dir, "distilled"), ...base]],
    ] as const) {
      const r = bdlc([...args]);
      expect(r.status, r.stderr).toBe(0);
      const logged = readFileSync(join(out, "log.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.kind === "eval");
      const e = bdlc(["eval", out, "--corpus", corpus, "--backend", "cpu"]);
      expect(e.status, e.stderr).toBe(0);
      expect(Number(/held-out (?:generator )?MLM loss ([\d.]+)/.exec(e.stdout)![1])).toBeCloseTo(logged.mlm_loss, 3);
      // ELECTRA's MLM is its generator's, and the line says so.
      if (logged.rtd_loss !== undefined) expect(e.stdout).toContain("held-out generator MLM loss");
      if (logged.rtd_loss !== undefined)
        expect(Number(/replaced-token detection loss ([\d.]+)/.exec(e.stdout)![1])).toBeCloseTo(logged.rtd_loss, 3);
    }
  }, 300_000);

  it("--dry-run prepares a folder that the printed line trains with PyTorch alone", () => {
    const out = join(dir, "prepared");
    const r = bdlc(trainArgs(out, "--dry-run"));
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.trim();
    expect(line).toMatch(/^PYTHONPATH=\S+ OMP_NUM_THREADS=\d+ python3 -m bdl_torch\.train \S+plan\.json$/);
    expect(checkpointSteps(out)).toEqual([]);
    // A PATH holding python3 (the one with torch) and no node.
    const bin = join(dir, "python-only");
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, "python3")))
      symlinkSync(torchPython().command.startsWith("/") ? torchPython().command : "/usr/bin/python3", join(bin, "python3"));
    const run = spawnSync("/bin/sh", ["-c", line], { encoding: "utf8", env: { PATH: bin, HOME: dir }, timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(checkpointSteps(out).at(-1)).toBe(12);
    expect(differingTensors(out, reference)).toEqual([]);
    // The ranks write everything but the report; bdlc report draws it from the folder.
    expect(existsSync(join(out, "report.html"))).toBe(false);
    const report = bdlc(["report", out]);
    expect(report.status, report.stderr).toBe(0);
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("torch (1 process, cpu)");
  }, 300_000);

  it("Ctrl-C stops after a step with a checkpoint and exits 130; --resume finishes the run as the uninterrupted one", async () => {
    const out = join(dir, "interrupted");
    const run = startBdlc(trainArgs(out, "--log-every", "1"));
    await waitFor(
      run,
      () => existsSync(join(out, "log.jsonl")) && readFileSync(join(out, "log.jsonl"), "utf8").includes('"step": 2'),
      "step 2",
    );
    run.process.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/interrupted at step \d+: the checkpoint is in \S+; resume with:/);
    const resumed = bdlc(trainArgs(out, "--log-every", "1", "--resume"));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(differingTensors(out, reference)).toEqual([]);
  }, 300_000);
});
