import type { tf } from "../tf.js";

/**
 * What bdl's own kernels use of tfjs-backend-wasm's BackendWasm: every tensor's data lives
 * in the module's heap, and these give views of it.
 */
export interface WasmHeap {
  /** A new tensor of `shape` in the heap. Allocate before taking views: a growing heap detaches them. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
}
