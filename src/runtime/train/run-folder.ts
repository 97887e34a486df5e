/**
 * A training run's folder:
 *
 *   run.json              the resolved model, its teacher, and the options the run started with
 *   tokenizer.json        the tokenizer trained for (or loaded by) the run
 *   log.jsonl             one object per logged step: step, loss, each term, lr, tokens_per_s, …
 *   checkpoints/step-N/   model.safetensors + bdl.json (the project's checkpoint format) and
 *                         optimizer.safetensors + optimizer.json (moments and step counts)
 *   report.html           loss curves and the architecture, written at the end
 *
 * Everything is written atomically (temp then rename); the log is appended line by line and,
 * on resume, cut back to the checkpoint's step, so a resumed run's log reads as one run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResolvedModel } from "../../compiler/model.js";
import { loadCheckpoint, saveCheckpoint, writeFileDurably } from "../checkpoint/checkpoint.js";
import type { WeightMap } from "../checkpoint/hf-weights.js";
import { fromFloat32, parseSafetensors, serializeSafetensors, toFloat32 } from "../checkpoint/safetensors.js";
import type { OptimizerState } from "../optim/optimizer.js";

export const OPTIMIZER_WEIGHTS = "optimizer.safetensors";
export const OPTIMIZER_META = "optimizer.json";

export class RunFolder {
  constructor(readonly dir: string) {}

  get checkpoints(): string {
    return path.join(this.dir, "checkpoints");
  }
  get log(): string {
    return path.join(this.dir, "log.jsonl");
  }
  get tokenizer(): string {
    return path.join(this.dir, "tokenizer.json");
  }
  get report(): string {
    return path.join(this.dir, "report.html");
  }
  get runJson(): string {
    return path.join(this.dir, "run.json");
  }

  create(): void {
    fs.mkdirSync(this.checkpoints, { recursive: true });
  }

  /** Steps that have a complete checkpoint, ascending. */
  savedSteps(): number[] {
    if (!fs.existsSync(this.checkpoints)) return [];
    return fs
      .readdirSync(this.checkpoints)
      .map((e) => /^step-(\d+)$/.exec(e))
      .filter((m): m is RegExpExecArray => m !== null && fs.existsSync(path.join(this.checkpoints, m[0], "bdl.json")))
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  writeJson(file: string, value: unknown): void {
    writeFileDurably(file, JSON.stringify(value, null, 2) + "\n");
  }

  /** Saves weights and optimizer state of `step`, then removes all but the newest `keep` checkpoints. */
  saveStep(step: number, model: ResolvedModel, teacher: ResolvedModel | null, weights: WeightMap, optimizer: OptimizerState, meta: Record<string, unknown>, keep: number): void {
    const moments = Object.entries(optimizer.params).flatMap(([name, p]) => [
      fromFloat32(`m.${name}`, p.shape, p.m),
      fromFloat32(`v.${name}`, p.shape, p.v),
    ]);
    const slots = { kind: optimizer.kind, step: optimizer.step, params: Object.fromEntries(Object.entries(optimizer.params).map(([n, p]) => [n, { step: p.step, shape: p.shape }])) };
    saveCheckpoint(path.join(this.checkpoints, `step-${step}`), model, weights, {
      teacher,
      step,
      meta,
      files: { [OPTIMIZER_WEIGHTS]: serializeSafetensors(moments), [OPTIMIZER_META]: JSON.stringify(slots, null, 2) + "\n" },
    });
    for (const old of this.savedSteps().slice(0, -Math.max(1, keep))) {
      fs.rmSync(path.join(this.checkpoints, `step-${old}`), { recursive: true, force: true });
    }
  }

  /** The newest checkpoint with its optimizer state. */
  loadLatest(): { step: number; weights: WeightMap; optimizer: OptimizerState; meta: Record<string, unknown> } {
    const loaded = loadCheckpoint(this.dir);
    const slots = JSON.parse(fs.readFileSync(path.join(loaded.dir, OPTIMIZER_META), "utf8")) as {
      kind: OptimizerState["kind"];
      step: number;
      params: Record<string, { step: number; shape: number[] }>;
    };
    const moments = parseSafetensors(fs.readFileSync(path.join(loaded.dir, OPTIMIZER_WEIGHTS)), path.join(loaded.dir, OPTIMIZER_WEIGHTS));
    const params: OptimizerState["params"] = {};
    for (const [name, s] of Object.entries(slots.params)) {
      const m = moments.tensors.get(`m.${name}`);
      const v = moments.tensors.get(`v.${name}`);
      if (!m || !v) throw new Error(`${loaded.dir}: optimizer state lacks the moments of '${name}'`);
      params[name] = { step: s.step, shape: s.shape, m: toFloat32(m), v: toFloat32(v) };
    }
    return { step: loaded.meta.step ?? 0, weights: loaded.weights, optimizer: { kind: slots.kind, step: slots.step, params }, meta: loaded.meta };
  }

  appendLog(entry: Record<string, unknown>): void {
    fs.appendFileSync(this.log, JSON.stringify(entry) + "\n");
  }

  /** The log entries up to `step` (a resumed run drops what came after its checkpoint). */
  readLog(upTo = Infinity): Record<string, unknown>[] {
    if (!fs.existsSync(this.log)) return [];
    return fs
      .readFileSync(this.log, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return []; // a line cut short by a kill
        }
      })
      .filter((e) => typeof e["step"] !== "number" || (e["step"] as number) <= upTo);
  }

  truncateLog(upTo: number): void {
    const kept = this.readLog(upTo);
    writeFileDurably(this.log, kept.map((e) => JSON.stringify(e) + "\n").join(""));
  }
}
