/**
 * Text from a .bdl file or the file system reaches emitted code only as escaped string
 * literals: a hostile path, model name or `from "…"` string compiles to a module that
 * parses, keeps the text as data, and runs no payload. And loading a graph writes nothing
 * to a shared temporary folder, so a link planted there is never followed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { emitGraph } from "../../../src/compiler/emit/emit.js";
import { loadGraph } from "../../../src/app/graph-loader.js";

const root = mkdtempSync(join(tmpdir(), "bdl-emit-safety-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MARKER = join(root, "payload-ran");
/** What each payload runs if it escapes its literal or comment: a flag and a marker file. */
const PAYLOAD = `globalThis.bdlPayload=1;import("node:fs").then((f)=>f.writeFileSync(process.env.BDL_PAYLOAD_MARKER,""));`;

/** Every way out of a literal or comment: `*\/`, `</script>`, a backtick, `${`, quotes, U+2028/2029, a line break. */
const CHECKPOINT = `ckpt*/;${PAYLOAD}/* </script> \`\${globalThis.bdlPayload=2}\` ' \\" \u2028;${PAYLOAD}\u2029 end`;

// A path whose directories spell `x*/;PAYLOAD;/*.bdl`: it ends the header comment if written raw.
const dir = join(root, "x*", `;${PAYLOAD};`);
mkdirSync(dir, { recursive: true });
const FILE = join(dir, "*.bdl");
writeFileSync(
  FILE,
  `model t_1-x {
  vocab 60 hidden 16 layers 2 heads 2 intermediate 24
  embeddings { positions 16 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}

model _s-2 extends t_1-x {
  layers 1
  objectives { mlm weight 1 distill weight 1 cosine weight 1 }
  teacher t_1-x from ${JSON.stringify(CHECKPOINT)} { init layers [1] }
}
`,
);

function syntaxErrors(text: string): string[] {
  const out = ts.transpileModule(text, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ES2022 } });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("hostile text in a model", () => {
  const checked = checkFile(FILE);
  const student = checked.resolutions.get("_s-2")?.model;
  const teacher = checked.resolutions.get("t_1-x")?.model;

  it("checks, so that it reaches the emitter", () => {
    expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    expect(student?.teacher?.checkpoint).toBe(CHECKPOINT);
  });

  it("is emitted as data: the module parses and runs no payload", async () => {
    process.env["BDL_PAYLOAD_MARKER"] = MARKER;
    for (const [model, t] of [
      [teacher!, null],
      [student!, teacher!],
    ] as const) {
      const { text } = await emitGraph(model, t);
      expect(syntaxErrors(text), model.name).toEqual([]);
    }
    const { graph, teacher: teacherGraph } = await loadGraph(student!, teacher!);
    // Let a payload's dynamic import settle before looking for its marker.
    await new Promise((r) => setTimeout(r, 50));
    expect((globalThis as { bdlPayload?: unknown }).bdlPayload).toBeUndefined();
    expect(existsSync(MARKER)).toBe(false);
    expect(graph.config.file).toBe(FILE);
    expect(graph.config.teacher?.checkpoint).toBe(CHECKPOINT);
    expect(graph.config.name).toBe("_s-2");
    expect(teacherGraph?.config.name).toBe("t_1-x");
  });
});

describe("loading a graph", () => {
  it("writes nothing to the temporary folder and follows no link planted there", async () => {
    const checked = checkFile("test/fixtures/train/tiny.bdl");
    const model = checked.resolutions.get("tiny")!.model;
    const shared = join(root, "shared-tmp");
    const victim = join(root, "victim");
    mkdirSync(shared);
    mkdirSync(victim);
    // Where graphs used to go: another user links it to a folder of the victim's.
    symlinkSync(victim, join(shared, "bdl-graphs"));
    const saved = process.env["TMPDIR"];
    process.env["TMPDIR"] = shared;
    try {
      expect(tmpdir()).toBe(shared);
      const { graph } = await loadGraph(model);
      expect(graph.config.name).toBe("tiny");
    } finally {
      if (saved === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = saved;
    }
    expect(readdirSync(victim)).toEqual([]);
    expect(readdirSync(shared)).toEqual(["bdl-graphs"]);
  });
});
