/**
 * A run folder under attack, through the built CLI on the tiny model: resumes with
 * contradicting flags, damaged or foreign checkpoints and run files, a folder locked by a live
 * training. Every refused command exits 1 with a message naming what is wrong, and leaves the
 * run folder exactly as it was (every file hashed before and after). Then what must go ahead:
 * a stale lock is taken over, leftovers of dead processes are cleared, a damaged latest
 * checkpoint is set aside by --resume-from and the run still ends bit-identical, a finished
 * run is left alone, and the summary counts the steps that ran.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, bdlc, ROOT, TINY_MODEL, trainingFolder } from "../../helpers/training.js";

let dir: string;
let corpus: string;
/** A run of 6 steps with checkpoints at 2, 4 and 6, then step-6 removed: as if killed after step 4's checkpoint. */
let base: string;
/** model.safetensors of the uninterrupted run's step 6. */
let finalWeights: Buffer;
let caseNo = 0;

const TRAIN = ["train", TINY_MODEL, "--backend", "cpu"];
const RUN_FLAGS = ["--steps", "6", "--save-every", "2", "--log-every", "1", "--seed", "7"];

/** Every file and folder under `root`, with a hash of each file's bytes. */
function snapshot(root: string): string[] {
  const entries: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = join(rel, name);
      if (statSync(join(root, path)).isDirectory()) {
        entries.push(`${path}/`);
        walk(path);
      } else {
        entries.push(
          `${path} ${createHash("sha256")
            .update(readFileSync(join(root, path)))
            .digest("hex")}`,
        );
      }
    }
  };
  walk("");
  return entries;
}

/** A fresh copy of the interrupted run. */
function copyOfBase(): string {
  const out = join(dir, `case-${caseNo++}`);
  cpSync(base, out, { recursive: true });
  return out;
}

function editJson(file: string, edit: (json: Record<string, any>) => void): void {
  const json = JSON.parse(readFileSync(file, "utf8"));
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
}

/** A PID that ran on this host and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid!;
}

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-hostile-run-"));
  base = join(dir, "base");
  const r = bdlc([...TRAIN, "--corpus", corpus, "--out", base, ...RUN_FLAGS]);
  expect(r.status, r.stderr).toBe(0);
  finalWeights = readFileSync(join(base, "checkpoints", "step-6", "model.safetensors"));
  rmSync(join(base, "checkpoints", "step-6"), { recursive: true });
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RefusedCase {
  what: string;
  /** Damages a copy of the interrupted run (optional). */
  setup?: (out: string) => void;
  /** The command line, given the run folder. */
  args: (out: string) => string[];
  /** Words the message must contain, given the run folder. */
  words: (out: string) => string[];
}

const resume =
  (...more: string[]) =>
  (out: string) => [...TRAIN, "--out", out, "--resume", ...more];
const step4 = (out: string, file: string) => join(out, "checkpoints", "step-4", file);

