/**
 * Choosing a TensorFlow.js backend. `cpu` (pure JavaScript) is always there; `wasm`
 * (XNNPACK, SIMD) ships with bdl; `tensorflow` (tfjs-node or tfjs-node-gpu) is used only if
 * the user installed it. A missing backend is a clear message naming what to install.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { registerWasmUnsortedSegmentSum } from "./kernels/wasm-unsorted-segment-sum.js";
import { tf } from "./tf.js";

export type BackendName = "auto" | "cpu" | "wasm" | "tensorflow";
export const BACKENDS: readonly BackendName[] = ["auto", "cpu", "wasm", "tensorflow"];

export class BackendError extends Error {}

const require = createRequire(import.meta.url);

async function registerWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // The .wasm binaries sit in the package's dist folder, not next to this (bundled) module.
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  wasm.setWasmPaths(join(dist, "dist") + "/");
  registerWasmUnsortedSegmentSum();
}

async function registerTensorflow(): Promise<void> {
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      require.resolve(pkg);
    } catch {
      continue;
    }
    await import(pkg);
    return;
  }
  throw new BackendError("the tensorflow backend needs @tensorflow/tfjs-node (or -node-gpu with CUDA): npm install @tensorflow/tfjs-node");
}

/** Makes `name` the active backend and returns the one in use (`auto` picks the fastest present). */
export async function useBackend(name: BackendName): Promise<string> {
  if (!BACKENDS.includes(name)) throw new BackendError(`unknown backend '${name}' (have: ${BACKENDS.join(", ")})`);
  const order: BackendName[] = name === "auto" ? ["tensorflow", "wasm", "cpu"] : [name];
  for (const candidate of order) {
    try {
      if (candidate === "wasm") await registerWasm();
      if (candidate === "tensorflow") await registerTensorflow();
      if (await tf.setBackend(candidate === "tensorflow" ? "tensorflow" : candidate)) {
        await tf.ready();
        return candidate;
      }
    } catch (e) {
      if (name !== "auto") throw e instanceof BackendError ? e : new BackendError(`backend '${candidate}' failed to start: ${(e as Error).message}`);
    }
  }
  throw new BackendError(`no backend could start (tried ${order.join(", ")})`);
}
