/**
 * Hugging Face's `…ForSequenceClassification` classes and where a fine-tuned classifier's
 * tensors go in them: one table, a row per family, saying which of bdl's heads
 * (model/classifier.ts) the class's head is, what it reads, and the name of each layer.
 *
 *   BERT, ALBERT   `dense` on the tanh pooler: the pooler, then `classifier`
 *   RoBERTa        `dense` on the tanh pooler: `RobertaClassificationHead` (dense, tanh,
 *                  out_proj on the first token, its encoder without a pooler) when the
 *                  pooler's dense layer is taken as `classifier.dense`; the logits are the
 *                  same, and only training differs (transformers drops out the first token's
 *                  state before `dense` as well)
 *   DistilBERT     `dense-relu` on the first token: `pre_classifier`, ReLU, `classifier`
 *   ELECTRA        `dense-gelu` on the first token: `ElectraClassificationHead`'s `dense`,
 *                  GELU, `out_proj`
 *   ModernBERT     `dense-norm` on the first token (`classifier_pooling` "cls"):
 *                  `ModernBertPredictionHead`'s `dense`, activation and `norm` as `head`, then
 *                  `classifier`
 *
 * A family's fine-tuned head is the class's (`classifierHeadFor`), so what fine-tuning saves
 * is what the class computes; a classifier with another head or input is refused, saying why,
 * never written with tensors transformers would initialise at random.
 */
import { CLASSIFIER_DENSE, CLASSIFIER_NORM, classifierHeadLayers, type HeadKind, type Pooling } from "../classifier.js";
import { discriminatorModel } from "../generator.js";
import type { ResolvedModel } from "../model.js";
import { FAMILY_NAME, hfFamily, type HfFamily } from "./family.js";
import { hfNaming, type HfName } from "./names.js";

interface ClassifierClass {
  architecture: string;
  /** bdl's head that is the class's head. */
  head: HeadKind;
  /** What the class's head reads: the encoder's pooler, or the first token's hidden state. */
  pooling: Pooling;
  /** Where the class keeps each layer, by the prefix of its tensors in bdl (`pooler`, `classifier.dense`, …). */
  places: Record<string, string>;
  /** What the class's head computes, for a message. */
  computes: string;
}

export const SEQUENCE_CLASSIFICATION: Record<HfFamily, ClassifierClass> = {
  bert: {
    architecture: "BertForSequenceClassification",
    head: "dense",
    pooling: "pooler",
    places: { pooler: "bert.pooler.dense", classifier: "classifier" },
    computes: "a dense layer on BERT's tanh pooler",
  },
  albert: {
    architecture: "AlbertForSequenceClassification",
    head: "dense",
    pooling: "pooler",
    places: { pooler: "albert.pooler", classifier: "classifier" },
    computes: "a dense layer on ALBERT's tanh pooler",
  },
  roberta: {
    architecture: "RobertaForSequenceClassification",
    head: "dense",
    pooling: "pooler",
    places: { pooler: "classifier.dense", classifier: "classifier.out_proj" },
    computes: "dense, tanh, then out_proj on the first token's state (bdl's tanh pooler, then its dense layer)",
  },
  distilbert: {
    architecture: "DistilBertForSequenceClassification",
    head: "dense-relu",
    pooling: "cls",
    places: { [CLASSIFIER_DENSE]: "pre_classifier", classifier: "classifier" },
    computes: "pre_classifier, ReLU, then classifier on the first token's state",
  },
  electra: {
    architecture: "ElectraForSequenceClassification",
    head: "dense-gelu",
    pooling: "cls",
    places: { [CLASSIFIER_DENSE]: "classifier.dense", classifier: "classifier.out_proj" },
    computes: "dense, GELU, then out_proj on the first token's state",
  },
  modernbert: {
    architecture: "ModernBertForSequenceClassification",
    head: "dense-norm",
    pooling: "cls",
    places: { [CLASSIFIER_DENSE]: "head.dense", [CLASSIFIER_NORM]: "head.norm", classifier: "classifier" },
    computes: "dense, activation and LayerNorm (its prediction head), then classifier on the first token's state",
  },
};

