// Whether two tag templates can ever make the same tag, over every run: any version, revision and
// timestamp. Each template becomes a small automaton over the characters a tag may hold (a
// placeholder becomes the language of its values), and the product of two automata is searched
// for a common word; the shortest one found is the example a message shows. Where a value's
// language is not known exactly (a revision is whatever --revision says) it is over-approximated,
// so "no common tag" is a proof and a reported collision may only be possible in principle.
// Pure: no I/O.

/** A regular expression as data: a set of characters, a sequence, a choice, one-or-more. */
type Re = { chars: string } | { seq: Re[] } | { alt: Re[] } | { plus: Re };

const DIGIT = "0123456789";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
/** Every character an OCI tag may hold. */
const TAG_CHARS = `${DIGIT}${LOWER}${LOWER.toUpperCase()}_.-`;

const lit = (text: string): Re => ({ seq: [...text].map((c) => ({ chars: c })) });
const digits: Re = { plus: { chars: DIGIT } };
// A version as tags spell it ("~" dropped): 17.9, 19beta1.
const version: Re = { seq: [digits, { alt: [{ seq: [lit("."), digits] }, { seq: [{ alt: [lit("alpha"), lit("beta"), lit("rc")] }, digits] }] }] };
const anyTagText: Re = { plus: { chars: TAG_CHARS } };

/**
 * What a placeholder can stand for. `fixed` gives the values known for the image (its id, its
 * flavour, its distros); any other placeholder takes any tag text.
 */
function placeholderRe(name: string, fixed: Readonly<Record<string, readonly string[]>>): Re {
  const known = fixed[name];
  if (known && known.length > 0) return { alt: known.map(lit) };
  switch (name) {
    case "timestamp":
      return { seq: Array.from({ length: 12 }, () => ({ chars: DIGIT })) };
    case "major":
      return digits;
    case "version":
      return version;
    case "versions":
      return { seq: [version, { alt: [lit(""), { plus: { seq: [lit("-"), version] } }] }] };
    default:
      return anyTagText;
  }
}

function templateRe(template: string, fixed: Readonly<Record<string, readonly string[]>>): Re {
  return { seq: template.split(/(\{\w+\})/).map((part) => (/^\{\w+\}$/.test(part) ? placeholderRe(part.slice(1, -1), fixed) : lit(part))) };
}

/** A Thompson automaton: edges on one character of a set, or on nothing (chars undefined). */
interface Nfa {
  edges: { from: number; to: number; chars?: string }[][];
  start: number;
  accept: number;
}

function compile(re: Re): Nfa {
  const edges: Nfa["edges"] = [];
  const state = () => edges.push([]) - 1;
  const edge = (from: number, to: number, chars?: string) => edges[from]!.push({ from, to, ...(chars === undefined ? {} : { chars }) });
  const build = (r: Re, from: number): number => {
    if ("chars" in r) {
      const to = state();
      edge(from, to, r.chars);
      return to;
    }
    if ("seq" in r) return r.seq.reduce((at, part) => build(part, at), from);
    if ("alt" in r) {
      const to = state();
      for (const option of r.alt) edge(build(option, from), to);
      return to;
    }
    const start = state();
    edge(from, start);
    const end = build(r.plus, start);
    edge(end, start);
    return end;
  };
  const start = state();
  return { edges, start, accept: build(re, start) };
}

function closure(nfa: Nfa, states: Iterable<number>): number[] {
  const seen = new Set(states);
  const todo = [...seen];
  while (todo.length > 0) {
    for (const e of nfa.edges[todo.pop()!]!) {
      if (e.chars === undefined && !seen.has(e.to)) {
        seen.add(e.to);
        todo.push(e.to);
      }
    }
  }
  return [...seen].sort((a, b) => a - b);
}

function step(nfa: Nfa, states: readonly number[], c: string): number[] {
  return closure(nfa, states.flatMap((s) => nfa.edges[s]!.filter((e) => e.chars?.includes(c)).map((e) => e.to)));
}

export interface TemplateOf {
  template: string;
  /** Values a placeholder is known to take for this image: image → [id], distro → its distros. */
  fixed?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A tag both templates can make, the shortest found, or undefined when no run can make the same
 * tag from both. Breadth-first over sets of states of the two automata, one character at a time.
 */
export function commonTag(a: TemplateOf, b: TemplateOf): string | undefined {
  const na = compile(templateRe(a.template, a.fixed ?? {}));
  const nb = compile(templateRe(b.template, b.fixed ?? {}));
  const alphabet = [...new Set([...TAG_CHARS, ...a.template, ...b.template])];
  const key = (x: readonly number[], y: readonly number[]) => `${x.join(",")}|${y.join(",")}`;
  const first = { a: closure(na, [na.start]), b: closure(nb, [nb.start]), word: "" };
  const seen = new Set([key(first.a, first.b)]);
  let frontier = [first];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const at of frontier) {
      if (at.a.includes(na.accept) && at.b.includes(nb.accept)) return at.word;
      for (const c of alphabet) {
        const sa = step(na, at.a, c);
        if (sa.length === 0) continue;
        const sb = step(nb, at.b, c);
        if (sb.length === 0) continue;
        const k = key(sa, sb);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push({ a: sa, b: sb, word: at.word + c });
      }
    }
    frontier = next;
  }
  return undefined;
}
