import { describe, expect, it } from "vitest";
import { formatNumber } from "../../src/model/numbers.js";

describe("formatNumber", () => {
  it("uses String(n), exponent form below 1e-3", () => {
    expect(formatNumber(30522)).toBe("30522");
    expect(formatNumber(0.15)).toBe("0.15");
    expect(formatNumber(0.00176)).toBe("0.00176");
    expect(formatNumber(0.001)).toBe("0.001");
    expect(formatNumber(1e-4)).toBe("1e-4");
    expect(formatNumber(5e-4)).toBe("5e-4");
    expect(formatNumber(1e-12)).toBe("1e-12");
    expect(formatNumber(1.5e-5)).toBe("1.5e-5");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(1000000)).toBe("1000000");
  });
});