const refused: RefusedCase[] = [
  { what: "a different --seed", args: resume("--seed", "8"), words: () => ["--seed 8", "seed 7", "run.json"] },
  { what: "a different --batch", args: resume("--batch", "4"), words: () => ["--batch 4", "batch 8"] },
  { what: "a different --lr", args: resume("--lr", "0.1"), words: () => ["--lr 0.1", "lr 0.005"] },
  { what: "a different --accumulate", args: resume("--accumulate", "2"), words: () => ["--accumulate 2", "accumulate 1"] },
  { what: "a different --steps", args: resume("--steps", "10"), words: () => ["--steps 10", "steps 6"] },
  {
    what: "a different --corpus",
    args: (out) => resume("--corpus", join(out, "run.json"))(out),
    words: (out) => [`--corpus ${join(out, "run.json")}`, corpus],
  },
  {
    what: "run.json that is not JSON",
    setup: (out) => writeFileSync(join(out, "run.json"), '{"model": {"name"'),
    args: resume(),
    words: (out) => [join(out, "run.json"), "not valid JSON"],
  },
  {
    what: "run.json missing",
    setup: (out) => rmSync(join(out, "run.json")),
    args: resume(),
    words: (out) => [join(out, "run.json"), "missing"],
  },
  {
    what: "run.json without options",
    setup: (out) => writeFileSync(join(out, "run.json"), "[]"),
    args: resume(),
    words: (out) => [join(out, "run.json"), "damaged"],
  },
  {
    what: "tokenizer.json missing",
    setup: (out) => rmSync(join(out, "tokenizer.json")),
    args: resume(),
    words: (out) => [join(out, "tokenizer.json"), "missing"],
  },
  {
    what: "a foreign model in the latest checkpoint",
    setup: (out) => editJson(step4(out, "bdl.json"), (j) => (j.model.heads = 2)),
    args: resume(),
    words: (out) => [join(out, "checkpoints", "step-4"), "heads", "--resume-from 2"],
  },
  {
    what: "a truncated model.safetensors in the latest checkpoint",
    setup: (out) => truncateSync(step4(out, "model.safetensors"), 100),
    args: resume(),
    words: (out) => [step4(out, "model.safetensors"), "--resume-from 2"],
  },
  {
    what: "optimizer.json that is not JSON",
    setup: (out) => writeFileSync(step4(out, "optimizer.json"), "{"),
    args: resume(),
    words: (out) => [step4(out, "optimizer.json"), "not valid JSON", "--resume-from 2"],
  },
  {
    what: "optimizer.json of another optimizer",
    setup: (out) => editJson(step4(out, "optimizer.json"), (j) => (j.kind = "lamb")),
    args: resume(),
    words: (out) => [step4(out, "optimizer.json"), "lamb", "adamw"],
  },
  {
    what: "a truncated optimizer.safetensors",
    setup: (out) => truncateSync(step4(out, "optimizer.safetensors"), 1000),
    args: resume(),
    words: (out) => [step4(out, "optimizer.safetensors"), "--resume-from 2"],
  },
  {
    what: "an unknown activation in bdl.json",
    setup: (out) => editJson(step4(out, "bdl.json"), (j) => (j.model.activation = "swish")),
    args: resume(),
    words: (out) => [step4(out, "bdl.json"), "activation", "swish", "--resume-from 2"],
  },
  {
    what: "eval of a checkpoint with an unknown activation",
    setup: (out) => editJson(step4(out, "bdl.json"), (j) => (j.model.activation = "swish")),
    args: (out) => ["eval", join(out, "checkpoints", "step-4"), "--backend", "cpu"],
    words: (out) => [step4(out, "bdl.json"), "activation", "swish", "gelu"],
  },
  {
    what: "every checkpoint damaged",
    setup: (out) => {
      truncateSync(step4(out, "model.safetensors"), 100);
      truncateSync(join(out, "checkpoints", "step-2", "model.safetensors"), 100);
    },
    args: resume(),
    words: () => ["No older checkpoint is intact"],
  },
  {
    what: "--resume-from an older step while the latest is intact",
    args: (out) => [...TRAIN, "--out", out, "--resume-from", "2"],
    words: () => ["step-4", "newer and intact"],
  },
  {
    what: "--resume-from a step with no checkpoint",
    args: (out) => [...TRAIN, "--out", out, "--resume-from", "3"],
    words: () => ["--resume-from 3", "step-3", "step-2, step-4"],
  },
  {
    what: "--resume-from that is not a step",
    args: (out) => [...TRAIN, "--out", out, "--resume-from", "latest"],
    words: () => ["--resume-from", "latest"],
  },
  {
    what: "a new run into the folder",
    args: (out) => [...TRAIN, "--corpus", corpus, "--out", out],
    words: () => ["already holds a run", "--resume"],
  },
  {
    what: "a folder locked by a live process",
    setup: (out) => writeFileSync(join(out, "run.lock"), JSON.stringify({ pid: process.pid, host: hostname() })),
    args: resume(),
    words: (out) => [out, "in use", `PID ${process.pid}`],
  },
  {
    what: "a folder locked from another host",
    setup: (out) => writeFileSync(join(out, "run.lock"), JSON.stringify({ pid: deadPid(), host: "elsewhere.example" })),
    args: resume(),
    words: () => ["in use", "elsewhere.example"],
  },
  {
    what: "--out that is a file",
    args: (out) => [...TRAIN, "--corpus", corpus, "--out", join(out, "run.json")],
    words: (out) => [join(out, "run.json"), "not a folder"],
  },
  {
    what: "--out inside a file",
    args: (out) => [...TRAIN, "--corpus", corpus, "--out", join(out, "run.json", "sub")],
    words: (out) => [join(out, "run.json", "sub"), "not a folder"],
  },
  {
    what: "--resume with no checkpoint",
    setup: (out) => rmSync(join(out, "checkpoints"), { recursive: true }),
    args: resume(),
    words: () => ["nothing to resume"],
  },
];

describe("bdlc train refuses a hostile run folder and loses nothing", () => {
  it.each(refused.map((c) => [c.what, c] as const))(
    "%s",
    (_, c) => {
      const out = copyOfBase();
      c.setup?.(out);
      const before = snapshot(out);
      const r = bdlc(c.args(out));
      expect(r.stderr).not.toMatch(/internal error|    at /);
      expect(r.status, r.stderr).toBe(1);
      for (const word of c.words(out)) expect(r.stderr).toContain(word);
      expect(snapshot(out)).toEqual(before);
    },
    120_000,
  );
});

