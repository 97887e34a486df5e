import { describe, expect, it } from "vitest";
import { learningRate } from "../../../src/runtime/optim/schedule.js";

// lr 1e-3, 10 warmup steps, 110 steps in all: 100 decay steps after warmup.
const base = { lr: 1e-3, warmup: 10, steps: 110 };

function at(decay: "linear" | "cosine" | "constant", step: number, cfg = base): number {
  return learningRate(step, { ...cfg, decay });
}

describe("learningRate", () => {
  for (const decay of ["linear", "cosine", "constant"] as const) {
    it(`${decay}: warms up linearly from 0 (lr·step/warmup)`, () => {
      expect(at(decay, 0)).toBe(0);
      expect(at(decay, 1)).toBeCloseTo(1e-4, 15);
      expect(at(decay, 5)).toBeCloseTo(5e-4, 15);
      expect(at(decay, 9)).toBeCloseTo(9e-4, 15); // warmup − 1
      expect(at(decay, 10)).toBeCloseTo(1e-3, 15); // warmup: the peak
    });

    it(`${decay}: without warmup starts at the peak`, () => {
      expect(at(decay, 0, { ...base, warmup: 0 })).toBeCloseTo(1e-3, 15);
    });
  }

  it("linear: lr·max(0, (steps − step)/(steps − warmup))", () => {
    expect(at("linear", 11)).toBeCloseTo(1e-3 * (99 / 100), 15);
    expect(at("linear", 60)).toBeCloseTo(5e-4, 15); // middle: 50/100
    expect(at("linear", 109)).toBeCloseTo(1e-5, 15); // 1/100
    expect(at("linear", 110)).toBe(0); // end
    expect(at("linear", 200)).toBe(0); // beyond end: clamped at 0
  });

  it("cosine: lr·½(1 + cos(π·progress))", () => {
    expect(at("cosine", 35)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.SQRT1_2), 15); // progress ¼
    expect(at("cosine", 60)).toBeCloseTo(5e-4, 15); // middle: cos(π/2) = 0
    expect(at("cosine", 85)).toBeCloseTo(1e-3 * 0.5 * (1 - Math.SQRT1_2), 15); // progress ¾
    expect(at("cosine", 110)).toBeCloseTo(0, 15); // end: cos(π) = −1
    // Beyond the end, as HF (no clamp on progress): progress 1.1 → ½(1 + cos(1.1π)) = 0.0244717
    expect(at("cosine", 120)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(1.1 * Math.PI)), 15);
    expect(at("cosine", 120)).toBeCloseTo(2.447174185e-5, 12);
  });

  it("constant: lr after warmup, forever", () => {
    for (const step of [10, 60, 110, 1000]) expect(at("constant", step)).toBe(1e-3);
  });

  it("uses max(1, ·) denominators like HF (warmup = steps)", () => {
    // steps − warmup = 0 → denominator 1: linear gives lr·(steps − step), i.e. 0 at step = steps.
    expect(at("linear", 10, { ...base, steps: 10 })).toBe(0);
    expect(at("cosine", 10, { ...base, steps: 10 })).toBeCloseTo(1e-3, 15);
  });

  it("rejects negative or non-finite inputs", () => {
    expect(() => at("linear", -1)).toThrow(/step/);
    expect(() => at("linear", 0, { ...base, warmup: -1 })).toThrow(/warmup/);
    expect(() => at("linear", Number.NaN)).toThrow(/step/);
  });
});
