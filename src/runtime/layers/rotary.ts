/**
 * Rotary position embeddings (RoPE; Su et al. 2021, as ModernBERT and Hugging Face apply
 * them): each head's query and key features are rotated by an angle proportional to the
 * token's position, so their dot product depends on the distance between two tokens. The
 * feature pairs are (i, i + d/2), the "rotate half" layout, at frequencies theta^(-2i/d).
 */
import { tf, type Tensor2D, type Tensor4D } from "../backends/tf.js";

/** cos and sin of every position's angles, [S, d] each: the first and second halves repeat the d/2 frequencies. */
export interface RotaryTables {
  cos: Tensor2D;
  sin: Tensor2D;
}

/**
 * The tables for positions 0..seq−1 of a head of width `headWidth` with base `theta`.
 * Computed as Hugging Face computes them in float32 — the inverse frequencies, each angle
 * as one float32 product — so the angles are the same numbers.
 */
export function rotaryTables(seq: number, headWidth: number, theta: number): RotaryTables {
  const f = Math.fround;
  const half = headWidth / 2;
  const inverse = Array.from({ length: half }, (_, i) => f(1 / f(Math.pow(theta, f(f(2 * i) / headWidth)))));
  const cos = new Float32Array(seq * headWidth);
  const sin = new Float32Array(seq * headWidth);
  for (let p = 0; p < seq; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f(p * inverse[i]!);
      for (const j of [i, i + half]) {
        cos[p * headWidth + j] = Math.cos(angle);
        sin[p * headWidth + j] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [seq, headWidth]), sin: tf.tensor2d(sin, [seq, headWidth]) };
}

/** [B, heads, S, d] → the same rotated: x·cos + rotateHalf(x)·sin, where rotateHalf(x1, x2) = (−x2, x1). */
export function applyRotary(x: Tensor4D, t: RotaryTables): Tensor4D {
  const d = x.shape[3];
  const [x1, x2] = tf.split(x, [d / 2, d / 2], 3);
  const rotated = tf.concat([tf.neg(x2!), x1!], 3);
  return tf.add(tf.mul(x, t.cos), tf.mul(rotated, t.sin));
}
