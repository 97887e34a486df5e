/**
 * Learning-rate schedules with linear warmup, with exactly the semantics of
 * Hugging Face transformers' `get_linear_schedule_with_warmup`,
 * `get_cosine_schedule_with_warmup` (num_cycles = 0.5) and
 * `get_constant_schedule_with_warmup`.
 *
 * `step` counts from 0: the rate for the first update is `learningRate(0, …)`,
 * which during warmup is 0 (as in HF, where the LambdaLR's first factor is
 * lr_lambda(0) = 0/warmup). With W = warmup and N = steps:
 *
 *   warmup (step < W), every kind:  lr · step / max(1, W)
 *   linear:    lr · max(0, (N − step) / max(1, N − W))
 *   cosine:    lr · max(0, ½ · (1 + cos(π · progress))),  progress = (step − W) / max(1, N − W)
 *   constant:  lr
 *
 * As in HF, nothing clamps `progress` to 1: past `steps` the linear schedule
 * stays at 0, but the cosine one rises again (cos(π·progress) for progress in
 * (1, 2]) — a training loop should stop at `steps`.
 */
import type { DecayKind } from "../../model/model.js";

export interface ScheduleConfig {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Warmup steps (0 for none). */
  warmup: number;
  decay: DecayKind;
  /** Total training steps. */
  steps: number;
}

export function learningRate(step: number, cfg: ScheduleConfig): number {
  const { lr, warmup, decay, steps } = cfg;
  if (!Number.isFinite(step) || step < 0) throw new Error(`learningRate: invalid step ${step}`);
  if (!Number.isFinite(warmup) || warmup < 0) throw new Error(`learningRate: invalid warmup ${warmup}`);
  if (!Number.isFinite(steps) || steps < 0) throw new Error(`learningRate: invalid steps ${steps}`);
  if (!Number.isFinite(lr)) throw new Error(`learningRate: invalid lr ${lr}`);
  if (step < warmup) return (lr * step) / Math.max(1, warmup);
  switch (decay) {
    case "constant":
      return lr;
    case "linear":
      return lr * Math.max(0, (steps - step) / Math.max(1, steps - warmup));
    case "cosine": {
      const progress = (step - warmup) / Math.max(1, steps - warmup);
      return lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    default: {
      const never: never = decay;
      throw new Error(`learningRate: unknown decay ${JSON.stringify(never)}`);
    }
  }
}
