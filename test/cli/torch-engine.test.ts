/**
 * The torch engine through the built CLI: `bdlc compile --target torch` writes one PyTorch
 * module per model, `bdlc run --engine torch` gives the golden's loss, and a missing PyTorch
 * or a bad flag is a user error that says what to do.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { skipTorch } from "../torch/torch-here.js";

const ROOT = resolve(import.meta.dirname, "../..");
const G = "test/fixtures/goldens";

function bdlc(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [join(ROOT, "bin", "bdlc.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env });
}

describe("bdlc compile --target torch", () => {
  it("writes NAME.py for each model, its teacher's too, and an ELECTRA generator inside its model's", () => {
    const out = mkdtempSync(join(tmpdir(), "bdl-compile-torch-"));
    const r = bdlc(["compile", `${G}/distill.bdl`, `${G}/electra.bdl`, "--target", "torch", "--out", out]);
    expect(r.stderr).toContain("wrote");
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["tiny-electra.py", "tiny-student.py", "tiny-teacher.py"]);
    expect(readFileSync(join(out, "tiny-electra.py"), "utf8")).toContain("class Generator(Encoder)");
  });

  it("refuses a target it does not know, naming the choices", () => {
    const r = bdlc(["compile", `${G}/bert.bdl`, "--target", "jax"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--target must be one of tfjs, torch, not 'jax'");
  });
});

describe("bdlc run --engine torch", () => {
  it.skipIf(skipTorch)("runs the emitted PyTorch module: the BERT golden's loss", () => {
    const out = join(mkdtempSync(join(tmpdir(), "bdl-run-torch-")), "out.json");
    const r = bdlc([
      "run",
      `${G}/bert.bdl`,
      "--weights",
      `${G}/bert`,
      "--inputs",
      `${G}/bert/inputs.json`,
      "--engine",
      "torch",
      "--out",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ours = JSON.parse(readFileSync(out, "utf8"));
    const golden = JSON.parse(readFileSync(`${G}/bert/outputs.json`, "utf8"));
    expect(Math.abs(ours.loss - golden.loss) / golden.loss).toBeLessThan(2e-4);
    expect(Object.keys(ours.grad_norms).sort()).toEqual(Object.keys(golden.grad_norms).sort());
  });

  it("without PyTorch, exits 1 saying how to install it", () => {
    const r = bdlc(["run", `${G}/bert.bdl`, "--weights", `${G}/bert`, "--inputs", `${G}/bert/inputs.json`, "--engine", "torch"], {
      ...process.env,
      BDL_PYTHON: join(ROOT, "no-such-python"),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("apt-get install python3-torch");
    expect(r.stderr).toContain("pip install torch");
    expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
  });

  it.skipIf(skipTorch)("an input the module refuses is a user error naming it: packed documents for a model without them", () => {
    const inputs = JSON.parse(readFileSync(`${G}/bert/inputs.json`, "utf8"));
    inputs.document_ids = inputs.input_ids.map((row: number[]) => row.map(() => 0));
    const file = join(mkdtempSync(join(tmpdir(), "bdl-run-torch-")), "in.json");
    writeFileSync(file, JSON.stringify(inputs));
    const r = bdlc(["run", `${G}/bert.bdl`, "--weights", `${G}/bert`, "--inputs", file, "--engine", "torch"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("document_ids: this model's PyTorch module keeps no documents apart (train { document_mask true })");
    expect(r.stderr).not.toMatch(/internal error|Traceback/);
  });

  it("refuses --backend with the torch engine, and an engine it does not know", () => {
    const args = ["run", `${G}/bert.bdl`, "--weights", `${G}/bert`, "--inputs", `${G}/bert/inputs.json`];
    const backend = bdlc([...args, "--engine", "torch", "--backend", "wasm"]);
    expect(backend.status).toBe(1);
    expect(backend.stderr).toContain("--backend is the tfjs engine's");
    const engine = bdlc([...args, "--engine", "jax"]);
    expect(engine.status).toBe(1);
    expect(engine.stderr).toContain("--engine must be one of tfjs, torch, not 'jax'");
    expect(existsSync(join(ROOT, "out.json"))).toBe(false);
  });
});
