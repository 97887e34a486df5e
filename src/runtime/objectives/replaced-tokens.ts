/**
 * ELECTRA's replaced-token detection (Clark et al. 2020, section 2): the generator's
 * samples take the place of the masked tokens, and the discriminator says of every token
 * whether it is still the original.
 *
 * Sampling happens on the host, from the generator's softmax in float64, with a uniform
 * draw per labelled position from a generator seeded by the step's randomness, so a step
 * replays exactly on every backend. No gradient flows through it: the samples are data.
 */
import { tf, type Scalar, type Tensor1D, type Tensor2D } from "../backends/tf.js";
import { createRng } from "../data/random.js";
import type { Randomness } from "../layers/dropout.js";
import { IGNORE } from "./cross-entropy.js";

/** One token per row of `logits` [N, V], drawn from softmax(logits): [N] int32. */
export function sampleTokens(logits: Tensor2D, random: Randomness): Tensor1D {
  const [rows, vocab] = logits.shape;
  const values = logits.dataSync();
  const rng = createRng(random.nextSeed());
  const samples = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * vocab, (r + 1) * vocab);
    let max = -Infinity;
    for (const v of row) if (v > max) max = v;
    let total = 0;
    for (const v of row) total += Math.exp(v - max);
    // The first token whose cumulative probability passes the draw.
    const target = rng() * total;
    let cumulative = 0;
    let token = vocab - 1;
    for (let i = 0; i < vocab; i++) {
      cumulative += Math.exp(row[i]! - max);
      if (cumulative > target) {
        token = i;
        break;
      }
    }
    samples[r] = token;
  }
  return tf.tensor1d(samples, "int32");
}

/** The generator samples given for the labelled positions of `generatorSamples` [B, S] (-1 elsewhere), in row-major order: [N]. */
export function givenSamples(generatorSamples: Tensor2D, labels: Tensor2D): Tensor1D {
  const given = generatorSamples.dataSync();
  const label = labels.dataSync();
  const picked: number[] = [];
  for (let i = 0; i < label.length; i++) if (label[i] !== IGNORE) picked.push(given[i]!);
  if (picked.some((id) => id < 0)) throw new Error("generator samples must be token ids at every labelled position");
  return tf.tensor1d(picked, "int32");
}

export interface ReplacedTokens {
  /** [B, S] int32: the original tokens with each labelled position's sample in place. */
  inputIds: Tensor2D;
  /** [B, S] float32: 1 where the token differs from the original (a sample equal to it counts as original). */
  replaced: Tensor2D;
}

/**
 * The discriminator's input: the original sequence (`labels` where set, the input token
 * elsewhere) with `samples` [N] at the N labelled positions, in row-major order.
 */
export function replaceTokens(inputIds: Tensor2D, labels: Tensor2D, samples: Tensor1D): ReplacedTokens {
  const [batch, seq] = inputIds.shape;
  const ids = inputIds.dataSync();
  const label = labels.dataSync();
  const sample = samples.dataSync();
  const out = new Int32Array(ids.length);
  const replaced = new Float32Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    if (label[i] === IGNORE) {
      out[i] = ids[i]!;
      continue;
    }
    out[i] = sample[n++]!;
    replaced[i] = out[i] === label[i] ? 0 : 1;
  }
  if (n !== sample.length) throw new Error(`internal error: ${sample.length} samples for ${n} labelled positions`);
  return { inputIds: tf.tensor2d(out, [batch, seq], "int32"), replaced: tf.tensor2d(replaced, [batch, seq]) };
}

/**
 * Mean binary cross-entropy with logits of the per-token logits [B, S] against `replaced`,
 * over the real tokens (`attentionMask` 1), as ElectraForPreTraining's loss:
 * max(x, 0) − x·y + log(1 + e^−|x|).
 */
export function replacedTokenLoss(logits: Tensor2D, replaced: Tensor2D, attentionMask: Tensor2D): Scalar {
  const mask = tf.cast(attentionMask, "float32");
  const perToken = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, replaced)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.div(tf.sum(tf.mul(perToken, mask)), tf.sum(mask)) as Scalar;
}
