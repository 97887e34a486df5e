/**
 * `bdlc`: the command-line interface. Exit codes: 0 success, 1 user error (bad `.bdl`,
 * bad flag, missing file: one clear message, no stack trace), 2 internal error.
 *
 * Each command lives in src/cli/commands/ and is loaded only when run, so that
 * `bdlc check` does not pay for the SVG renderer or the code emitter at start-up.
 */
import { TensorMemoryError } from "../runtime/backends/backend-error.js";
import { InputError } from "../app/input-error.js";
import { UsageError, type Command, type Io } from "./commands/command.js";
import { suggest } from "../compiler/suggest.js";
import { diskErrorMessage, isAllocationFailure } from "../runtime/system-error.js";

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  check: { summary: "parse, resolve and validate .bdl files", load: async () => (await import("./commands/check.js")).check },
  fmt: { summary: "format .bdl files canonically", load: async () => (await import("./commands/fmt.js")).fmt },
  print: { summary: "print a model with every extends and import resolved", load: async () => (await import("./commands/print.js")).print },
  diff: { summary: "architecture diff of two resolved models", load: async () => (await import("./commands/diff.js")).diff },
  params: { summary: "count parameters (encoder, total, breakdown)", load: async () => (await import("./commands/params.js")).params },
  graph: { summary: "draw the architecture as SVG", load: async () => (await import("./commands/graph.js")).graph },
  "import-hf": {
    summary: "read a Hugging Face checkpoint into a checkpoint of a model",
    load: async () => (await import("./commands/import-hf.js")).importHf,
  },
  "export-hf": {
    summary: "write a checkpoint as a Hugging Face folder",
    load: async () => (await import("./commands/export-hf.js")).exportHf,
  },
  "from-hf": {
    summary: "print the .bdl model a Hugging Face config.json describes",
    load: async () => (await import("./commands/from-hf.js")).fromHf,
  },
  run: { summary: "one forward (and backward) pass on explicit inputs", load: async () => (await import("./commands/run.js")).run },
  compile: {
    summary: "emit a typed TypeScript training graph per model",
    load: async () => (await import("./commands/compile.js")).compile,
  },
  train: {
    summary: "pretrain a model on a corpus (checkpoints, log, report)",
    load: async () => (await import("./commands/train.js")).train,
  },
  report: {
    summary: "draw a run folder's report.html again (a torch run trained without bdlc)",
    load: async () => (await import("./commands/report.js")).report,
  },
  eval: {
    summary: "held-out MLM loss, accuracy and perplexity of a checkpoint",
    load: async () => (await import("./commands/eval.js")).evalCommand,
  },
  finetune: {
    summary: "fine-tune and evaluate a sequence classifier",
    load: async () => (await import("./commands/finetune.js")).finetuneCommand,
  },
  predict: {
    summary: "label texts with a fine-tuned classifier",
    load: async () => (await import("./commands/predict.js")).predict,
  },
  "mask-preview": {
    summary: "print training examples with the model's masking applied",
    load: async () => (await import("./commands/mask-preview.js")).maskPreview,
  },
  lsp: { summary: "language server for editors (--stdio)", load: async () => (await import("./commands/lsp.js")).lsp },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ["Usage: bdlc <command> [options]", "", "Commands:", ...lines, "", "Run `bdlc <command> --help` for a command's options."].join(
    "\n",
  );
}

/**
 * A reader that stops early (`bdlc run … | head`) closes the pipe, and the next write fails
 * with EPIPE. Like other command-line tools, stop quietly then: the reader has what it wanted.
 */
function stopQuietlyWhenPipeCloses(stream: NodeJS.WriteStream): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

let pipesWatched = false;

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
  isTerminal: Boolean(process.stderr.isTTY),
};

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  if (io === processIo && !pipesWatched) {
    pipesWatched = true;
    stopQuietlyWhenPipeCloses(process.stdout);
    stopQuietlyWhenPipeCloses(process.stderr);
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.out("bdlc 0.1.0");
    return 0;
  }
  // An own key only: `bdlc constructor` is an unknown command, not Object's constructor.
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const hint = suggest(name, Object.keys(COMMANDS));
    io.err(`bdlc: unknown command '${name}'.${hint ? ` Did you mean '${hint}'?` : ""}\n\n${usage()}`);
    return 1;
  }
  try {
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (e) {
    // A bad input file, or a model too big for the backend's memory, is the user's to fix, not a bdl bug.
    if (e instanceof UsageError || e instanceof InputError || e instanceof TensorMemoryError) {
      io.err(`bdlc ${name}: ${e.message}`);
      return 1;
    }
    // The machine's problems, not bdl's: exit 1 with what failed and where.
    const disk = diskErrorMessage(e);
    if (disk !== null) {
      io.err(`bdlc ${name}: ${disk}`);
      return 1;
    }
    if (isAllocationFailure(e)) {
      io.err(`bdlc ${name}: out of memory: this machine could not allocate what the command needs (${(e as Error).message})`);
      return 1;
    }
    const detail = process.env["BDL_DEBUG"] ? `\n${(e as Error).stack}` : " (set BDL_DEBUG=1 for the stack trace)";
    io.err(`bdlc ${name}: internal error: ${(e as Error).message ?? String(e)}${detail}`);
    return 2;
  }
}
