/**
 * Reading a checkpoint's optimizer state (optimizer.json: kind and step counts;
 * optimizer.safetensors: the moments `m.NAME` and `v.NAME`), checked against the model's
 * parameter table, so that a damaged or foreign file is refused with its name and the first
 * problem, before a resume changes anything.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { OptimizerKind } from "../../model/model.js";
import { CheckpointError } from "../checkpoint/checkpoint.js";
import { readSafetensors, SafetensorsError, toFloat32 } from "../checkpoint/safetensors.js";
import type { OptimizerState } from "../optim/optimizer.js";
import type { ParamSpec } from "../../model/parameters.js";

export const OPTIMIZER_WEIGHTS = "optimizer.safetensors";
export const OPTIMIZER_META = "optimizer.json";

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** The optimizer state saved in checkpoint folder `dir`, for parameters `table` and optimizer `kind`. */
export function readOptimizerState(dir: string, table: readonly ParamSpec[], kind: OptimizerKind): OptimizerState {
  const metaPath = path.join(dir, OPTIMIZER_META);
  let slots: unknown;
  try {
    slots = JSON.parse(fs.readFileSync(metaPath, "utf8"));
  } catch (e) {
    const why =
      e instanceof SyntaxError
        ? `not valid JSON (${e.message})`
        : `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    throw new CheckpointError(`${metaPath} is damaged: ${why}`);
  }
  if (!isObject(slots) || !isObject(slots["params"]))
    throw new CheckpointError(`${metaPath} is damaged: expected an object with 'kind', 'step' and 'params'`);
  if (slots["kind"] !== kind)
    throw new CheckpointError(`${metaPath} holds ${JSON.stringify(slots["kind"])} optimizer state; the model trains with ${kind}`);
  if (!isCount(slots["step"])) throw new CheckpointError(`${metaPath} is damaged: 'step' is not a non-negative integer`);
  const saved = slots["params"];

  const weightsPath = path.join(dir, OPTIMIZER_WEIGHTS);
  let moments;
  try {
    moments = readSafetensors(weightsPath);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${weightsPath} is damaged: ${e.message}`);
    throw new CheckpointError(`${weightsPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const params: OptimizerState["params"] = {};
  for (const spec of table) {
    const s = saved[spec.name];
    // A parameter that never received a gradient has no slots yet; that is not damage.
    if (s === undefined) continue;
    if (!isObject(s) || !isCount(s["step"]))
      throw new CheckpointError(`${metaPath} is damaged: the entry of '${spec.name}' has no step count`);
    const [m, v] = [moments.tensors.get(`m.${spec.name}`), moments.tensors.get(`v.${spec.name}`)];
    if (!m || !v) throw new CheckpointError(`${weightsPath} lacks the moments of '${spec.name}'`);
    for (const t of [m, v]) {
      if (t.dtype !== "F32" || t.shape.join(",") !== spec.shape.join(",")) {
        throw new CheckpointError(
          `${weightsPath}: '${t.name}' is ${t.dtype} [${t.shape.join(", ")}]; '${spec.name}' needs F32 [${spec.shape.join(", ")}]`,
        );
      }
    }
    params[spec.name] = { step: s["step"], shape: spec.shape.slice(), m: toFloat32(m), v: toFloat32(v) };
  }
  const names = new Set(table.map((p) => p.name));
  const unknown = Object.keys(saved).filter((name) => !names.has(name));
  if (unknown.length > 0) throw new CheckpointError(`${metaPath} holds state of '${unknown[0]}', which the model does not have`);
  return { kind, step: slots["step"], params };
}
