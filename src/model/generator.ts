/**
 * ELECTRA's two encoders as models of their own. A model with a `generator` is one
 * pretraining setup of two encoders that share their embeddings; each is also an ordinary
 * encoder, which is how the parameter table, the counts, the compiled graph and the Hugging
 * Face checkpoints (ElectraForMaskedLM, ElectraForPreTraining) describe it:
 *
 *   - the discriminator is the model itself less the generator and its MLM objective: its
 *     layers, and the `rtd` head that says, per token, whether the token was replaced;
 *   - the generator has the generator's sizes and the model's everything else (vocabulary,
 *     block structure, activation, dropout, embedding tables), and the MLM head, whose
 *     output layer is the shared word table. When its width differs from the embedding
 *     width it projects the embeddings up (or down) to it, as the discriminator does.
 */
import { embeddingWidth, objective, type ResolvedModel } from "./model.js";

/** Name prefix of the generator's own tensors in the joint parameter table (the shared embeddings have none). */
export const GENERATOR_PREFIX = "generator.";

/** Whether the generator uses the model's tensor `name` itself: the embedding tables and their LayerNorm (not a projection). */
export function isSharedWithGenerator(name: string): boolean {
  return name.startsWith("embeddings.") && !name.startsWith("embeddings.projection.");
}

/** The joint table's name of the generator's tensor `name`. */
export function generatorTensorName(name: string): string {
  return isSharedWithGenerator(name) ? name : GENERATOR_PREFIX + name;
}

/** The generator as an encoder of its own, trained by the model's `mlm` objective. */
export function generatorModel(model: ResolvedModel): ResolvedModel {
  const g = model.generator;
  if (!g) throw new Error(`internal error: model '${model.name}' has no generator`);
  const e = embeddingWidth(model);
  const mlm = objective(model, "mlm");
  const { generator: _generator, ...rest } = model;
  return {
    ...rest,
    name: `${model.name}.generator`,
    hidden: g.hidden,
    layers: g.layers,
    heads: g.heads,
    intermediate: g.intermediate,
    pooler: "none",
    embeddings: { ...model.embeddings, factorize: e === g.hidden ? null : e },
    sharing: [],
    objectives: mlm ? [mlm] : [],
    teacher: null,
    expect: [],
    electra: "generator",
  };
}

/** The discriminator as an encoder of its own: the model without its generator and the generator's `mlm`. */
export function discriminatorModel(model: ResolvedModel): ResolvedModel {
  const { generator: _generator, ...rest } = model;
  return { ...rest, objectives: model.objectives.filter((o) => o.name !== "mlm"), electra: "discriminator" };
}
