/**
 * `bdlc lsp`: a Language Server Protocol server over a pair of streams (stdin and stdout
 * when an editor starts it). It wires the protocol to the compiler: every open document is
 * checked as `bdlc check` checks a file, and hover, definition, references, completion,
 * formatting, symbols and quick fixes read the checked program.
 *
 * A handler never lets an exception out: whatever the editor sends (half-typed text,
 * positions past the end, garbage), the server logs the failure and keeps answering.
 */
import {
  CodeActionKind,
  createConnection,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type Diagnostic,
  type InitializeParams,
  type InitializeResult,
  type Position,
  type WatchDog,
} from "vscode-languageserver";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { quickFixes } from "./code-actions.js";
import { complete } from "./completion.js";
import { definition, references } from "./definition.js";
import { diagnosticsByUri } from "./diagnostics.js";
import { formatDocument } from "./formatting.js";
import { hover } from "./hover.js";
import { documentSymbols } from "./symbols.js";
import { Workspace, type Analysis } from "./workspace.js";

export interface ServerOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Called once, with 0 after `shutdown` then `exit`, 1 when the client exits or goes away without `shutdown`. */
  onExit(code: number): void;
  /** Exit when the editor's process (initialize's `processId`) is gone: an editor that crashes closes no pipe. */
  watchParent?: boolean;
  version?: string;
}

export interface Server {
  connection: Connection;
  workspace: Workspace;
}

export function startServer(options: ServerOptions): Server {
  let exited = false;
  let parentWatch: NodeJS.Timeout | undefined;
  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize(params: InitializeParams) {
      const pid = params.processId;
      if (!options.watchParent || typeof pid !== "number" || parentWatch) return;
      parentWatch = setInterval(() => {
        try {
          process.kill(pid, 0);
        } catch {
          exit(1);
        }
      }, 3000);
      parentWatch.unref();
    },
    exit: (code) => exit(code),
  };
  const connection = createConnection(
    (logger) => createProtocolConnection(new StreamMessageReader(options.input), new StreamMessageWriter(options.output), logger),
    watchDog,
  );
  function exit(code: number): void {
    if (exited) return;
    exited = true;
    if (parentWatch) clearInterval(parentWatch);
    connection.dispose();
    options.onExit(code);
  }
  // An editor that goes away closes our input: stop as `exit` without `shutdown` would.
  options.input.on("end", () => exit(watchDog.shutdownReceived ? 0 : 1));
  options.input.on("close", () => exit(watchDog.shutdownReceived ? 0 : 1));

  const workspace = new Workspace();
  const documents = new TextDocuments(TextDocument);
  let published = new Map<string, Diagnostic[]>();

  /** Sends what changed since the last time, and always the documents just re-checked (their editor waits for it). */
  const publish = (rechecked: readonly Analysis[]): void => {
    const next = diagnosticsByUri(workspace.all(), workspace);
    for (const a of workspace.all()) if (!next.has(a.uri)) next.set(a.uri, []);
    const fresh = new Set(rechecked.map((a) => a.uri));
    for (const uri of published.keys()) if (!next.has(uri)) void connection.sendDiagnostics({ uri, diagnostics: [] });
    for (const [uri, diagnostics] of next) {
      if (fresh.has(uri) || JSON.stringify(published.get(uri)) !== JSON.stringify(diagnostics)) {
        void connection.sendDiagnostics({ uri, diagnostics, version: documents.get(uri)?.version });
      }
    }
    published = next;
  };

  const log = (what: string, e: unknown): void => {
    connection.console.error(`bdlc lsp: ${what} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  };
  /** Runs a handler; on an exception, logs it and answers `fallback`. */
  function guard<P, R>(what: string, fallback: R, handler: (params: P) => R): (params: P) => R {
    return (params) => {
      try {
        return handler(params);
      } catch (e) {
        log(what, e);
        return fallback;
      }
    };
  }
  /** The open document's analysis and the offset of a position in it; null for an unknown document or a malformed position. */
  const at = (uri: unknown, position: Position | undefined): { analysis: Analysis; offset: number } | null => {
    const analysis = typeof uri === "string" ? workspace.analysis(uri) : undefined;
    if (!analysis || !position || !Number.isInteger(position.line) || !Number.isInteger(position.character)) return null;
    return { analysis, offset: analysis.document.offsetAt(position) };
  };

  connection.onInitialize((): InitializeResult => ({
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Full },
      hoverProvider: true,
      definitionProvider: true,
      referencesProvider: true,
      completionProvider: { triggerCharacters: [] },
      documentFormattingProvider: true,
      documentSymbolProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: "bdlc", version: options.version ?? "0.1.0" },
  }));

  documents.onDidChangeContent(guard("checking a document", undefined, (e) => publish(workspace.update(e.document))));
  documents.onDidClose(
    guard("closing a document", undefined, (e) => {
      publish(workspace.close(e.document.uri));
    }),
  );
  connection.onDidChangeWatchedFiles(guard("re-reading changed files", undefined, () => publish(workspace.diskChanged())));

  connection.onHover(
    guard("hover", null, (p) => {
      const here = at(p.textDocument?.uri, p.position);
      return here ? hover(here.analysis, here.offset, workspace) : null;
    }),
  );
  connection.onDefinition(
    guard("definition", null, (p) => {
      const here = at(p.textDocument?.uri, p.position);
      return here ? definition(here.analysis, here.offset, workspace) : null;
    }),
  );
  connection.onReferences(
    guard("references", [], (p) => {
      const here = at(p.textDocument?.uri, p.position);
      return here ? references(here.analysis, here.offset, p.context?.includeDeclaration !== false, workspace) : [];
    }),
  );
  connection.onCompletion(
    guard("completion", [], (p) => {
      const here = at(p.textDocument?.uri, p.position);
      return here ? complete(here.analysis, here.offset) : [];
    }),
  );
  connection.onDocumentFormatting(
    guard("formatting", [], (p) => {
      const analysis = typeof p.textDocument?.uri === "string" ? workspace.analysis(p.textDocument.uri) : undefined;
      return analysis ? formatDocument(analysis.document, analysis.path) : [];
    }),
  );
  connection.onDocumentSymbol(
    guard("document symbols", [], (p) => {
      const entry = typeof p.textDocument?.uri === "string" ? workspace.analysis(p.textDocument.uri)?.checked.program.entry : null;
      return entry ? documentSymbols(entry) : [];
    }),
  );
  connection.onCodeAction(
    guard("code actions", [], (p) => {
      const uri = p.textDocument?.uri;
      if (typeof uri !== "string" || !p.range) return [];
      return quickFixes(uri, p.range, published.get(uri) ?? []);
    }),
  );

  documents.listen(connection);
  connection.listen();
  return { connection, workspace };
}
