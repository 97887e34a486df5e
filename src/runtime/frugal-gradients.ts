/**
 * Backpropagation that frees what it no longer needs as it goes.
 *
 * tfjs's `engine.gradients` keeps every tensor of the backward pass until the end: each
 * node's output gradient after the node has used it, each partial gradient after it was
 * added to another, and each node's saved forward tensors after its gradient ran. For
 * BERT-base at 1,024 tokens a step that holds 1.5 GB of live tensors then peaks above the
 * wasm backends' 4 GiB heap (about 350 MB more per layer). This replacement walks the same
 * nodes in the same order with the same ops, so the gradients are bit for bit the same, and
 * disposes each of those tensors once nothing can read it again: a tensor is the output of
 * exactly one node, so its gradient is read only by that node's gradient function; saved
 * tensors are the node's own clones (other nodes keep theirs).
 *
 * The tape walk (`filteredTape`) follows tfjs-core's tape.ts (Apache-2.0, Google LLC).
 * Higher-order gradients (a gradient taken inside another) keep tfjs's own implementation.
 */
// tfjs-core itself, not ./tf.js: that module installs this one.
import * as tf from "@tensorflow/tfjs-core";

interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The part of tfjs's Engine this replacement drives (internal, but stable across tfjs 4). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string | (() => T), f?: () => T): T;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
}

/** The nodes of `tape` on a path from one of `xs` to `y`, their inputs pruned to those that depend on `xs`. */
function filteredTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      for (const output of node.outputs) fromX.add(output.id);
      nodesFromX.add(node.id);
    }
  }
  const leadToY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => leadToY.has(o.id))) {
      for (const input of Object.values(node.inputs)) leadToY.add(input.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, input] of Object.entries(node.inputs)) if (fromX.has(input.id)) inputs[name] = input;
    filtered.push({ ...node, inputs, outputs: node.outputs });
  }
  return filtered;
}

function backpropagate(engine: EngineInternals, gradients: Map<number, tf.Tensor>, tape: TapeNode[], keep: Set<number>): void {
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const dys = node.outputs.map((o) => gradients.get(o.id) ?? null);
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(dys);
    for (const [inputName, x] of Object.entries(node.inputs)) {
      if (!(inputName in inputGradients)) {
        throw new Error(`Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`);
      }
      const dx = engine.tidy(() => inputGradients[inputName]!());
      if (dx.dtype !== "float32") {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      const current = gradients.get(x.id);
      if (current === undefined) gradients.set(x.id, dx);
      else {
        gradients.set(x.id, tf.add(current, dx));
        current.dispose();
        dx.dispose();
      }
    }
    // Nothing reads this node's output gradients or its saved tensors again.
    for (const o of node.outputs) {
      const g = gradients.get(o.id);
      if (g !== undefined && !keep.has(o.id)) {
        g.dispose();
        gradients.delete(o.id);
      }
    }
    for (const t of node.saved ?? []) t.dispose();
  }
}

let installed = false;
let tfjsGradients: EngineInternals["gradients"] | null = null;

/** tfjs's own `engine.gradients`, which the frugal one replaced: tests compare the two. */
export function tfjsOwnGradients(): EngineInternals["gradients"] {
  if (!tfjsGradients) throw new Error("the frugal gradients are not installed");
  return tfjsGradients;
}

/** Replaces the engine's `gradients` (used by tf.grads, tf.variableGrads, …) with the frugal one. */
export function installFrugalGradients(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.gradients.bind(engine);
  tfjsGradients = original;
  engine.gradients = (f, xs, dy, allowNoGradients = false) => {
    if (engine.state.gradientDepth > 0) return original(f, xs, dy, allowNoGradients);
    if (xs.length === 0) throw new Error("gradients() received an empty list of xs.");
    if (dy != null && dy.dtype !== "float32") throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy("forward", f),
    );
    if (!(y instanceof tf.Tensor)) throw new Error("The result y returned by f() must be a tensor.");
    const tape = engine.state.activeTape!;
    const filtered = filteredTape(tape, xs, y);
    if (!allowNoGradients && filtered.length === 0) {
      throw new Error(
        "Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.",
      );
    }
    return engine.tidy("backward", () => {
      const gradients = new Map<number, tf.Tensor>([[y.id, dy ?? tf.ones(y.shape)]]);
      // The gradients asked for are kept, even when one of xs is also a node's output.
      backpropagate(engine, gradients, filtered, new Set([...xs.map((x) => x.id), y.id]));
      const grads = xs.map((x) => gradients.get(x.id)!);
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads } as unknown as tf.TensorContainer;
    }) as unknown as { value: tf.Tensor; grads: tf.Tensor[] };
  };
}
