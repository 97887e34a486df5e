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
import type { ResolvedModel } from "../../model/model.js";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../checkpoint/checkpoint.js";
import { replaceFile } from "../checkpoint/durable.js";
import type { WeightMap } from "../checkpoint/hf-weights.js";
import { fromFloat32 } from "../checkpoint/safetensors.js";
import type { OptimizerState } from "../optim/optimizer.js";
import { parameterTable } from "../../model/parameters.js";
import { OPTIMIZER_META, OPTIMIZER_WEIGHTS, readOptimizerState } from "./optimizer-files.js";

export { OPTIMIZER_META, OPTIMIZER_WEIGHTS };

export interface LoadedStep {
  step: number;
  weights: WeightMap;
  optimizer: OptimizerState;
  meta: Record<string, unknown>;
}

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

  /**
   * Clears what killed processes left: `step-N.tmp-PID/` (a checkpoint being written, several
   * times the model's size) and `FILE.tmp-PID` files are removed; `step-N.old-PID/` (the
   * previous checkpoint, renamed away just before its replacement took its name) is renamed
   * back when the replacement never arrived, else removed. Only PIDs no longer running count:
   * the caller holds the run lock, so no live process of this run is writing.
   */
  removeLeftovers(isAlive: (pid: number) => boolean): string[] {
    const removed: string[] = [];
    const sweep = (dir: string, pattern: RegExp) => {
      let entries: string[];
      try {
        entries = fs.readdirSync(dir);
      } catch {
        return; // no such folder yet
      }
      for (const entry of entries) {
        const m = pattern.exec(entry);
        if (!m || isAlive(Number(m[3]))) continue;
        const full = path.join(dir, entry);
        const target = path.join(dir, m[1]!);
        if (m[2] === "old" && !fs.existsSync(target)) {
          fs.renameSync(full, target);
          continue;
        }
        fs.rmSync(full, { recursive: true, force: true });
        removed.push(full);
      }
    };
    sweep(this.checkpoints, /^(step-\d+)\.(tmp|old)-(\d+)$/);
    sweep(this.dir, /^(run\.json|log\.jsonl|report\.html|tokenizer\.json)\.(tmp)-(\d+)$/);
    return removed;
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

  /** Writes `file` as JSON atomically: a reader (or a full disk) never sees a half-written file. */
  writeJson(file: string, value: unknown): void {
    replaceFile(file, JSON.stringify(value, null, 2) + "\n");
  }

  /** Saves weights and optimizer state of `step`, then removes all but the newest `keep` checkpoints. */
  saveStep(
    step: number,
    model: ResolvedModel,
    teacher: ResolvedModel | null,
    weights: WeightMap,
    optimizer: OptimizerState,
    meta: Record<string, unknown>,
    keep: number,
  ): void {
    const moments = Object.entries(optimizer.params).flatMap(([name, p]) => [
      fromFloat32(`m.${name}`, p.shape, p.m),
      fromFloat32(`v.${name}`, p.shape, p.v),
    ]);
    const slots = {
      kind: optimizer.kind,
      step: optimizer.step,
      params: Object.fromEntries(Object.entries(optimizer.params).map(([n, p]) => [n, { step: p.step, shape: p.shape }])),
    };
    saveCheckpoint(path.join(this.checkpoints, `step-${step}`), model, weights, {
      teacher,
      step,
      meta,
      files: { [OPTIMIZER_WEIGHTS]: { safetensors: moments }, [OPTIMIZER_META]: JSON.stringify(slots, null, 2) + "\n" },
    });
    for (const old of this.savedSteps().slice(0, -Math.max(1, keep))) {
      fs.rmSync(path.join(this.checkpoints, `step-${old}`), { recursive: true, force: true });
    }
  }

  /**
   * Checkpoint `step` with its optimizer state, every file checked against the model's
   * parameter table: a CheckpointError names the file and what is wrong with it.
   */
  loadStep(step: number, model: ResolvedModel, teacher: ResolvedModel | null): LoadedStep {
    const dir = path.join(this.checkpoints, `step-${step}`);
    const loaded = loadCheckpoint(dir, { model, teacher });
    if (loaded.meta.step !== step)
      throw new CheckpointError(`${path.join(dir, "bdl.json")}: 'step' is ${JSON.stringify(loaded.meta.step)}, not ${step}`);
    const optimizer = readOptimizerState(dir, parameterTable(model, teacher), model.train.optimizer);
    return { step, weights: loaded.weights, optimizer, meta: loaded.meta };
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

  /** Cuts the log back to `upTo` (a resume drops what came after its checkpoint): a new file renamed over the old, never an in-place truncation. */
  truncateLog(upTo: number): void {
    const kept = this.readLog(upTo);
    replaceFile(this.log, kept.map((e) => JSON.stringify(e) + "\n").join(""));
  }

  /** Renames checkpoint `step` to `damaged-step-N` (kept for inspection, out of the way of `step-N`). */
  setAside(step: number): string {
    const from = path.join(this.checkpoints, `step-${step}`);
    let to = path.join(this.checkpoints, `damaged-step-${step}`);
    for (let n = 2; fs.existsSync(to); n++) to = path.join(this.checkpoints, `damaged-step-${step}-${n}`);
    fs.renameSync(from, to);
    return to;
  }
}
