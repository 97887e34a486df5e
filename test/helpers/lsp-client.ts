/**
 * An editor's side of the Language Server Protocol for tests: JSON-RPC over a pair of
 * streams (vscode-jsonrpc, what VS Code's own client uses), to a server run in this process
 * or spawned as `bdlc lsp --stdio`, and the published diagnostics collected per URI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type MessageConnection,
  type PublishDiagnosticsParams,
} from "vscode-languageserver/node";
import { startServer } from "../../src/lsp/server.js";
import { BIN, ROOT } from "./training.js";

export class LspClient {
  readonly connection: MessageConnection;
  /** The latest diagnostics published for each URI. */
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly log: string[] = [];
  private readonly waiting: { uri: string; resolve: (d: Diagnostic[]) => void }[] = [];

  constructor(
    fromServer: Readable,
    /** The server's input, raw: tests also write garbage to it. */
    readonly toServer: Writable,
  ) {
    this.connection = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
    this.connection.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      for (let i = this.waiting.length - 1; i >= 0; i--) {
        if (this.waiting[i]!.uri === p.uri) this.waiting.splice(i, 1)[0]!.resolve(p.diagnostics);
      }
    });
    // Servers log through window/logMessage; a test that wants the lines reads them here.
    this.connection.onNotification("window/logMessage", (p: { message: string }) => {
      this.log.push(p.message);
    });
    this.connection.listen();
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.connection.sendNotification(method, params);
  }

  /** The next diagnostics published for `uri` after `action`. */
  async diagnosticsAfter(uri: string, action: () => Promise<void> | void): Promise<Diagnostic[]> {
    const next = new Promise<Diagnostic[]>((resolve) => this.waiting.push({ uri, resolve }));
    await action();
    return next;
  }

  async initialize(): Promise<{ capabilities: Record<string, unknown> }> {
    const result = await this.request<{ capabilities: Record<string, unknown> }>("initialize", {
      processId: null,
      rootUri: pathToFileURL(ROOT).href,
      capabilities: {},
    });
    await this.notify("initialized", {});
    return result;
  }

  open(uri: string, text: string, version = 1): Promise<Diagnostic[]> {
    return this.diagnosticsAfter(uri, () =>
      this.notify("textDocument/didOpen", { textDocument: { uri, languageId: "bdl", version, text } }),
    );
  }

  change(uri: string, text: string, version: number): Promise<Diagnostic[]> {
    return this.diagnosticsAfter(uri, () =>
      this.notify("textDocument/didChange", { textDocument: { uri, version }, contentChanges: [{ text }] }),
    );
  }

  async stop(): Promise<void> {
    await this.request("shutdown", null);
    await this.notify("exit", null);
    this.connection.dispose();
  }
}

/** The server in this process, over two in-memory pipes; `exitCode` settles when it exits. */
export function inProcessServer(): { client: LspClient; exitCode: Promise<number> } {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const exitCode = new Promise<number>((resolve) => startServer({ input: toServer, output: fromServer, onExit: resolve }));
  return { client: new LspClient(fromServer, toServer), exitCode };
}

/** The built CLI's server (`npm run build` first), as an editor starts it. */
export function spawnedServer(): { client: LspClient; child: ChildProcess; exitCode: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, "lsp", "--stdio"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const exitCode = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { client: new LspClient(child.stdout!, child.stdin!), child, exitCode };
}
