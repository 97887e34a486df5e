/**
 * Initial weights, as Hugging Face's `_init_weights` for BERT: dense kernels and
 * embeddings ~ N(0, 0.02²), biases 0, LayerNorm weight 1 and bias 0, and the word
 * embedding's padding row 0. Each tensor's draw depends only on (seed, its name), so
 * adding a parameter does not change the others.
 */
import type { WeightMap } from "./checkpoint/hf-weights.js";
import { INITIALIZER_RANGE, type ParamSpec } from "../model/parameters.js";
import { tf } from "./backends/tf.js";

export { INITIALIZER_RANGE };

/** FNV-1a of the name, mixed with the seed: a 32-bit seed per tensor. */
export function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function initialWeights(table: readonly ParamSpec[], seed: number, padId: number): WeightMap {
  const weights: WeightMap = new Map();
  for (const spec of table) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (spec.init === "normal") {
      // Not through tf.tidy: tidy walks what its function returns, element by element, and a
      // typed array of more than 2^24 values (BERT's word embeddings) overflows its Set.
      const draw = tf.randomNormal(spec.shape, 0, INITIALIZER_RANGE, "float32", tensorSeed(seed, spec.name));
      values = Float32Array.from(draw.dataSync() as Float32Array);
      draw.dispose();
      if (spec.name === "embeddings.word") values.fill(0, padId * spec.shape[1]!, (padId + 1) * spec.shape[1]!);
    } else {
      values = new Float32Array(size).fill(spec.init === "ones" ? 1 : 0);
    }
    weights.set(spec.name, { shape: [...spec.shape], values });
  }
  return weights;
}
