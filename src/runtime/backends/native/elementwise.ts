/**
 * Elementwise kernels and reductions for the `native` backend, run by onnxruntime on all
 * cores when a tensor is large enough to pay for the call; smaller ones (and other dtypes)
 * keep the wasm kernel. tfjs-backend-wasm runs these single-threaded, and some (Exp, Erf,
 * column sums) without SIMD: in a bert-mini training step they cost more than the products.
 */
import { tf } from "../tf.js";
import type { GraphSpec, NodeSpec } from "./onnx-model.js";
import type { WasmHeap } from "../kernels/wasm-heap.js";
import { HeapGraphs, OUTPUT } from "./heap-graphs.js";
import type { OnnxRuntime } from "./onnxruntime.js";
import { nativeLimits } from "./limits.js";
import { overrideKernel } from "./override.js";

/**
 * tfjs kernel → the ONNX nodes computing it from input "x" into "out". Only transcendentals:
 * wasm computes them one element at a time, while simple arithmetic (add, multiply, sqrt…)
 * is faster in wasm's SIMD loops than a call into onnxruntime (measured: a 2M-element
 * multiply takes 0.6 ms in wasm and 4 ms through onnxruntime, exp 15 ms and 5 ms).
 */
const UNARY: Record<string, NodeSpec[]> = {
  Exp: [{ op: "Exp", inputs: ["x"], outputs: [OUTPUT] }],
  Erf: [{ op: "Erf", inputs: ["x"], outputs: [OUTPUT] }],
  Tanh: [{ op: "Tanh", inputs: ["x"], outputs: [OUTPUT] }],
  Log: [{ op: "Log", inputs: ["x"], outputs: [OUTPUT] }],
  Sigmoid: [{ op: "Sigmoid", inputs: ["x"], outputs: [OUTPUT] }],
};

/** Reductions over `axis` (tfjs attrs), as ONNX opset 11 writes them (axes an attribute). */
const REDUCTIONS: Record<string, string> = {
  Sum: "ReduceSum",
  Max: "ReduceMax",
  Mean: "ReduceMean",
};
const REDUCTION_OPSET = 11;

const symbolic = (prefix: string, rank: number) => Array.from({ length: rank }, (_, i) => `${prefix}${i}`);

export function registerNativeElementwise(ort: OnnxRuntime, backendName: string, fallbackBackend: string): void {
  const graphs = new HeapGraphs(ort);

  for (const [kernelName, nodes] of Object.entries(UNARY)) {
    overrideKernel(kernelName, backendName, fallbackBackend, (wasm) => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const size = x.shape.reduce((a, d) => a * d, 1);
      if (x.dtype !== "float32" || size < nativeLimits.minElements) return wasm(args);
      const rank = x.shape.length;
      const graph = () => ({
        nodes,
        inputs: [{ name: "x", dims: symbolic("x", rank) }],
        outputs: [{ name: OUTPUT, dims: symbolic("x", rank) }],
      });
      return graphs.run(args.backend as unknown as WasmHeap, `${kernelName}/${rank}`, graph, { x }, x.shape);
    });
  }

  for (const [kernelName, op] of Object.entries(REDUCTIONS)) {
    overrideKernel(kernelName, backendName, fallbackBackend, (wasm) => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as {
        axis: number | number[];
        keepDims: boolean;
      };
      const size = x.shape.reduce((a, d) => a * d, 1);
      if (x.dtype !== "float32" || size < nativeLimits.minElements) return wasm(args);
      const rank = x.shape.length;
      const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
      const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      const graph = (): GraphSpec => ({
        opset: REDUCTION_OPSET,
        nodes: [
          {
            op,
            inputs: ["x"],
            outputs: [OUTPUT],
            attributes: [
              { name: "axes", ints: axes },
              { name: "keepdims", int: keepDims ? 1 : 0 },
            ],
          },
        ],
        inputs: [{ name: "x", dims: symbolic("x", rank) }],
        outputs: [{ name: OUTPUT, dims: symbolic("out", shape.length) }],
      });
      return graphs.run(args.backend as unknown as WasmHeap, `${kernelName}/${rank}/${axes.join(",")}/${keepDims}`, graph, { x }, shape);
    });
  }

  // The wasm Identity copies its input; sharing the memory (as Reshape does) is enough.
  overrideKernel("Identity", backendName, fallbackBackend, (wasm) => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === "string") return wasm(args);
    (args.backend as unknown as WasmHeap).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
