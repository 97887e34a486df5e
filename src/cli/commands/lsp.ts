/** `bdlc lsp --stdio`: the language server editors start (see editors/vscode/). */
import { parseFlags, requirePositionals, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc lsp --stdio

Run the Language Server Protocol server on stdin and stdout, for an editor to start:
diagnostics as you type (every BDL code, across imports), hover (a property's value and
the model that set it; a model's parameter counts), go to definition, references,
completion, formatting (what \`bdlc fmt\` writes), document symbols and quick fixes.

Options:
  --stdio                 talk JSON-RPC over stdin and stdout (the only transport)
  --clientProcessId PID   accepted for editors that pass it; the server watches the
                          process the editor names in 'initialize'`;

export const lsp: Command = {
  help,
  async run(args) {
    const { values, positionals } = parseFlags(args, { stdio: { type: "boolean" }, clientProcessId: { type: "string" } }, help);
    requirePositionals(positionals, 0, 0, "nothing", help);
    if (!values.stdio) throw new UsageError(`give --stdio: it is the only transport.\n\n${help}`);
    const { startServer } = await import("../../lsp/server.js");
    // stdout carries the protocol: a stray console.log from anywhere would corrupt it.
    console.log = console.info = console.debug = console.warn = console.error;
    return await new Promise<number>((resolve) => {
      startServer({
        input: process.stdin,
        output: process.stdout,
        watchParent: true,
        onExit(code) {
          // stdin would keep the process alive after `exit`.
          process.stdin.destroy();
          resolve(code);
        },
      });
    });
  },
};
