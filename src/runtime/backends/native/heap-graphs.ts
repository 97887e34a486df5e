/**
 * Small onnxruntime graphs run over tensors in the wasm heap: one session per graph shape
 * (created on first use, kept for the process), fed with views of the inputs and writing
 * straight into a new output tensor's memory — nothing is copied on the JavaScript side.
 */
import type { tf } from "../tf.js";
import type { WasmHeap } from "../kernels/wasm-heap.js";
import { nativeCounters } from "./limits.js";
import type { GraphSpec } from "./onnx-model.js";
import type { OnnxRuntime, OrtTensor } from "./onnxruntime.js";

/** The name every such graph gives its one output. */
export const OUTPUT = "out";

export class HeapGraphs {
  private readonly sessions = new Map<string, ReturnType<OnnxRuntime["session"]>>();

  constructor(private readonly ort: OnnxRuntime) {}

  /** Runs the graph known as `id` (built by `graph` the first time) on float32 `inputs`, into a new tensor of `shape`. */
  run(backend: WasmHeap, id: string, graph: () => GraphSpec, inputs: Record<string, tf.TensorInfo>, shape: number[]): tf.TensorInfo {
    let session = this.sessions.get(id);
    if (!session) this.sessions.set(id, (session = this.ort.session(graph())));
    // Allocate first: a growing heap detaches views taken before.
    const out = backend.makeOutput(shape, "float32");
    const view = (t: tf.TensorInfo): OrtTensor => new this.ort.Tensor("float32", backend.typedArrayFromHeap(t) as Float32Array, t.shape);
    const feeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(inputs)) feeds[name] = view(t);
    session.run(feeds, { [OUTPUT]: view(out) }, {});
    nativeCounters.calls++;
    return out;
  }
}
