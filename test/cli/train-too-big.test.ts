/**
 * A model that checks but cannot be allocated on this machine is the user's problem, not
 * bdl's: `train` exits 1 with its size, not 2 with "internal error", and leaves no
 * checkpoint (only the trained tokenizer, which a rerun into the folder reuses).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { bdlc, trainingFolder } from "../helpers/training.js";

it("train of a model too big to allocate: exit 1 naming its size, no checkpoint", () => {
  const { dir, corpus } = trainingFolder("bdl-too-big-");
  const out = join(dir, "run");
  const r = bdlc(["train", "test/fixtures/train/too-big.bdl", "--corpus", corpus, "--out", out, "--steps", "1", "--backend", "cpu"]);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/bdlc train: model 'too_big' is too big to train on this machine: [\d,]+ parameters \([\d.]+ GiB as float32/);
  expect(r.stderr).toContain("could not be allocated");
  expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
  expect(readdirSync(out)).toEqual(["tokenizer.json"]);
}, 120_000);
