/** Source → AST: lexing, parsing with recovery, and CST → AST, with every syntax error found. */
import type { IToken } from "chevrotain";
import { EOF } from "chevrotain";
import type { FileNode } from "./ast.js";
import type { FileCstNode } from "./cst.js";
import { Diag, diagnostic, type Diagnostic } from "../diagnostics.js";
import { tokenize } from "./lexer.js";
import { MAX_SYNTAX_ERRORS, parser, TooManySyntaxErrors } from "./parser.js";
import { spanOf, type Source, type Span } from "../source.js";
import { toAst } from "./to-ast.js";

export interface ParseResult {
  ast: FileNode;
  diagnostics: Diagnostic[];
}

export function parseSource(source: Source): ParseResult {
  const lexed = tokenize(source);
  parser.input = lexed.tokens;
  let cst: FileCstNode | null = null;
  try {
    cst = parser.file() as FileCstNode;
  } catch (e) {
    if (!(e instanceof TooManySyntaxErrors)) throw e;
  }
  const diagnostics = [...lexed.diagnostics];
  for (const e of parser.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    diagnostics.push(diagnostic(Diag.SyntaxError, errorSpan(source, e.token, previousToken(e)), [e.message]));
  }
  if (cst === null) {
    const last = diagnostics.at(-1)!;
    diagnostics.push(diagnostic(Diag.TooManyErrors, last.span, [`parsing stopped after ${MAX_SYNTAX_ERRORS} syntax errors`]));
    return { ast: { kind: "File", source, items: [], comments: [] }, diagnostics };
  }
  const { ast, diagnostics: incomplete } = toAst(cst, source, lexed.comments);
  return { ast, diagnostics: [...diagnostics, ...incomplete] };
}

function previousToken(e: object): IToken | undefined {
  return (e as { previousToken?: IToken }).previousToken;
}

/**
 * Where to point a syntax error: at the offending token, or — when that is the end of
 * the file or a token invented by recovery — just after the last real token.
 */
function errorSpan(source: Source, token: IToken, previous: IToken | undefined): Span {
  if (token.tokenType !== EOF && !Number.isNaN(token.startOffset) && !token.isInsertedInRecovery) {
    return spanOf(source, token.startOffset, (token.endOffset ?? token.startOffset) + 1);
  }
  if (previous && !Number.isNaN(previous.startOffset)) {
    const end = (previous.endOffset ?? previous.startOffset) + 1;
    return spanOf(source, end, end);
  }
  return spanOf(source, source.text.length, source.text.length);
}
