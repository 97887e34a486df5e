/**
 * The language server driven as an editor drives it: JSON-RPC over streams, documents
 * opened and edited, requests at exact positions. Most tests run the server in this
 * process; the last spawns the built `bdlc lsp --stdio`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeAction, CompletionItem, Diagnostic, DocumentSymbol, Hover, Location, TextEdit } from "vscode-languageserver";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { lineCol } from "../../src/compiler/source.js";
import { formatSource } from "../../src/compiler/unparse/format.js";
import { countParams, formatCount } from "../../src/model/counts.js";
import { inProcessServer, spawnedServer, type LspClient } from "../helpers/lsp-client.js";

const MODELS = path.resolve("models");
const uriOf = (file: string): string => pathToFileURL(file).href;
const BERT = uriOf(path.join(MODELS, "bert.bdl"));
const ELECTRA = uriOf(path.join(MODELS, "electra.bdl"));
const DISTILBERT = uriOf(path.join(MODELS, "distilbert.bdl"));
const read = (name: string): string => readFileSync(path.join(MODELS, name), "utf8");

/** The 0-based position of the `nth` occurrence of `needle` in `text` (plus `shift` characters). */
function positionOf(text: string, needle: string, shift = 0, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`'${needle}' not in text`);
  const { line, column } = lineCol({ path: "", text }, at + shift);
  return { line: line - 1, character: column - 1 };
}

const markdown = (h: Hover | null): string => (h?.contents as { value: string } | undefined)?.value ?? "";

let client: LspClient;
let exitCode: Promise<number>;
let dir: string;

beforeAll(async () => {
  ({ client, exitCode } = inProcessServer());
  dir = mkdtempSync(path.join(tmpdir(), "bdl-lsp-"));
  const init = await client.initialize();
  expect(init.capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, documentFormattingProvider: true });
});

afterAll(async () => {
  await client.stop();
  expect(await exitCode).toBe(0);
});

