import { describe, expect, it } from "vitest";
import { isSharingAll, sharesAllLayers, sharingAllGroup } from "../../src/model/sharing.js";
import type { SharingGroup } from "../../src/model/model.js";

const layout = (sharing: SharingGroup[], layers = 4) => ({ sharing, layers });

describe("layer sharing facts", () => {
  it("sharing all is one group 'all' over every layer, attention then ffn", () => {
    expect(sharingAllGroup(3)).toEqual({ name: "all", layers: [0, 1, 2], share: ["attention", "ffn"] });
    expect(isSharingAll(layout([sharingAllGroup(4)]))).toBe(true);
    expect(sharesAllLayers(layout([sharingAllGroup(4)]))).toBe(true);
  });

  it("a renamed or reordered all-layer group shares all layers but is not `sharing all`", () => {
    const renamed = layout([{ name: "every", layers: [0, 1, 2, 3], share: ["attention", "ffn"] }]);
    const reordered = layout([{ name: "all", layers: [0, 1, 2, 3], share: ["ffn", "attention"] }]);
    for (const l of [renamed, reordered]) {
      expect(sharesAllLayers(l)).toBe(true);
      expect(isSharingAll(l)).toBe(false);
    }
  });

  it("a group missing a layer or a sublayer, several groups, or none share not all layers", () => {
    const cases = [
      layout([{ name: "all", layers: [0, 1, 2], share: ["attention", "ffn"] }]),
      layout([{ name: "all", layers: [0, 1, 2, 3], share: ["attention"] }]),
      layout([
        { name: "a", layers: [0, 1], share: ["attention", "ffn"] },
        { name: "b", layers: [2, 3], share: ["attention", "ffn"] },
      ]),
      layout([]),
    ];
    for (const l of cases) {
      expect(sharesAllLayers(l)).toBe(false);
      expect(isSharingAll(l)).toBe(false);
    }
  });
});
