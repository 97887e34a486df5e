/**
 * Training progress for a person: a one-line bar redrawn in place on a terminal, plain
 * lines (one per logged step) otherwise — so logs and CI output stay readable.
 */
export interface ProgressLine {
  step: number;
  steps: number;
  loss: number;
  tokensPerSecond: number;
  /** Seconds left at the current speed. */
  eta: number;
}

export interface Progress {
  update(p: ProgressLine): void;
  message(text: string): void;
  done(): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

export function formatProgress(p: ProgressLine): string {
  return `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ${Math.round(p.tokensPerSecond)} tok/s  ETA ${duration(p.eta)}`;
}

export function terminalProgress(stream: NodeJS.WriteStream): Progress {
  let drawn = false;
  return {
    update(p) {
      const width = 24;
      const filled = Math.round((width * p.step) / Math.max(1, p.steps));
      const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
      stream.write(`\r\x1b[K${bar} ${formatProgress(p)}`);
      drawn = true;
    },
    message(text) {
      stream.write(`${drawn ? "\r\x1b[K" : ""}${text}\n`);
      drawn = false;
    },
    done() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}

export function lineProgress(write: (line: string) => void): Progress {
  return {
    update: (p) => write(formatProgress(p)),
    message: (text) => write(text),
    done: () => undefined,
  };
}
