/**
 * Ctrl-C, as a user presses it: SIGINT sent to a real `bdlc` child process. The first one
 * stops `train` after the current step with a checkpoint and the command that resumes it,
 * and the resumed run ends bit for bit where an uninterrupted one does; a second one quits
 * at once and leaves the last complete checkpoint as it was; `finetune` and `eval` stop
 * without writing or printing half results. All exit 130; SIGTERM does the same and exits 143. Before the step loop there is
 * nothing to finish, and Ctrl-C ends the process at once.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { shellLine } from "../../../src/cli/commands/interrupt.js";
import { checkpointFiles, checkpointSteps, differingTensors, loggedSteps, startBdlc, waitFor } from "../../helpers/runs.js";
import { bdlc, TINY_MODEL, trainingFolder } from "../../helpers/training.js";

let dir: string;
let corpus: string;
/** An uninterrupted run of `trainArgs`: what every interrupted and resumed run must end as. */
let reference: string;

/** 30 steps of the tiny model on wasm (fast, and bit-reproducible), logging every step. */
function trainArgs(out: string): string[] {
  return [
    "train",
    TINY_MODEL,
    "--corpus",
    corpus,
    "--out",
    out,
    "--save-every",
    "10",
    "--log-every",
    "1",
    "--seed",
    "7",
    "--backend",
    "wasm",
  ];
}

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-interrupt-"));
  reference = join(dir, "reference");
  const r = bdlc(trainArgs(reference));
  expect(r.status, r.stderr).toBe(0);
  expect(checkpointSteps(reference).at(-1)).toBe(30);
}, 300_000);

