/**
 * The torch engine against Hugging Face transformers and against the tfjs engine: each
 * golden's tiny model, compiled to PyTorch and run by `bdlc run --engine torch` on the
 * golden's weights and inputs, reproduces the golden's outputs, losses and gradient norms to
 * the tolerances the tfjs engine meets (test/runtime/parity.test.ts), and the tfjs engine's
 * own loss and gradient norms on the same weights and batch to 1e-5 relative.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { runModel } from "../../src/app/run.js";
import { expectGradNormClose, LOSS_REL, maxAbsDiff, OUTPUT_ABS, relative, type Nested } from "../helpers/parity.js";
import { skipTorch } from "./torch-here.js";

const GOLDENS = "test/fixtures/goldens";
/** Between the two engines, both float32 on this CPU. */
const ENGINE_REL = 1e-5;

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

interface Case {
  folder: string;
  model: string;
  weights: string;
  teacherWeights?: string;
  outputs: string[];
  stacks: string[];
  /** Our gradient norms' key, and the golden's where it differs. */
  norms: (string | [string, string])[];
}

const CASES: Case[] = [
  {
    folder: "bert",
    model: "tiny-bert",
    weights: "bert",
    outputs: ["last_hidden_state", "pooler_output", "mlm_logits", "nsp_logits"],
    stacks: ["hidden_states"],
    norms: ["grad_norms"],
  },
  {
    folder: "albert",
    model: "tiny-albert",
    weights: "albert",
    outputs: ["last_hidden_state", "pooler_output", "mlm_logits", "sop_logits"],
    stacks: ["hidden_states"],
    norms: ["grad_norms"],
  },
  {
    folder: "modernbert",
    model: "tiny-modernbert",
    weights: "modernbert",
    outputs: ["last_hidden_state", "mlm_logits"],
    stacks: ["hidden_states"],
    norms: ["grad_norms"],
  },
  {
    folder: "electra",
    model: "tiny-electra",
    weights: "electra",
    outputs: ["generator_logits", "discriminator_logits", "discriminator_last_hidden_state"],
    stacks: ["generator_hidden_states", "discriminator_hidden_states"],
    norms: ["generator_grad_norms", "discriminator_grad_norms"],
  },
  {
    folder: "distill",
    model: "tiny-student",
    weights: "distill/student",
    teacherWeights: "distill/teacher",
    outputs: [],
    stacks: [],
    norms: [["grad_norms", "student_grad_norms"]],
  },
];

describe.skipIf(skipTorch).each(CASES)("$folder golden on the torch engine", (c) => {
  let torch: Record<string, any>;
  let tfjs: Record<string, any>;
  let golden: Record<string, any>;

  beforeAll(async () => {
    const checked = checkFile(`${GOLDENS}/${c.folder}.bdl`);
    const model = checked.resolutions.get(c.model)!.model;
    const teacher = model.teacher ? checked.resolutions.get(model.teacher.model)!.model : null;
    const options = {
      model,
      teacher,
      weights: `${GOLDENS}/${c.weights}`,
      teacherWeights: c.teacherWeights && `${GOLDENS}/${c.teacherWeights}`,
      inputs: `${GOLDENS}/${c.folder}/inputs.json`,
      backend: "cpu",
    };
    torch = await runModel({ ...options, engine: "torch" });
    tfjs = await runModel({ ...options, engine: "tfjs" });
    golden = json(`${GOLDENS}/${c.folder}/outputs.json`);
  }, 120_000);

  it("gives the outputs the golden has to OUTPUT_ABS", () => {
    for (const key of c.outputs) expect(maxAbsDiff(torch[key], golden[key]), key).toBeLessThan(OUTPUT_ABS);
    for (const key of c.stacks) {
      expect(torch[key].length, key).toBe(golden[key].length);
      torch[key].forEach((h: Nested, i: number) => expect(maxAbsDiff(h, golden[key][i]), `${key}[${i}]`).toBeLessThan(OUTPUT_ABS));
    }
  });

  it("gives the golden's loss and terms to LOSS_REL, and the tfjs engine's to ENGINE_REL", () => {
    expect(relative(torch["loss"], golden["loss"])).toBeLessThan(LOSS_REL);
    expect(Object.keys(torch["loss_terms"]).sort()).toEqual(Object.keys(golden["loss_terms"]).sort());
    for (const [k, v] of Object.entries(golden["loss_terms"] as Record<string, number>)) {
      expect(relative(torch["loss_terms"][k], v), k).toBeLessThan(LOSS_REL);
      expect(relative(torch["loss_terms"][k], tfjs["loss_terms"][k]), k).toBeLessThan(ENGINE_REL);
    }
    expect(relative(torch["loss"], tfjs["loss"])).toBeLessThan(ENGINE_REL);
  });

  it("gives every gradient norm under Hugging Face's names: the golden's to GRAD_NORM_REL, the tfjs engine's to ENGINE_REL", () => {
    for (const norms of c.norms) {
      const [key, goldenKey] = typeof norms === "string" ? [norms, norms] : norms;
      const ours = torch[key] as Record<string, number>;
      expect(Object.keys(ours).sort(), key).toEqual(Object.keys(golden[goldenKey]).sort());
      for (const [k, v] of Object.entries(golden[goldenKey] as Record<string, number>)) {
        expectGradNormClose(ours[k]!, v, `${key} ${k}`);
        expectGradNormClose(ours[k]!, tfjs[key][k], `${key} ${k} (tfjs)`, ENGINE_REL);
      }
    }
  });
});
