import { describe, expect, it } from "vitest";
import { specialRoles } from "../../src/model/specials.js";

describe("specialRoles", () => {
  it("lists the known roles in their fixed order and other roles after them, sorted", () => {
    expect(specialRoles({ eos: 2, zz: 9, mask: 4, pad: 1, aa: 8, cls: 0 })).toEqual(["pad", "cls", "mask", "eos", "aa", "zz"]);
  });
});
