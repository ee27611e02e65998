// Checks on the YAML tree before it becomes a JavaScript value, where the yaml library would
// otherwise throw, recurse without bound or drop something silently; and key paths → positions.
// One pass in document order, linear in the size of the document.
import { isAlias, isCollection, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLMap } from "yaml";
import { shown, type KeyPath, type Position, type Problem } from "./problems.js";

/** matrix.yaml needs five levels (images[0].tags.aliases[0]); far more is a mistake, not a matrix. */
export const MAX_DEPTH = 32;

type Located = Problem & { position?: Position };

// The tags of YAML's core schema; any other would be dropped or turned into something the schema never sees.
const CORE_TAGS = new Set(["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`));

/** Problems of the tree itself: unresolved or self-containing aliases, unknown tags, duplicate or collection keys, nesting depth. */
export function treeProblems(doc: Document, lines: LineCounter): Located[] {
  const problems: Located[] = [];
  const at = (node: Node | null | undefined): Position | undefined => positionAt(lines, node?.range?.[0]);
  const anchors = new Map<string, Node>();
  const open = new Set<Node>();
  let tooDeep = false;

  const walk = (node: unknown, path: KeyPath, depth: number): void => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) {
        problems.push({ path, message: `alias *${node.source} comes before its anchor &${node.source}; define the anchor first`, position: at(node) });
      } else if (open.has(target)) {
        problems.push({ path, message: `alias *${node.source} is inside the value it names, which never ends; write the value out`, position: at(node) });
      }
      return;
    }
    if (!isScalar(node) && !isCollection(node)) return;
    if (node.anchor) anchors.set(node.anchor, node);
    if (node.tag && !CORE_TAGS.has(node.tag)) {
      const tag = node.tag.replace(/^tag:yaml\.org,2002:/, "!!");
      problems.push({ path, message: `unknown tag ${shown(tag)}; matrix.yaml takes plain values, remove the tag`, position: at(node) });
    }
    if (!isCollection(node)) return;
    if (depth >= MAX_DEPTH) {
      if (!tooDeep) problems.push({ path, message: `nested more than ${MAX_DEPTH} levels deep; matrix.yaml needs at most 5`, position: at(node) });
      tooDeep = true;
      return;
    }
    open.add(node);
    if (isMap(node)) {
      const seen = new Map<string, Node>();
      for (const pair of node.items) {
        const key = pair.key;
        walk(key, path, depth + 1);
        if (isCollection(key)) {
          problems.push({ path, message: "a key is a list or a map; keys are plain names", position: at(key) });
          continue;
        }
        if (!isScalar(key)) {
          walk(pair.value, path, depth + 1);
          continue;
        }
        const name = keyName(key.value);
        const first = seen.get(name);
        if (first) {
          const line = at(first)?.line;
          problems.push({ path: [...path, name], message: `duplicate key ${shown(name)}${line ? ` (first on line ${line})` : ""}; keep one`, position: at(key) });
        } else seen.set(name, key);
        walk(pair.value, [...path, name], depth + 1);
      }
    } else {
      node.items.forEach((item, i) => walk(item, [...path, i], depth + 1));
    }
    open.delete(node);
  };
  walk(doc.contents, [], 0);
  return problems;
}

/** The first alias in the document, where a problem about aliases as a whole is reported. */
export function firstAlias(doc: Document, lines: LineCounter): Position | undefined {
  let found: Node | undefined;
  const visit = (node: unknown, depth: number): void => {
    if (found || depth > MAX_DEPTH) return;
    if (isAlias(node)) found = node;
    else if (isMap(node)) node.items.forEach((p) => (visit(p.key, depth + 1), visit(p.value, depth + 1)));
    else if (isSeq(node)) node.items.forEach((item) => visit(item, depth + 1));
  };
  visit(doc.contents, 0);
  return positionAt(lines, found?.range?.[0]);
}

/**
 * Where a key path sits: the key (or list item) the path ends at; where the path leaves the
 * document (a missing key), the deepest node that exists, so the user is pointed at the object
 * that lacks it. Each map's keys are indexed once, so locating every problem stays linear.
 */
export function positionFinder(doc: Document, lines: LineCounter): (path: KeyPath) => Position | undefined {
  const index = new WeakMap<YAMLMap, Map<string, { key: Node; value: unknown }>>();
  const pairsOf = (map: YAMLMap) => {
    let pairs = index.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const p of map.items) {
        // The first of duplicate keys, as the yaml library's own lookup does.
        if (isScalar(p.key) && !pairs.has(keyName(p.key.value))) pairs.set(keyName(p.key.value), { key: p.key, value: p.value });
      }
      index.set(map, pairs);
    }
    return pairs;
  };
  return (path) => {
    let node: unknown = doc.contents;
    let at: Node | null | undefined = doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const pair = pairsOf(node).get(String(key));
        if (!pair) break;
        at = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number" && node.items[key]) {
        node = node.items[key];
        at = node as Node;
      } else break;
    }
    return positionAt(lines, at?.range?.[0]);
  };
}

export function positionAt(lines: LineCounter, offset: number | undefined): Position | undefined {
  if (offset === undefined) return undefined;
  const { line, col } = lines.linePos(offset);
  return { line, col };
}

// A key as the JavaScript object will have it (yaml turns null into "" and numbers into text).
function keyName(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}
