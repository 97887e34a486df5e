/**
 * The two-stage stop handler shared by train, finetune and eval, driven in process by
 * emitting the signals (the child-process tests in test/runtime/train/interrupt.test.ts
 * send real ones), and the message `train` prints when it was stopped.
 */
import { afterEach, describe, expect, it } from "vitest";
import { interruptHandler, stopNotice, type Interrupt, type StopSignal } from "../../../src/cli/commands/interrupt.js";
import { interruptedMessage } from "../../../src/cli/commands/train.js";

let handler: Interrupt | null = null;
afterEach(() => handler?.dispose());

function armed(): { notices: StopSignal[]; exits: number[]; interrupt: Interrupt } {
  const notices: StopSignal[] = [];
  const exits: number[] = [];
  handler = interruptHandler(
    (signal) => notices.push(signal),
    (code) => exits.push(code),
  );
  handler.arm();
  return { notices, exits, interrupt: handler };
}

describe("interruptHandler", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("a first %s asks to stop and sets exit code %i; it does not exit", (signal, code) => {
    const { notices, exits, interrupt } = armed();
    expect(interrupt.requested).toBe(false);
    process.emit(signal);
    expect(notices).toEqual([signal]);
    expect(exits).toEqual([]);
    expect(interrupt.requested).toBe(true);
    expect(interrupt.exitCode).toBe(code);
  });

  it.each([
    ["SIGINT", "SIGINT", 130],
    ["SIGINT", "SIGTERM", 130],
    ["SIGTERM", "SIGINT", 143],
  ] as const)("a second signal (%s then %s) exits at once with the first one's code", (first, second, code) => {
    const { notices, exits } = armed();
    process.emit(first);
    process.emit(second);
    expect(notices).toEqual([first]);
    expect(exits).toEqual([code]);
  });

  it("does nothing before arm and after dispose: the handlers are removed", () => {
    const before = { SIGINT: process.listenerCount("SIGINT"), SIGTERM: process.listenerCount("SIGTERM") };
    const exits: number[] = [];
    const interrupt = interruptHandler(
      () => {},
      (code) => exits.push(code),
    );
    expect(process.listenerCount("SIGTERM")).toBe(before.SIGTERM);
    interrupt.arm();
    interrupt.arm(); // twice: still one handler each
    expect(process.listenerCount("SIGINT")).toBe(before.SIGINT + 1);
    expect(process.listenerCount("SIGTERM")).toBe(before.SIGTERM + 1);
    interrupt.dispose();
    expect({ SIGINT: process.listenerCount("SIGINT"), SIGTERM: process.listenerCount("SIGTERM") }).toEqual(before);
  });

  it("tells which signal came and how to quit at once", () => {
    expect(stopNotice("SIGINT", "finishing this step")).toBe("interrupted: finishing this step (Ctrl-C again to quit at once)…");
    expect(stopNotice("SIGTERM", "finishing this step")).toBe(
      "terminated (SIGTERM): finishing this step (a second signal to quit at once)…",
    );
  });
});

describe("train's message when stopped", () => {
  const args = ["models/bert-mini.bdl", "--out", "runs/x", "--resume"];

  it("before the last step: where the checkpoint is and the command that resumes", () => {
    expect(interruptedMessage({ from: 10, steps: 5, checkpoint: "runs/x/checkpoints/step-15" }, 60, args)).toBe(
      "interrupted at step 15: the checkpoint is in runs/x/checkpoints/step-15; resume with:\n  bdlc train models/bert-mini.bdl --out runs/x --resume",
    );
  });

  it("during the final evaluation: training is complete, so it offers eval, not --resume", () => {
    const m = interruptedMessage({ from: 40, steps: 20, checkpoint: "runs/x/checkpoints/step-60" }, 60, args);
    expect(m).toBe(
      "interrupted during the final evaluation: all 60 steps are trained and saved in runs/x/checkpoints/step-60; evaluate it with:\n  bdlc eval runs/x/checkpoints/step-60",
    );
    expect(m).not.toContain("--resume");
  });

  it("before the first step: nothing saved, the command that starts again", () => {
    expect(interruptedMessage({ from: 0, steps: 0, checkpoint: null }, 60, args)).toBe(
      "interrupted before the first step: no checkpoint was saved; start again with:\n  bdlc train models/bert-mini.bdl --out runs/x",
    );
  });
});
