/** Token + position (+ segment) embeddings, LayerNorm, dropout, and ALBERT's E→H projection. */
import { tf, type Tensor2D, type Tensor3D } from "../backends/tf.js";
import { dense, type DenseParams } from "./dense.js";
import { dropout, type Randomness } from "./dropout.js";
import { embeddingLookup } from "./embedding-lookup.js";
import { layerNorm, type LayerNormParams } from "./layer-norm.js";

export interface EmbeddingParams {
  word: Tensor2D;
  /** Null with rotary positions, which attention applies instead. */
  position: Tensor2D | null;
  /** Null when the model has no segment embeddings (`segments 0`). */
  segment: Tensor2D | null;
  norm: LayerNormParams;
}

export interface EmbeddingOptions {
  normEps: number;
  dropout: number;
  /** Word-embedding row whose lookup gets no gradient (the pad id), as in Hugging Face. */
  padId: number;
  /** Position-embedding row that gets no lookup gradient: RoBERTa's padding row; null for BERT. */
  positionPadId: number | null;
}

export interface PositionOptions {
  /** The first real token's position: 0 for BERT, padding_idx + 1 for RoBERTa. */
  offset: number;
  /** The token id of padding, which counts no position when there is an offset. */
  padId: number;
}

/**
 * Position ids. With offset 0 (BERT): 0, 1, 2, … With an offset (RoBERTa: padding_idx + 1 = 2),
 * real tokens count up from the offset and padding tokens get offset − 1, as Hugging Face's
 * `create_position_ids_from_input_ids` does.
 */
export function positionIds(inputIds: tf.Tensor2D, { offset, padId }: PositionOptions, documentIds?: tf.Tensor2D): tf.Tensor2D {
  const [batch, seq] = inputIds.shape;
  if (documentIds) return documentPositions(inputIds, documentIds, { offset, padId });
  if (offset === 0) return tf.tile(tf.expandDims(tf.range(0, seq, 1, "int32"), 0), [batch, 1]) as tf.Tensor2D;
  const real = tf.cast(tf.notEqual(inputIds, padId), "int32");
  // cumsum(real) · real + (offset − 1): 1-based count of real tokens, shifted past the pad row.
  // An int32 scalar: adding a plain number would promote the ids to float32.
  return tf.add(tf.mul(tf.cumsum(real, 1), real), tf.scalar(offset - 1, "int32")) as tf.Tensor2D;
}

/**
 * Position ids of packed documents: each document counts from the start, as if alone in the
 * sequence (from `offset` for its real tokens, padding at offset − 1 when there is one).
 */
function documentPositions(inputIds: tf.Tensor2D, documentIds: tf.Tensor2D, { offset, padId }: PositionOptions): tf.Tensor2D {
  const [batch, seq] = inputIds.shape;
  const ids = inputIds.dataSync();
  const docs = documentIds.dataSync();
  const out = new Int32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    let position = 0;
    for (let i = 0; i < seq; i++) {
      const at = b * seq + i;
      if (i > 0 && docs[at] !== docs[at - 1]) position = 0;
      out[at] = offset > 0 && ids[at] === padId ? offset - 1 : offset + position++;
    }
  }
  return tf.tensor2d(out, [batch, seq], "int32");
}

/** [B, S] ids → [B, S, E] (E = factorized width or hidden). */
export function embeddings(
  p: EmbeddingParams,
  inputIds: tf.Tensor2D,
  tokenTypeIds: tf.Tensor2D | null,
  positions: tf.Tensor2D | null,
  options: EmbeddingOptions,
  random: Randomness,
): Tensor3D {
  let sum = embeddingLookup(p.word, inputIds, options.padId);
  if (p.position && positions) sum = tf.add(sum, embeddingLookup(p.position, positions, options.positionPadId));
  if (p.segment) {
    const types = tokenTypeIds ?? tf.zerosLike(inputIds);
    sum = tf.add(sum, embeddingLookup(p.segment, types, null));
  }
  return dropout(layerNorm(sum as Tensor3D, p.norm, options.normEps), options.dropout, random);
}

/** ALBERT's `embedding_hidden_mapping_in`: [B, S, E] → [B, S, H]. */
export function projectEmbeddings(x: Tensor3D, p: DenseParams): Tensor3D {
  return dense(x, p);
}
