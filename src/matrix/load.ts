// YAML text → a validated, normalised matrix, or every problem with its line:col.
// Pure: the caller reads the file; this never touches fs.
import { LineCounter, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { MatrixError, shown, type KeyPath, type Position, type Problem } from "./problems.js";
import { checkRules } from "./rules.js";
import { Matrix } from "./schema.js";
import { firstAlias, positionAt, positionFinder, treeProblems } from "./yamlTree.js";

export type LoadResult = { ok: true; matrix: Matrix } | { ok: false; problems: (Problem & { position?: Position })[] };

/** A matrix is a few kilobytes; past this, the file is not one (the shell reads at most this many bytes plus one). */
export const MAX_MATRIX_BYTES = 4 * 1024 * 1024;

// Aliases may repeat a value this many times in all: enough for any matrix, too few for a
// billion-laughs document that expands exponentially.
const MAX_ALIAS_COUNT = 100;

/** Parse, validate and cross-check matrix text. Returns all problems rather than the first; never throws. */
export function parseMatrix(text: string): LoadResult {
  // Characters, not bytes, here: no character takes less than a byte, so the shell's byte limit is the stricter.
  if (text.length > MAX_MATRIX_BYTES) {
    return fail([{ path: [], message: `${text.length} characters, more than the limit of ${MAX_MATRIX_BYTES} (4 MiB); is this the matrix file?` }]);
  }
  const { doc, lines, locate } = parseYaml(text);
  if (doc.errors.length > 0) {
    return fail(doc.errors.map((e) => ({ path: [], message: yamlMessage(e.message), position: positionAt(lines, e.pos[0]) })));
  }
  // Warnings are problems too; unknown tags, which yaml warns about, are reported with their key path by treeProblems.
  const treeIssues = [
    ...doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED").map((w) => ({ path: [], message: yamlMessage(w.message), position: positionAt(lines, w.pos[0]) })),
    ...(doc.directives?.yaml.version === "1.2" ? [] : [{ path: [], message: `YAML ${doc.directives?.yaml.version} directive; matrix.yaml is YAML 1.2, remove the %YAML line`, position: { line: 1, col: 1 } }]),
    ...treeProblems(doc, lines),
  ];
  if (treeIssues.length > 0) return fail(treeIssues);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // The one error left to toJS once the tree checks pass: aliases that expand too far.
    if (!(e instanceof ReferenceError && /alias count/.test(e.message))) throw e;
    return fail([{ path: [], message: `aliases repeat values more than ${MAX_ALIAS_COUNT} times in all; write the values out`, position: firstAlias(doc, lines) }]);
  }
  const parsed = Matrix.safeParse(data, { error: describeIssue, reportInput: true });
  if (!parsed.success) {
    return fail(parsed.error.issues.flatMap((i) => issueProblems(i)).map((p) => ({ ...p, position: locate(p.path) })));
  }
  const ruleProblems = checkRules(parsed.data);
  if (ruleProblems.length > 0) {
    return fail(ruleProblems.map((p) => ({ ...p, position: locate(p.path) })));
  }
  return { ok: true, matrix: parsed.data };
}

function fail(problems: (Problem & { position?: Position })[]): LoadResult {
  return { ok: false, problems };
}

/** Where a key path sits in the YAML text, for problems found after parsing (by the plan). */
export function locator(text: string): (path: KeyPath) => Position | undefined {
  return parseYaml(text).locate;
}

// Duplicate keys are found by the tree checks (yaml's own check compares every pair of keys).
// Tags of YAML 1.1 (!!binary, !!set, !!timestamp …) stay unresolved, so they are reported.
function parseYaml(text: string): { doc: Document; lines: LineCounter; locate: (path: KeyPath) => Position | undefined } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, resolveKnownTags: false, logLevel: "silent" });
  return { doc, lines, locate: positionFinder(doc, lines) };
}

// The yaml library's words, first line only; its stack overflow on deep nesting said plainly.
function yamlMessage(message: string): string {
  if (/call stack/i.test(message)) return "YAML: nested too deeply to read; matrix.yaml needs at most 5 levels";
  return `YAML: ${message.split("\n")[0]}`;
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
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key ${shown(key)}` }));
  }
  if (issue.code === "invalid_format" && issue.input !== undefined) {
    // The schema's own words say what was expected; add what was found.
    return [{ path, message: `found ${shown(issue.input)}, expected ${issue.message}` }];
  }
  return [{ path, message: issue.message }];
}

function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    return issue.input === undefined ? `required, expected ${issue.expected}` : `expected ${issue.expected}, found ${shown(issue.input)}`;
  }
  if (issue.code === "invalid_value") {
    return `found ${shown(issue.input)}, expected one of ${issue.values.map((v) => shown(v)).join(", ")}`;
  }
  return undefined;
}
