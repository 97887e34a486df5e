import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OptimizerKind } from "../../../src/model/model.js";
import { createOptimizer, type Optimizer, type OptimizerConfig } from "../../../src/runtime/optim/index.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// Everything a test creates goes here and is disposed after it.
const owned: { dispose(): void }[] = [];
afterEach(() => {
  for (const o of owned.splice(0)) o.dispose();
});

function variable(values: number[]): tf.Variable {
  const init = tf.tensor1d(values, "float32");
  const v = tf.variable(init, true);
  init.dispose();
  owned.push(v);
  return v;
}

function tensor(values: number[]): tf.Tensor {
  const t = tf.tensor1d(values, "float32");
  owned.push(t);
  return t;
}

function optimizer(config: Partial<OptimizerConfig> & { kind: OptimizerKind }, noDecay: string[] = []): Optimizer {
  const o = createOptimizer(
    { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, ...config },
    { noDecay: (name) => noDecay.includes(name) },
  );
  owned.push(o);
  return o;
}

function values(v: tf.Tensor): number[] {
  return Array.from(v.dataSync());
}

function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol)) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (±${tol}); all: [${actual}] vs [${expected}]`);
    }
  });
}

// Hyperparameters shared by the hand computations.
const lr = 0.1;
const b1 = 0.9;
const b2 = 0.999;
const eps = 1e-8;

// A 2-element parameter and its gradients for three steps.
const P0 = [1.0, -0.5];
const G = [
  [0.1, -0.2],
  [0.3, 0.05],
  [-0.2, 0.4],
];

/**
 * The Adam family written out per element in float64, straight from the
 * formulas (independent of the implementation under test):
 *   [adam]  g ← g + wd·p          [adamw] p ← p − lr·wd·p
 *   m ← b1·m + (1−b1)·g;  v ← b2·v + (1−b2)·g²
 *   p ← p − lr · (m/(1−b1^t)) / (sqrt(v/(1−b2^t)) + eps)
 */
function adamByHand(mode: "adam" | "adamw", wd: number): number[][] {
  const p = [...P0];
  const m = [0, 0];
  const v = [0, 0];
  const trajectory: number[][] = [];
  for (let t = 1; t <= 3; t++) {
    for (let i = 0; i < 2; i++) {
      let g = G[t - 1]![i]!;
      if (mode === "adam") g = g + wd * p[i]!;
      if (mode === "adamw") p[i] = p[i]! - lr * wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const mHat = m[i]! / (1 - Math.pow(b1, t));
      const vHat = v[i]! / (1 - Math.pow(b2, t));
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
    trajectory.push([...p]);
  }
  return trajectory;
}

/** Runs three steps on parameters `names` (all starting at P0, all given G) and returns each one's trajectory. */
function run3(opt: Optimizer, names: string[]): Map<string, number[][]> {
  const params = new Map(names.map((n) => [n, variable(P0)] as const));
  const out = new Map(names.map((n) => [n, [] as number[][]] as const));
  for (const g of G) {
    const grads = new Map(names.map((n) => [n, tensor(g)] as const));
    opt.step(params, grads, lr);
    for (const n of names) out.get(n)!.push(values(params.get(n)!));
  }
  return out;
}

describe("adam", () => {
  it("first step is p − lr·g/(|g|+eps) (bias correction makes m̂ = g, v̂ = g²)", () => {
    const opt = optimizer({ kind: "adam" });
    const traj = run3(opt, ["w"]).get("w")!;
    // 1 − 0.1·0.1/(0.1 + 1e-8) = 0.9000000100; −0.5 − 0.1·(−0.2)/(0.2 + 1e-8) = −0.4000000050
    expectClose(traj[0]!, [0.90000001, -0.400000005]);
  });

  it("matches three hand-computed steps without weight decay", () => {
    const traj = run3(optimizer({ kind: "adam" }), ["w"]).get("w")!;
    const expected = adamByHand("adam", 0);
    for (let t = 0; t < 3; t++) expectClose(traj[t]!, expected[t]!);
  });

  it("adds weight_decay·p to the gradient (L2, torch.optim.Adam) and respects noDecay", () => {
    const wd = 0.5;
    const out = run3(optimizer({ kind: "adam", weight_decay: wd }, ["b"]), ["w", "b"]);
    const decayed = adamByHand("adam", wd);
    const plain = adamByHand("adam", 0);
    for (let t = 0; t < 3; t++) {
      expectClose(out.get("w")![t]!, decayed[t]!);
      expectClose(out.get("b")![t]!, plain[t]!);
    }
    // Step 1 by hand: g = [0.1 + 0.5·1, −0.2 + 0.5·(−0.5)] = [0.6, −0.45]; m̂/√v̂ = sign(g)
    expectClose(out.get("w")![0]!, [1 - 0.1 * (0.6 / (0.6 + 1e-8)), -0.5 + 0.1 * (0.45 / (0.45 + 1e-8))]);
  });
});

describe("adamw", () => {
  it("matches three hand-computed steps with decoupled weight decay, and respects noDecay", () => {
    const wd = 0.5;
    const out = run3(optimizer({ kind: "adamw", weight_decay: wd }, ["b"]), ["w", "b"]);
    const decayed = adamByHand("adamw", wd);
    const plain = adamByHand("adamw", 0);
    for (let t = 0; t < 3; t++) {
      expectClose(out.get("w")![t]!, decayed[t]!);
      expectClose(out.get("b")![t]!, plain[t]!);
    }
    // Step 1 by hand: p ← p·(1 − 0.1·0.5) = [0.95, −0.475], then p − 0.1·sign(g)
    expectClose(out.get("w")![0]!, [0.95 - 0.1 * (0.1 / (0.1 + 1e-8)), -0.475 + 0.1 * (0.2 / (0.2 + 1e-8))]);
  });

  it("differs from Adam's L2 penalty once the moments carry history", () => {
    const w = run3(optimizer({ kind: "adamw", weight_decay: 0.5 }), ["w"]).get("w")!;
    const a = run3(optimizer({ kind: "adam", weight_decay: 0.5 }), ["w"]).get("w")!;
    expect(Math.abs(w[2]![0]! - a[2]![0]!)).toBeGreaterThan(1e-3);
  });
});

describe("lamb", () => {
  /**
   * LAMB by hand, per tensor (bias-corrected variant):
   *   m̂, v̂ as in Adam;  u = m̂/(sqrt(v̂)+eps) + wd·p
   *   r = ‖p‖/‖u‖ (1 if either is 0; 1 for excluded parameters); p ← p − lr·r·u
   */
  function lambByHand(wd: number, adapt: boolean): number[][] {
    const p = [...P0];
    const m = [0, 0];
    const v = [0, 0];
    const trajectory: number[][] = [];
    for (let t = 1; t <= 3; t++) {
      const u = [0, 0];
      for (let i = 0; i < 2; i++) {
        const g = G[t - 1]![i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mHat = m[i]! / (1 - Math.pow(b1, t));
        const vHat = v[i]! / (1 - Math.pow(b2, t));
        u[i] = mHat / (Math.sqrt(vHat) + eps) + wd * p[i]!;
      }
      const pNorm = Math.sqrt(p[0]! * p[0]! + p[1]! * p[1]!);
      const uNorm = Math.sqrt(u[0]! * u[0]! + u[1]! * u[1]!);
      const r = adapt && pNorm > 0 && uNorm > 0 ? pNorm / uNorm : 1;
      for (let i = 0; i < 2; i++) p[i] = p[i]! - lr * r * u[i]!;
      trajectory.push([...p]);
    }
    return trajectory;
  }

  it("matches three hand-computed steps, with weight decay and layer adaptation", () => {
    const out = run3(optimizer({ kind: "lamb", weight_decay: 0.5 }, ["b"]), ["w", "b"]);
    const decayed = lambByHand(0.5, true);
    const excluded = lambByHand(0, false);
    for (let t = 0; t < 3; t++) {
      expectClose(out.get("w")![t]!, decayed[t]!);
      // noDecay: wd 0 and trust ratio 1, i.e. plain bias-corrected Adam direction at lr.
      expectClose(out.get("b")![t]!, excluded[t]!);
    }
  });

  it("scales by the trust ratio ‖p‖/‖u‖ on a case with known norms", () => {
    // p = [3, 4] (‖p‖ = 5); constant g = [0.5, −2] makes m̂ = g and v̂ = g² at every t
    // (m_t = (1−β1^t)·g, v_t = (1−β2^t)·g²), so u = g/(|g|+eps) ≈ [1, −1], ‖u‖ ≈ √2.
    const opt = optimizer({ kind: "lamb" });
    const p = variable([3, 4]);
    const params = new Map([["w", p]]);
    const grads = new Map([["w", tensor([0.5, -2])]]);
    const u = [0.5 / (0.5 + 1e-8), -2 / (2 + 1e-8)];
    const uNorm = Math.hypot(u[0]!, u[1]!);

    opt.step(params, grads, 0.1);
    // r = 5/√2 = 3.5355339; p = [3 − 0.1·r·u0, 4 − 0.1·r·u1] ≈ [2.6464466, 4.3535534]
    const r1 = 5 / uNorm;
    const p1 = [3 - 0.1 * r1 * u[0]!, 4 - 0.1 * r1 * u[1]!];
    expectClose(values(p), p1);
    expectClose(values(p), [2.6464466, 4.3535534], 1e-6);

    opt.step(params, grads, 0.1);
    const r2 = Math.hypot(p1[0]!, p1[1]!) / uNorm;
    expectClose(values(p), [p1[0]! - 0.1 * r2 * u[0]!, p1[1]! - 0.1 * r2 * u[1]!]);
  });

  it("uses trust ratio 1 when ‖p‖ = 0 or ‖u‖ = 0", () => {
    const opt = optimizer({ kind: "lamb" });
    const zeroP = variable([0, 0]);
    const zeroG = variable([3, -4]);
    const params = new Map([
      ["zeroP", zeroP],
      ["zeroG", zeroG],
    ]);
    opt.step(
      params,
      new Map([
        ["zeroP", tensor([1, -1])],
        ["zeroG", tensor([0, 0])],
      ]),
      0.1,
    );
    // ‖p‖ = 0: r = 1, p = −0.1·g/(|g|+eps)
    expectClose(values(zeroP), [-0.1 / (1 + 1e-8), 0.1 / (1 + 1e-8)]);
    // g = 0, wd = 0: u = 0, r = 1, p unchanged (and no NaN)
    expectClose(values(zeroG), [3, -4], 0);
  });
});

describe("all optimizers", () => {
  const kinds: OptimizerKind[] = ["adam", "adamw", "lamb"];
  const grads5 = [
    [0.1, -0.2, 0.3],
    [0.3, 0.05, -0.1],
    [-0.2, 0.4, 0.0],
    [0.05, -0.05, 0.2],
    [0.7, 0.1, -0.3],
  ];

  for (const kind of kinds) {
    it(`${kind}: state() → JSON → load() into a fresh optimizer continues bit-identically`, () => {
      const config = { kind, weight_decay: 0.1 };
      const noDecay = ["b"];
      const makeParams = () =>
        new Map([
          ["w", variable([1, -0.5, 2])],
          ["b", variable([0.25, 0.5, -1])],
        ]);
      const gradsAt = (s: number) =>
        new Map([
          ["w", tensor(grads5[s]!)],
          ["b", tensor(grads5[4 - s]!)],
        ]);
      const lrAt = (s: number) => 0.05 * (s + 1);

      const a = optimizer(config, noDecay);
      const pa = makeParams();
      for (let s = 0; s < 5; s++) a.step(pa, gradsAt(s), lrAt(s));

      const b = optimizer(config, noDecay);
      const pb = makeParams();
      for (let s = 0; s < 2; s++) b.step(pb, gradsAt(s), lrAt(s));
      // Through JSON, as plain arrays: load() takes any array of numbers.
      const plain = b.state();
      const saved = JSON.parse(
        JSON.stringify({
          ...plain,
          params: Object.fromEntries(Object.entries(plain.params).map(([n, p]) => [n, { ...p, m: [...p.m], v: [...p.v] }])),
        }),
      );
      b.dispose();
      const c = optimizer(config, noDecay);
      c.load(saved);
      for (let s = 2; s < 5; s++) c.step(pb, gradsAt(s), lrAt(s));

      for (const name of ["w", "b"]) expect(values(pb.get(name)!)).toEqual(values(pa.get(name)!));
      expect(c.state()).toEqual(a.state());
      expect(a.state().step).toBe(5);
      expect(a.state().params["w"]!.step).toBe(5);
    });

    it(`${kind}: allocates no tensor memory, not even for its moments (21 steps)`, () => {
      const opt = optimizer({ kind, weight_decay: 0.01 }, ["b"]);
      const params = new Map([
        ["w", variable([1, 2, 3, 4])],
        ["b", variable([0.5, -0.5])],
      ]);
      const grads = new Map([
        ["w", tensor([0.1, -0.1, 0.2, 0.3])],
        ["b", tensor([0.01, 0.02])],
      ]);
      const before = tf.memory();
      opt.step(params, grads, 0.01);
      for (let s = 0; s < 20; s++) opt.step(params, grads, 0.01 / (s + 1));
      // The moments live in host memory, not in the backend's tensor memory: even the first
      // step, which creates them, leaves as many tensors and bytes as there were.
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
    });
  }

  it("leaves parameters without a gradient alone, and counts steps per parameter", () => {
    const opt = optimizer({ kind: "adamw", weight_decay: 0.5 });
    const params = new Map([
      ["w", variable([1, 2])],
      ["frozen", variable([3, 4])],
    ]);
    opt.step(params, new Map([["w", tensor([0.1, 0.1])]]), 0.1);
    opt.step(
      params,
      new Map([
        ["w", tensor([0.1, 0.1])],
        ["frozen", tensor([0.1, 0.1])],
      ]),
      0.1,
    );
    const st = opt.state();
    expect(st.step).toBe(2);
    expect(st.params["w"]!.step).toBe(2);
    expect(st.params["frozen"]!.step).toBe(1);
    // frozen's first update is a first step: p·(1 − 0.05) − 0.1·sign(g)
    expectClose(values(params.get("frozen")!), [3 * 0.95 - 0.1 / (1 + 1e-7), 4 * 0.95 - 0.1 / (1 + 1e-7)]);
  });

  it("rejects gradients for unknown parameters or of the wrong shape, changing nothing", () => {
    const opt = optimizer({ kind: "adam" });
    const params = new Map([["w", variable([1, 2])]]);
    expect(() => opt.step(params, new Map([["nope", tensor([1, 1])]]), 0.1)).toThrow(/unknown parameter nope/);
    expect(() => opt.step(params, new Map([["w", tensor([1, 1, 1])]]), 0.1)).toThrow(/shape/);
    expect(values(params.get("w")!)).toEqual([1, 2]);
    expect(opt.state()).toEqual({ kind: "adam", step: 0, params: {} });
  });

  it("refuses state of another kind or with inconsistent sizes", () => {
    const adam = optimizer({ kind: "adam" });
    const lamb = optimizer({ kind: "lamb" });
    expect(() => lamb.load(adam.state())).toThrow(/cannot load adam state into a lamb optimizer/);
    expect(() => adam.load({ kind: "adam", step: 1, params: { w: { step: 1, shape: [2], m: [0], v: [0, 0] } } })).toThrow(/shape \[2\]/);
  });

  it("rejects invalid hyperparameters", () => {
    expect(() => optimizer({ kind: "adamw", beta1: 1 })).toThrow(/beta1/);
    expect(() => optimizer({ kind: "lamb", eps: -1 })).toThrow(/eps/);
    expect(() => optimizer({ kind: "sgd" as OptimizerKind })).toThrow(/unknown optimizer kind/);
  });
});