describe("diagnostics", () => {
  it("a misspelt key gets BDL020 at its exact range, with a quick fix that replaces it", async () => {
    const uri = uriOf(path.join(dir, "typo.bdl"));
    const text = 'import "bert.bdl"\n\nmodel small extends bert {\n  hiddn 768\n  layers 4\n}\n';
    const diagnostics = await client.open(uri, text);
    expect(diagnostics).toEqual([
      {
        range: { start: { line: 3, character: 2 }, end: { line: 3, character: 7 } },
        severity: 1,
        code: "BDL020",
        source: "bdl",
        message: "Unknown property 'hiddn' in model 'small'. Did you mean 'hidden'?",
        data: { suggestion: "hidden" },
      },
    ]);
    const actions = await client.request<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: { start: { line: 3, character: 4 }, end: { line: 3, character: 4 } },
      context: { diagnostics },
    });
    expect(actions).toHaveLength(1);
    expect(actions[0]!.title).toBe("Replace with 'hidden'");
    expect(actions[0]!.kind).toBe("quickfix");
    expect(actions[0]!.edit!.changes![uri]).toEqual([{ range: diagnostics[0]!.range, newText: "hidden" }]);
    // Nothing to fix elsewhere in the file.
    const none = await client.request<CodeAction[]>("textDocument/codeAction", {
      textDocument: { uri },
      range: { start: { line: 4, character: 2 }, end: { line: 4, character: 2 } },
      context: { diagnostics: [] },
    });
    expect(none).toEqual([]);
    // The fix applied, the file is clean.
    expect(await client.change(uri, text.replace("hiddn", "hidden"), 2)).toEqual([]);
    await client.notify("textDocument/didClose", { textDocument: { uri } });
  });

  it("locates every diagnostic where `bdlc check` does, in UTF-16 columns", async () => {
    const file = path.join(dir, "many.bdl");
    // A non-BMP character (two UTF-16 units) before errors on the same line.
    const text = [
      'import "bert.bdl"',
      "model many extends bert {",
      '  activation "😀é" hiddn 768 heads 7',
      "  masking { rate 0.15 unit wrod }",
      "  objectives { mlm weight 1 sopp }",
      "  teacher bret",
      "}",
      "model many extends bert {}",
      "",
    ].join("\n");
    writeFileSync(file, text);
    const expected = checkFile(file).diagnostics.map((d) => {
      const start = lineCol(d.span.source, d.span.start);
      return `${start.line - 1}:${start.column - 1} ${d.code}`;
    });
    expect(expected.length).toBeGreaterThanOrEqual(6);
    const got = await client.open(uriOf(file), text);
    expect(got.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.code}`)).toEqual(expected);
    const typo = got.find((d) => d.code === "BDL020")!;
    expect(typo.range.start).toEqual(positionOf(text, "hiddn"));
    expect(typo.range.start.character).toBe('  activation "😀é" '.length);
    // The duplicate points at the first declaration.
    const duplicate = got.find((d) => d.code === "BDL012")!;
    expect(duplicate.relatedInformation![0]!.location.range.start).toEqual(positionOf(text, "many"));
    await client.notify("textDocument/didClose", { textDocument: { uri: uriOf(file) } });
  });

  it("re-checks an open file when a file it imports changes, and clears what is fixed", async () => {
    const base = uriOf(path.join(dir, "base.bdl"));
    const child = uriOf(path.join(dir, "child.bdl"));
    const baseText = "model base {\n  vocab 100 hidden 64 layers 2 heads 4 intermediate 128\n  objectives { mlm }\n}\n";
    expect(await client.open(base, baseText)).toEqual([]);
    // child.bdl exists only in the editor; base.bdl is read from the open document, not the disk.
    const childText = 'import "base.bdl"\n\nmodel child extends base {\n  layers 3\n}\n';
    expect(await client.open(child, childText)).toEqual([]);

    const renamed = client.diagnosticsAfter(child, () =>
      client.change(base, baseText.replace("model base", "model bases"), 2).then(() => {}),
    );
    const childDiagnostics = await renamed;
    expect(childDiagnostics).toMatchObject([
      {
        code: "BDL013",
        message: "Unknown model 'base'. Did you mean 'bases'?",
        range: { start: positionOf(childText, "base {"), end: positionOf(childText, "base {", 4) },
      },
    ]);
    // A problem of the imported file is reported in that file, for the editor showing it.
    let heads: Diagnostic[] = [];
    const childAfter = await client.diagnosticsAfter(child, async () => {
      heads = await client.change(base, baseText.replace("heads 4", "heads 5"), 3);
    });
    expect(heads.map((d) => [d.code, d.range.start])).toEqual([["BDL030", positionOf(baseText, "heads")]]);
    expect(childAfter).toEqual([]);

    expect(await client.change(base, baseText, 4)).toEqual([]);
    await client.notify("textDocument/didClose", { textDocument: { uri: child } });
    await client.notify("textDocument/didClose", { textDocument: { uri: base } });
  });

  it("an imported file that is not open is read from disk, again when the editor says it changed", async () => {
    const baseFile = path.join(dir, "disk-base.bdl");
    const baseText = "model disk {\n  vocab 100 hidden 64 layers 2 heads 4 intermediate 128\n  objectives { mlm }\n}\n";
    writeFileSync(baseFile, baseText);
    const child = uriOf(path.join(dir, "disk-child.bdl"));
    const childText = 'import "disk-base.bdl"\nmodel on-disk extends disk {}\n';
    expect(await client.open(child, childText)).toEqual([]);
    writeFileSync(baseFile, baseText.replace("model disk", "model disks"));
    const changed = await client.diagnosticsAfter(child, () =>
      client.notify("workspace/didChangeWatchedFiles", { changes: [{ uri: uriOf(baseFile), type: 2 }] }),
    );
    expect(changed.map((d) => d.code)).toEqual(["BDL013"]);
    // Opened with unsaved text, the editor's text wins; closed, the disk's again.
    const opened = await client.diagnosticsAfter(child, () => client.open(uriOf(baseFile), baseText).then(() => {}));
    expect(opened).toEqual([]);
    const closed = await client.diagnosticsAfter(child, () =>
      client.notify("textDocument/didClose", { textDocument: { uri: uriOf(baseFile) } }),
    );
    expect(closed.map((d) => d.code)).toEqual(["BDL013"]);
    await client.notify("textDocument/didClose", { textDocument: { uri: child } });
  });
});

describe("navigation", () => {
  const bert = read("bert.bdl");
  const electra = read("electra.bdl");
  const distilbert = read("distilbert.bdl");

  beforeAll(async () => {
    await client.open(BERT, bert);
    await client.open(ELECTRA, electra);
    await client.open(DISTILBERT, distilbert);
  });

  it("hover on a key: its resolved value, who set it and what it overrides", async () => {
    const h = await client.request<Hover>("textDocument/hover", {
      textDocument: { uri: ELECTRA },
      position: positionOf(electra, "steps 766000", 1),
    });
    const text = markdown(h);
    expect(text).toContain("**train.steps**: an integer ≥ 1; default `1000000`");
    expect(text).toContain("Value in `electra`: `766000`");
    expect(text).toMatch(/Set by this model at \[electra\.bdl:\d+\]\(file:.*electra\.bdl#L\d+\): `steps 766000`/);
    expect(text).toMatch(/Overrides model `bert` at \[bert\.bdl:\d+\]\(.*\): `steps 1000000`/);
    expect(h.range).toEqual({ start: positionOf(electra, "steps 766000"), end: positionOf(electra, "steps 766000", 5) });
  });

  it("hover on a model name: its parameter counts and the change from its parent", async () => {
    const checked = checkFile(path.join(MODELS, "electra.bdl"));
    const e = countParams(checked.resolutions.get("electra")!.model);
    const b = countParams(checked.resolutions.get("bert")!.model);
    const h = await client.request<Hover>("textDocument/hover", {
      textDocument: { uri: ELECTRA },
      position: positionOf(electra, "model electra", 7),
    });
    const text = markdown(h);
    expect(text).toContain(`Parameters: ${formatCount(e.total)} total, ${formatCount(e.encoder)} in the encoder`);
    expect(text).toContain(
      `Change from \`bert\`: +${formatCount(e.total - b.total)} total, ${formatCount(e.encoder - b.encoder)} in the encoder`,
    );
    expect(e.encoder).toBeLessThan(b.encoder); // pooler none: the encoder shrinks while the pair grows
    // On `extends bert`: bert's own counts, with no parent.
    const onBase = markdown(
      await client.request<Hover>("textDocument/hover", {
        textDocument: { uri: ELECTRA },
        position: positionOf(electra, "extends bert", 9),
      }),
    );
    expect(onBase).toContain(`Parameters: ${formatCount(b.total)} total`);
    expect(onBase).not.toContain("Change from");
  });

  it("definition of extends, teacher and import", async () => {
    const bertName = { uri: BERT, range: { start: positionOf(bert, "model bert", 6), end: positionOf(bert, "model bert", 10) } };
    const at = (uri: string, position: { line: number; character: number }) =>
      client.request<Location | null>("textDocument/definition", { textDocument: { uri }, position });
    expect(await at(ELECTRA, positionOf(electra, "extends bert", 10))).toEqual(bertName);
    expect(await at(DISTILBERT, positionOf(distilbert, "teacher bert", 9))).toEqual(bertName);
    expect(await at(ELECTRA, positionOf(electra, '"bert.bdl"', 3))).toEqual({
      uri: BERT,
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    });
    // A property key defines nothing.
    expect(await at(ELECTRA, positionOf(electra, "pooler none", 1))).toBeNull();
  });

  it("references of a model name across the open files", async () => {
    const refs = await client.request<Location[]>("textDocument/references", {
      textDocument: { uri: BERT },
      position: positionOf(bert, "model bert", 7),
      context: { includeDeclaration: true },
    });
    const shown = refs.map((r) => `${path.basename(r.uri)}:${r.range.start.line}:${r.range.start.character}`).sort();
    const expected = [
      `bert.bdl:${positionOf(bert, "model bert", 6).line}:6`,
      `distilbert.bdl:${positionOf(distilbert, "extends bert").line}:${positionOf(distilbert, "extends bert", 8).character}`,
      `distilbert.bdl:${positionOf(distilbert, "teacher bert").line}:${positionOf(distilbert, "teacher bert", 8).character}`,
      `electra.bdl:${positionOf(electra, "extends bert").line}:${positionOf(electra, "extends bert", 8).character}`,
    ].sort();
    expect(shown).toEqual(expected);
    const withoutDeclaration = await client.request<Location[]>("textDocument/references", {
      textDocument: { uri: ELECTRA },
      position: positionOf(electra, "extends bert", 9),
      context: { includeDeclaration: false },
    });
    expect(withoutDeclaration).toHaveLength(3);
  });

  it("document symbols: models, their blocks and settings", async () => {
    const symbols = await client.request<DocumentSymbol[]>("textDocument/documentSymbol", { textDocument: { uri: ELECTRA } });
    expect(symbols.map((s) => s.name)).toEqual(['import "bert.bdl"', "electra"]);
    const model = symbols[1]!;
    expect(model.detail).toBe("extends bert");
    expect(model.selectionRange.start).toEqual(positionOf(electra, "model electra", 6));
    expect(model.children!.map((c) => c.name)).toEqual([
      "pooler",
      "generator",
      "objectives",
      "masking",
      "train",
      "expect params",
      "expect encoder_params",
    ]);
    expect(model.children![1]!.children!.map((c) => `${c.name} ${c.detail}`)).toEqual(["hidden 256", "heads 4", "intermediate 1024"]);
  });
});

