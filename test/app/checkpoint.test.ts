import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadValidCheckpoint } from "../../src/app/checkpoint.js";
import { checkFile } from "../../src/compiler/semantics/check.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { parameterTable } from "../../src/model/parameters.js";
import type { WeightMap } from "../../src/runtime/checkpoint/hf-weights.js";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../../src/runtime/checkpoint/checkpoint.js";

const bert = checkFile("test/fixtures/goldens/bert.bdl").resolutions.get("tiny-bert")!.model;

function zeros(m: ResolvedModel): WeightMap {
  return new Map(parameterTable(m).map((s) => [s.name, { shape: s.shape, values: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) }]));
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bdl-app-ckpt-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A checkpoint whose bdl.json was edited by hand to a model that `bdlc check` refuses. */
function handEdited(edit: (model: Record<string, unknown>) => void): string {
  const dir = path.join(tmp, "ckpt");
  saveCheckpoint(dir, bert, zeros(bert), { step: 1 });
  const metaPath = path.join(dir, "bdl.json");
  const meta = JSON.parse(fs.readFileSync(metaPath, "utf8"));
  edit(meta.model);
  fs.writeFileSync(metaPath, JSON.stringify(meta));
  return dir;
}

describe("loadValidCheckpoint", () => {
  it("loads a checkpoint whose model passes the rules", () => {
    const dir = handEdited(() => {});
    expect(loadValidCheckpoint(dir).model.name).toBe(bert.name);
  });

  it("refuses a model the rules refuse, naming the file and the rule, before touching its weights", () => {
    // Heads that do not divide hidden leave every tensor's shape as it was: only the rules catch it.
    const dir = handEdited((m) => {
      m["heads"] = (m["hidden"] as number) + 1;
    });
    const error = (() => {
      try {
        loadValidCheckpoint(dir);
      } catch (e) {
        return e;
      }
      throw new Error("loaded");
    })();
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(new RegExp(`${path.join(dir, "bdl.json")}: model '${bert.name}' is not valid: .*heads`));
    // The runtime reader alone only checks the parameter table, which still fits.
    expect(loadCheckpoint(dir).model.heads).toBe(bert.hidden + 1);
  });
});
