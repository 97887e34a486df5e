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
 * All tensor math runs inside `tf.tidy`; the moments are non-trainable
 * `tf.Variable`s created lazily the first time a parameter gets a gradient, so a
 * steady-state step allocates no tensors that outlive it.
 *
 * Scalar coefficients (bias corrections, lr·λ, …) are computed in float64 in
 * JS and enter the float32 graph once, the way torch computes them in Python.
 */
import * as tf from "@tensorflow/tfjs-core";

export type OptimizerKind = "adamw" | "lamb" | "adam";

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

/** One parameter's slots, as plain numbers (float32 values widened exactly to float64). */
export interface ParamState {
  /** How many updates this parameter has had (t of its last update). */
  step: number;
  shape: number[];
  /** First moment, row-major. */
  m: number[];
  /** Second moment, row-major. */
  v: number[];
}

/** An optimizer checkpoint: plain data, safe to `JSON.stringify` and back without loss. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Number of `step()` calls so far. */
  step: number;
  /** Slots by parameter name. */
  params: Record<string, ParamState>;
}

export interface Optimizer {
  /**
   * Apply one update. `grads` by parameter name; `lr` this step's learning rate
   * (from the schedule). Parameters whose name is in `noDecay` get no weight
   * decay (biases and LayerNorm weights, as in HF/BERT). Parameters without a
   * gradient in `grads` are left alone and their step count does not advance
   * (as torch skips parameters whose `.grad` is None). The gradients are not
   * disposed: they stay the caller's.
   */
  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void;
  /** The optimizer's state (step count, first/second moments by parameter name) as plain float arrays for checkpoints, and back. */
  state(): OptimizerState;
  load(state: OptimizerState): void;
  dispose(): void;
}

interface Slot {
  step: number;
  m: tf.Variable;
  v: tf.Variable;
}

function checkConfig(c: OptimizerConfig): void {
  if (c.kind !== "adam" && c.kind !== "adamw" && c.kind !== "lamb") {
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

/**
 * A non-trainable variable holding `init`'s data. `tf.variable` shares the
 * initial tensor's buffer rather than copying it, so the initial tensor's own
 * handle is disposed here (the buffer lives on, referenced by the variable).
 */
function ownVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, false);
  init.dispose();
  return v;
}

class MomentOptimizer implements Optimizer {
  private readonly slots = new Map<string, Slot>();
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
      // Unnamed variables: tfjs registers variable names globally, and two
      // optimizers (or a reloaded one) must not collide.
      s = { step: 0, m: ownVariable(tf.zeros(p.shape, "float32")), v: ownVariable(tf.zeros(p.shape, "float32")) };
      this.slots.set(name, s);
    } else if (!sameShape(s.m.shape, p.shape)) {
      throw new Error(`optimizer: parameter ${name} has shape [${p.shape}] but its moments have [${s.m.shape}]`);
    }
    return s;
  }

  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
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
    const { kind, beta1, beta2, eps } = this.config;
    for (const [name, g] of grads) {
      const p = params.get(name)!;
      const s = this.slot(name, p);
      const t = s.step + 1;
      const excluded = this.excluded(name);
      const wd = excluded ? 0 : this.config.weight_decay;
      const bc1 = 1 - Math.pow(beta1, t);
      const bc2 = 1 - Math.pow(beta2, t);
      tf.tidy(() => {
        let grad: tf.Tensor = g;
        let param: tf.Tensor = p;
        if (kind === "adam" && wd !== 0) {
          // torch.optim.Adam: g ← g + λ·p (L2 penalty folded into the gradient).
          grad = tf.add(grad, tf.mul(param, wd));
        }
        if (kind === "adamw" && wd !== 0) {
          // torch.optim.AdamW: p ← p·(1 − lr·λ), before the Adam step.
          param = tf.mul(param, 1 - lr * wd);
        }
        // m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
        const m = tf.add(tf.mul(s.m, beta1), tf.mul(grad, 1 - beta1));
        const v = tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        let next: tf.Tensor;
        if (kind === "lamb") {
          // u = m̂/(√v̂ + ε) + λ·p
          const mHat = tf.div(m, bc1);
          const vHat = tf.div(v, bc2);
          let u: tf.Tensor = tf.div(mHat, tf.add(tf.sqrt(vHat), eps));
          if (wd !== 0) u = tf.add(u, tf.mul(param, wd));
          if (excluded) {
            // Excluded from layer adaptation: r = 1.
            next = tf.sub(param, tf.mul(u, lr));
          } else {
            // r = ‖p‖/‖u‖, or 1 when either norm is 0 (tf.where discards the
            // 0/0 or x/0 of the branch it does not select).
            const pNorm = tf.norm(param);
            const uNorm = tf.norm(u);
            const bothPositive = tf.logicalAnd(tf.greater(pNorm, 0), tf.greater(uNorm, 0));
            const r = tf.where(bothPositive, tf.div(pNorm, uNorm), tf.onesLike(pNorm));
            next = tf.sub(param, tf.mul(u, tf.mul(r, lr)));
          }
        } else {
          // torch's form of p ← p − lr·m̂/(√v̂ + ε):
          //   p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
          const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
          next = tf.sub(param, tf.mul(tf.div(m, denom), lr / bc1));
        }
        s.m.assign(m);
        s.v.assign(v);
        p.assign(next);
      });
      s.step = t;
    }
    this.steps += 1;
  }

  state(): OptimizerState {
    const params: Record<string, ParamState> = {};
    for (const [name, s] of this.slots) {
      params[name] = {
        step: s.step,
        shape: [...s.m.shape],
        m: Array.from(s.m.dataSync()),
        v: Array.from(s.v.dataSync()),
      };
    }
    return { kind: this.config.kind, step: this.steps, params };
  }

  load(state: OptimizerState): void {
    if (state.kind !== this.config.kind) {
      throw new Error(`optimizer: cannot load ${state.kind} state into a ${this.config.kind} optimizer`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimizer: invalid step ${state.step}`);
    // Build (and validate) everything first; only then replace the current slots.
    const loaded = new Map<string, Slot>();
    try {
      for (const [name, ps] of Object.entries(state.params)) {
        const size = ps.shape.reduce((a, b) => a * b, 1);
        if (!Number.isInteger(ps.step) || ps.step < 0) {
          throw new Error(`optimizer: invalid step ${ps.step} for ${name}`);
        }
        if (ps.m.length !== size || ps.v.length !== size) {
          throw new Error(
            `optimizer: ${name} has shape [${ps.shape}] (${size} values) but m has ${ps.m.length} and v ${ps.v.length}`,
          );
        }
        const m = ownVariable(tf.tensor(ps.m, ps.shape, "float32"));
        const v = ownVariable(tf.tensor(ps.v, ps.shape, "float32"));
        loaded.set(name, { step: ps.step, m, v });
      }
    } catch (e) {
      for (const s of loaded.values()) {
        s.m.dispose();
        s.v.dispose();
      }
      throw e;
    }
    this.disposeSlots();
    for (const [name, s] of loaded) this.slots.set(name, s);
    this.steps = state.step;
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }

  dispose(): void {
    this.disposeSlots();
  }
}

export function createOptimizer(config: OptimizerConfig, opts: { noDecay: (name: string) => boolean }): Optimizer {
  return new MomentOptimizer({ ...config }, opts.noDecay);
}
