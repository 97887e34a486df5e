/**
 * Exact resume on every backend present: a run killed (SIGKILL) at a middle step and resumed
 * from its last checkpoint ends with every tensor — weights and the optimizer's moments —
 * bit for bit equal to an uninterrupted run on the same backend. cpu and wasm ship with bdl
 * and must be there; native and webgpu are optional dependencies: where one cannot start,
 * its error must name what to install (never a silent skip).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkpointSteps, differingTensors, loggedSteps, startBdlc, waitFor } from "../../helpers/runs.js";
import { bdlc, TINY_MODEL, trainingFolder } from "../../helpers/training.js";

let dir: string;
let corpus: string;

beforeAll(() => {
  ({ dir, corpus } = trainingFolder("bdl-resume-"));
});

/** What a backend that cannot start must say: the packages (or system libraries) to install. */
const MISSING: Record<string, RegExp | null> = {
  cpu: null,
  wasm: null,
  native: /npm install onnxruntime-node/,
  webgpu: /npm install webgpu @tensorflow\/tfjs-backend-webgpu|apt-get install/,
};

describe.each(Object.keys(MISSING))("--resume on %s", (backend) => {
  it("a run killed at a middle step and resumed ends with every tensor bit-identical to an uninterrupted run", async () => {
    const args = (out: string) => [
      "train",
      TINY_MODEL,
      "--corpus",
      corpus,
      "--out",
      out,
      "--steps",
      "20",
      "--save-every",
      "5",
      "--log-every",
      "1",
      "--seed",
      "3",
      "--backend",
      backend,
    ];
    const reference = join(dir, `${backend}-reference`);
    const whole = bdlc(args(reference));
    if (whole.status !== 0 && MISSING[backend] && /cannot|needs|failed to start/.test(whole.stderr)) {
      expect(whole.status, whole.stderr).toBe(1);
      expect(whole.stderr).toMatch(MISSING[backend]!);
      return;
    }
    expect(whole.status, whole.stderr).toBe(0);
    expect(whole.stderr).toContain(`backend: ${backend}`);

    // Killed between the checkpoints of steps 10 and 15, so the resume repeats steps 11 onwards.
    const killed = join(dir, `${backend}-killed`);
    const run = startBdlc(args(killed));
    await waitFor(run, () => checkpointSteps(killed).includes(10) && loggedSteps(killed).some((s) => s >= 12), "step 12");
    run.process.kill("SIGKILL");
    await run.exited;
    const from = checkpointSteps(killed).at(-1)!;
    expect(from).toBeGreaterThanOrEqual(10);
    expect(from).toBeLessThan(20);

    const resumed = bdlc([...args(killed), "--resume"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming from step ${from}`);
    expect(checkpointSteps(killed).at(-1)).toBe(20);
    expect(differingTensors(killed, reference)).toEqual([]);
  }, 600_000);
});
