/**
 * The `.bdl` grammar as a chevrotain CST parser. Grammar only: no semantic actions.
 * Each rule quotes its production; `grammar/bdl.ebnf` is the same grammar as a reference
 * and a test keeps the two in sync. Error recovery is on, so one parse reports every
 * syntax error in a file.
 */
import { CstParser, tokenMatcher, type CstNode, type IRecognitionException } from "chevrotain";
import { syntaxErrorMessages } from "./syntax-messages.js";
import {
  allTokens,
  Arrow,
  Comma,
  DotDot,
  Expect,
  Extends,
  From,
  Group,
  Identifier,
  Import,
  Init,
  Key,
  Layers,
  LBrace,
  LBracket,
  Lowercase,
  Model,
  NumberLiteral,
  Objectives,
  Off,
  Over,
  Quantity,
  RBrace,
  RBracket,
  Share,
  Sharing,
  StringLiteral,
  Teacher,
  Tokenizer,
  Word,
} from "./tokens.js";

/** Thrown out of a parse once it has found this many errors: the rest would be echoes. */
export const MAX_SYNTAX_ERRORS = 100;

export class TooManySyntaxErrors extends Error {}

export class BdlParser extends CstParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: syntaxErrorMessages });
    this.performSelfAnalysis();
  }

  /** file := (importDecl | modelDecl)* */
  public file = this.RULE("file", () => {
    this.MANY(() => {
      this.OR([{ ALT: () => this.SUBRULE(this.importDecl) }, { ALT: () => this.SUBRULE(this.modelDecl) }]);
    });
  });

  /** importDecl := 'import' String */
  public importDecl = this.RULE("importDecl", () => {
    this.CONSUME(Import);
    this.CONSUME(StringLiteral);
  });

  /** modelDecl := 'model' Word ('extends' Word)? '{' member* '}' */
  public modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(Model);
    this.CONSUME(Word, { LABEL: "name" });
    this.OPTION(() => {
      this.CONSUME(Extends);
      this.CONSUME2(Word, { LABEL: "base" });
    });
    this.CONSUME(LBrace);
    this.MANY(() => this.SUBRULE(this.member));
    this.CONSUME(RBrace);
  });

  /** member := sharingDecl | objectivesDecl | teacherDecl | expectDecl | tokenizerDecl | recordDecl | setting */
  public member = this.RULE("member", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.sharingDecl) },
      { ALT: () => this.SUBRULE(this.objectivesDecl) },
      { ALT: () => this.SUBRULE(this.teacherDecl) },
      { ALT: () => this.SUBRULE(this.expectDecl) },
      { ALT: () => this.SUBRULE(this.tokenizerDecl) },
      { ALT: () => this.SUBRULE(this.recordDecl) },
      { ALT: () => this.SUBRULE(this.setting) },
    ]);
  });

  /** recordDecl := Key '{' setting* '}'   (embeddings, masking, special, train) */
  public recordDecl = this.RULE("recordDecl", () => {
    this.CONSUME(Key);
    this.CONSUME(LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(RBrace);
  });

  /**
   * setting := Key value?
   * The value must start on the key's line. A key left without one is reported by
   * `to-ast` ("'vocab' needs a value"), and the next line still parses as the next setting.
   */
  public setting = this.RULE("setting", () => {
    this.CONSUME(Key);
    this.OPTION({ GATE: () => this.onSameLine(), DEF: () => this.SUBRULE(this.value) });
  });

  /**
   * Chevrotain calls this for every syntax error it records. Past MAX_SYNTAX_ERRORS the
   * parse stops: chevrotain's in-repetition recovery recurses once per error, so thousands
   * of errors in one block would otherwise overflow the stack, and junk input would take
   * time quadratic in its length.
   */
  SAVE_ERROR(error: IRecognitionException): IRecognitionException {
    const saved = (CstParser.prototype as unknown as { SAVE_ERROR(e: IRecognitionException): IRecognitionException }).SAVE_ERROR.call(
      this,
      error,
    );
    if (this.errors.length >= MAX_SYNTAX_ERRORS) throw new TooManySyntaxErrors();
    return saved;
  }

  /** Whether the next token is on the line of the last one consumed. */
  private onSameLine(): boolean {
    const previous = this.LA(0).startLine;
    const next = this.LA(1).startLine;
    return previous === undefined || next === undefined || Number.isNaN(previous) || Number.isNaN(next) || previous === next;
  }

  /**
   * value := Number ('..' Number | '->' Number 'over' count)?
   *        | Quantity | Word Number? | String | list
   * (a word's numeric argument, as in `ngram 3`, is on the word's line)
   */
  public value = this.RULE("value", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(NumberLiteral, { LABEL: "number" });
          this.OPTION(() => {
            this.OR2([
              {
                ALT: () => {
                  this.CONSUME(DotDot);
                  this.CONSUME2(NumberLiteral, { LABEL: "rangeEnd" });
                },
              },
              {
                ALT: () => {
                  this.CONSUME(Arrow);
                  this.CONSUME3(NumberLiteral, { LABEL: "rampTo" });
                  this.CONSUME(Over);
                  this.SUBRULE(this.count, { LABEL: "rampOver" });
                },
              },
            ]);
          });
        },
      },
      { ALT: () => this.CONSUME(Quantity) },
      {
        ALT: () => {
          this.CONSUME(Word, { LABEL: "word" });
          this.OPTION2({ GATE: () => this.onSameLine(), DEF: () => this.CONSUME4(NumberLiteral, { LABEL: "argument" }) });
        },
      },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  /** count := Number | Quantity */
  public count = this.RULE("count", () => {
    this.OR([{ ALT: () => this.CONSUME(NumberLiteral) }, { ALT: () => this.CONSUME(Quantity) }]);
  });

  /** list := '[' (Number (',' Number)* ','?)? ']' */
  public list = this.RULE("list", () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.CONSUME(NumberLiteral);
      this.MANY({
        // A comma continues the list only when a number follows; a final comma may close it.
        GATE: () => tokenMatcher(this.LA(2), NumberLiteral),
        DEF: () => {
          this.CONSUME(Comma);
          this.CONSUME2(NumberLiteral);
        },
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });

  /** layerSet := Number ('..' Number)? | list */
  public layerSet = this.RULE("layerSet", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(NumberLiteral, { LABEL: "from" });
          this.OPTION(() => {
            this.CONSUME(DotDot);
            this.CONSUME2(NumberLiteral, { LABEL: "to" });
          });
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  /** sharingDecl := 'sharing' (Word | '{' groupDecl* '}') */
  public sharingDecl = this.RULE("sharingDecl", () => {
    this.CONSUME(Sharing);
    this.OR([
      { ALT: () => this.CONSUME(Word, { LABEL: "mode" }) },
      {
        ALT: () => {
          this.CONSUME(LBrace);
          this.MANY(() => this.SUBRULE(this.groupDecl));
          this.CONSUME(RBrace);
        },
      },
    ]);
  });

  /** groupDecl := 'group' Word 'layers' layerSet 'share' Identifier+ */
  public groupDecl = this.RULE("groupDecl", () => {
    this.CONSUME(Group);
    this.CONSUME(Word, { LABEL: "name" });
    this.CONSUME(Layers);
    this.SUBRULE(this.layerSet);
    this.CONSUME(Share);
    this.AT_LEAST_ONE(() => this.CONSUME(Identifier, { LABEL: "part" }));
  });

  /** objectivesDecl := 'objectives' '{' objective* '}' */
  public objectivesDecl = this.RULE("objectivesDecl", () => {
    this.CONSUME(Objectives);
    this.CONSUME(LBrace);
    this.MANY(() => this.SUBRULE(this.objective));
    this.CONSUME(RBrace);
  });

  /** objective := Key ('off' | objectiveOption*) */
  public objective = this.RULE("objective", () => {
    this.CONSUME(Key, { LABEL: "name" });
    this.OR([
      { ALT: () => this.CONSUME(Off) },
      {
        ALT: () =>
          // An option is `Key Number`; a `Key` followed by anything else starts the next objective.
          this.MANY({
            GATE: () => tokenMatcher(this.LA(2), NumberLiteral),
            DEF: () => this.SUBRULE(this.objectiveOption),
          }),
      },
    ]);
  });

  /** objectiveOption := Key Number */
  public objectiveOption = this.RULE("objectiveOption", () => {
    this.CONSUME(Key);
    this.CONSUME(NumberLiteral);
  });

  /** teacherDecl := 'teacher' Word ('from' String)? ('{' teacherInit* '}')? */
  public teacherDecl = this.RULE("teacherDecl", () => {
    this.CONSUME(Teacher);
    this.CONSUME(Word, { LABEL: "model" });
    this.OPTION(() => {
      this.CONSUME(From);
      this.CONSUME(StringLiteral);
    });
    this.OPTION2(() => {
      this.CONSUME(LBrace);
      this.MANY(() => this.SUBRULE(this.teacherInit));
      this.CONSUME(RBrace);
    });
  });

  /** teacherInit := 'init' ('layers' (layerSet | 'off') | Identifier 'off'?) */
  public teacherInit = this.RULE("teacherInit", () => {
    this.CONSUME(Init);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Layers);
          this.OR2([{ ALT: () => this.SUBRULE(this.layerSet) }, { ALT: () => this.CONSUME(Off) }]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Identifier, { LABEL: "part" });
          this.OPTION(() => this.CONSUME2(Off));
        },
      },
    ]);
  });

  /** expectDecl := 'expect' Key count */
  public expectDecl = this.RULE("expectDecl", () => {
    this.CONSUME(Expect);
    this.CONSUME(Key);
    this.SUBRULE(this.count);
  });

  /** tokenizerDecl := 'tokenizer' Word 'lowercase'? */
  public tokenizerDecl = this.RULE("tokenizerDecl", () => {
    this.CONSUME(Tokenizer);
    this.CONSUME(Word, { LABEL: "kind" });
    this.OPTION(() => this.CONSUME(Lowercase));
  });
}

/** One parser instance, reused: chevrotain parsers are built once and reset per input. */
export const parser = new BdlParser();

export type { CstNode };
