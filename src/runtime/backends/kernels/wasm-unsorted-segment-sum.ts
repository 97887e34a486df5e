/**
 * UnsortedSegmentSum for the wasm backend, which lacks it: the embedding gradient is the
 * scatter-add of the incoming rows into the rows looked up. Plain JavaScript over the
 * backend's heap — one pass over the rows, no one-hot product.
 */
import { tf } from "../tf.js";
import type { WasmHeap } from "./wasm-heap.js";

export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      if (x.dtype !== "float32" || segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
        throw new Error("UnsortedSegmentSum (wasm): only float32 rows indexed by a 1-D segment id per row are supported");
      }
      const b = backend as unknown as WasmHeap;
      const inner = x.shape.slice(1).reduce((a, d) => a * d, 1);
      // Allocate first: a growing heap invalidates earlier views of it.
      const out = b.makeOutput([numSegments, ...x.shape.slice(1)], "float32");
      const values = b.typedArrayFromHeap(x) as Float32Array;
      const ids = b.typedArrayFromHeap(segmentIds) as Int32Array;
      const sums = b.typedArrayFromHeap(out) as Float32Array;
      sums.fill(0);
      for (let row = 0; row < ids.length; row++) {
        const segment = ids[row]!;
        if (segment < 0 || segment >= numSegments) continue;
        const from = row * inner;
        const to = segment * inner;
        for (let k = 0; k < inner; k++) sums[to + k]! += values[from + k]!;
      }
      return out;
    },
  });
}
