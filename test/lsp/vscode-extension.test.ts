/** editors/vscode/: its manifest points at files that exist, and its grammar is the repository's. */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const EXT = path.resolve("editors", "vscode");
const json = (file: string) => JSON.parse(readFileSync(path.join(EXT, file), "utf8"));

describe("the VS Code extension", () => {
  const manifest = json("package.json");

  it("contributes the bdl language with its configuration and the repository's grammar", () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: "bdl", extensions: [".bdl"] });
    const config = json(language.configuration);
    expect(config.comments).toEqual({ lineComment: "//" });
    expect(config.brackets).toEqual([
      ["{", "}"],
      ["[", "]"],
    ]);
    const [grammar] = manifest.contributes.grammars;
    expect(grammar.language).toBe("bdl");
    const copy = readFileSync(path.join(EXT, grammar.path), "utf8");
    expect(copy, "cp grammar/bdl.tmLanguage.json editors/vscode/syntaxes/").toBe(readFileSync("grammar/bdl.tmLanguage.json", "utf8"));
    expect(JSON.parse(copy).scopeName).toBe(grammar.scopeName);
  });

  it("starts `bdlc lsp --stdio` from its main module", () => {
    expect(existsSync(path.join(EXT, manifest.main))).toBe(true);
    const source = readFileSync(path.join(EXT, manifest.main), "utf8");
    expect(source).toContain('["lsp", "--stdio"]');
    expect(manifest.dependencies).toHaveProperty("vscode-languageclient");
    // The client library is the extension's, not bdl's.
    expect(JSON.parse(readFileSync("package.json", "utf8")).dependencies).not.toHaveProperty("vscode-languageclient");
  });
});
