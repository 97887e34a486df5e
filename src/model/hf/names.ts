/**
 * Hugging Face names for a model's parameters. Which family's names apply follows from
 * the architecture (see `hfFamily`). Names are those of the pretraining classes
 * (BertForPreTraining, RobertaForMaskedLM, AlbertForPreTraining, DistilBertForMaskedLM),
 * where the base model's tensors carry the class prefix (`bert.`); `withoutHeads` drops
 * that prefix, as base-model checkpoints (BertModel, …) store them.
 *
 * Each family's names are a table (`FAMILY_NAMES`): where its layers live, the name of each
 * sublayer inside a layer, how every other parameter is renamed, and which tensors are tied.
 */
import {
  attentionConfig,
  BIAS_PARTS,
  feedForwardKind,
  hasAttentionNorm,
  hasBias,
  hasLocalLayers,
  normPosition,
  objective,
  type ResolvedModel,
} from "../model.js";
import { parameterTable, type ParamSpec } from "../parameters.js";
import { discriminatorModel, generatorModel, generatorTensorName } from "../generator.js";
import { FAMILY_NAME, hfFamily, type HfFamily } from "./family.js";

export { hfFamily, type HfFamily } from "./family.js";

export interface HfName {
  /** Our parameter name (see parameters.ts). */
  name: string;
  hf: string;
  /** Dense kernels are [in, out] here and [out, in] in Hugging Face checkpoints. */
  transpose: boolean;
  /**
   * Set when the Hugging Face tensor holds several of ours stacked along its first axis
   * (ModernBERT's `attn.Wqkv`: query, key, value): ours is block `index` of `count` equal ones.
   */
  block?: { index: number; count: number };
}

export interface HfNaming {
  family: HfFamily;
  names: HfName[];
  /** Tied tensors Hugging Face does not store: dropped name → the stored name it equals. */
  tiedAliases: Record<string, string>;
  /** Why the layout cannot be written as this family's checkpoint, if it cannot. */
  unrepresentable: string | null;
}

/** A Hugging Face name; `base`: a tensor of the base model, under the class prefix in a pretraining checkpoint. */
interface HfPlace {
  hf: string;
  base: boolean;
}

/** Our name (exact, or a prefix ending in `.`) → its Hugging Face name (the rest follows, a `kernel` leaf as `weight`). */
interface Rename extends HfPlace {
  ours: string;
}

/** A sublayer's Hugging Face name, or its block of one fused tensor (see `HfName.block`). */
type SublayerName = string | { hf: string; index: number; count: number };

interface FamilyNames {
  /** The prefix of the base model's tensors in the pretraining class (`bert.`, ModernBERT's `model.`). */
  prefix: string;
  /** Layer (or ALBERT layer group) `i` lives under `${layers}${i}${inLayer}`. */
  layers: string;
  inLayer: string;
  /** Each sublayer of a layer (see parameters.ts), by its name inside the layer. */
  sublayers: Record<string, SublayerName>;
  renames: Rename[];
  /** Tensors transformers ties and stores once: the dropped name and the stored one it equals. */
  tied: { dropped: HfPlace; equals: HfPlace }[];
  /** Why the model's heads or layout have no place in the family's classes, if they have none. */
  problem(model: ResolvedModel): string | null;
}

const inBase = (ours: string, hf: string): Rename => ({ ours, hf, base: true });
const inHeads = (ours: string, hf: string): Rename => ({ ours, hf, base: false });

function embeddings(withSegments: boolean): Rename[] {
  return [
    inBase("embeddings.word", "embeddings.word_embeddings.weight"),
    inBase("embeddings.position", "embeddings.position_embeddings.weight"),
    ...(withSegments ? [inBase("embeddings.segment", "embeddings.token_type_embeddings.weight")] : []),
    inBase("embeddings.norm.", "embeddings.LayerNorm."),
  ];
}

const WORD_EMBEDDINGS: HfPlace = { hf: "embeddings.word_embeddings.weight", base: true };

const BERT_LAYER: Record<string, string> = {
  "attention.query": "attention.self.query",
  "attention.key": "attention.self.key",
  "attention.value": "attention.self.value",
  "attention.output": "attention.output.dense",
  "attention.norm": "attention.output.LayerNorm",
  "ffn.intermediate": "intermediate.dense",
  "ffn.output": "output.dense",
  "ffn.norm": "output.LayerNorm",
};

