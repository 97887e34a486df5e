import { tf, type Tensor2D, type Tensor3D } from "../backends/tf.js";

/**
 * Rows of `table` for `ids` ([B, S] int32 → [B, S, E]). Its gradient is the scatter-add
 * of the incoming gradient into the rows that were looked up — except the padding row,
 * whose lookup gradient is zero, as `torch.nn.Embedding(padding_idx=…)` does. (A tied MLM
 * decoder still adds its own gradient to that row: the zeroing is of the lookup only.)
 */
export function embeddingLookup(table: Tensor2D, ids: tf.Tensor2D, paddingIdx: number | null): Tensor3D {
  const [batch, seq] = ids.shape;
  const width = table.shape[1];
  const rowsInTable = table.shape[0];
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const flatIds = tf.reshape(ids, [batch * seq]) as tf.Tensor1D;
    // Kept for the backward pass: tensors made here are freed when the forward pass ends.
    save([flatIds]);
    const value = tf.reshape(tf.gather(t, flatIds), [batch, seq, width]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const used = saved[0] as tf.Tensor1D;
      let rows = tf.reshape(dy, [batch * seq, width]);
      if (paddingIdx !== null) rows = tf.mul(rows, tf.expandDims(tf.cast(tf.notEqual(used, paddingIdx), "float32"), 1));
      return tf.unsortedSegmentSum(rows, used, rowsInTable);
    };
    return { value, gradFunc };
  });
  return lookup(table) as Tensor3D;
}
