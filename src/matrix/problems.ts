// Problems found in a matrix: every stage returns all it finds, each with the key path it is
// about, so one run tells the user everything to fix.

export type KeyPath = readonly (string | number)[];

export interface Problem {
  path: KeyPath;
  message: string;
}

export interface Position {
  line: number;
  col: number;
}

/** `images[2].from`, the way a person reads a path into YAML. */
export function formatPath(path: KeyPath): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const plain = /^[A-Za-z_$][\w$-]{0,63}$/.test(key);
    if (!plain) return `${out}[${shown(key)}]`;
    return out === "" ? key : `${out}.${key}`;
  }, "");
}

/** A value found in the matrix, as JSON on one line and cut short: text of any length and shape can reach a message. */
export function shown(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === "number" && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  text = text.replace(INVISIBLE, escaped);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Characters JSON leaves as they are that break a report's one-problem-per-line shape or hide
// what a value really is: C1 controls, line and paragraph separators, bidi controls, zero widths, BOM.
const INVISIBLE = /[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const LINE_BREAK = /[\r\n\u0085\u2028\u2029]/g;
const escaped = (c: string) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Past this many, a report says how many more there are instead of listing them. */
export const MAX_PRINTED_PROBLEMS = 50;

/** Thrown by the shell around the pure stages when a matrix has problems. */
export class MatrixError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly (Problem & { position?: Position })[],
  ) {
    const rest = problems.length - MAX_PRINTED_PROBLEMS;
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` +
        problems.slice(0, MAX_PRINTED_PROBLEMS).map((p) => "  " + formatProblem(file, p)).join("\n") +
        (rest > 0 ? `\n  … and ${rest} more problem${rest === 1 ? "" : "s"}` : ""),
    );
    this.name = "MatrixError";
  }
}

/** Problems with call-time inputs (flags) rather than the file carry this first path segment. */
export const INPUT = "(input)";

export function formatProblem(file: string, p: Problem & { position?: Position }): string {
  // One problem, one line, whatever text a message quotes.
  const message = p.message.replace(LINE_BREAK, escaped);
  if (p.path[0] === INPUT) return `--${String(p.path[1])}: ${message}`;
  const where = p.position ? `${file}:${p.position.line}:${p.position.col}` : file;
  const path = formatPath(p.path);
  return `${where} ${path === "" ? "(top)" : path}: ${message}`;
}

/** Known names, sorted, for "known: a, b" hints. */
export function known(names: Iterable<string | number>): string {
  const list = [...new Set([...names].map(String))].sort();
  return list.length === 0 ? "none defined" : `known: ${list.join(", ")}`;
}
