/**
 * The parameter table of a model: every tensor it owns, with its shape, initialiser,
 * the sharing group that owns it (if any) and whether weight decay applies. Derived from
 * the resolved model alone; the emitter writes it into each compiled graph, and the
 * checkpoint code maps it to Hugging Face names.
 *
 * Dense kernels are stored [in, out] (x · W); Hugging Face stores Linear weights
 * [out, in], so they are transposed on import and export.
 */
import {
  attentionConfig,
  feedForwardKind,
  hasAttentionNorm,
  groupOwning,
  hasBias,
  normPosition,
  objective,
  SENTENCE_PAIR_OBJECTIVES,
  SHARED_PARTS,
  type ResolvedModel,
  type SharedPart,
} from "./model.js";
import { discriminatorModel, generatorModel, generatorTensorName, isSharedWithGenerator } from "./generator.js";

export type Init = "normal" | "zeros" | "ones";

/** The standard deviation of the `normal` initialiser (Hugging Face's initializer_range for BERT). */
export const INITIALIZER_RANGE = 0.02;

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** Sharing group whose layers all use this tensor; null when one layer (or no layer) owns it. */
  group: string | null;
  /** Biases and LayerNorm parameters get no weight decay (BERT's and Hugging Face's convention). */
  decay: boolean;
  /** The tensor's name in a Hugging Face checkpoint of the model's family (compiled graphs list it). */
  hf?: string;
}

/** Who owns a layer's sublayer: the layer itself (`layers.3`) or its sharing group (`groups.a`). */
export function ownerOf(model: ResolvedModel, layer: number, part: SharedPart): string {
  const group = groupOwning(model, layer, part);
  return group ? `groups.${group.name}` : `layers.${layer}`;
}

/**
 * Every tensor of the model. With a generator (ELECTRA): the discriminator's tensors, then
 * the generator's own under `generator.` (it reads the shared embedding tables by their
 * names; see generator.ts).
 */
export function parameterTable(model: ResolvedModel, teacher: ResolvedModel | null = null): ParamSpec[] {
  if (!model.generator) return encoderTable(model, teacher);
  const generator = encoderTable(generatorModel(model), null)
    .filter((spec) => !isSharedWithGenerator(spec.name))
    .map((spec) => ({ ...spec, name: generatorTensorName(spec.name) }));
  return [...encoderTable(discriminatorModel(model), teacher), ...generator];
}

function encoderTable(model: ResolvedModel, teacher: ResolvedModel | null): ParamSpec[] {
  const H = model.hidden;
  const E = model.embeddings.factorize ?? H;
  const table: ParamSpec[] = [];
  const add = (name: string, shape: number[], init: Init, group: string | null = null) =>
    table.push({ name, shape, init, group, decay: init === "normal" });
  // A part without bias (attention_bias, mlp_bias, norm_bias false) has no bias tensor at all.
  const denseLayer = (prefix: string, n: number, m: number, group: string | null = null, bias = true) => {
    add(`${prefix}.kernel`, [n, m], "normal", group);
    if (bias) add(`${prefix}.bias`, [m], "zeros", group);
  };
  const normBias = hasBias(model, "norm");
  const norm = (prefix: string, width: number, group: string | null = null) => {
    add(`${prefix}.weight`, [width], "ones", group);
    if (normBias) add(`${prefix}.bias`, [width], "zeros", group);
  };

  add("embeddings.word", [model.vocab, E], "normal");
  // Rotary positions rotate queries and keys instead: no position table.
  if (attentionConfig(model).rotary === null)
    add("embeddings.position", [model.embeddings.positions + model.embeddings.offset, E], "normal");
  if (model.embeddings.segments > 0) add("embeddings.segment", [model.embeddings.segments, E], "normal");
  norm("embeddings.norm", E);
  if (E !== H) denseLayer("embeddings.projection", E, H);

  const seen = new Set<string>();
  for (let layer = 0; layer < model.layers; layer++) {
    for (const part of SHARED_PARTS) {
      const owner = ownerOf(model, layer, part);
      if (seen.has(`${owner}.${part}`)) continue;
      seen.add(`${owner}.${part}`);
      const group = owner.startsWith("groups.") ? owner.slice("groups.".length) : null;
      if (part === "attention") {
        for (const d of ["query", "key", "value", "output"])
          denseLayer(`${owner}.attention.${d}`, H, H, group, hasBias(model, "attention"));
        // ModernBERT's layer 0 has no attention LayerNorm (a rule keeps that layer's attention unshared).
        if (owner !== "layers.0" || hasAttentionNorm(model, 0)) norm(`${owner}.attention.norm`, H, group);
      } else {
        // Gated: one kernel [H, 2·I], input columns then gate columns, as Hugging Face's ModernBERT `mlp.Wi` ([2·I, H]) transposed.
        const inputs = feedForwardKind(model) === "gated" ? 2 * model.intermediate : model.intermediate;
        denseLayer(`${owner}.ffn.intermediate`, H, inputs, group, hasBias(model, "mlp"));
        denseLayer(`${owner}.ffn.output`, model.intermediate, H, group, hasBias(model, "mlp"));
        norm(`${owner}.ffn.norm`, H, group);
      }
    }
  }

  // Pre-LN layers leave their output unnormalised (x + f(LN(x))): the encoder ends with a LayerNorm of its own.
  if (normPosition(model) === "pre") norm("encoder.final_norm", H);
  if (model.pooler === "tanh") denseLayer("pooler", H, H);
  if (objective(model, "mlm")) {
    denseLayer("heads.mlm.transform", H, E, null, hasBias(model, "classifier"));
    norm("heads.mlm.norm", E);
    if (hasBias(model, "decoder")) add("heads.mlm.bias", [model.vocab], "zeros");
  }
  for (const name of SENTENCE_PAIR_OBJECTIVES) if (objective(model, name)) denseLayer(`heads.${name}`, H, 2);
  // ELECTRA's discriminator head: dense, activation, then one logit per token (was it replaced?).
  if (objective(model, "rtd")) {
    denseLayer("heads.rtd.transform", H, H);
    denseLayer("heads.rtd.output", H, 1);
  }
  if (teacher && objective(model, "cosine") && teacher.hidden !== H) denseLayer("heads.cosine.projection", H, teacher.hidden);
  return table;
}
