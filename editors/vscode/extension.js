// The bdl extension: starts `bdlc lsp --stdio` for .bdl files and hands the editor to it.
// Everything the editor shows (diagnostics, hover, completion, formatting, quick fixes) comes
// from the server, which is the compiler itself; this file only starts and stops it.
const path = require("node:path");
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

/** The server's command line: `bdlc` on PATH, or a bin/bdlc.js of a bdl checkout run with this editor's node. */
function serverOptions() {
  const configured = vscode.workspace.getConfiguration("bdl").get("server.command", "bdlc");
  const args = ["lsp", "--stdio"];
  // A .js path is run with the node that runs VS Code's extension host, so it needs no node on PATH.
  if (configured.endsWith(".js")) {
    return { command: process.execPath, args: [path.resolve(configured), ...args], options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" } } };
  }
  // No `transport`: the client then talks over the process's stdio and adds no flag of its own.
  return { command: configured, args };
}

function activate(context) {
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "bdl" },
      { scheme: "untitled", language: "bdl" },
    ],
    // Imported files edited outside the editor (a checkout, a save elsewhere) are re-read.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.bdl") },
  };
  client = new LanguageClient("bdl", "bdl language server", serverOptions(), clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
