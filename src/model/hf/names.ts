/**
 * Hugging Face names for a model's parameters. Which family's names apply follows from
 * the architecture: factorized embeddings or layer sharing → ALBERT; no segment
 * embeddings → DistilBERT; a position offset → RoBERTa; otherwise BERT. Names are those of
 * the pretraining classes (BertForPreTraining, RobertaForMaskedLM, AlbertForPreTraining,
 * DistilBertForMaskedLM); `withoutHeads` drops the prefix for base-model checkpoints.
 */
import { objective, type ResolvedModel } from "../model.js";
import { parameterTable, type ParamSpec } from "../parameters.js";
import { hfFamily, type HfFamily } from "./family.js";

export { hfFamily, type HfFamily } from "./family.js";

export interface HfName {
  /** Our parameter name (see parameters.ts). */
  name: string;
  hf: string;
  /** Dense kernels are [in, out] here and [out, in] in Hugging Face checkpoints. */
  transpose: boolean;
}

export interface HfNaming {
  family: HfFamily;
  names: HfName[];
  /** Tied tensors Hugging Face does not store: dropped name → the stored name it equals. */
  tiedAliases: Record<string, string>;
  /** Why the layout cannot be written as this family's checkpoint, if it cannot. */
  unrepresentable: string | null;
}

type Rename = (local: string) => string | null;

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
const ALBERT_LAYER: Record<string, string> = {
  "attention.query": "attention.query",
  "attention.key": "attention.key",
  "attention.value": "attention.value",
  "attention.output": "attention.dense",
  "attention.norm": "attention.LayerNorm",
  "ffn.intermediate": "ffn",
  "ffn.output": "ffn_output",
  "ffn.norm": "full_layer_layer_norm",
};
const DISTIL_LAYER: Record<string, string> = {
  "attention.query": "attention.q_lin",
  "attention.key": "attention.k_lin",
  "attention.value": "attention.v_lin",
  "attention.output": "attention.out_lin",
  "attention.norm": "sa_layer_norm",
  "ffn.intermediate": "ffn.lin1",
  "ffn.output": "ffn.lin2",
  "ffn.norm": "output_layer_norm",
};

/** `layers.3.attention.query.kernel` → ["layers.3", "attention.query", "weight"]; LayerNorm/bias leaves keep their names. */
function splitLayerName(name: string): [owner: string, sublayer: string, leaf: string] | null {
  const m = /^((?:layers|groups)\.[^.]+)\.((?:attention|ffn)\.[a-z]+)\.(kernel|bias|weight)$/.exec(name);
  return m ? [m[1]!, m[2]!, m[3] === "kernel" ? "weight" : m[3]!] : null;
}

/** `transform.kernel` → `transform.weight`, `kernel` → `weight`. */
function leafName(name: string): string {
  return name.replace(/(^|\.)kernel$/, "$1weight");
}

function embeddingsRename(prefix: string, withSegments: boolean): Rename {
  return (n) =>
    ({
      "embeddings.word": `${prefix}embeddings.word_embeddings.weight`,
      "embeddings.position": `${prefix}embeddings.position_embeddings.weight`,
      ...(withSegments ? { "embeddings.segment": `${prefix}embeddings.token_type_embeddings.weight` } : {}),
      "embeddings.norm.weight": `${prefix}embeddings.LayerNorm.weight`,
      "embeddings.norm.bias": `${prefix}embeddings.LayerNorm.bias`,
    })[n] ?? null;
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
  const base = options.withoutHeads ? "" : `${family}.`;
  let ownLayer: (index: string) => string;
  let group: (owner: string) => string = (owner) => owner;
  switch (family) {
    case "bert":
    case "roberta":
      ownLayer = (index) => `${base}encoder.layer.${index}`;
      break;
    case "distilbert":
      ownLayer = (index) => `${base}transformer.layer.${index}`;
      break;
    case "albert": {
      const groupIndex = albertGroups(model);
      // A layer that owns its sublayers fits ALBERT only as a group of its own: then the layer's index is the group's.
      const layerGroup = typeof groupIndex === "string" ? (index: string) => `layers.${index}` : (index: string) => index;
      ownLayer = (index) => `${base}encoder.albert_layer_groups.${layerGroup(index)}.albert_layers.0`;
      group = (owner) => `${base}encoder.albert_layer_groups.${typeof groupIndex === "string" ? owner : groupIndex.get(owner)}.albert_layers.0`;
      break;
    }
  }
  return { ownLayer, owner: (owner) => (owner.startsWith("layers.") ? ownLayer(owner.slice("layers.".length)) : group(owner)) };
}