const FAMILY_NAMES: Record<HfFamily, FamilyNames> = {
  // ELECTRA's generator and discriminator are BERT encoders under `electra.` (names of one of the pair; see generator.ts).
  electra: {
    prefix: "electra.",
    layers: "encoder.layer.",
    inLayer: "",
    sublayers: BERT_LAYER,
    renames: [
      ...embeddings(true),
      inBase("embeddings.projection.", "embeddings_project."),
      inHeads("heads.mlm.transform.", "generator_predictions.dense."),
      inHeads("heads.mlm.norm.", "generator_predictions.LayerNorm."),
      inHeads("heads.mlm.bias", "generator_lm_head.bias"),
      inHeads("heads.rtd.transform.", "discriminator_predictions.dense."),
      inHeads("heads.rtd.output.", "discriminator_predictions.dense_prediction."),
    ],
    tied: [{ dropped: { hf: "generator_lm_head.weight", base: false }, equals: WORD_EMBEDDINGS }],
    problem: (model) => {
      if (model.pooler === "tanh") return "ELECTRA has no pooler";
      if (model.sharing.length > 0) return "ELECTRA layers share no weights";
      return null;
    },
  },
  bert: {
    prefix: "bert.",
    layers: "encoder.layer.",
    inLayer: "",
    sublayers: BERT_LAYER,
    renames: [
      ...embeddings(true),
      inBase("pooler.", "pooler.dense."),
      inHeads("heads.mlm.transform.", "cls.predictions.transform.dense."),
      inHeads("heads.mlm.norm.", "cls.predictions.transform.LayerNorm."),
      inHeads("heads.mlm.bias", "cls.predictions.bias"),
      inHeads("heads.nsp.", "cls.seq_relationship."),
    ],
    tied: [
      { dropped: { hf: "cls.predictions.decoder.weight", base: false }, equals: WORD_EMBEDDINGS },
      { dropped: { hf: "cls.predictions.decoder.bias", base: false }, equals: { hf: "cls.predictions.bias", base: false } },
    ],
    problem: () => null,
  },
  roberta: {
    prefix: "roberta.",
    layers: "encoder.layer.",
    inLayer: "",
    sublayers: BERT_LAYER,
    renames: [
      ...embeddings(true),
      inBase("pooler.", "pooler.dense."),
      inHeads("heads.mlm.transform.", "lm_head.dense."),
      inHeads("heads.mlm.norm.", "lm_head.layer_norm."),
      inHeads("heads.mlm.bias", "lm_head.bias"),
    ],
    tied: [
      { dropped: { hf: "lm_head.decoder.weight", base: false }, equals: WORD_EMBEDDINGS },
      { dropped: { hf: "lm_head.decoder.bias", base: false }, equals: { hf: "lm_head.bias", base: false } },
    ],
    problem: (model) => {
      if (objective(model, "nsp") || objective(model, "sop")) return "RobertaForMaskedLM has no sentence-pair head";
      if (model.pooler === "tanh") return "RobertaForMaskedLM has no pooler";
      return null;
    },
  },
  albert: {
    prefix: "albert.",
    layers: "encoder.albert_layer_groups.",
    // bdl's ALBERT groups hold one layer each (inner_group_num 1).
    inLayer: ".albert_layers.0",
    sublayers: {
      "attention.query": "attention.query",
      "attention.key": "attention.key",
      "attention.value": "attention.value",
      "attention.output": "attention.dense",
      "attention.norm": "attention.LayerNorm",
      "ffn.intermediate": "ffn",
      "ffn.output": "ffn_output",
      "ffn.norm": "full_layer_layer_norm",
    },
    renames: [
      ...embeddings(true),
      inBase("embeddings.projection.", "encoder.embedding_hidden_mapping_in."),
      inBase("pooler.", "pooler."),
      inHeads("heads.mlm.transform.", "predictions.dense."),
      inHeads("heads.mlm.norm.", "predictions.LayerNorm."),
      inHeads("heads.mlm.bias", "predictions.bias"),
      inHeads("heads.sop.", "sop_classifier.classifier."),
    ],
    tied: [
      { dropped: { hf: "predictions.decoder.weight", base: false }, equals: WORD_EMBEDDINGS },
      { dropped: { hf: "predictions.decoder.bias", base: false }, equals: { hf: "predictions.bias", base: false } },
    ],
    problem: (model) => {
      if (objective(model, "nsp")) return "AlbertForPreTraining has no NSP head";
      const groups = albertGroups(model);
      return typeof groups === "string" ? groups : null;
    },
  },
  distilbert: {
    prefix: "distilbert.",
    layers: "transformer.layer.",
    inLayer: "",
    sublayers: {
      "attention.query": "attention.q_lin",
      "attention.key": "attention.k_lin",
      "attention.value": "attention.v_lin",
      "attention.output": "attention.out_lin",
      "attention.norm": "sa_layer_norm",
      "ffn.intermediate": "ffn.lin1",
      "ffn.output": "ffn.lin2",
      "ffn.norm": "output_layer_norm",
    },
    renames: [
      ...embeddings(false),
      inHeads("heads.mlm.transform.", "vocab_transform."),
      inHeads("heads.mlm.norm.", "vocab_layer_norm."),
      inHeads("heads.mlm.bias", "vocab_projector.bias"),
    ],
    tied: [{ dropped: { hf: "vocab_projector.weight", base: false }, equals: WORD_EMBEDDINGS }],
    problem: (model) => (model.pooler === "tanh" ? "DistilBERT has no pooler" : null),
  },
  modernbert: {
    prefix: "model.",
    layers: "layers.",
    inLayer: "",
    sublayers: {
      "attention.query": { hf: "attn.Wqkv", index: 0, count: 3 },
      "attention.key": { hf: "attn.Wqkv", index: 1, count: 3 },
      "attention.value": { hf: "attn.Wqkv", index: 2, count: 3 },
      "attention.output": "attn.Wo",
      "attention.norm": "attn_norm",
      "ffn.intermediate": "mlp.Wi",
      "ffn.output": "mlp.Wo",
      "ffn.norm": "mlp_norm",
    },
    renames: [
      inBase("embeddings.word", "embeddings.tok_embeddings.weight"),
      inBase("embeddings.norm.", "embeddings.norm."),
      inBase("encoder.final_norm.", "final_norm."),
      inHeads("heads.mlm.transform.", "head.dense."),
      inHeads("heads.mlm.norm.", "head.norm."),
      inHeads("heads.mlm.bias", "decoder.bias"),
    ],
    tied: [{ dropped: { hf: "decoder.weight", base: false }, equals: { hf: "embeddings.tok_embeddings.weight", base: true } }],
    problem: () => null,
  },
};