describe("bdlc train goes ahead where it safely can", () => {
  it("takes over a stale lock, clears leftovers of dead processes, and counts the steps that ran", () => {
    const out = copyOfBase();
    const dead = deadPid();
    writeFileSync(join(out, "run.lock"), JSON.stringify({ pid: dead, host: hostname() }));
    mkdirSync(join(out, "checkpoints", `step-6.tmp-${dead}`));
    writeFileSync(join(out, "checkpoints", `step-6.tmp-${dead}`, "model.safetensors"), Buffer.alloc(4096));
    writeFileSync(join(out, `run.json.tmp-${dead}`), "");
    // The previous step-4, renamed away by a save that was killed before its replacement arrived.
    cpSync(join(out, "checkpoints", "step-4"), join(out, "checkpoints", `step-4.old-${dead}`), { recursive: true });
    rmSync(join(out, "checkpoints", "step-4"), { recursive: true });
    const r = bdlc([...TRAIN, "--out", out, "--resume"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("resuming from step 4");
    expect(r.stdout).toMatch(/trained tiny: 2 steps \(step 4 → 6\) in \d+ s, loss \d+\.\d+ → \d+\.\d+/);
    expect(readdirSync(out).sort()).toEqual(["checkpoints", "log.jsonl", "report.html", "run.json", "tokenizer.json"]);
    expect(readdirSync(join(out, "checkpoints")).sort()).toEqual(["step-2", "step-4", "step-6"]);
    expect(readFileSync(join(out, "checkpoints", "step-6", "model.safetensors")).equals(finalWeights)).toBe(true);
  }, 300_000);

  it("--resume names the newest intact checkpoint, --resume-from continues from it, bit-identical", () => {
    const out = copyOfBase();
    truncateSync(step4(out, "optimizer.safetensors"), 10);
    const refusal = bdlc([...TRAIN, "--out", out, "--resume"]);
    expect(refusal.status).toBe(1);
    expect(refusal.stderr).toContain("--resume-from 2");
    const r = bdlc([...TRAIN, "--out", out, "--resume-from", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("4 steps (step 2 → 6)");
    expect(readdirSync(join(out, "checkpoints")).sort()).toEqual(["damaged-step-4", "step-2", "step-4", "step-6"]);
    expect(statSync(join(out, "checkpoints", "damaged-step-4", "optimizer.safetensors")).size).toBe(10);
    expect(readFileSync(join(out, "checkpoints", "step-6", "model.safetensors")).equals(finalWeights)).toBe(true);
    const steps = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.kind === undefined)
      .map((e) => e.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
  }, 300_000);

  it("leaves a finished run alone: no second evaluation, no 'undefined'", () => {
    const out = join(dir, "finished");
    expect(bdlc([...TRAIN, "--corpus", corpus, "--out", out, "--steps", "2", "--save-every", "2"]).status).toBe(0);
    const before = snapshot(out);
    const r = bdlc([...TRAIN, "--out", out, "--resume"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("is finished: checkpoint step-2 is its last step");
    expect(r.stdout + r.stderr).not.toContain("undefined");
    expect(snapshot(out)).toEqual(before);
  }, 300_000);

  it("refuses a second training into a folder a running training holds", async () => {
    const out = join(dir, "contested");
    const first = spawn(process.execPath, [BIN, ...TRAIN, "--corpus", corpus, "--out", out, "--steps", "1000"], {
      cwd: ROOT,
      stdio: "ignore",
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const poll = setInterval(() => {
          // Written, not just created: the owner is what the refusal names.
          if (existsSync(join(out, "run.lock")) && statSync(join(out, "run.lock")).size > 0) {
            clearInterval(poll);
            resolve();
          } else if (first.exitCode !== null) {
            clearInterval(poll);
            reject(new Error("the first training ended before locking"));
          }
        }, 20);
      });
      const before = snapshot(out);
      const second = bdlc([...TRAIN, "--corpus", corpus, "--out", out, "--steps", "2"]);
      expect(second.status, second.stderr).toBe(1);
      expect(second.stderr).toContain(`in use by another training (PID ${first.pid} on ${hostname()}`);
      expect(snapshot(out).filter((e) => e.startsWith("run.lock"))).toEqual(before.filter((e) => e.startsWith("run.lock")));
    } finally {
      first.kill("SIGKILL");
      await new Promise((resolve) => (first.exitCode !== null ? resolve(null) : first.on("exit", resolve)));
    }
  }, 120_000);
});