describe("completion", () => {
  // Never written to disk: the server completes what the editor holds.
  const uri = uriOf(path.join(tmpdir(), "bdl-lsp-completion.bdl"));
  const labels = async (text: string, marker = "|"): Promise<string[]> => {
    const at = text.indexOf(marker);
    const clean = text.slice(0, at) + text.slice(at + marker.length);
    await client.change(uri, clean, Date.now());
    const items = await client.request<CompletionItem[]>("textDocument/completion", {
      textDocument: { uri },
      position: positionAtOffset(clean, at),
    });
    return items.map((i) => i.label);
  };
  function positionAtOffset(text: string, offset: number) {
    const { line, column } = lineCol({ path: "", text }, offset);
    return { line: line - 1, character: column - 1 };
  }

  beforeAll(async () => {
    await client.open(uri, "");
  });

  it("property names per block, with docs", async () => {
    const body = await labels('import "bert.bdl"\nmodel m extends bert {\n  |\n}\n');
    expect(body).toEqual(
      expect.arrayContaining([
        "vocab",
        "hidden",
        "activation",
        "embeddings",
        "attention",
        "generator",
        "masking",
        "special",
        "train",
        "objectives",
        "sharing",
        "teacher",
        "tokenizer",
        "expect",
      ]),
    );
    expect(await labels("model m {\n  embeddings {\n    po|\n  }\n}\n")).toEqual(["positions", "offset", "segments", "factorize"]);
    expect(await labels("model m {\n  attention { | }\n}\n")).toEqual(["rotary", "window", "global_every", "local_rotary"]);
    expect(await labels("model m {\n  generator {\n    |")).toEqual(["hidden", "layers", "heads", "intermediate"]);
    expect(await labels("model m {\n  masking {\n    mask 0.8 |\n  }\n}\n")).toEqual([
      "rate",
      "mask",
      "random",
      "keep",
      "unit",
      "schedule",
      "duplicates",
      "p",
      "max",
    ]);
    expect(await labels("model m {\n  special { pad 0 | }\n}\n")).toEqual(["pad", "unk", "cls", "sep", "mask", "bos", "eos"]);
    expect(await labels("model m {\n  train {\n    |\n  }\n}\n")).toEqual([
      "optimizer",
      "lr",
      "beta1",
      "beta2",
      "eps",
      "weight_decay",
      "warmup",
      "decay",
      "batch",
      "seq",
      "steps",
      "document_mask",
    ]);
    expect(await labels("model m {\n  objectives {\n    |\n  }\n}\n")).toEqual(["mlm", "nsp", "sop", "distill", "cosine", "rtd"]);
    expect(await labels("model m {\n  objectives {\n    distill |\n  }\n}\n")).toEqual(["weight", "temperature", "off"]);
    expect(await labels("|")).toEqual(["model", "import"]);

    const items = await client.request<CompletionItem[]>("textDocument/completion", {
      textDocument: { uri },
      position: { line: 0, character: 0 },
    });
    expect(items.length).toBe(2);
    await client.change(uri, "model m {\n  \n}\n", 1000);
    const hidden = (
      await client.request<CompletionItem[]>("textDocument/completion", { textDocument: { uri }, position: { line: 1, character: 2 } })
    ).find((i) => i.label === "dropout")!;
    expect(hidden.detail).toBe("a number ≥ 0 and < 1");
    expect(hidden.documentation).toEqual({ kind: "markdown", value: "`dropout`: a number ≥ 0 and < 1; default `0.1`" });
  });

  it("the words a property accepts, from the schema", async () => {
    expect(await labels("model m {\n  activation g|\n}\n")).toEqual(expect.arrayContaining(["gelu", "relu"]));
    expect(await labels("model m {\n  norm_position |\n}\n")).toEqual(["post", "pre"]);
    expect(await labels("model m {\n  pooler |")).toEqual(["tanh", "none"]);
    expect(await labels("model m {\n  masking { unit |")).toEqual(["token", "word", "ngram", "span"]);
    expect(await labels("model m {\n  masking { schedule |")).toEqual(["static", "dynamic"]);
    expect(await labels("model m {\n  embeddings { factorize |")).toEqual(["none"]);
    expect(await labels("model m {\n  train { optimizer |")).toEqual(expect.arrayContaining(["adamw", "lamb", "adam"]));
    expect(await labels("model m {\n  tokenizer |")).toEqual(["wordpiece", "bpe", "sentencepiece"]);
    expect(await labels("model m {\n  sharing |")).toEqual(["all", "none"]);
    expect(await labels('import "bert.bdl"\nmodel m extends |')).toEqual(["bert"]);
    // A number comes next: nothing to offer. Inside a comment: nothing either.
    expect(await labels("model m {\n  hidden |")).toEqual([]);
    expect(await labels("model m {\n  // hidd|\n}")).toEqual([]);
  });
});

