/**
 * Adam, AdamW and LAMB as plain classes over named `tf.Variable`s.
 *
 * tfjs ships Adam but neither AdamW nor LAMB, and its `tf.train.Optimizer`
 * keeps its slots behind an opaque, order-dependent weight list. These
 * optimizers instead keep their state keyed by parameter name, so that a
 * checkpoint (`state()`) is a plain JSON-serializable object and a run resumed
 * from it (`load()`) continues bit-identically.
 *
 * Notation, per parameter tensor p with gradient g at that parameter's step
 * t = 1, 2, ... (the step counts from 1, as in the papers and torch):
 *
 *   m ← β1·m + (1−β1)·g                 first moment  (m₀ = 0)
 *   v ← β2·v + (1−β2)·g²                second moment (v₀ = 0)
 *   m̂ = m / (1−β1^t),  v̂ = v / (1−β2^t)   bias correction (Kingma & Ba 2015, §2–3)
 *
 * The three kinds differ in where the weight decay λ (`weight_decay`) enters:
 *
 * - `adam`  — Kingma & Ba, "Adam: A Method for Stochastic Optimization",
 *   ICLR 2015, with torch.optim.Adam's coupled L2 penalty:
 *     g ← g + λ·p;  (moments with this g);  p ← p − lr·m̂ / (√v̂ + ε)
 *
 * - `adamw` — Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
 *   ICLR 2019, as torch.optim.AdamW:
 *     p ← p − lr·λ·p;  (moments with the raw g);  p ← p − lr·m̂ / (√v̂ + ε)
 *
 * - `lamb`  — You et al., "Large Batch Optimization for Deep Learning: Training
 *   BERT in 76 minutes", ICLR 2020 (the optimizer ALBERT was trained with).
 *   The variant implemented is the bias-corrected one — the paper's
 *   Algorithm 2 with φ = identity, as in NVIDIA apex FusedLAMB (default
 *   `bias_correction=True`) and tensorflow_addons.optimizers.LAMB:
 *     u = m̂ / (√v̂ + ε) + λ·p
 *     r = ‖p‖₂ / ‖u‖₂   (norms over the whole tensor; r = 1 if either is 0)
 *     p ← p − lr·r·u
 *   (google-research/albert's own lamb_optimizer.py omits the bias correction;
 *   that is not what this implements.)
 *
 * Weight-decay exclusion: a parameter for which `noDecay(name)` is true (biases
 * and LayerNorm weights, as HF/BERT do) gets λ = 0 under every kind. Under
 * `lamb` it is also excluded from layer adaptation (r = 1), which is what
 * tensorflow_addons' LAMB does when `exclude_from_layer_adaptation` is left at
 * its default (the weight-decay exclusion list).
 *
 * Memory: the moments are plain Float32Arrays in host memory, not tensors, and each
 * parameter is updated by one fused loop over its elements. A backend's tensor memory then
 * holds only the parameters and gradients: the wasm backends' heap cannot exceed 4 GiB, and
 * BERT-base's two moments (880 MB) plus the dozen parameter-sized temporaries that an update
 * written in tensor ops keeps alive (1.3 GB for the word embeddings alone) did not fit beside
 * its activations. The loop rounds to float32 after every operation (`Math.fround`), the
 * arithmetic that the same update written in float32 tensor ops performs, so results are
 * the same on every backend.
 *
 * Scalar coefficients (bias corrections, lr·λ, …) are computed in float64 in
 * JS and enter the float32 arithmetic once, the way torch computes them in Python.
 */
import * as tf from "@tensorflow/tfjs-core";
import { OPTIMIZER_KINDS, type OptimizerKind } from "../../model/model.js";

export interface OptimizerConfig {
  kind: OptimizerKind;
  /**
   * Peak learning rate. `step()` uses the `lr` it is given (normally
   * `learningRate(step, { lr: config.lr, ... })`); this field is here so that a
   * config read from a model file carries it.
   */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
}

/** One parameter's slots. */
export interface ParamState {
  /** How many updates this parameter has had (t of its last update). */
  step: number;
  shape: number[];
  /** First moment, row-major. */
  m: Float32Array;
  /** Second moment, row-major. */
  v: Float32Array;
}

/** An optimizer checkpoint. `state()` hands out the live moment arrays: save them before the next `step()`. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Number of `step()` calls so far. */
  step: number;
  /** Slots by parameter name. */
  params: Record<string, ParamState>;
}

/** What `load()` accepts: moments as any array of numbers (read back from a file or JSON). */
export interface OptimizerStateInput {
  kind: OptimizerKind;
  step: number;
  params: Record<string, { step: number; shape: number[]; m: ArrayLike<number>; v: ArrayLike<number> }>;
}

