/**
 * `bdlc train --resume`: everything a resume needs is read and checked before any file of the
 * run changes. The run's settings come from run.json (a flag that contradicts one is refused by
 * name, since it would silently make a different run); the checkpoint to continue from is
 * loaded and checked whole (weights, bdl.json, optimizer state) against the model. A damaged
 * latest checkpoint is not papered over: the error names it and the newest intact one, which
 * `--resume-from N` then continues from, setting the damaged ones aside (renamed, not deleted).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResolvedModel } from "../../model/model.js";
import { CheckpointError } from "../checkpoint/checkpoint.js";
import { RunFolder, type LoadedStep } from "./run-folder.js";
import { processIsAlive } from "./run-lock.js";

/** What a run is started with; run.json records all of it. */
export interface RunSettings {
  steps: number;
  batch: number;
  accumulate: number;
  lr: number;
  seed: number;
  /** `wordnet` or a corpus file's path. */
  corpus: string;
  saveEvery: number;
  keep: number;
  logEvery: number;
  evalEvery: number;
}

/** The settings given as flags (undefined: not given). */
export type GivenSettings = { [K in keyof RunSettings]?: RunSettings[K] | undefined };

export const SETTING_FLAGS: Readonly<Record<keyof RunSettings, string>> = {
  steps: "--steps",
  batch: "--batch",
  accumulate: "--accumulate",
  lr: "--lr",
  seed: "--seed",
  corpus: "--corpus",
  saveEvery: "--save-every",
  keep: "--keep",
  logEvery: "--log-every",
  evalEvery: "--eval-every",
};

/**
 * Settings that decide the weights: a resume with another value would not continue the run
 * but silently become a different one. (How often to log, save and evaluate may change.)
 */
const FIXED_ON_RESUME: readonly (keyof RunSettings)[] = ["steps", "batch", "accumulate", "lr", "seed", "corpus"];

/** A resume that cannot go ahead; the message says why and what to do. */
export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResumeError";
  }
}

export interface ResumePlan {
  settings: RunSettings;
  /** The checkpoint the run continues from, loaded and checked. */
  from: LoadedStep;
  /** Newer checkpoints found damaged, set aside when the run continues (only with --resume-from). */
  damaged: number[];
  /** The checkpoint is the run's last step: there is nothing left to train. */
  finished: boolean;
}

interface RunRecord {
  model: ResolvedModel;
  options: Record<string, unknown>;
}

