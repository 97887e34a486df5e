/**
 * Training compute of a model, estimated as the FLOPs of its matrix products (a
 * multiply-add is 2), the usual measure for comparing pretraining runs "at equal compute"
 * (Kaplan et al. 2020; Clark et al. 2020, ELECTRA's comparisons): per token, each layer's
 * projections and feed-forward products and its attention scores and weighted sum (over the
 * keys a local layer sees), the embedding projection, and the heads (the MLM head on the
 * predicted tokens only); a training step is three forward passes' worth (forward, and the
 * backward's two products per forward one). Element-wise work, softmax and LayerNorm are
 * left out: at these sizes they are a few percent.
 */
import { generatorModel } from "./generator.js";
import { attentionConfig, embeddingWidth, feedForwardKind, isLocalLayer, objective, type ResolvedModel } from "./model.js";

/** Forward FLOPs of one sequence of `seq` tokens of which `predicted` carry an MLM label. */
export function forwardFlops(model: ResolvedModel, seq: number, predicted: number): number {
  if (model.generator) {
    // ELECTRA: the generator reads the masked sequence and predicts; the discriminator reads every token.
    const { generator: _generator, ...withoutGenerator } = model;
    const discriminator = { ...withoutGenerator, objectives: model.objectives.filter((o) => o.name !== "mlm") };
    return forwardFlops(generatorModel(model), seq, predicted) + forwardFlops(discriminator, seq, predicted);
  }
  const H = model.hidden;
  const E = embeddingWidth(model);
  const gated = feedForwardKind(model) === "gated";
  const window = attentionConfig(model).window;
  let flops = E === H ? 0 : 2 * seq * E * H;
  for (let layer = 0; layer < model.layers; layer++) {
    const keys = isLocalLayer(model, layer) && window !== null ? Math.min(seq, window + 1) : seq;
    const projections = 2 * seq * 4 * H * H;
    const feedForward = 2 * seq * (H * model.intermediate * (gated ? 2 : 1) + model.intermediate * H);
    const attention = 2 * 2 * seq * keys * H;
    flops += projections + feedForward + attention;
  }
  if (objective(model, "mlm")) flops += 2 * predicted * (H * E + E * model.vocab);
  if (objective(model, "rtd")) flops += 2 * seq * (H * H + H);
  if (model.pooler === "tanh") flops += 2 * H * H;
  return flops;
}

/** Training FLOPs of one step of `batch` sequences of `seq` tokens at the model's masking rate. */
export function trainingStepFlops(model: ResolvedModel, batch: number, seq: number): number {
  const rate = typeof model.masking.rate === "number" ? model.masking.rate : model.masking.rate.from;
  return 3 * batch * forwardFlops(model, seq, Math.round(rate * seq));
}
