// YAML text → a validated, normalised matrix, or every problem with its line:col.
// Pure: the caller reads the file; this never touches fs.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { MatrixError, type KeyPath, type Position, type Problem } from "./problems.js";
import { checkRules } from "./rules.js";
import { Matrix } from "./schema.js";

export type LoadResult = { ok: true; matrix: Matrix } | { ok: false; problems: (Problem & { position?: Position })[] };

/** Parse, validate and cross-check matrix text. Returns all problems rather than the first. */
export function parseMatrix(text: string): LoadResult {
  const { doc, lines, locate } = parseYaml(text);

  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: [], message: `YAML: ${e.message.split("\n")[0]}`, position: { line: pos.line, col: pos.col } };
      }),
    };
  }
  const parsed = Matrix.safeParse(doc.toJS(), { error: describeIssue, reportInput: true });
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.flatMap((i) => issueProblems(i)).map((p) => ({ ...p, position: locate(p.path) })) };
  }
  const ruleProblems = checkRules(parsed.data);
  if (ruleProblems.length > 0) {
    return { ok: false, problems: ruleProblems.map((p) => ({ ...p, position: locate(p.path) })) };
  }
  return { ok: true, matrix: parsed.data };
}

/** Where a key path sits in the YAML text, for problems found after parsing (by the plan). */
export function locator(text: string): (path: KeyPath) => Position | undefined {
  return parseYaml(text).locate;
}

function parseYaml(text: string) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines, locate: (path: KeyPath) => positionOf(doc, lines, path) };
}

/** parseMatrix for callers that want an exception naming the file. */
export function loadMatrix(text: string, file = "matrix.yaml"): Matrix {
  const result = parseMatrix(text);
  if (!result.ok) throw new MatrixError(file, result.problems);
  return result.matrix;
}

// An unknown key is reported at the key itself, one problem per key.
function issueProblems(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((k): k is string | number => typeof k !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
  }
  if (issue.code === "invalid_format" && issue.input !== undefined) {
    // The schema's own words say what was expected; add what was found.
    return [{ path, message: `found ${JSON.stringify(issue.input)}, expected ${issue.message}` }];
  }
  return [{ path, message: issue.message }];
}

function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    const found = issue.input === undefined ? "nothing" : JSON.stringify(issue.input);
    return issue.input === undefined ? `required, expected ${issue.expected}` : `expected ${issue.expected}, found ${found}`;
  }
  if (issue.code === "invalid_value") {
    return `found ${JSON.stringify(issue.input)}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return undefined;
}

// The key (or list item) the path ends at; where the path leaves the document (a missing key),
// the deepest node that exists, so the user is pointed at the object that lacks it.
function positionOf(doc: Document, lines: LineCounter, path: KeyPath): Position | undefined {
  let node: unknown = doc.contents;
  let at: Node | null | undefined = doc.contents;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (!pair) break;
      at = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number" && node.items[key]) {
      node = node.items[key];
      at = node as Node;
    } else break;
  }
  const offset = at?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lines.linePos(offset);
  return { line, col };
}
