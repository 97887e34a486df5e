/**
 * Held-out masked-LM evaluation: mean cross-entropy over the predicted positions, its
 * perplexity, and accuracy (the argmax is the original token). Masks are fixed — drawn
 * from (seed, epoch 0, index) — so evaluations at different steps compare like with like.
 * Between batches it yields to the event loop, so that Ctrl-C can stop it (`shouldStop`).
 * An ELECTRA model's MLM is its generator's, the encoder with the MLM head; its discriminator
 * is evaluated on the same batches with the generator's samples in place (drawn from the
 * seed and the batch, so every evaluation sees the same corruption of the same masks):
 * replaced-token detection's loss and accuracy over the real tokens.
 */
import type { MaskingConfig } from "../../model/model.js";
import { maskExample } from "../data/masking.js";
import type { Example } from "../data/types.js";
import { maskedTokenPredictor, type AnyGraphModule, type BoundParams, type GraphInputs } from "../graph-module.js";
import { EVAL, stepRandomness, type Randomness } from "../layers/dropout.js";
import { replacedTokenLoss, replaceTokens, sampleTokens } from "../objectives/replaced-tokens.js";
import { flattenPositions } from "../layers/heads.js";
import { IGNORE } from "../objectives/cross-entropy.js";
import { selectRows } from "../objectives/select.js";
import { tf } from "../backends/tf.js";
import { collate } from "./collate.js";
import { yieldToEventLoop } from "./yield.js";

export interface MlmEvaluation {
  mlm_loss: number;
  perplexity: number;
  mlm_accuracy: number;
  predicted: number;
  examples: number;
  /** ELECTRA: the discriminator's mean BCE over real tokens, its accuracy (logit > 0 ⇔ replaced), and the share replaced. */
  rtd_loss?: number;
  rtd_accuracy?: number;
  replaced?: number;
}

/** Sequences per evaluation batch at `seq` tokens when the batch is not given: 32 at seq 128. */
const EVAL_ATTENTION_BUDGET = 32 * 128 * 128;

/**
 * Sequences per evaluation batch: 32 at seq 128 and fewer for longer ones, keeping batch ×
 * seq² (the size of every attention tensor, which the forward pass holds for each layer
 * until the batch is done) at most 32 × 128². At 32 × 512 those tensors alone needed more
 * than the wasm backends' 4 GiB; BERT-base evaluates 2 sequences of 512 at a time.
 */
export function evalBatchSize(seq: number): number {
  return Math.max(1, Math.min(32, Math.floor(EVAL_ATTENTION_BUDGET / (seq * seq))));
}

/** The evaluation, or null when `shouldStop` turned true before the last batch (no partial result). */
export async function evaluateMlm(
  graph: AnyGraphModule,
  params: BoundParams,
  examples: readonly Example[],
  masking: MaskingConfig,
  opts: { seed: number; batch: number; padId: number; withSegments: boolean; shouldStop?: () => boolean },
): Promise<MlmEvaluation | null> {
  const predictor = maskedTokenPredictor(graph, params);
  if (!predictor) throw new Error(`model '${graph.config.name}' has no MLM head to evaluate`);
  // Evaluate at the schedule's starting rate with the model's 80/10/10: the same task at every step.
  const fixed: MaskingConfig = {
    ...masking,
    rate: typeof masking.rate === "number" ? masking.rate : masking.rate.from,
    schedule: { kind: "dynamic" },
  };
  let lossSum = 0;
  let correct = 0;
  let predicted = 0;
  const rtd = { loss: 0, correct: 0, replaced: 0, tokens: 0 };
  for (let start = 0; start < examples.length; start += opts.batch) {
    await yieldToEventLoop();
    if (opts.shouldStop?.()) return null;
    const chunk = examples.slice(start, start + opts.batch).map((ex, i) =>
      maskExample(ex, fixed, {
        seed: opts.seed,
        epoch: 0,
        index: start + i,
        step: 0,
        vocab: graph.config.vocab,
        special: graph.config.special,
      }),
    );
    const batch = collate(chunk, opts.padId, null, opts.withSegments);
    try {
      const [sum, right, count] = tf.tidy(() => {
        const out = predictor.graph.encode(predictor.params, batch.x, EVAL);
        const labels = tf.reshape(batch.y.labels!, [-1]) as tf.Tensor1D;
        const keep = tf.notEqual(labels, IGNORE) as tf.Tensor1D;
        const logits = predictor.graph.mlmLogits!(predictor.params, selectRows(flattenPositions(out.lastHiddenState), keep));
        if (graph.generatorGraph)
          addReplacedTokenCounts(rtd, graph, params, batch.x, batch.y.labels!, logits, stepRandomness(opts.seed, start));
        const target = tf.cast(selectRows(labels, keep), "int32");
        const logProbs = tf.logSoftmax(logits);
        const picked = tf.sum(tf.mul(logProbs, tf.oneHot(target, graph.config.vocab)), 1);
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), target), "float32"));
        return [tf.neg(tf.sum(picked)).dataSync()[0]!, hits.dataSync()[0]!, target.shape[0]];
      });
      lossSum += sum;
      correct += right;
      predicted += count;
    } finally {
      batch.dispose();
    }
  }
  const mlmLoss = lossSum / Math.max(1, predicted);
  return {
    mlm_loss: mlmLoss,
    perplexity: Math.exp(mlmLoss),
    mlm_accuracy: correct / Math.max(1, predicted),
    predicted,
    examples: examples.length,
    ...(graph.generatorGraph
      ? {
          rtd_loss: rtd.loss / Math.max(1, rtd.tokens),
          rtd_accuracy: rtd.correct / Math.max(1, rtd.tokens),
          replaced: rtd.replaced / Math.max(1, rtd.tokens),
        }
      : {}),
  };
}

/**
 * ELECTRA's discriminator on one batch: the generator's samples (from its `logits` at the
 * labelled positions) replace the masked tokens, and the counts over real tokens add up.
 */
function addReplacedTokenCounts(
  counts: { loss: number; correct: number; replaced: number; tokens: number },
  graph: AnyGraphModule,
  params: BoundParams,
  x: GraphInputs,
  labels: tf.Tensor2D,
  generatorLogits: tf.Tensor2D,
  random: Randomness,
): void {
  const corrupted = replaceTokens(x.inputIds, labels, sampleTokens(generatorLogits, random));
  const out = graph.encode(params, { ...x, inputIds: corrupted.inputIds }, EVAL);
  const logits = graph.rtdLogits!(params, out.lastHiddenState);
  const real = tf.cast(x.attentionMask, "float32");
  const tokens = tf.sum(real).dataSync()[0]!;
  counts.loss += replacedTokenLoss(logits, corrupted.replaced, x.attentionMask).dataSync()[0]! * tokens;
  const right = tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), "float32"), corrupted.replaced), "float32");
  counts.correct += tf.sum(tf.mul(right, real)).dataSync()[0]!;
  counts.replaced += tf.sum(tf.mul(corrupted.replaced, real)).dataSync()[0]!;
  counts.tokens += tokens;
}