/** The prefix of base-model tensors in the family's pretraining class. */
function classPrefix(family: HfFamily): string {
  return FAMILY_NAMES[family].prefix;
}

/**
 * The name a base-model checkpoint (BertModel, …) stores a pretraining-class tensor under,
 * or null when the tensor is not the base model's (a head's).
 */
export function baseModelName(family: HfFamily, hf: string): string | null {
  const prefix = classPrefix(family);
  return hf.startsWith(prefix) ? hf.slice(prefix.length) : null;
}

/** Whether a stored tensor is a buffer transformers may save (position and token-type ids), not a parameter. */
export function isHfBuffer(hf: string): boolean {
  return /(^|\.)(position_ids|token_type_ids)$/.test(hf);
}

/** `layers.3.attention.query.kernel` → ["layers.3", "attention.query", "weight"]; LayerNorm/bias leaves keep their names. */
function splitLayerName(name: string): [owner: string, sublayer: string, leaf: string] | null {
  const m = /^((?:layers|groups)\.[^.]+)\.((?:attention|ffn)\.[a-z]+)\.(kernel|bias|weight)$/.exec(name);
  return m ? [m[1]!, m[2]!, m[3] === "kernel" ? "weight" : m[3]!] : null;
}

/** `transform.kernel` → `transform.weight`, `kernel` → `weight`. */
function leafName(name: string): string {
  return name.replace(/(^|\.)kernel$/, "$1weight");
}

/**
 * Where a family's checkpoints keep the tensors of each layer's owner (see parameters.ts):
 * the prefix of their Hugging Face names. `ownLayer` takes the index of a layer that owns
 * its sublayer as text, so that emitted code can pass an expression (`${layer}`) for it.
 */
export interface HfLayerPrefix {
  ownLayer(index: string): string;
  owner(owner: string): string;
}

