/**
 * Models that check but do not fit are the user's problem, not bdl's: `train` exits 1 with
 * a sentence (the model's size, or what to make smaller), never 2 with "internal error", and
 * leaves no checkpoint (only what a rerun into the folder reuses: the trained tokenizer and
 * the run's settings). The advice given works.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { bdlc, trainingFolder } from "../helpers/training.js";

let dir: string;
let corpus: string;
beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-too-big-"));
});

const clean = (stderr: string) => expect(stderr).not.toMatch(/internal error|^\s+at /m);

it("a model too big to allocate: exit 1 naming its size, no checkpoint", () => {
  const out = join(dir, "too-big");
  const r = bdlc(["train", "test/fixtures/train/too-big.bdl", "--corpus", corpus, "--out", out, "--steps", "1", "--backend", "cpu"]);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/bdlc train: model 'too_big' is too big to train on this machine: [\d,]+ parameters \([\d.]+ GiB as float32/);
  expect(r.stderr).toContain("could not be allocated");
  clean(r.stderr);
  expect(readdirSync(out)).toEqual(["tokenizer.json"]);
}, 120_000);

it("a step too big for the wasm heap: exit 1 saying what to make smaller, and a smaller --batch then trains", () => {
  const out = join(dir, "heap-full");
  const args = ["train", "test/fixtures/train/heap-full.bdl", "--corpus", corpus, "--out", out, "--steps", "1", "--backend", "wasm"];
  const r = bdlc(args);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(
    /bdlc train: the wasm backend's memory is full \(it holds at most 4 GiB.*use a smaller --batch or train seq, or a smaller model/,
  );
  clean(r.stderr);
  expect(readdirSync(out).sort()).toEqual(["run.json", "tokenizer.json"]);
  const smaller = bdlc([...args, "--batch", "1"]);
  expect(smaller.status, smaller.stderr).toBe(0);
  expect(readdirSync(join(out, "checkpoints"))).toEqual(["step-1"]);
}, 180_000);