/** run.json, checked enough to compare against: its model and its options. */
export function readRunRecord(folder: RunFolder): RunRecord {
  let text: string;
  try {
    text = fs.readFileSync(folder.runJson, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ResumeError(
      code === "ENOENT"
        ? `${folder.runJson} is missing: ${folder.dir} is not a complete run folder`
        : `${folder.runJson} cannot be read (${code})`,
    );
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (e) {
    throw new ResumeError(
      `${folder.runJson} is damaged: not valid JSON (${(e as Error).message}); the run's settings cannot be recovered from it`,
    );
  }
  const r = record as Partial<RunRecord> | null;
  if (
    typeof r !== "object" ||
    r === null ||
    typeof r.model !== "object" ||
    r.model === null ||
    typeof r.options !== "object" ||
    r.options === null
  ) {
    throw new ResumeError(`${folder.runJson} is damaged: expected an object with 'model' and 'options'`);
  }
  return r as RunRecord;
}

function sameSetting(key: keyof RunSettings, a: unknown, b: unknown): boolean {
  if (key === "corpus" && typeof a === "string" && typeof b === "string") {
    const where = (c: string) => (c === "wordnet" ? c : path.resolve(c));
    return where(a) === where(b);
  }
  return a === b;
}

/** The recorded settings, with the flags that may change applied; a flag contradicting a fixed one is refused. */
function resumedSettings(folder: RunFolder, recorded: Record<string, unknown>, given: GivenSettings, defaults: RunSettings): RunSettings {
  const settings = { ...defaults };
  const conflicts: string[] = [];
  for (const key of Object.keys(SETTING_FLAGS) as (keyof RunSettings)[]) {
    const saved = recorded[key];
    if (saved !== undefined && typeof saved !== typeof defaults[key])
      throw new ResumeError(`${folder.runJson} is damaged: options.${key} is ${JSON.stringify(saved)}`);
    const want = given[key];
    if (FIXED_ON_RESUME.includes(key) && want !== undefined && saved !== undefined && !sameSetting(key, want, saved)) {
      conflicts.push(`${SETTING_FLAGS[key]} ${want} contradicts the run's ${key} ${JSON.stringify(saved)} (recorded in ${folder.runJson})`);
    }
    const value = FIXED_ON_RESUME.includes(key) ? (saved ?? want) : (want ?? saved);
    if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
  }
  if (conflicts.length > 0) {
    throw new ResumeError(
      `${conflicts.join("; ")}. --resume continues the run with its own settings: leave the flag out, or start a new run with another --out`,
    );
  }
  return settings;
}

/** Removes what killed processes left in run folder `out` (call with the run lock held); returns the paths removed. */
export function removeLeftovers(out: string): string[] {
  return new RunFolder(out).removeLeftovers(processIsAlive);
}

/** Checkpoint `step` loaded and checked, or the reason it cannot be used. */
function tryStep(folder: RunFolder, step: number, model: ResolvedModel, teacher: ResolvedModel | null): LoadedStep | string {
  try {
    return folder.loadStep(step, model, teacher);
  } catch (e) {
    if (e instanceof CheckpointError) return e.message;
    throw e;
  }
}

/**
 * Reads and checks everything a resume of run folder `out` needs, changing nothing. `from`:
 * the step of `--resume-from` (undefined: the latest checkpoint).
 */
export function planResume(
  out: string,
  model: ResolvedModel,
  teacher: ResolvedModel | null,
  given: GivenSettings,
  defaults: RunSettings,
  from: number | undefined,
): ResumePlan {
  const folder = new RunFolder(out);
  const saved = folder.savedSteps();
  if (saved.length === 0) throw new ResumeError(`${out}: nothing to resume (no checkpoint in ${folder.checkpoints})`);
  const record = readRunRecord(folder);
  if (JSON.stringify(record.model) !== JSON.stringify(model)) {
    throw new ResumeError(
      `${out}: this run trained model '${String(record.model.name)}' as resolved then; the .bdl now resolves differently — resume with the same model or start a new --out`,
    );
  }
  const settings = resumedSettings(folder, record.options, given, defaults);
  if (!fs.existsSync(folder.tokenizer))
    throw new ResumeError(`${folder.tokenizer} is missing: the run's checkpoints cannot be continued with another tokenizer`);

  const latest = saved.at(-1)!;
  const start = from ?? latest;
  if (!saved.includes(start))
    throw new ResumeError(
      `--resume-from ${start}: ${folder.checkpoints} has no checkpoint step-${start} (it has ${saved.map((s) => `step-${s}`).join(", ")})`,
    );
  const loaded = tryStep(folder, start, model, teacher);
  if (typeof loaded === "string") {
    const older = saved.filter((s) => s < start).reverse();
    for (const s of older) {
      if (typeof tryStep(folder, s, model, teacher) !== "string") {
        throw new ResumeError(
          `${loaded}. The newest intact checkpoint is step-${s}: continue from it with --resume-from ${s} (the damaged checkpoints after it are then kept as checkpoints/damaged-step-N)`,
        );
      }
    }
    throw new ResumeError(`${loaded}. No older checkpoint is intact either: start a new run with another --out`);
  }
  // Continuing from an older checkpoint replaces the newer ones: allowed only for damaged ones.
  const damaged: number[] = [];
  for (const s of saved.filter((n) => n > start)) {
    if (typeof tryStep(folder, s, model, teacher) !== "string") {
      throw new ResumeError(
        `--resume-from ${start}: checkpoint step-${s} is newer and intact, and continuing from step-${start} would replace it; --resume continues from the latest`,
      );
    }
    damaged.push(s);
  }
  return { settings, from: loaded, damaged, finished: loaded.step >= settings.steps };
}
