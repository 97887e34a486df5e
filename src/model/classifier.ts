/**
 * A fine-tuned sequence classifier's head, beside the encoder's parameter table: its kinds,
 * its layers and their tensors' names and shapes, and what its input is. The runtime trains
 * it (runtime/train/finetune.ts); `model/hf/classifier.ts` says which kind each family's
 * `…ForSequenceClassification` has and names it for Hugging Face.
 */
import { hasBias, type ResolvedModel } from "./model.js";
import type { ParamSpec } from "./parameters.js";

/**
 * What the head computes on the pooled input p (dropout is the model's `dropout`):
 *
 *   dense        logits = out(dropout(p))                              BERT, ALBERT, RoBERTa (p: the tanh pooler)
 *   dense-relu   logits = out(dropout(relu(dense(p))))                 DistilBERT's pre_classifier
 *   dense-gelu   logits = out(dropout(gelu(dense(dropout(p)))))        ELECTRA's classification head (exact GELU)
 *   dense-norm   logits = out(dropout(norm(act(dense(p)))))            ModernBERT's prediction head
 *
 * `dense` is H → H, `out` H → labels. ModernBERT's `dense` has a bias only with
 * `classifier_bias`, its `norm` (eps `norm_eps`) only with `norm_bias`, and `act` is the
 * model's activation: the same settings as its MLM head's transform, as transformers reads
 * one `classifier_bias` and `classifier_activation` for both.
 */
export const HEAD_KINDS = ["dense", "dense-relu", "dense-gelu", "dense-norm"] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/** The head of a classifier whose record names none: every classifier saved before there were other kinds. */
export const DEFAULT_HEAD: HeadKind = "dense";

/** The last dense layer, [hidden, labels] and [labels], under names no encoder parameter has. */
export const CLASSIFIER_KERNEL = "classifier.kernel";
export const CLASSIFIER_BIAS = "classifier.bias";
/** The hidden dense layer (H → H) of every kind but `dense`, and ModernBERT's LayerNorm after it. */
export const CLASSIFIER_DENSE = "classifier.dense";
export const CLASSIFIER_NORM = "classifier.norm";

/** What the head reads: the pooler's output when the model has a pooler, else the [CLS] hidden state. */
export const POOLINGS = ["pooler", "cls"] as const;
export type Pooling = (typeof POOLINGS)[number];

/** One layer of the head: a dense layer (`prefix.kernel`, `prefix.bias`) or a LayerNorm (`prefix.weight`, `prefix.bias`). */
export type HeadLayer =
  | { layer: "dense"; prefix: string; inputs: number; outputs: number | "labels"; bias: boolean }
  | { layer: "norm"; prefix: string; width: number; bias: boolean };

type HeadModel = Pick<ResolvedModel, "hidden" | "attention_bias" | "mlp_bias" | "norm_bias" | "classifier_bias" | "decoder_bias">;

/** The layers of a `kind` head on `model`'s encoder, input first. */
export function classifierHeadLayers(model: HeadModel, kind: HeadKind): HeadLayer[] {
  const H = model.hidden;
  const out: HeadLayer = { layer: "dense", prefix: "classifier", inputs: H, outputs: "labels", bias: true };
  switch (kind) {
    case "dense":
      return [out];
    case "dense-relu":
    case "dense-gelu":
      return [{ layer: "dense", prefix: CLASSIFIER_DENSE, inputs: H, outputs: H, bias: true }, out];
    case "dense-norm":
      return [
        { layer: "dense", prefix: CLASSIFIER_DENSE, inputs: H, outputs: H, bias: hasBias(model, "classifier") },
        { layer: "norm", prefix: CLASSIFIER_NORM, width: H, bias: hasBias(model, "norm") },
        out,
      ];
  }
}

/**
 * The head's tensors for `labels` classes, as the parameter table's entries: kernels N(0, 0.02²)
 * with weight decay, biases zeros and LayerNorm weights ones without.
 */
export function classifierHeadTable(model: HeadModel, kind: HeadKind, labels: number): ParamSpec[] {
  const table: ParamSpec[] = [];
  const add = (name: string, shape: number[], init: ParamSpec["init"]) =>
    table.push({ name, shape, init, group: null, decay: init === "normal" });
  for (const l of classifierHeadLayers(model, kind)) {
    if (l.layer === "dense") {
      const outputs = l.outputs === "labels" ? labels : l.outputs;
      add(`${l.prefix}.kernel`, [l.inputs, outputs], "normal");
      if (l.bias) add(`${l.prefix}.bias`, [outputs], "zeros");
    } else {
      add(`${l.prefix}.weight`, [l.width], "ones");
      if (l.bias) add(`${l.prefix}.bias`, [l.width], "zeros");
    }
  }
  return table;
}

/** The names of a `kind` head's tensors on `model` (they do not depend on the number of labels). */
export function classifierHeadNames(model: HeadModel, kind: HeadKind): string[] {
  return classifierHeadTable(model, kind, 0).map((spec) => spec.name);
}