describe("Ctrl-C in bdlc train", () => {
  it("first Ctrl-C: finishes the step, saves a checkpoint, prints the resume command, exits 130; resuming ends bit-identical", async () => {
    const out = join(dir, "first");
    const run = startBdlc(trainArgs(out));
    await waitFor(run, () => loggedSteps(out).some((s) => s >= 3), "step 3");
    run.process.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/interrupted: finishing this step, then saving a checkpoint \(Ctrl-C again to quit at once\)/);
    const m = /interrupted at step (\d+): the checkpoint is in (\S+); resume with:\n {2}(.+)\n/.exec(run.stderr());
    expect(m, run.stderr()).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThanOrEqual(3);
    expect(step).toBeLessThan(30);
    // The step under way when Ctrl-C came was finished, logged and saved.
    expect(m![2]).toBe(join(out, "checkpoints", `step-${step}`));
    expect(checkpointSteps(out).at(-1)).toBe(step);
    expect(loggedSteps(out).at(-1)).toBe(step);
    expect(m![3]).toBe(shellLine(["bdlc", ...trainArgs(out), "--resume"]));

    const resumed = bdlc(m![3]!.split(" ").slice(1));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming from step ${step}`);
    expect(differingTensors(out, reference)).toEqual([]);
  }, 300_000);

  it("SIGTERM (kill, a job scheduler): the same first stage, exit 143; resuming ends bit-identical", async () => {
    const out = join(dir, "terminated");
    const run = startBdlc(trainArgs(out));
    await waitFor(run, () => loggedSteps(out).some((s) => s >= 3), "step 3");
    run.process.kill("SIGTERM");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(143);
    expect(run.stderr()).toContain("terminated (SIGTERM): finishing this step, then saving a checkpoint (a second signal to quit at once)");
    const m = /interrupted at step (\d+): the checkpoint is in (\S+); resume with:\n {2}(.+)\n/.exec(run.stderr());
    expect(m, run.stderr()).not.toBeNull();
    expect(checkpointSteps(out).at(-1)).toBe(Number(m![1]));
    const resumed = bdlc(m![3]!.split(" ").slice(1));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(differingTensors(out, reference)).toEqual([]);
  }, 300_000);

  it("second Ctrl-C: quits without saving the step under way; the last complete checkpoint stays as it was and resumes", async () => {
    // On cpu a step of 16 sequences takes seconds: both presses land inside the step under way
    // (the signal is seen only between steps, so a press during the pause between steps would
    // end the run before the second one arrives).
    const args = (out: string) => [...trainArgs(out).slice(0, -1), "cpu", "--steps", "6", "--save-every", "3", "--batch", "16"];
    const out = join(dir, "second");
    const run = startBdlc(args(out));
    await waitFor(run, () => checkpointSteps(out).includes(3) && loggedSteps(out).some((s) => s >= 4), "step 4");
    const before = checkpointFiles(out, 3);
    const last = loggedSteps(out).at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 200)); // into the next step
    run.process.kill("SIGINT");
    // Apart, so that the system delivers two signals rather than one pending twice.
    await new Promise((resolve) => setTimeout(resolve, 50));
    run.process.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/Ctrl-C again to quit at once/);
    expect(run.stderr()).not.toMatch(/resume with/);
    // It quit after the step under way (no later step ran), saving nothing but the periodic checkpoints.
    expect(loggedSteps(out).at(-1)).toBeLessThanOrEqual(last + 1);
    for (const s of checkpointSteps(out)) expect(s % 3).toBe(0);
    expect(checkpointFiles(out, 3)).toEqual(before);

    const resumed = bdlc([...args(out), "--resume"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step 3/);
    expect(checkpointSteps(out).at(-1)).toBe(6);
  }, 600_000);

  it("Ctrl-C before the step loop (training the tokenizer) ends the process at once and leaves no checkpoint", async () => {
    const out = join(dir, "setup");
    // The built-in WordNet corpus: training its tokenizer takes seconds.
    const args = ["train", TINY_MODEL, "--out", out, "--backend", "wasm"];
    const run = startBdlc(args);
    await waitFor(run, () => /training a wordpiece tokenizer/.test(run.stderr()), "tokenizer training");
    run.process.kill("SIGINT");
    const { code, signal } = await run.exited;
    // Nothing to finish yet, so no handler: the default action, which a shell reports as 130.
    expect({ code, signal }, run.stderr()).toEqual({ code: null, signal: "SIGINT" });
    expect(checkpointSteps(out)).toEqual([]);
    expect(loggedSteps(out)).toEqual([]);
    expect(run.stdout()).toBe("");
  }, 300_000);
});

describe("Ctrl-C in bdlc finetune and eval", () => {
  it("finetune stops after the current step, writes nothing and exits 130", async () => {
    const out = join(dir, "finetuned");
    const run = startBdlc(["finetune", reference, "--task", "wordnet-lexname", "--out", out, "--backend", "wasm"]);
    await waitFor(run, () => /step \d+\/\d+/.test(run.stderr()), "a logged fine-tuning step");
    run.process.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/interrupted after \d+ steps; nothing written/);
    expect(run.stdout()).toBe("");
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it("eval stops between batches on SIGTERM too, and exits 143", async () => {
    const run = startBdlc(["eval", reference, "--corpus", "wordnet", "--examples", "100000", "--backend", "wasm"]);
    await waitFor(run, () => /evaluating \d+ held-out sequences/.test(run.stderr()), "the evaluation's start");
    run.process.kill("SIGTERM");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(143);
    expect(run.stderr()).toMatch(/terminated \(SIGTERM\): stopping after this batch, printing nothing/);
    expect(run.stdout()).toBe("");
  }, 300_000);

  it("eval stops between batches, prints no result and exits 130", async () => {
    const run = startBdlc(["eval", reference, "--corpus", "wordnet", "--examples", "100000", "--backend", "wasm"]);
    await waitFor(run, () => /evaluating \d+ held-out sequences/.test(run.stderr()), "the evaluation's start");
    run.process.kill("SIGINT");
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toMatch(/interrupted before the last of \d+ held-out sequences; no result printed/);
    expect(run.stdout()).toBe("");
  }, 300_000);
});

describe("shellLine", () => {
  it.each([
    [["bdlc", "train", "m.bdl", "--out", "runs/x"], "bdlc train m.bdl --out runs/x"],
    [["a b", "it's", ""], `'a b' 'it'\\''s' ''`],
    [["$HOME", "x;rm", "*"], `'$HOME' 'x;rm' '*'`],
  ])("%j reads back as the same words: %s", (args, line) => {
    expect(shellLine(args)).toBe(line);
  });
});
