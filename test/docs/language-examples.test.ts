/**
 * docs/language.md promises that every ```bdl example on it is a complete file that checks
 * with the reference models of models/ beside it: each is checked here, as `bdlc check`
 * would check it, and must give no diagnostics at all.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { tempFiles } from "../helpers/temp-files.js";

const examples = [...readFileSync("docs/language.md", "utf8").matchAll(/```bdl\n([\s\S]*?)```/g)].map((m) => m[1]!);
const { file } = tempFiles("bdl-docs-");

describe("the examples of docs/language.md", () => {
  it("are there", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.map((text, i) => [i + 1, text] as const))("example %i checks with no diagnostics", (_, text) => {
    const checked = checkFile(file("example.bdl", text));
    expect(checked.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});