/** How a message says what a head computes. */
export const HEAD_DESCRIPTION: Record<HeadKind, string> = {
  dense: "one dense layer",
  "dense-relu": "dense, ReLU, then a dense layer",
  "dense-gelu": "dense, GELU, then a dense layer",
  "dense-norm": "dense, activation, LayerNorm, then a dense layer",
};

/** The encoder a classifier of `model` is fine-tuned on: the model, or for a model with a generator its discriminator. */
export function classifierEncoder(model: ResolvedModel): ResolvedModel {
  return model.generator ? discriminatorModel(model) : model;
}

/**
 * The model a classifier read from its family's `…ForSequenceClassification` folder (`bdlc
 * import-hf`) is saved with: the encoder the class holds (for a model with a generator, the
 * discriminator), without the pretraining heads and the `expect` lines that count them, and
 * without a pooler the class does not read, so that the folder holds every tensor it has.
 * Its classifier is exported as the same class, with the same tensors and config.json.
 */
export function importedClassifierModel(model: ResolvedModel): ResolvedModel {
  const encoder = classifierEncoder(model);
  const row = SEQUENCE_CLASSIFICATION[hfFamily(encoder)];
  return { ...encoder, objectives: [], expect: [], ...(row.pooling === "cls" ? { pooler: "none" as const } : {}) };
}

/** The head fine-tuning gives a classifier of `model`: its family's class's. */
export function classifierHeadFor(model: ResolvedModel): HeadKind {
  return SEQUENCE_CLASSIFICATION[hfFamily(classifierEncoder(model))].head;
}

/**
 * The transformers class of a classifier fine-tuned on `model` with `pooling` and a `head`
 * head, and the Hugging Face name of every tensor: the encoder's under the class prefix (no
 * pretraining heads and no generator: the class has neither), the pooler's and the head's
 * from the table. Or why there is none.
 */
export function hfClassifierNaming(
  model: ResolvedModel,
  pooling: Pooling,
  head: HeadKind,
): { architecture: string; names: HfName[] } | string {
  // The encoder alone: the pooler is named here (RoBERTa's is part of the head), the pretraining heads are left behind.
  const encoder: ResolvedModel = { ...classifierEncoder(model), pooler: "none", objectives: [] };
  const base = hfNaming(encoder);
  const row = SEQUENCE_CLASSIFICATION[base.family];
  if (base.unrepresentable) return base.unrepresentable;
  if (head !== row.head)
    return `${row.architecture}'s head is ${row.computes}, but the classifier's head is ${HEAD_DESCRIPTION[head]}${head === "dense" ? ` (as bdl fine-tuned ${FAMILY_NAME[base.family]} models before it had the class's head): fine-tune again` : ""}`;
  if (row.pooling === "pooler") {
    if (model.pooler !== "tanh")
      return `${row.architecture}'s head is ${row.computes}; model '${model.name}' has no pooler (declare \`pooler tanh\` and fine-tune again)`;
    if (pooling !== "pooler")
      return `${row.architecture}'s head is ${row.computes}, but the classifier was fine-tuned on the [CLS] hidden state (--pooling cls): fine-tune with --pooling pooler`;
  } else if (pooling !== "cls") {
    return `${row.architecture}'s head is ${row.computes}, but the classifier was fine-tuned on the pooler's output (--pooling pooler): fine-tune with --pooling cls`;
  }
  const place = (prefix: string): string => {
    const hf = row.places[prefix];
    if (hf === undefined) throw new Error(`no Hugging Face place for the classifier's '${prefix}' in ${row.architecture}`);
    return hf;
  };
  const names: HfName[] = [];
  const dense = (prefix: string, bias: boolean) => {
    names.push({ name: `${prefix}.kernel`, hf: `${place(prefix)}.weight`, transpose: true });
    if (bias) names.push({ name: `${prefix}.bias`, hf: `${place(prefix)}.bias`, transpose: false });
  };
  if (row.pooling === "pooler") dense("pooler", true);
  for (const l of classifierHeadLayers(encoder, head)) {
    if (l.layer === "dense") dense(l.prefix, l.bias);
    else {
      names.push({ name: `${l.prefix}.weight`, hf: `${place(l.prefix)}.weight`, transpose: false });
      if (l.bias) names.push({ name: `${l.prefix}.bias`, hf: `${place(l.prefix)}.bias`, transpose: false });
    }
  }
  return { architecture: row.architecture, names: [...base.names, ...names] };
}
