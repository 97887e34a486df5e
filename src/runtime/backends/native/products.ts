/**
 * Matrix products for the `native` backend: the wasm backend's kernels, except that
 * BatchMatMul and _FusedMatMul (product + bias + activation) run in onnxruntime's MLAS on
 * all cores. Inputs and outputs stay in the wasm heap: onnxruntime reads the operands
 * through views of it and writes the result straight into the output tensor's memory.
 */
import { tf } from "../tf.js";
import type { GraphSpec, NodeSpec } from "./onnx-model.js";
import type { WasmHeap } from "../kernels/wasm-heap.js";
import { HeapGraphs, OUTPUT } from "./heap-graphs.js";
import type { OnnxRuntime } from "./onnxruntime.js";
import { nativeLimits } from "./limits.js";
import { overrideKernel } from "./override.js";

/** Fused activations that map onto one ONNX operator (others fall back to wasm). */
const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: "Relu",
  sigmoid: "Sigmoid",
  elu: "Elu",
};

interface ProductKey {
  rankA: number;
  rankB: number;
  transposeA: boolean;
  transposeB: boolean;
  /** rank of the bias, or -1 without one */
  biasRank: number;
  activation: string;
}

function productGraph(k: ProductKey): GraphSpec {
  const dims = (prefix: string, rank: number) => Array.from({ length: rank }, (_, i) => `${prefix}${i}`);
  const nodes: NodeSpec[] = [
    {
      op: "FusedMatMul",
      domain: "com.microsoft",
      inputs: ["a", "b"],
      outputs: ["product"],
      attributes: [
        { name: "transA", int: k.transposeA ? 1 : 0 },
        { name: "transB", int: k.transposeB ? 1 : 0 },
      ],
    },
  ];
  const inputs = [
    { name: "a", dims: dims("a", k.rankA) },
    { name: "b", dims: dims("b", k.rankB) },
  ];
  let last = "product";
  if (k.biasRank >= 0) {
    nodes.push({ op: "Add", inputs: [last, "bias"], outputs: ["biased"] });
    inputs.push({ name: "bias", dims: dims("c", k.biasRank) });
    last = "biased";
  }
  const op = ACTIVATIONS[k.activation];
  if (op) {
    nodes.push({ op, inputs: [last], outputs: ["activated"] });
    last = "activated";
  }
  nodes.push({ op: "Identity", inputs: [last], outputs: [OUTPUT] });
  return {
    nodes,
    inputs,
    outputs: [{ name: OUTPUT, dims: dims("y", Math.max(k.rankA, k.rankB)) }],
  };
}

/** Output shape of a (batched, broadcasting) product, as tfjs computes it. */
function productShape(a: number[], b: number[], transposeA: boolean, transposeB: boolean): { shape: number[]; macs: number } {
  const rows = transposeA ? a[a.length - 1]! : a[a.length - 2]!;
  const inner = transposeA ? a[a.length - 2]! : a[a.length - 1]!;
  const cols = transposeB ? b[b.length - 2]! : b[b.length - 1]!;
  const outerA = a.slice(0, -2);
  const outerB = b.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const outer: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = outerA[outerA.length - rank + i] ?? 1;
    const db = outerB[outerB.length - rank + i] ?? 1;
    outer.push(Math.max(da, db));
  }
  const batch = outer.reduce((x, d) => x * d, 1);
  return { shape: [...outer, rows, cols], macs: batch * rows * inner * cols };
}

export function registerNativeProducts(ort: OnnxRuntime, backendName: string, fallbackBackend: string): void {
  const graphs = new HeapGraphs(ort);
  const run = (backend: WasmHeap, k: ProductKey, a: tf.TensorInfo, b: tf.TensorInfo, bias: tf.TensorInfo | undefined, shape: number[]) =>
    graphs.run(backend, JSON.stringify(k), () => productGraph(k), bias ? { a, b, bias } : { a, b }, shape);

  overrideKernel("BatchMatMul", backendName, fallbackBackend, (wasm) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
    };
    const { shape, macs } = productShape(a.shape, b.shape, transposeA, transposeB);
    if (macs < nativeLimits.minProductMacs || a.dtype !== "float32" || b.dtype !== "float32") return wasm(args);
    const key = {
      rankA: a.shape.length,
      rankB: b.shape.length,
      transposeA,
      transposeB,
      biasRank: -1,
      activation: "linear",
    };
    return run(args.backend as unknown as WasmHeap, key, a, b, undefined, shape);
  });

  overrideKernel("_FusedMatMul", backendName, fallbackBackend, (wasm) => (args) => {
    const { a, b, bias } = args.inputs as {
      a: tf.TensorInfo;
      b: tf.TensorInfo;
      bias?: tf.TensorInfo;
    };
    const { transposeA, transposeB, activation } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
    };
    const { shape, macs } = productShape(a.shape, b.shape, transposeA, transposeB);
    const supported = activation in ACTIVATIONS && [a, b, bias].every((t) => !t || t.dtype === "float32");
    if (macs < nativeLimits.minProductMacs || !supported) return wasm(args);
    const key = {
      rankA: a.shape.length,
      rankB: b.shape.length,
      transposeA,
      transposeB,
      biasRank: bias ? bias.shape.length : -1,
      activation,
    };
    return run(args.backend as unknown as WasmHeap, key, a, b, bias, shape);
  });
}