describe("formatting", () => {
  it("gives the text `bdlc fmt` writes, and nothing for a formatted file or one with syntax errors", async () => {
    const uri = uriOf(path.join(dir, "messy.bdl"));
    const canonical = read("bert.bdl");
    const messy = canonical
      .replace(/^ {2}/gm, "      ")
      .replace(/\n\n/g, "\n\n\n\n")
      .replace("mask 0.8 random 0.1", "mask   0.8\trandom  0.1");
    expect(messy).not.toBe(canonical);
    await client.open(uri, messy);
    const edits = await client.request<TextEdit[]>("textDocument/formatting", {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toBe(canonical);
    expect(edits[0]!.newText).toBe(formatSource({ path: "x.bdl", text: messy }).text);
    expect(edits[0]!.range.start).toEqual({ line: 0, character: 0 });

    await client.change(uri, canonical, 2);
    expect(await client.request("textDocument/formatting", { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual(
      [],
    );
    await client.change(uri, "model x {\n  hidden {\n", 3);
    expect(await client.request("textDocument/formatting", { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual(
      [],
    );
  });
});

describe("robustness", () => {
  it("keeps answering while a file is typed character by character", async () => {
    const uri = uriOf(path.join(dir, "typed.bdl"));
    const text = read("electra.bdl");
    await client.open(uri, "");
    let last: Diagnostic[] = [];
    for (let i = 1; i <= text.length; i++) {
      const prefix = text.slice(0, i);
      last = await client.change(uri, prefix, i + 1);
      const end = positionOf(prefix + "\u0000", "\u0000");
      const [h, c] = await Promise.all([
        client.request("textDocument/hover", { textDocument: { uri }, position: end }),
        client.request<CompletionItem[]>("textDocument/completion", { textDocument: { uri }, position: end }),
      ]);
      expect(h === null || typeof h === "object").toBe(true);
      expect(Array.isArray(c)).toBe(true);
    }
    last = await client.change(uri, text, text.length + 10);
    expect(last).toEqual([]);
    expect(client.log.filter((l) => l.includes("failed"))).toEqual([]);
  }, 30_000);

  it("survives garbage and malformed requests", async () => {
    const uri = uriOf(path.join(dir, "garbage.bdl"));
    await client.open(uri, "model g {\n  hidden 1\n}\n");
    const body = "{not json";
    client.toServer.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const odd = JSON.stringify({
      jsonrpc: "2.0",
      id: 99999,
      method: "textDocument/hover",
      params: { textDocument: { uri: 42 }, position: "x" },
    });
    client.toServer.write(`Content-Length: ${Buffer.byteLength(odd)}\r\n\r\n${odd}`);
    expect(await client.request("textDocument/hover", { textDocument: { uri }, position: { line: -5, character: 1e9 } })).toBeNull();
    expect(
      await client.request("textDocument/hover", { textDocument: { uri: "file:///nowhere.bdl" }, position: { line: 0, character: 0 } }),
    ).toBeNull();
    expect(await client.request("textDocument/completion", { textDocument: { uri }, position: { line: 999, character: 999 } })).toEqual(
      expect.any(Array),
    );
    expect(await client.request("textDocument/codeAction", { textDocument: { uri }, range: null, context: {} })).toEqual([]);
    const diagnostics = await client.change(uri, '\u0000\uffff}}}{{{ model model extends extends "\n'.repeat(50), 2);
    expect(diagnostics.length).toBeGreaterThan(0);
    const h = await client.request<Hover | null>("textDocument/hover", { textDocument: { uri }, position: { line: 0, character: 3 } });
    expect(h).toBeNull();
    // Still serving.
    await client.change(uri, "model g {\n  hidden 1\n}\n", 3);
    const symbols = await client.request<DocumentSymbol[]>("textDocument/documentSymbol", { textDocument: { uri } });
    expect(symbols.map((s) => s.name)).toEqual(["g"]);
  });
});
