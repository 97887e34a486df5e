/**
 * Ctrl-C (SIGINT) and SIGTERM for the long-running commands (train, finetune, eval), in two
 * stages, once the command's step loop has begun (`arm`):
 *
 *   first   the command is asked to stop at its next safe point: `train` after the current
 *           step, with a checkpoint; `finetune` and `eval` without writing half results.
 *           The command then exits 128 + the signal's number (130 for Ctrl-C, 143 for
 *           SIGTERM), what a shell reports for a process the signal ended.
 *   second  either signal again: exit at once, without saving the step under way.
 *           Checkpoints and other outputs are written atomically, so the last complete one
 *           stays whole.
 *
 * SIGTERM is what `kill`, job schedulers (Slurm, Kubernetes) and torchrun send before they
 * give up on a process; treating it as a first Ctrl-C keeps the step that was paid for.
 *
 * The handler is JavaScript, so it runs only when the event loop gets control: the step
 * loops yield between steps (runtime/train/yield.ts), and a signal during a step (whose
 * kernels cannot be cut short) is seen when that step's tensor work returns. Before the
 * loop (loading, training a tokenizer: long synchronous work with nothing to finish) no
 * handler is installed, so either signal ends the process at once, as it does any program.
 */

/** The exit code of a command stopped by Ctrl-C. */
export const INTERRUPTED = 130;

/** The signals that ask a command to stop, with the exit code each leads to (128 + its number). */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

export interface Interrupt {
  /** Installs the handlers: called when the step loop begins. */
  arm(): void;
  /** True once a stop signal came (after `arm`). */
  readonly requested: boolean;
  /** The exit code for the first signal that came: 130 for SIGINT, 143 for SIGTERM (130 if none). */
  readonly exitCode: number;
  /** Removes the handlers, once the command's work is done. */
  dispose(): void;
}

/**
 * The two-stage handler, not yet installed. `onFirst` tells the user what happens now (and
 * that a second signal quits at once); `exit` is process.exit, replaceable for tests.
 */
export function interruptHandler(
  onFirst: (signal: StopSignal) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): Interrupt {
  let first: StopSignal | null = null;
  let armed = false;
  const handlers = Object.fromEntries(
    Object.keys(STOP_SIGNALS).map((name) => {
      const signal = name as StopSignal;
      const handler = () => {
        if (first !== null) {
          exit(STOP_SIGNALS[first]);
          return;
        }
        first = signal;
        onFirst(signal);
      };
      return [signal, handler];
    }),
  ) as Record<StopSignal, () => void>;
  const each = (f: (signal: StopSignal, handler: () => void) => void) => {
    for (const signal of Object.keys(handlers) as StopSignal[]) f(signal, handlers[signal]);
  };
  return {
    arm() {
      if (!armed) each((signal, handler) => process.on(signal, handler));
      armed = true;
    },
    get requested() {
      return first !== null;
    },
    get exitCode() {
      return first === null ? INTERRUPTED : STOP_SIGNALS[first];
    },
    dispose() {
      if (armed) each((signal, handler) => process.off(signal, handler));
      armed = false;
    },
  };
}

/** What a user is told on the first signal: which one came, then `then` (what the command does now). */
export function stopNotice(signal: StopSignal, then: string): string {
  const again = signal === "SIGINT" ? "Ctrl-C again" : "a second signal";
  return `${signal === "SIGINT" ? "interrupted" : "terminated (SIGTERM)"}: ${then} (${again} to quit at once)…`;
}

/** `args` as one line a POSIX shell reads back as the same words (for a command to copy). */
export function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}
