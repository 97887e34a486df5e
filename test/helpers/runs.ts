/** What the interruption and resume tests share: a CLI child to signal, and run folders compared tensor by tensor. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
import { BIN, ROOT } from "./training.js";

export interface Child {
  process: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has ended: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI as a child process, its output collected. */
export function startBdlc(args: string[]): Child {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `condition` every 20 ms until it holds; fails if the child ends first or `limitMs` passes. */
export function waitFor(child: Child, condition: () => boolean, what: string, limitMs = 240_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (condition()) {
        clearInterval(poll);
        resolve();
      } else if (child.process.exitCode !== null || child.process.signalCode !== null || Date.now() - started > limitMs) {
        clearInterval(poll);
        reject(new Error(`${what} did not happen before the run ended\n${child.stderr()}`));
      }
    }, 20);
  });
}

/** The training steps logged in a run's log.jsonl so far. */
export function loggedSteps(run: string): number[] {
  const log = join(run, "log.jsonl");
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        const e = JSON.parse(line) as { step?: number; kind?: string };
        return e.kind === undefined && typeof e.step === "number" ? [e.step] : [];
      } catch {
        return []; // empty, or a line still being written
      }
    });
}

/** Complete checkpoints (with bdl.json) of a run, ascending by step. */
export function checkpointSteps(run: string): number[] {
  const dir = join(run, "checkpoints");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((d) => /^step-(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(dir, m[0], "bdl.json")))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Every file of a checkpoint folder, by name: to show that it was left as it was. */
export function checkpointFiles(run: string, step: number): Map<string, Buffer> {
  const dir = join(run, "checkpoints", `step-${step}`);
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f))]),
  );
}

/**
 * The tensors (weights, and the optimizer's moments) that differ, bit for bit, between the
 * newest checkpoints of two runs; empty when they are identical. Names `model.safetensors:NAME`.
 */
export function differingTensors(runA: string, runB: string): string[] {
  const newest = (run: string) => join(run, "checkpoints", `step-${checkpointSteps(run).at(-1)}`);
  const differing: string[] = [];
  for (const file of ["model.safetensors", "optimizer.safetensors"]) {
    const a = parseSafetensors(readFileSync(join(newest(runA), file)), file).tensors;
    const b = parseSafetensors(readFileSync(join(newest(runB), file)), file).tensors;
    for (const name of new Set([...a.keys(), ...b.keys()])) {
      const x = a.get(name);
      const y = b.get(name);
      if (!x || !y || x.dtype !== y.dtype || x.shape.join() !== y.shape.join() || !Buffer.from(x.data).equals(Buffer.from(y.data)))
        differing.push(`${file}:${name}`);
    }
  }
  return differing;
}
