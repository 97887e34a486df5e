/**
 * Hugging Face's `…ForSequenceClassification` classes and where a fine-tuned classifier's
 * tensors go in them: one table, a row per family, saying either which names the pooler and
 * the head take, or why bdl's head is not the class's.
 *
 * bdl's head (model/classifier.ts) is one dense layer to the labels, on the pooler's output
 * (tanh(dense(h[CLS]))) or on the [CLS] hidden state. That is exactly BERT's and ALBERT's
 * head on their pooler; and RoBERTa's `RobertaClassificationHead` (dense, tanh, out_proj on
 * the first token, its encoder without a pooler) when the pooler's dense layer is taken as
 * `classifier.dense`: the logits are the same, and only training differs (transformers drops
 * out the first token's state before `dense` as well). DistilBERT's, ELECTRA's and
 * ModernBERT's heads have a dense layer with another activation (ReLU, GELU; ModernBERT's a
 * LayerNorm too) before the last one, which bdl's head lacks: those are refused, not written
 * with tensors transformers would initialise at random.
 */
import { CLASSIFIER_BIAS, CLASSIFIER_KERNEL, type Pooling } from "../classifier.js";
import type { ResolvedModel } from "../model.js";
import { hfNaming, type HfName } from "./names.js";
import type { HfFamily } from "./family.js";

/** Where a family's class keeps bdl's pooler dense layer and the head's dense layer. */
interface ClassifierPlaces {
  architecture: string;
  /** Prefix of the pooler's dense layer (`weight`, `bias` follow). */
  pooler: string;
  /** Prefix of the head's dense layer. */
  classifier: string;
  /** What the class's head computes, for a message. */
  head: string;
}

export const SEQUENCE_CLASSIFICATION: Record<HfFamily, ClassifierPlaces | { architecture: string; refused: string }> = {
  bert: {
    architecture: "BertForSequenceClassification",
    pooler: "bert.pooler.dense.",
    classifier: "classifier.",
    head: "a dense layer on BERT's tanh pooler",
  },
  albert: {
    architecture: "AlbertForSequenceClassification",
    pooler: "albert.pooler.",
    classifier: "classifier.",
    head: "a dense layer on ALBERT's tanh pooler",
  },
  roberta: {
    architecture: "RobertaForSequenceClassification",
    pooler: "classifier.dense.",
    classifier: "classifier.out_proj.",
    head: "dense, tanh, then out_proj on the first token's state (bdl's tanh pooler, then its dense layer)",
  },
  distilbert: {
    architecture: "DistilBertForSequenceClassification",
    refused:
      "its head is pre_classifier, ReLU, then classifier on the first token's state, and bdl's head is one dense layer (DistilBERT has no pooler)",
  },
  electra: {
    architecture: "ElectraForSequenceClassification",
    refused:
      "its head is dense, GELU, then out_proj on the first token's state, and bdl's head is one dense layer (on a tanh pooler or the [CLS] state)",
  },
  modernbert: {
    architecture: "ModernBertForSequenceClassification",
    refused: "its head is dense, activation and LayerNorm, then classifier, and bdl's head is one dense layer on the [CLS] state",
  },
};

/**
 * The transformers class of a classifier fine-tuned on `model` with `pooling`, and the
 * Hugging Face name of every tensor: the encoder's under the class prefix (no pretraining
 * heads: the class has none), the pooler's and the head's from the table. Or why there is none.
 */
export function hfClassifierNaming(model: ResolvedModel, pooling: Pooling): { architecture: string; names: HfName[] } | string {
  // The encoder alone: the pooler is named here (RoBERTa's is part of the head), the pretraining heads are left behind.
  const encoder: ResolvedModel = { ...model, pooler: "none", objectives: [] };
  const base = hfNaming(encoder);
  const row = SEQUENCE_CLASSIFICATION[base.family];
  if ("refused" in row) return `${row.architecture} does not fit: ${row.refused}`;
  if (base.unrepresentable) return base.unrepresentable;
  if (model.pooler !== "tanh")
    return `${row.architecture}'s head is ${row.head}; model '${model.name}' has no pooler (declare \`pooler tanh\` and fine-tune again)`;
  if (pooling !== "pooler")
    return `${row.architecture}'s head is ${row.head}, but the classifier was fine-tuned on the [CLS] hidden state (--pooling cls): fine-tune with --pooling pooler`;
  const dense = (ours: string, hf: string): HfName[] => [
    { name: `${ours}kernel`, hf: `${hf}weight`, transpose: true },
    { name: `${ours}bias`, hf: `${hf}bias`, transpose: false },
  ];
  const head: HfName[] = [
    ...dense("pooler.", row.pooler),
    { name: CLASSIFIER_KERNEL, hf: `${row.classifier}weight`, transpose: true },
    { name: CLASSIFIER_BIAS, hf: `${row.classifier}bias`, transpose: false },
  ];
  return { architecture: row.architecture, names: [...base.names, ...head] };
}
