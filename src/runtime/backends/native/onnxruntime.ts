/**
 * onnxruntime-node, loaded only if installed (an optional dependency): its CPU kernels
 * (MLAS) are multi-threaded native code shipped inside the npm package. bdl uses its
 * synchronous session binding directly — the public `InferenceSession.run` only wraps the
 * same call in a Promise, and a tfjs kernel must return synchronously.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { onnxModel, type GraphSpec } from "./onnx-model.js";

const require = createRequire(import.meta.url);

/** A float32 tensor as onnxruntime's binding reads and writes it (data may be a view). */
export interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

interface OrtTensorConstructor {
  new (type: "float32", data: Float32Array, dims: readonly number[]): OrtTensor;
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor>, options: object): Record<string, OrtTensor>;
  dispose(): void;
}

interface Binding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

export interface OnnxRuntime {
  Tensor: OrtTensorConstructor;
  /** Compiles a graph into a session that runs synchronously. */
  session(graph: GraphSpec): NativeSession;
}

let loaded: OnnxRuntime | null | undefined;

/** The runtime, or null when onnxruntime-node is not installed (or fails to load here). */
export function loadOnnxRuntime(): OnnxRuntime | null {
  if (loaded !== undefined) return loaded;
  try {
    const { Tensor } = require("onnxruntime-node") as {
      Tensor: OrtTensorConstructor;
    };
    const { binding, initOrt } = require("onnxruntime-node/dist/binding.js") as Binding;
    initOrt();
    const threads = Math.max(1, availableParallelism());
    loaded = {
      Tensor,
      session(graph) {
        const bytes = onnxModel(graph);
        const session = new binding.InferenceSession();
        session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: "all",
          // Without this its worker threads spin after each call, stealing the cores that
          // the JavaScript thread needs for the ops between products: bench mini trained
          // at 630 tokens/s with spinning, 3,300 without.
          extra: { session: { intra_op: { allow_spinning: "0" } } },
        });
        return session;
      },
    };
  } catch {
    loaded = null;
  }
  return loaded;
}
