/**
 * `bdlc report RUN`: draws a run folder's report.html again from what the folder holds (run.json,
 * log.jsonl and, for a torch run, torch/summary.json). For a run that the torch engine trained on
 * a machine without Node.js (a folder `--dry-run` prepared, run with its printed line), whose ranks
 * write everything but the report.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderGraphSvg } from "../tools/architecture-svg.js";
import { countParams } from "../model/counts.js";
import type { ResolvedModel } from "../model/model.js";
import { RunFolder } from "../runtime/train/run-folder.js";
import { writeReport, type TrainSummary } from "../runtime/train/trainer.js";
import { InputError } from "./input-error.js";
import { torchEngineLabel } from "./torch-train.js";

function readJson(path: string, what: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(`${path} does not exist: ${what}`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** Writes RUN/report.html; returns its path. */
export function reportRun(run: string): string {
  const record = readJson(join(run, "run.json"), "not a run folder (bdlc train writes run.json)");
  const summaryFile = join(run, "torch", "summary.json");
  const summary = readJson(summaryFile, "the torch engine writes it when its ranks end; a tfjs run draws its report itself");
  const model = record["model"] as ResolvedModel;
  const teacher = (record["teacher"] as ResolvedModel | null) ?? null;
  const options = (record["options"] ?? {}) as { corpus?: string };
  const folder = new RunFolder(run);
  const ranks = typeof summary["ranks"] === "number" ? summary["ranks"] : 1;
  writeReport(
    {
      model,
      corpus: { name: options.corpus ?? "?", documents: () => [] },
      engine: torchEngineLabel(ranks, String(summary["device"] ?? "?")),
      architectureSvg: renderGraphSvg(model, { teacher, params: countParams(model, teacher) }),
    },
    folder,
    { ...(summary as unknown as TrainSummary), out: run },
  );
  return folder.report;
}