export function hfNaming(model: ResolvedModel, options: { withoutHeads?: boolean } = {}): HfNaming {
  const family = hfFamily(model);
  const base = options.withoutHeads ? "" : `${family}.`;
  const layerPrefix = hfLayerPrefix(model, options).owner;
  const table = parameterTable(model);
  let unrepresentable: string | null = null;
  let rename: Rename;
  let tiedAliases: Record<string, string> = {};

  switch (family) {
    case "bert":
    case "roberta": {
      const embed = embeddingsRename(base, true);
      const head = family === "bert" ? "cls.predictions" : "lm_head";
      rename = (n) => {
        const layer = splitLayerName(n);
        if (layer) return `${layerPrefix(layer[0])}.${BERT_LAYER[layer[1]]}.${layer[2]}`;
        if (n.startsWith("pooler.")) return `${base}pooler.dense.${leafName(n.slice("pooler.".length))}`;
        if (family === "bert") {
          if (n.startsWith("heads.mlm.transform.")) return `cls.predictions.transform.dense.${leafName(n.slice(20))}`;
          if (n.startsWith("heads.mlm.norm.")) return `cls.predictions.transform.LayerNorm.${n.slice(15)}`;
          if (n.startsWith("heads.nsp.")) return `cls.seq_relationship.${leafName(n.slice(10))}`;
        } else {
          if (n.startsWith("heads.mlm.transform.")) return `lm_head.dense.${leafName(n.slice(20))}`;
          if (n.startsWith("heads.mlm.norm.")) return `lm_head.layer_norm.${n.slice(15)}`;
        }
        if (n === "heads.mlm.bias") return `${head}.bias`;
        return embed(n);
      };
      tiedAliases = { [`${head}.decoder.weight`]: `${base}embeddings.word_embeddings.weight`, [`${head}.decoder.bias`]: `${head}.bias` };
      if (family === "roberta" && model.pooler === "tanh") unrepresentable = "RobertaForMaskedLM has no pooler";
      if (family === "roberta" && (objective(model, "nsp") || objective(model, "sop"))) unrepresentable = "RobertaForMaskedLM has no sentence-pair head";
      break;
    }
    case "albert": {
      const embed = embeddingsRename(base, true);
      const groupIndex = albertGroups(model);
      if (typeof groupIndex === "string") unrepresentable = groupIndex;
      rename = (n) => {
        const layer = splitLayerName(n);
        if (layer) return `${layerPrefix(layer[0])}.${ALBERT_LAYER[layer[1]]}.${layer[2]}`;
        if (n.startsWith("embeddings.projection.")) return `${base}encoder.embedding_hidden_mapping_in.${leafName(n.slice(22))}`;
        if (n.startsWith("pooler.")) return `${base}pooler.${leafName(n.slice(7))}`;
        if (n.startsWith("heads.mlm.transform.")) return `predictions.dense.${leafName(n.slice(20))}`;
        if (n.startsWith("heads.mlm.norm.")) return `predictions.LayerNorm.${n.slice(15)}`;
        if (n === "heads.mlm.bias") return "predictions.bias";
        if (n.startsWith("heads.sop.")) return `sop_classifier.classifier.${leafName(n.slice(10))}`;
        return embed(n);
      };
      tiedAliases = { "predictions.decoder.weight": `${base}embeddings.word_embeddings.weight`, "predictions.decoder.bias": "predictions.bias" };
      if (objective(model, "nsp")) unrepresentable = "AlbertForPreTraining has no NSP head";
      break;
    }
    case "distilbert": {
      const embed = embeddingsRename(base, false);
      rename = (n) => {
        const layer = splitLayerName(n);
        if (layer) return `${layerPrefix(layer[0])}.${DISTIL_LAYER[layer[1]]}.${layer[2]}`;
        if (n.startsWith("heads.mlm.transform.")) return `vocab_transform.${leafName(n.slice(20))}`;
        if (n.startsWith("heads.mlm.norm.")) return `vocab_layer_norm.${n.slice(15)}`;
        if (n === "heads.mlm.bias") return "vocab_projector.bias";
        return embed(n);
      };
      tiedAliases = { "vocab_projector.weight": `${base}embeddings.word_embeddings.weight` };
      if (model.pooler === "tanh") unrepresentable = "DistilBERT has no pooler";
      break;
    }
  }

  const names: HfName[] = [];
  for (const spec of table) {
    const hf = rename(spec.name);
    if (hf === null) {
      unrepresentable ??= `no Hugging Face ${family} name for ${spec.name}`;
      continue;
    }
    names.push({ name: spec.name, hf, transpose: isKernel(spec) });
  }
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
    if (group && group.share.length !== 2) return `ALBERT layer groups share attention and FFN together; group '${group.name}' shares only ${group.share.join(", ")}`;
    owners.push(group ? `groups.${group.name}` : `layers.${layer}`);
  }
  const distinct = [...new Set(owners)];
  const per = model.layers / distinct.length;
  const index = new Map(distinct.map((o, i) => [o, i]));
  const fits = Number.isInteger(per) && owners.every((o, layer) => index.get(o) === Math.floor(layer / per));
  if (!fits) return "ALBERT layer groups must be contiguous and of equal size";
  return index;
}
