/**
 * Whether a training step recomputes its sublayers in the backward pass (see
 * layers/recompute.ts). `on` and `off` are the user's; `auto`, the default, turns it on
 * where a step would not otherwise fit: on the wasm backends (`wasm`, `native`), whose
 * tensors share one WebAssembly memory of at most 4 GiB, when the estimate below exceeds
 * `AUTO_SHARE` of it. Recomputation changes no number a step computes, only its memory and
 * time (about a third more compute), so the choice is the machine's to make, not the run's:
 * it is not recorded, and a resumed run may decide differently and still continue bit for bit.
 *
 * The estimate is a rough count of what a taped step keeps, erring towards recomputation
 * (a step that fits anyway only runs slower): weights and their gradients (and a teacher's
 * weights), per layer and token the tensors each sublayer keeps for its gradient (nine per
 * attention score, about 23 of the hidden width and three of the intermediate width: dropout
 * masks, softmax, products, LayerNorm and activation inputs), and the MLM head's logits
 * over the vocabulary (every real token's, seven times over, when distilling).
 */
import type { ResolvedModel } from "../../model/model.js";
import { feedForwardKind } from "../../model/model.js";
import { countParams } from "../../model/counts.js";
import { WASM_HEAP_LIMIT } from "../backends/heap-guard.js";

export type RecomputeSetting = "auto" | "on" | "off";
export const RECOMPUTE_SETTINGS: readonly RecomputeSetting[] = ["auto", "on", "off"];

/** The share of the wasm heap a step may be estimated to take before `auto` recomputes. */
const AUTO_SHARE = 0.6;

/** Rough bytes a step of `sequences` × the model's train seq keeps without recomputation. */
export function estimatedStepBytes(model: ResolvedModel, teacher: ResolvedModel | null, sequences: number): number {
  const f32 = 4;
  const own = countParams(model, teacher).total;
  const teacherParams = teacher ? countParams(teacher).total : 0;
  const seq = model.train.seq;
  const tokens = sequences * seq;
  const intermediate = model.intermediate * (feedForwardKind(model) === "gated" ? 2 : 1);
  const perLayerToken = 9 * model.heads * seq + 23 * model.hidden + 3 * intermediate;
  const distilling = model.objectives.some((o) => o.name === "distill");
  const head = distilling ? 7 * tokens * model.vocab : 0.15 * 3 * tokens * model.vocab;
  return f32 * (2 * own + teacherParams + model.layers * tokens * perLayerToken + head);
}

/** Whether to recompute, and a line saying why when `auto` chose it. */
export function recomputeFor(
  setting: RecomputeSetting,
  backend: string,
  model: ResolvedModel,
  teacher: ResolvedModel | null,
  sequences: number,
): { on: boolean; reason: string | null } {
  if (setting !== "auto") return { on: setting === "on", reason: null };
  if (backend !== "wasm" && backend !== "native") return { on: false, reason: null };
  const estimate = estimatedStepBytes(model, teacher, sequences);
  if (estimate <= AUTO_SHARE * WASM_HEAP_LIMIT) return { on: false, reason: null };
  const gb = (estimate / 2 ** 30).toFixed(1);
  return {
    on: true,
    reason: `recomputing each layer in the backward pass: a step of ${sequences} × ${model.train.seq} tokens would keep about ${gb} GiB, and the ${backend} backend holds 4 GiB in all (--recompute off to keep every activation)`,
  };
}
