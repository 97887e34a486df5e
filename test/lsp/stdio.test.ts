/** The built `bdlc lsp --stdio` (`npm run build` first), spawned as an editor spawns it. */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import type { Hover } from "vscode-languageserver";
import { spawnedServer } from "../helpers/lsp-client.js";
import { ROOT } from "../helpers/training.js";

it("answers over stdin and stdout, and exits 0 after shutdown and exit", async () => {
  expect(existsSync(path.join(ROOT, "dist", "bundle", "cli.js")), "build first: npm run build").toBe(true);
  const { client, exitCode } = spawnedServer();
  await client.initialize();
  const uri = pathToFileURL(path.join(ROOT, "models", "scratch.bdl")).href;
  const diagnostics = await client.open(uri, 'import "bert.bdl"\nmodel scratch extends bert {\n  hiddn 768\n}\n');
  expect(diagnostics.map((d) => [d.code, d.range])).toEqual([
    ["BDL020", { start: { line: 2, character: 2 }, end: { line: 2, character: 7 } }],
  ]);
  const h = await client.request<Hover>("textDocument/hover", { textDocument: { uri }, position: { line: 1, character: 8 } });
  expect((h.contents as { value: string }).value).toMatch(/^\*\*model scratch\*\* extends bert/);
  await client.stop();
  expect(await exitCode).toBe(0);
}, 30_000);

it("exits 1 when the editor closes the pipe without shutdown", async () => {
  const { client, child, exitCode } = spawnedServer();
  await client.initialize();
  child.stdin!.end();
  expect(await exitCode).toBe(1);
}, 30_000);
