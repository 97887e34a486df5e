/**
 * What every compiled training graph exports. `GraphModule<P, X, Y, T>` is a graph's own
 * shape, typed by its parameters, inputs, labels and (for a student) what its teacher says
 * about a batch and the teacher's params; an emitted module is assignable to it with its own `Params`, `Inputs`,
 * `Labels` and `TeacherOutputs`. `AnyGraphModule` is the shape seen from code that drives
 * any model (`bdlc run`, training): the parts a model may lack are optional there.
 */
import type { ResolvedModel } from "../model/model.js";
import type { Randomness } from "./layers/dropout.js";
import type { ParamSpec } from "../model/parameters.js";
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from "./backends/tf.js";
import type { Gradients, StepResult, TrainState } from "./train/step.js";

export interface GraphInputs {
  inputIds: Tensor2D;
  attentionMask: Tensor2D;
  tokenTypeIds?: Tensor2D;
  /** [B, S] packed documents: the index of each token's document; attention and positions stay within it. */
  documentIds?: Tensor2D;
}

export interface GraphLabels {
  labels?: Tensor2D;
  nextSentenceLabel?: Tensor1D;
  sentenceOrderLabel?: Tensor1D;
  /** ELECTRA: samples to put at the labelled positions (-1 elsewhere) instead of drawing them. */
  generatorSamples?: Tensor2D;
}

export interface GraphEncoderOutputs {
  lastHiddenState: Tensor3D;
  hiddenStates: Tensor3D[];
  poolerOutput?: Tensor2D;
}

/** What a teacher says about a batch, for whichever of distill and cosine its student has. */
export type GraphTeacherOutputs = {
  logits?: Tensor2D;
  hidden?: Tensor2D;
};

/** Params of a graph whose type the caller does not know: opaque outside the graph that binds them. */
export type BoundParams = { readonly __bound?: never };

/**
 * The teacher argument of `loss`, `gradients` and `trainStep`: none for a graph without a
 * teacher (`T = never`), optional where `T` admits `undefined` (a graph that may lack one).
 */
export type TeacherArgument<T> = [T] extends [never] ? [] : undefined extends T ? [teacher?: T] : [teacher: T];

/** `TP`: the teacher graph's params, which `teacherOutputs` runs the teacher with. */
export interface GraphModule<P, X extends GraphInputs = GraphInputs, Y extends GraphLabels = GraphLabels, T = never, TP = BoundParams> {
  config: ResolvedModel;
  parameters: readonly ParamSpec[];
  bindParams(lookup: (name: string) => Tensor | undefined): P;
  encode(p: P, x: X, random: Randomness): GraphEncoderOutputs;
  mlmLogits?(p: P, h: Tensor2D): Tensor2D;
  nspLogits?(p: P, pooled: Tensor2D): Tensor2D;
  sopLogits?(p: P, pooled: Tensor2D): Tensor2D;
  /** ELECTRA's discriminator: [B, S, H] → [B, S] replaced-token logits. */
  rtdLogits?(p: P, h: Tensor3D): Tensor2D;
  /** ELECTRA: the generator's graph (its tensors are this model's `generator.…` and shared embeddings). */
  generatorGraph?: GraphModule<unknown>;
  /** The frozen teacher's outputs on a batch, from the teacher graph's bound params. */
  teacherOutputs?(tp: TP, x: X): T;
  loss(
    p: P,
    x: X,
    y: Y,
    random: Randomness,
    ...teacher: TeacherArgument<T>
  ): { loss: Scalar; terms: Record<string, Scalar>; outputs: GraphEncoderOutputs };
  /** Gradients of one batch's loss with respect to `variables`, by parameter name (the caller disposes them). */
  gradients(variables: TrainState["variables"], x: X, y: Y, random: Randomness, ...teacher: TeacherArgument<T>): Gradients;
  /** One optimisation step on a batch: `gradients`, then clipping and the optimizer's update. */
  trainStep(state: TrainState, lr: number, x: X, y: Y, random: Randomness, ...teacher: TeacherArgument<T>): StepResult;
}

/**
 * Any model's graph: params opaque, inputs and labels with every field a model may take,
 * and teacher outputs that are absent for a model without a teacher (whose `loss` ignores them).
 */
export type AnyGraphModule = GraphModule<BoundParams, GraphInputs, GraphLabels, GraphTeacherOutputs | undefined>;

/**
 * The graph that predicts masked tokens, with its params: the model's own, or, for ELECTRA,
 * its generator's (the discriminator has no MLM head). Null for a model with neither.
 */
export function maskedTokenPredictor(graph: AnyGraphModule, params: BoundParams): { graph: AnyGraphModule; params: BoundParams } | null {
  if (graph.generatorGraph) {
    // The joint params hold the generator's as `generator` (see the emitted module's `Params`).
    return { graph: graph.generatorGraph as AnyGraphModule, params: (params as { generator?: BoundParams }).generator! };
  }
  return graph.mlmLogits ? { graph, params } : null;
}

/** Whether the model has a graph that predicts masked tokens (see `maskedTokenPredictor`). */
export function predictsMaskedTokens(graph: AnyGraphModule): boolean {
  return graph.generatorGraph !== undefined || graph.mlmLogits !== undefined;
}
