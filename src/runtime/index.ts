/**
 * What compiled training graphs import: TensorFlow.js and the building blocks of a
 * BERT-family encoder, its heads and its objectives. Generated code reaches the runtime
 * only through this module (`bdl/runtime`).
 */
export { tf } from "./backends/tf.js";
export type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from "./backends/tf.js";
export type { ResolvedModel as ModelConfig } from "../model/model.js";
export type { ParamSpec } from "../model/parameters.js";

export { dense, type DenseParams } from "./layers/dense.js";
export { layerNorm, type LayerNormParams } from "./layers/layer-norm.js";
export { dropout, EVAL, stepRandomness, type Randomness } from "./layers/dropout.js";
export {
  embeddings,
  positionIds,
  projectEmbeddings,
  type EmbeddingParams,
  type EmbeddingOptions,
  type PositionOptions,
} from "./layers/embeddings.js";
export { attentionBias, localAttentionBias, selfAttention, type AttentionParams, type AttentionOptions } from "./layers/attention.js";
export { applyRotary, rotaryTables, type RotaryTables } from "./layers/rotary.js";
export { feedForward, type FeedForwardParams, type FeedForwardOptions } from "./layers/feed-forward.js";
export {
  flattenPositions,
  mlmLogits,
  pooler,
  rtdLogits,
  type MlmHeadOptions,
  type MlmHeadParams,
  type RtdHeadParams,
} from "./layers/heads.js";
export { crossEntropy, IGNORE } from "./objectives/cross-entropy.js";
export { distillLoss, type DistillOptions } from "./objectives/distill.js";
export { cosineLoss } from "./objectives/cosine.js";
export { givenSamples, replacedTokenLoss, replaceTokens, sampleTokens, type ReplacedTokens } from "./objectives/replaced-tokens.js";
export { selectRows } from "./objectives/select.js";
export type { AnyGraphModule, GraphModule } from "./graph-module.js";
export { bindOnce, tensorGetter, type TensorGetter } from "./bind.js";
export type { StepResult, TrainState } from "./train/step.js";
export { createOptimizer, learningRate, type Optimizer, type OptimizerConfig } from "./optim/index.js";
export { initialWeights } from "./init.js";
export { initFromTeacher } from "./teacher-init.js";
export { accumulate, applyGradients, computeGradients, trainableVariables, type Gradients, type LossOf } from "./train/step.js";
export { BACKENDS, BackendError, useBackend, type BackendName } from "./backends/backend.js";
export { webgpuAdapter } from "./backends/webgpu.js";
