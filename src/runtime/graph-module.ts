/**
 * What every compiled training graph exports, seen from code that drives any model
 * (`bdlc run`, training). Each graph's own exports are more precisely typed; this is the
 * common shape, with the parts a model may lack marked optional.
 */
import type { ResolvedModel } from "../model/model.js";
import type { Randomness } from "./layers/dropout.js";
import type { ParamSpec } from "../model/parameters.js";
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from "./backends/tf.js";
import type { StepResult, TrainState } from "./train/step.js";

export interface GraphInputs {
  inputIds: Tensor2D;
  attentionMask: Tensor2D;
  tokenTypeIds?: Tensor2D;
}

export interface GraphLabels {
  labels?: Tensor2D;
  nextSentenceLabel?: Tensor1D;
  sentenceOrderLabel?: Tensor1D;
}

export interface GraphEncoderOutputs {
  lastHiddenState: Tensor3D;
  hiddenStates: Tensor3D[];
  poolerOutput?: Tensor2D;
}

/** Params of a graph: opaque outside the graph that binds them. */
export type BoundParams = { readonly __bound?: never };

export interface GraphModule {
  config: ResolvedModel;
  parameters: readonly ParamSpec[];
  bindParams(lookup: (name: string) => Tensor | undefined): BoundParams;
  encode(p: BoundParams, x: GraphInputs, random: Randomness): GraphEncoderOutputs;
  mlmLogits?(p: BoundParams, h: Tensor2D): Tensor2D;
  nspLogits?(p: BoundParams, pooled: Tensor2D): Tensor2D;
  sopLogits?(p: BoundParams, pooled: Tensor2D): Tensor2D;
  teacherOutputs?(tp: BoundParams, x: GraphInputs): unknown;
  loss(
    p: BoundParams,
    x: GraphInputs,
    y: GraphLabels,
    random: Randomness,
    teacher?: unknown,
  ): { loss: Scalar; terms: Record<string, Scalar>; outputs: GraphEncoderOutputs };
  trainStep(state: TrainState, lr: number, x: GraphInputs, y: GraphLabels, random: Randomness, teacher?: unknown): StepResult;
}
