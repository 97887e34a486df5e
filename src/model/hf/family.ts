/**
 * The Hugging Face families bdl reads and writes, and what each family fixes: which family
 * a model belongs to, its classes (base model, pretraining heads), its display name and its
 * standard tokenizer.
 */
import { attentionConfig, objective, type ObjectiveName, type Pooler, type ResolvedModel, type TokenizerKind } from "../model.js";

export const HF_FAMILIES = ["bert", "roberta", "albert", "distilbert", "modernbert", "electra"] as const;
export type HfFamily = (typeof HF_FAMILIES)[number];

/**
 * Which family's layout a model has: a generator (or one of its pair, see generator.ts) → ELECTRA; rotary positions → ModernBERT; factorized embeddings
 * or layer sharing → ALBERT; no segment embeddings → DistilBERT; a position offset →
 * RoBERTa; otherwise BERT.
 */
export function hfFamily(model: ResolvedModel): HfFamily {
  if (model.generator || model.electra) return "electra";
  if (attentionConfig(model).rotary !== null) return "modernbert";
  if (model.embeddings.factorize !== null || model.sharing.length > 0) return "albert";
  if (model.embeddings.segments === 0) return "distilbert";
  if (model.embeddings.offset > 0) return "roberta";
  return "bert";
}

/** The family a config's `model_type` names, or null when it names none bdl reads. */
export function familyOfModelType(modelType: unknown): HfFamily | null {
  return typeof modelType === "string" && (HF_FAMILIES as readonly string[]).includes(modelType) ? (modelType as HfFamily) : null;
}

/** The class a config with no `architectures` stands for. */
export const BASE_CLASS: Record<HfFamily, string> = {
  bert: "BertModel",
  roberta: "RobertaModel",
  albert: "AlbertModel",
  distilbert: "DistilBertModel",
  modernbert: "ModernBertModel",
  electra: "ElectraModel",
};
export const FAMILY_NAME: Record<HfFamily, string> = {
  bert: "BERT",
  roberta: "RoBERTa",
  albert: "ALBERT",
  distilbert: "DistilBERT",
  modernbert: "ModernBERT",
  electra: "ELECTRA",
};
export const TOKENIZER: Record<HfFamily, TokenizerKind> = {
  bert: "wordpiece",
  roberta: "bpe",
  albert: "sentencepiece",
  distilbert: "wordpiece",
  modernbert: "bpe",
  electra: "wordpiece",
};

/** The classes each family supports, with the pooler and pretraining objectives each has. */
export const ARCHITECTURES: Record<HfFamily, Record<string, { pooler: Pooler; objectives: ObjectiveName[] }>> = {
  bert: {
    BertForPreTraining: { pooler: "tanh", objectives: ["mlm", "nsp"] },
    BertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    BertModel: { pooler: "tanh", objectives: [] },
  },
  roberta: {
    RobertaForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    RobertaModel: { pooler: "none", objectives: [] },
  },
  albert: {
    AlbertForPreTraining: { pooler: "tanh", objectives: ["mlm", "sop"] },
    AlbertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    AlbertModel: { pooler: "tanh", objectives: [] },
  },
  distilbert: {
    DistilBertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    DistilBertModel: { pooler: "none", objectives: [] },
  },
  modernbert: {
    ModernBertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    ModernBertModel: { pooler: "none", objectives: [] },
  },
  // One of the pair (generator.ts): the generator's class, the discriminator's, or the base model.
  electra: {
    ElectraForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    ElectraForPreTraining: { pooler: "none", objectives: ["rtd"] },
    ElectraModel: { pooler: "none", objectives: [] },
  },
};

/** The transformers class for the model's pooler and heads, or why there is none. */
export function hfArchitecture(model: ResolvedModel, family: HfFamily): { name: string; base: boolean } | string {
  const mlm = Boolean(objective(model, "mlm"));
  const nsp = Boolean(objective(model, "nsp"));
  const sop = Boolean(objective(model, "sop"));
  const tanh = model.pooler === "tanh";
  switch (family) {
    case "bert":
      if (sop) return "BERT classes have no sentence-order (sop) head";
      if (mlm && nsp && tanh) return { name: "BertForPreTraining", base: false };
      if (mlm && !nsp && !tanh) return { name: "BertForMaskedLM", base: false };
      if (!mlm && !nsp && tanh) return { name: "BertModel", base: true };
      if (mlm && !nsp) return "BertForMaskedLM has no pooler and BertForPreTraining needs an nsp head: declare `pooler none` or add nsp";
      if (!mlm && nsp) return "BertForPreTraining needs an mlm head besides nsp";
      return "BertModel always has a pooler: declare `pooler tanh`";
    case "roberta":
      if (mlm) return { name: "RobertaForMaskedLM", base: false };
      return "RobertaModel always has a pooler, which a RoBERTa-style model (positions with an offset) cannot declare; add mlm";
    case "albert":
      if (nsp) return "ALBERT classes have no nsp head";
      if (mlm && sop && tanh) return { name: "AlbertForPreTraining", base: false };
      if (mlm && !sop && !tanh) return { name: "AlbertForMaskedLM", base: false };
      if (!mlm && !sop && tanh) return { name: "AlbertModel", base: true };
      if (mlm && !sop) return "AlbertForMaskedLM has no pooler and AlbertForPreTraining needs a sop head: declare `pooler none` or add sop";
      if (!mlm && sop) return "AlbertForPreTraining needs an mlm head besides sop";
      return "AlbertModel always has a pooler: declare `pooler tanh`";
    case "distilbert":
      if (nsp || sop) return "DistilBERT classes have no sentence-pair head";
      return mlm ? { name: "DistilBertForMaskedLM", base: false } : { name: "DistilBertModel", base: true };
    case "electra":
      if (nsp || sop) return "ELECTRA classes have no sentence-pair head";
      if (tanh) return "ELECTRA classes have no tanh pooler: declare `pooler none`";
      if (model.generator) return "a model with a generator is two Hugging Face models: export each of the pair";
      if (objective(model, "rtd")) return { name: "ElectraForPreTraining", base: false };
      return mlm ? { name: "ElectraForMaskedLM", base: false } : { name: "ElectraModel", base: true };
    case "modernbert":
      if (nsp || sop) return "ModernBERT classes have no sentence-pair head";
      if (tanh) return "ModernBERT classes have no tanh pooler: declare `pooler none`";
      return mlm ? { name: "ModernBertForMaskedLM", base: false } : { name: "ModernBertModel", base: true };
  }
}
