import { describe, expect, it } from "vitest";
import { accuracy, macroF1 } from "../../../src/runtime/data/metrics.js";

describe("accuracy", () => {
  it("is the fraction of matching predictions", () => {
    expect(accuracy([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])).toBeCloseTo(3 / 5, 12);
    expect(accuracy([1, 2], [1, 2])).toBe(1);
    expect(accuracy([], [])).toBe(0);
  });
  it("rejects length mismatches", () => {
    expect(() => accuracy([0], [0, 1])).toThrow(/differ in length \(1 vs 2\)/);
  });
});

describe("macroF1", () => {
  it("averages per-class F1 over classes present in gold or predicted (hand-computed)", () => {
    // class 0: TP 1, FP 1, FN 1 → F1 = 2/4 = 0.5
    // class 1: TP 2, FP 1, FN 0 → F1 = 4/5 = 0.8
    // class 2: TP 0, FP 0, FN 1 → F1 = 0
    // class 3: absent from both → left out. Macro-F1 = (0.5 + 0.8 + 0) / 3.
    const gold = [0, 0, 1, 1, 2];
    const pred = [0, 1, 1, 1, 0];
    expect(macroF1(gold, pred, 3)).toBeCloseTo(1.3 / 3, 12);
    expect(macroF1(gold, pred, 4)).toBeCloseTo(1.3 / 3, 12);
  });
  it("counts a predicted class that never occurs in gold as F1 0", () => {
    // class 0: TP 1, FN 1 → 2/3; class 1: FP 1 → 0. Mean 1/3.
    expect(macroF1([0, 0], [0, 1], 2)).toBeCloseTo(1 / 3, 12);
  });
  it("differs from accuracy on imbalanced data", () => {
    // Always predicting the majority class: accuracy 0.9, macro-F1 = (2·9/(18+1) + 0) / 2.
    const gold = [...Array<number>(9).fill(0), 1];
    const pred = Array<number>(10).fill(0);
    expect(accuracy(gold, pred)).toBeCloseTo(0.9, 12);
    expect(macroF1(gold, pred, 2)).toBeCloseTo(18 / 19 / 2, 12);
  });
  it("is 1 for perfect predictions and 0 for none", () => {
    expect(macroF1([0, 1, 2, 2], [0, 1, 2, 2], 3)).toBe(1);
    expect(macroF1([0, 1], [1, 0], 2)).toBe(0);
    expect(macroF1([], [], 5)).toBe(0);
  });
  it("rejects bad class ids and length mismatches", () => {
    expect(() => macroF1([0, 3], [0, 0], 3)).toThrow(/class id 3 is outside 0\.\.2/);
    expect(() => macroF1([0], [-1], 3)).toThrow(/class id -1/);
    expect(() => macroF1([0], [0.5], 3)).toThrow(/class id 0.5/);
    expect(() => macroF1([0], [], 3)).toThrow(/differ in length/);
  });
});