export function hfLayerPrefix(model: ResolvedModel, options: { withoutHeads?: boolean } = {}): HfLayerPrefix {
  const family = hfFamily(model);
  const { layers, inLayer } = FAMILY_NAMES[family];
  const at = (index: string): string => `${options.withoutHeads ? "" : classPrefix(family)}${layers}${index}${inLayer}`;
  const ownerIndex = (owner: string): string => /^layers\.(.+)$/.exec(owner)?.[1] ?? owner;
  if (family !== "albert") {
    // Only ALBERT has layer groups (`hfFamily`), so every owner here is a layer.
    return { ownLayer: at, owner: (owner) => at(ownerIndex(owner)) };
  }
  const groups = albertGroups(model);
  if (typeof groups === "string") {
    // No ALBERT layout fits (`problem` says why); each owner still gets a distinct name.
    return { ownLayer: (index) => at(`layers.${index}`), owner: at };
  }
  // In a layout that fits, a layer that owns its sublayers is a group of its own, whose index is the layer's.
  return { ownLayer: at, owner: (owner) => at(String(groups.get(owner) ?? ownerIndex(owner))) };
}

/**
 * Why no Hugging Face family holds the model's block structure, or null: the four families'
 * layers are post-LN (LayerNorm after each residual sum) and have no final LayerNorm, so a
 * pre-LN model's weights would compute something else there; and their feed-forward
 * sublayers are plain, act(x·W1)·W2, with no gate for a gated model's second half of W1;
 * every dense layer and LayerNorm of theirs has a bias, which a bias-free part would lack.
 */
export function blockStructureProblem(model: ResolvedModel): string | null {
  if (hfFamily(model) === "modernbert") return modernBertProblem(model);
  return feedForwardProblem(model) ?? normPositionProblem(model) ?? biasProblem(model) ?? attentionProblem(model);
}

/**
 * What ModernBERT's layout fixes: pre-LN layers whose layer 0 has no attention LayerNorm,
 * a gated MLP, rotary positions (which make a model this family), hidden-wide embeddings
 * of tokens alone, no layer sharing. Its bias switches, window and RoPE bases are config
 * fields, so any value fits.
 */
function modernBertProblem(model: ResolvedModel): string | null {
  const has = (what: string) => `ModernBERT ${what}, but model '${model.name}'`;
  if (normPosition(model) !== "pre") return `${has("layers are pre-LN")} has norm_position post`;
  if (hasAttentionNorm(model, 0)) return `${has("has no attention LayerNorm in layer 0")} has first_attention_norm true`;
  if (feedForwardKind(model) !== "gated") return `${has("MLPs are gated (GLU)")} has feed_forward plain`;
  if (model.embeddings.segments > 0) return `${has("has no token-type embeddings")} has segments ${model.embeddings.segments}`;
  if (model.embeddings.offset > 0) return `${has("has no position offset")} has offset ${model.embeddings.offset}`;
  if (model.embeddings.factorize !== null) return `${has("embeddings are hidden-wide")} factorizes them to ${model.embeddings.factorize}`;
  if (model.sharing.length > 0) return `${has("layers share no weights")} has sharing groups`;
  return null;
}

/** The four families learn absolute positions and attend globally in every layer. */
export function attentionProblem(model: ResolvedModel): string | null {
  const a = attentionConfig(model);
  const family = FAMILY_NAME[hfFamily(model)];
  if (a.rotary !== null) return `${family} models learn absolute positions, but model '${model.name}' has rotary positions`;
  if (hasLocalLayers(model))
    return `${family} layers attend to every key, but model '${model.name}' has local attention (window ${a.window})`;
  return null;
}

export function biasProblem(model: ResolvedModel): string | null {
  const missing = BIAS_PARTS.find((part) => !hasBias(model, part));
  if (missing === undefined) return null;
  const family = FAMILY_NAME[hfFamily(model)];
  return `${family} dense layers and LayerNorms all have biases, but model '${model.name}' has ${missing}_bias false`;
}

export function normPositionProblem(model: ResolvedModel): string | null {
  if (normPosition(model) === "post") return null;
  const family = FAMILY_NAME[hfFamily(model)];
  return `${family} layers are post-LN (LayerNorm after each residual sum, no final LayerNorm), but model '${model.name}' has norm_position pre`;
}

export function feedForwardProblem(model: ResolvedModel): string | null {
  if (feedForwardKind(model) === "plain") return null;
  const family = FAMILY_NAME[hfFamily(model)];
  return `${family} feed-forward layers are plain (activation, no gate), but model '${model.name}' has feed_forward gated`;
}

