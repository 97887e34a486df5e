/**
 * The server's view of the files: the documents the editor has open (their text, which wins
 * over what is on disk), a parse cache that re-parses a file only when its text changed,
 * and, for each open document, its checked program and the files that program depends on,
 * so that a change to one file re-checks exactly the open documents that import it.
 */
import * as path from "node:path";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { checkProgram, type CheckedProgram } from "../compiler/semantics/check.js";
import {
  loadProgram,
  MAX_FILE_BYTES,
  nodeHost,
  ParseCache,
  readSource,
  resolveImport,
  type CompilerHost,
  type ParseResult,
} from "../compiler/semantics/program.js";
import { imports } from "../compiler/syntax/ast.js";
import { parseSource } from "../compiler/syntax/parse.js";
import { FileReadError } from "../io/read-file.js";
import { pathToUri, uriToPath } from "./positions.js";

/** One open document, checked as `bdlc check` checks the file: with everything it imports. */
export interface Analysis {
  readonly uri: string;
  /** Absolute. */
  readonly path: string;
  readonly document: TextDocument;
  readonly checked: CheckedProgram;
  /** Absolute paths of every file the program read or tried to import (a missing one may be created later). */
  readonly dependencies: ReadonlySet<string>;
}

/** A parse cache whose entries know which text they parsed: an open document's version, or the disk. */
class LiveParseCache extends ParseCache {
  private readonly entries = new Map<string, { stamp: string; result: ParseResult }>();

  constructor(
    host: CompilerHost,
    private readonly stampOf: (absolutePath: string) => string,
  ) {
    super(host);
  }

  override get(displayPath: string): ParseResult {
    const key = path.resolve(displayPath);
    const stamp = this.stampOf(key);
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) return hit.result;
    const read = readSource(this.host, displayPath);
    const result: ParseResult = "error" in read ? read : parseSource(read.source);
    this.entries.set(key, { stamp, result });
    return result;
  }

  /** Files on disk may have changed behind the server's back (a save, a checkout): read them again. */
  forgetDisk(): void {
    for (const [key, entry] of this.entries) if (entry.stamp === DISK) this.entries.delete(key);
  }
}

const DISK = "disk";

export class Workspace {
  /** Open documents by absolute path. */
  private readonly open = new Map<string, TextDocument>();
  private readonly analyses = new Map<string, Analysis>();
  /**
   * How many times each open document's text was set: the parse cache's stamp. Not the
   * client's version number, which a client may repeat or skip.
   */
  private readonly edits = new Map<string, number>();
  private editCount = 0;
  private readonly cache: LiveParseCache;
  /** Open documents first, then the disk: an import sees what the editor shows, saved or not. */
  readonly host: CompilerHost = {
    readFile: (filePath) => {
      const doc = this.open.get(path.resolve(filePath));
      if (!doc) return nodeHost.readFile(filePath);
      const text = doc.getText();
      // The same limit as on disk: later phases do work per character.
      if (text.length > MAX_FILE_BYTES) throw new FileReadError(filePath, `is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
      return text;
    },
    fileExists: (filePath) => this.open.has(path.resolve(filePath)) || nodeHost.fileExists(filePath),
  };

  constructor() {
    this.cache = new LiveParseCache(this.host, (key) => (this.open.has(key) ? `open:${this.edits.get(key)}` : DISK));
  }

  /**
   * A document was opened or its text changed: re-check it and every open document that
   * depends on it. Returns the re-checked analyses.
   */
  update(document: TextDocument): Analysis[] {
    const changed = uriToPath(document.uri);
    this.open.set(changed, document);
    this.edits.set(changed, ++this.editCount);
    return this.recheck((a) => a.path === changed || a.dependencies.has(changed), [changed]);
  }

  /** A document was closed: it is read from disk again by whatever imports it. */
  close(uri: string): Analysis[] {
    const closed = uriToPath(uri);
    this.open.delete(closed);
    this.edits.delete(closed);
    this.analyses.delete(closed);
    return this.recheck((a) => a.dependencies.has(closed), []);
  }

  /** Files changed on disk: forget every file read from there and re-check every open document. */
  diskChanged(): Analysis[] {
    this.cache.forgetDisk();
    return this.recheck(() => true, []);
  }

  /** The analysis of an open document, or undefined for a URI the editor has not opened. */
  analysis(uri: string): Analysis | undefined {
    return this.analyses.get(uriToPath(uri));
  }

  all(): Analysis[] {
    return [...this.analyses.values()];
  }

  /** The URI under which to tell the editor about a file: the open document's own, or the file's. */
  uriFor(filePath: string): string {
    return this.open.get(path.resolve(filePath))?.uri ?? pathToUri(filePath);
  }

  /** An open document's current text by path, if open. */
  document(filePath: string): TextDocument | undefined {
    return this.open.get(path.resolve(filePath));
  }

  private recheck(affected: (a: Analysis) => boolean, extra: string[]): Analysis[] {
    const paths = new Set(extra);
    for (const a of this.analyses.values()) if (affected(a)) paths.add(a.path);
    const done: Analysis[] = [];
    for (const p of paths) {
      const document = this.open.get(p);
      if (!document) continue;
      const analysis = this.analyse(p, document);
      this.analyses.set(p, analysis);
      done.push(analysis);
    }
    return done;
  }

  private analyse(filePath: string, document: TextDocument): Analysis {
    const checked = checkProgram(loadProgram(filePath, this.cache));
    const dependencies = new Set<string>();
    for (const file of checked.program.files) {
      dependencies.add(path.resolve(file.source.path));
      for (const imp of imports(file)) dependencies.add(path.resolve(resolveImport(file.source.path, imp.path.value, this.host)));
    }
    return { uri: document.uri, path: filePath, document, checked, dependencies };
  }
}
