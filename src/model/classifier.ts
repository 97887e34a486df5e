/**
 * A fine-tuned sequence classifier's head, beside the encoder's parameter table: its two
 * tensors' names and shapes, and what its input is. The runtime trains it
 * (runtime/train/finetune.ts); `model/hf/classifier.ts` names it for Hugging Face.
 */

/** The head's dense layer, [hidden, labels] and [labels], under names no encoder parameter has. */
export const CLASSIFIER_KERNEL = "classifier.kernel";
export const CLASSIFIER_BIAS = "classifier.bias";

/** What the head reads: the pooler's output when the model has a pooler, else the [CLS] hidden state. */
export const POOLINGS = ["pooler", "cls"] as const;
export type Pooling = (typeof POOLINGS)[number];

/** The head's tensors for `labels` classes on a `hidden`-wide encoder. */
export function classifierHeadShapes(hidden: number, labels: number): { name: string; shape: number[] }[] {
  return [
    { name: CLASSIFIER_KERNEL, shape: [hidden, labels] },
    { name: CLASSIFIER_BIAS, shape: [labels] },
  ];
}