export interface Optimizer {
  /**
   * Apply one update. `grads` by parameter name; `lr` this step's learning rate
   * (from the schedule). Parameters whose name is in `noDecay` get no weight
   * decay (biases and LayerNorm weights, as in HF/BERT). Parameters without a
   * gradient in `grads` are left alone and their step count does not advance
   * (as torch skips parameters whose `.grad` is None). Every gradient is first
   * multiplied by `gradScale` (gradient clipping's coefficient; 1 leaves it as
   * is). The gradients are not disposed: they stay the caller's.
   */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, gradScale?: number): void;
  /** The optimizer's state (step count, first/second moments by parameter name) for checkpoints, and back. */
  state(): OptimizerState;
  load(state: OptimizerStateInput): void;
  dispose(): void;
}

interface Slot {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

function checkConfig(c: OptimizerConfig): void {
  if (!(OPTIMIZER_KINDS as readonly string[]).includes(c.kind)) {
    throw new Error(`unknown optimizer kind ${JSON.stringify(c.kind)}`);
  }
  const inRange = (name: string, x: number, ok: boolean) => {
    if (!Number.isFinite(x) || !ok) throw new Error(`optimizer ${c.kind}: invalid ${name} ${x}`);
  };
  inRange("lr", c.lr, c.lr >= 0);
  inRange("beta1", c.beta1, c.beta1 >= 0 && c.beta1 < 1);
  inRange("beta2", c.beta2, c.beta2 >= 0 && c.beta2 < 1);
  inRange("eps", c.eps, c.eps >= 0);
  inRange("weight_decay", c.weight_decay, c.weight_decay >= 0);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

class MomentOptimizer implements Optimizer {
  private readonly slots = new Map<string, Slot>();
  /** Each slot's parameter shape, for `state()`. */
  private readonly shapes = new Map<string, number[]>();
  private readonly decayExcluded = new Map<string, boolean>();
  private steps = 0;

  constructor(
    private readonly config: OptimizerConfig,
    private readonly noDecay: (name: string) => boolean,
  ) {
    checkConfig(config);
  }

  private excluded(name: string): boolean {
    let e = this.decayExcluded.get(name);
    if (e === undefined) {
      e = this.noDecay(name);
      this.decayExcluded.set(name, e);
    }
    return e;
  }

  private slot(name: string, p: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (s === undefined) {
      s = { step: 0, m: new Float32Array(p.size), v: new Float32Array(p.size) };
      this.slots.set(name, s);
      this.shapes.set(name, [...p.shape]);
    } else if (!sameShape(this.shapes.get(name)!, p.shape)) {
      throw new Error(`optimizer: parameter ${name} has shape [${p.shape}] but its moments have [${this.shapes.get(name)}]`);
    }
    return s;
  }

  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, gradScale = 1): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`optimizer: invalid learning rate ${lr}`);
    // Validate everything before touching any state, so a bad call changes nothing.
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (p === undefined) throw new Error(`optimizer: gradient for unknown parameter ${name}`);
      if (!sameShape(p.shape, g.shape)) {
        throw new Error(`optimizer: gradient for ${name} has shape [${g.shape}], parameter has [${p.shape}]`);
      }
      if (p.dtype !== "float32" || g.dtype !== "float32") {
        throw new Error(`optimizer: ${name} must be float32 (parameter ${p.dtype}, gradient ${g.dtype})`);
      }
    }
    for (const [name, g] of grads) {
      const p = params.get(name)!;
      const s = this.slot(name, p);
      const t = s.step + 1;
      const next = this.update(p.dataSync() as Float32Array, g.dataSync() as Float32Array, s, t, lr, gradScale, this.excluded(name));
      const value = tf.tensor(next, p.shape, "float32");
      p.assign(value);
      value.dispose();
      s.step = t;
    }
    this.steps += 1;
  }

  /**
   * One parameter's update: new moments written into `s`, the new parameter returned.
   * Every operation is rounded to float32 (f = Math.fround), as float32 tensor ops would.
   */
  private update(
    param: Float32Array,
    grad: Float32Array,
    s: Slot,
    t: number,
    lr: number,
    gradScale: number,
    excluded: boolean,
  ): Float32Array {
    const f = Math.fround;
    const { kind, beta1, beta2, eps } = this.config;
    const wd = excluded ? 0 : this.config.weight_decay;
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    const n = param.length;
    const { m, v } = s;
    const next = new Float32Array(n);
    const scale = f(gradScale);
    const b1 = f(beta1),
      oneMinusB1 = f(1 - beta1);
    const b2 = f(beta2),
      oneMinusB2 = f(1 - beta2);
    const eps32 = f(eps);
    const wd32 = f(wd);
    // torch.optim.Adam folds λ·p into the gradient; AdamW shrinks p by (1 − lr·λ) first.
    const l2 = kind === "adam" && wd !== 0;
    const shrink = kind === "adamw" && wd !== 0 ? f(1 - lr * wd) : 1;
    /** The gradient of element i as the update uses it, moments updated on the way. */
    const moments = (i: number, p: number): void => {
      let g = scale === 1 ? grad[i]! : f(grad[i]! * scale);
      if (l2) g = f(g + f(p * wd32));
      // m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
      m[i] = f(f(m[i]! * b1) + f(g * oneMinusB1));
      v[i] = f(f(v[i]! * b2) + f(f(g * g) * oneMinusB2));
    };
    if (kind !== "lamb") {
      // torch's form of p ← p − lr·m̂/(√v̂ + ε):
      //   p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
      const sqrtBc2 = f(Math.sqrt(bc2));
      const step = f(lr / bc1);
      for (let i = 0; i < n; i++) {
        const p = shrink === 1 ? param[i]! : f(param[i]! * shrink);
        moments(i, p);
        const denom = f(f(f(Math.sqrt(v[i]!)) / sqrtBc2) + eps32);
        next[i] = f(p - f(f(m[i]! / denom) * step));
      }
      return next;
    }
    // LAMB: u = m̂/(√v̂ + ε) + λ·p, into `next` first; then p ← p − lr·r·u.
    const bc1_32 = f(bc1),
      bc2_32 = f(bc2);
    let pSquares = 0;
    let uSquares = 0;
    for (let i = 0; i < n; i++) {
      const p = param[i]!;
      moments(i, p);
      let u = f(f(m[i]! / bc1_32) / f(f(Math.sqrt(f(v[i]! / bc2_32))) + eps32));
      if (wd !== 0) u = f(u + f(p * wd32));
      next[i] = u;
      pSquares += p * p;
      uSquares += u * u;
    }
    // r = ‖p‖/‖u‖ (norms over the whole tensor, summed in float64), or 1 when either is 0 or
    // the parameter is excluded from layer adaptation.
    const pNorm = f(Math.sqrt(pSquares));
    const uNorm = f(Math.sqrt(uSquares));
    const r = !excluded && pNorm > 0 && uNorm > 0 ? f(pNorm / uNorm) : 1;
    const rate = f(r * f(lr));
    for (let i = 0; i < n; i++) next[i] = f(param[i]! - f(next[i]! * rate));
    return next;
  }

  state(): OptimizerState {
    const params: Record<string, ParamState> = {};
    for (const [name, s] of this.slots) params[name] = { step: s.step, shape: [...this.shapes.get(name)!], m: s.m, v: s.v };
    return { kind: this.config.kind, step: this.steps, params };
  }

  load(state: OptimizerStateInput): void {
    if (state.kind !== this.config.kind) {
      throw new Error(`optimizer: cannot load ${state.kind} state into a ${this.config.kind} optimizer`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimizer: invalid step ${state.step}`);
    // Build (and validate) everything first; only then replace the current slots.
    const loaded = new Map<string, Slot>();
    const shapes = new Map<string, number[]>();
    for (const [name, ps] of Object.entries(state.params)) {
      const size = ps.shape.reduce((a, b) => a * b, 1);
      if (!Number.isInteger(ps.step) || ps.step < 0) {
        throw new Error(`optimizer: invalid step ${ps.step} for ${name}`);
      }
      if (ps.m.length !== size || ps.v.length !== size) {
        throw new Error(`optimizer: ${name} has shape [${ps.shape}] (${size} values) but m has ${ps.m.length} and v ${ps.v.length}`);
      }
      loaded.set(name, { step: ps.step, m: Float32Array.from(ps.m), v: Float32Array.from(ps.v) });
      shapes.set(name, [...ps.shape]);
    }
    this.disposeSlots();
    for (const [name, s] of loaded) this.slots.set(name, s);
    for (const [name, shape] of shapes) this.shapes.set(name, shape);
    this.steps = state.step;
  }

  private disposeSlots(): void {
    this.slots.clear();
    this.shapes.clear();
  }

  dispose(): void {
    this.disposeSlots();
  }
}

export function createOptimizer(config: OptimizerConfig, opts: { noDecay: (name: string) => boolean }): Optimizer {
  return new MomentOptimizer({ ...config }, opts.noDecay);
}