/**
 * The names of a model with a generator: two checkpoints, the discriminator's
 * (ElectraForPreTraining) and the generator's (ElectraForMaskedLM). Each side's `names` are
 * keyed by the pair's own parameter names (the generator's under `generator.`), so the
 * shared embeddings appear in both, under the same Hugging Face names.
 */
export interface ElectraPair {
  discriminator: { model: ResolvedModel; naming: HfNaming };
  generator: { model: ResolvedModel; naming: HfNaming };
}

export function electraPair(model: ResolvedModel, options: { withoutHeads?: boolean } = {}): ElectraPair {
  const discriminator = discriminatorModel(model);
  const generator = generatorModel(model);
  const generatorNaming = hfNaming(generator, options);
  return {
    discriminator: { model: discriminator, naming: hfNaming(discriminator, options) },
    generator: {
      model: generator,
      naming: { ...generatorNaming, names: generatorNaming.names.map((n) => ({ ...n, name: generatorTensorName(n.name) })) },
    },
  };
}

/**
 * The Hugging Face names of the model's tensors. A model with a generator is two checkpoints
 * (see `electraPair`): here it gets its discriminator's names, and `unrepresentable` says
 * that one file cannot hold it.
 */
export function hfNaming(model: ResolvedModel, options: { withoutHeads?: boolean } = {}): HfNaming {
  if (model.generator) {
    const naming = hfNaming(discriminatorModel(model), options);
    const pair = "a model with a generator is two Hugging Face checkpoints, the discriminator's and the generator's";
    return { ...naming, unrepresentable: naming.unrepresentable ?? pair };
  }
  const family = hfFamily(model);
  const table = FAMILY_NAMES[family];
  const place = (p: HfPlace): string => (p.base && !options.withoutHeads ? classPrefix(family) : "") + p.hf;
  const owner = hfLayerPrefix(model, options).owner;
  const rename = (ours: string): { hf: string; block?: HfName["block"] } | null => {
    const layer = splitLayerName(ours);
    if (layer) {
      const sublayer = table.sublayers[layer[1]];
      if (sublayer === undefined) return null;
      if (typeof sublayer === "string") return { hf: `${owner(layer[0])}.${sublayer}.${layer[2]}` };
      return { hf: `${owner(layer[0])}.${sublayer.hf}.${layer[2]}`, block: { index: sublayer.index, count: sublayer.count } };
    }
    for (const r of table.renames) {
      if (ours === r.ours) return { hf: place(r) };
      if (r.ours.endsWith(".") && ours.startsWith(r.ours)) return { hf: place(r) + leafName(ours.slice(r.ours.length)) };
    }
    return null;
  };

  let unrepresentable = blockStructureProblem(model) ?? table.problem(model);
  const names: HfName[] = [];
  for (const spec of parameterTable(model)) {
    const renamed = rename(spec.name);
    if (renamed === null) {
      unrepresentable ??= `no Hugging Face ${family} name for ${spec.name}`;
      continue;
    }
    names.push({ name: spec.name, hf: renamed.hf, transpose: isKernel(spec), ...(renamed.block ? { block: renamed.block } : {}) });
  }
  const tiedAliases = Object.fromEntries(table.tied.map((t) => [place(t.dropped), place(t.equals)]));
  return { family, names, tiedAliases, unrepresentable };
}

function isKernel(spec: ParamSpec): boolean {
  return spec.name.endsWith(".kernel");
}

/**
 * ALBERT's layer groups: layer i uses group ⌊i / (L / G)⌋, each group sharing attention
 * and FFN. Returns the group index of each owner, or why the layout does not fit.
 */
function albertGroups(model: ResolvedModel): Map<string, number> | string {
  const owners: string[] = [];
  for (let layer = 0; layer < model.layers; layer++) {
    const group = model.sharing.find((g) => g.layers.includes(layer));
    if (group && group.share.length !== 2)
      return `ALBERT layer groups share attention and FFN together; group '${group.name}' shares only ${group.share.join(", ")}`;
    owners.push(group ? `groups.${group.name}` : `layers.${layer}`);
  }
  const distinct = [...new Set(owners)];
  const per = model.layers / distinct.length;
  const index = new Map(distinct.map((o, i) => [o, i]));
  const fits = Number.isInteger(per) && owners.every((o, layer) => index.get(o) === Math.floor(layer / per));
  if (!fits) return "ALBERT layer groups must be contiguous and of equal size";
  return index;
}
