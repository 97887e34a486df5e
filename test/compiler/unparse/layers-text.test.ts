import { describe, expect, it } from "vitest";
import { layersText } from "../../../src/compiler/unparse/layers-text.js";

describe("layersText", () => {
  it("writes a consecutive run as a range and anything else as a list", () => {
    expect(layersText([2, 3, 4])).toBe("2..4");
    expect(layersText([0, 2])).toBe("[0, 2]");
    expect(layersText([5])).toBe("[5]");
    expect(layersText([])).toBe("[]");
  });
});
