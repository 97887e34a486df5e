/** Source text and positions. Offsets are stored; line and column are computed only when shown. */

export interface Source {
  /** Path as the user gave it (or as reached through an import), used in messages. */
  readonly path: string;
  readonly text: string;
}

/** A half-open character range [start, end) in one source. */
export interface Span {
  readonly source: Source;
  readonly start: number;
  readonly end: number;
}

export interface LineCol {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

const lineStartsCache = new WeakMap<Source, number[]>();

function lineStarts(source: Source): number[] {
  let starts = lineStartsCache.get(source);
  if (!starts) {
    starts = [0];
    const text = source.text;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    lineStartsCache.set(source, starts);
  }
  return starts;
}

export function lineCol(source: Source, offset: number): LineCol {
  const starts = lineStarts(source);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** The text of 1-based line `line`, without its newline. */
export function lineText(source: Source, line: number): string {
  const starts = lineStarts(source);
  const start = starts[line - 1] ?? source.text.length;
  const next = starts[line];
  const end = next === undefined ? source.text.length : next - 1;
  return source.text.slice(start, end).replace(/\r$/, "");
}

export function spanOf(source: Source, start: number, end: number): Span {
  return { source, start, end: Math.max(start, end) };
}
