/**
 * Ctrl-C for the long-running commands (train, finetune, eval), in two stages, once the
 * command's step loop has begun (`arm`):
 *
 *   first   the command is asked to stop at its next safe point: `train` after the current
 *           step, with a checkpoint; `finetune` and `eval` without writing half results.
 *           The command then exits 130 (128 + SIGINT, what a shell reports for Ctrl-C).
 *   second  exit 130 at once, without saving the step under way. Checkpoints and other
 *           outputs are written atomically, so the last complete one stays whole.
 *
 * The handler is JavaScript, so it runs only when the event loop gets control: the step
 * loops yield between steps (runtime/train/yield.ts), and a press during a step (whose
 * kernels cannot be cut short) is seen when that step's tensor work returns. Before the loop (loading, training a
 * tokenizer: long synchronous work with nothing to finish) no handler is installed, so
 * Ctrl-C ends the process at once, as it does any program.
 */

/** The exit code of a command stopped by Ctrl-C. */
export const INTERRUPTED = 130;

export interface Interrupt {
  /** Installs the handler: called when the step loop begins. */
  arm(): void;
  /** True once Ctrl-C was pressed (after `arm`). */
  readonly requested: boolean;
  /** Removes the handler, once the command's work is done. */
  dispose(): void;
}

/**
 * The two-stage SIGINT handler, not yet installed. `onFirst` tells the user what happens now
 * (and that a second Ctrl-C quits at once); `exit` is process.exit, replaceable for tests.
 */
export function interruptHandler(onFirst: () => void, exit: (code: number) => void = (code) => process.exit(code)): Interrupt {
  let requested = false;
  let armed = false;
  const handler = () => {
    if (requested) {
      exit(INTERRUPTED);
      return;
    }
    requested = true;
    onFirst();
  };
  return {
    arm() {
      if (!armed) process.on("SIGINT", handler);
      armed = true;
    },
    get requested() {
      return requested;
    },
    dispose() {
      if (armed) process.off("SIGINT", handler);
      armed = false;
    },
  };
}

/** `args` as one line a POSIX shell reads back as the same words (for a command to copy). */
export function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}
