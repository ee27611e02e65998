// Cross-field rules over a schema-valid matrix. Each rule is a pure function returning every
// problem it finds, with the key path to fix.
import { known, type Problem } from "./problems.js";
import { CUSTOM_RULES } from "./custom.js";
import { SAFETY_RULES } from "./safety.js";
import { DEBIAN_RELEASES, majorsOffered, suiteFor } from "./sources.js";
import { fromRule, KINDS, platformsOf, type Platform } from "../kinds.js";
import type { ImageConfig, Matrix } from "./schema.js";

type Rule = (m: Matrix) => Problem[];

export function checkRules(m: Matrix): Problem[] {
  return RULES.flatMap((rule) => rule(m));
}

/** Template placeholders a tag may use; see plan/tags.ts. */
export const TAG_PLACEHOLDERS = ["major", "version", "versions", "timestamp", "revision", "shortrevision", "flavour", "distro", "image"] as const;

const uniqueIds: Rule = (m) => [
  ...duplicates(m.images.map((i) => i.id)).map((i) => ({ path: ["images", i, "id"], message: `duplicate image id "${m.images[i]!.id}"` })),
  ...duplicates(m.distros.map((d) => d.name)).map((i) => ({ path: ["distros", i, "name"], message: `duplicate distro "${m.distros[i]!.name}"` })),
  ...duplicates(m.postgres.map((p) => p.major)).map((i) => ({ path: ["postgres", i, "major"], message: `duplicate PostgreSQL major ${m.postgres[i]!.major}` })),
];

const versionsMatchMajors: Rule = (m) =>
  m.postgres.flatMap((p, i) =>
    p.version.split(/[.~]/)[0] === String(p.major)
      ? []
      : [{ path: ["postgres", i, "version"], message: `version "${p.version}" is not of major ${p.major}` }],
  );

const distrosKnown: Rule = (m) =>
  m.distros.flatMap((d, i) =>
    DEBIAN_RELEASES[d.name]
      ? []
      : [{ path: ["distros", i, "name"], message: `unknown Debian release "${d.name}"; ${known(Object.keys(DEBIAN_RELEASES))}` }],
  );

// Every (distro, major) pair must be installable from the chosen package source.
const distroMajorsAvailable: Rule = (m) => {
  const majors = m.postgres.map((p) => p.major);
  return m.distros.flatMap((d, i) =>
    d.pg.flatMap((major, j) => {
      if (!majors.includes(major)) {
        return [{ path: ["distros", i, "pg", j], message: `PostgreSQL ${major} is not in postgres; ${known(majors)}` }];
      }
      if (!DEBIAN_RELEASES[d.name] || suiteFor(m.packageSource, d.name, major)) return [];
      const offered = majorsOffered(m.packageSource, d.name, majors);
      return [{
        path: ["distros", i, "pg", j],
        message: `package source "${m.packageSource}" has no PostgreSQL ${major} for ${d.name}; it offers ${offered.join(", ") || "none of the listed majors"}`,
      }];
    }),
  );
};

const imageReferences: Rule = (m) => {
  const ids = m.images.map((i) => i.id);
  const distros = m.distros.map((d) => d.name);
  const majors = m.postgres.map((p) => p.major);
  const extensions = Object.keys(m.extensions);
  return m.images.flatMap((img, i) => {
    const at = (...rest: (string | number)[]) => ["images", i, ...rest];
    const problems: Problem[] = [];
    if (img.from !== undefined && !ids.includes(img.from)) {
      problems.push({ path: at("from"), message: `unknown image "${img.from}"; ${known(ids)}` });
    }
    if (img.from === img.id) problems.push({ path: at("from"), message: `image "${img.id}" is built from itself` });
    img.distros?.forEach((d, j) => {
      if (!distros.includes(d)) problems.push({ path: at("distros", j), message: `unknown distro "${d}"; ${known(distros)}` });
    });
    img.pg?.forEach((p, j) => {
      if (!majors.includes(p)) problems.push({ path: at("pg", j), message: `unknown PostgreSQL major ${p}; ${known(majors)}` });
    });
    img.pairs?.forEach((pair, j) => {
      if (!distros.includes(pair.distro)) {
        problems.push({ path: at("pairs", j, "distro"), message: `unknown distro "${pair.distro}"; ${known(distros)}` });
      } else if (!suiteFor(m.packageSource, pair.distro, pair.pg)) {
        problems.push({ path: at("pairs", j, "pg"), message: `package source "${m.packageSource}" has no PostgreSQL ${pair.pg} for ${pair.distro}` });
      }
      if (!majors.includes(pair.pg)) problems.push({ path: at("pairs", j, "pg"), message: `unknown PostgreSQL major ${pair.pg}; ${known(majors)}` });
    });
    if (img.pairs && (img.pg || img.distros)) {
      problems.push({ path: at("pairs"), message: "give either pairs or pg/distros, not both" });
    }
    img.extensions?.forEach((e, j) => {
      if (!extensions.includes(e)) problems.push({ path: at("extensions", j), message: `unknown extension "${e}"; ${known(extensions)}` });
    });
    img.unavailable?.forEach((u, j) => {
      if (!(img.extensions ?? []).includes(u.extension)) {
        problems.push({ path: at("unavailable", j, "extension"), message: `"${u.extension}" is not in this image's extensions` });
      }
    });
    return problems;
  });
};

// What each kind needs and must not carry (kinds.ts), so a misplaced or missing key is caught.
const kindShape: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const { needs, forbids } = KINDS[img.kind];
    const at = (key: string) => ["images", i, key];
    const problems: Problem[] = [
      ...needs.filter((k) => img[k] === undefined).map((k) => ({ path: at(k), message: `required for kind ${img.kind}` })),
      ...forbids.filter((k) => img[k] !== undefined).map((k) => ({ path: at(k), message: `not used by kind ${img.kind}; remove it` })),
    ];
    if (img.from === undefined && fromRule(img) === "required") problems.push({ path: at("from"), message: fromRequired(m, img) });
    if (!KINDS[img.kind].from && img.from !== undefined) problems.push({ path: at("from"), message: `not used by kind ${img.kind}; remove it` });
    return problems;
  });

// Names an image of a kind this one can be built from, if the matrix has one.
function fromRequired(m: Matrix, img: ImageConfig): string {
  const kinds = KINDS[img.kind].from?.kinds ?? [];
  const parent = m.images.find((p) => p.id !== img.id && kinds.includes(p.kind));
  return parent
    ? `required for kind ${img.kind}, e.g. from: ${parent.id}`
    : `required for kind ${img.kind}: it is built on an image of kind ${kinds.join(" or ")}; add one and name it here`;
}

// A test image stands on an image with PostgreSQL; an operand flavour on another operand image,
// whichever the matrix names (flavours and their order are the matrix's words).
const fromCompatible: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const spec = KINDS[img.kind].from;
    const parent = m.images.find((p) => p.id === img.from);
    if (!spec || !parent) return []; // kindShape refuses the key, imageReferences an unknown id
    if (!spec.kinds.includes(parent.kind)) {
      return [{ path: ["images", i, "from"], message: `a ${img.kind} image cannot be built from "${parent.id}" (a ${parent.kind}); expected ${spec.kinds.join(" or ")}` }];
    }
    return [];
  });

// An image is built on its parent's image for the same platform, so it can list no platform its
// parent lacks (without a list it builds its parent's); a platform listed twice is a typo.
const platformsOfParent: Rule = (m) => {
  const byId = new Map(m.images.map((img) => [img.id, img]));
  const effective = (img: ImageConfig, seen: ReadonlySet<string> = new Set()): Platform[] => {
    const parent = img.from === undefined || seen.has(img.id) ? undefined : byId.get(img.from);
    return platformsOf(img, parent ? effective(parent, new Set([...seen, img.id])) : undefined);
  };
  return m.images.flatMap((img, i) => {
    const listed = img.platforms ?? [];
    const problems: Problem[] = duplicates(listed).map((j) => ({ path: ["images", i, "platforms", j], message: `platform "${listed[j]}" listed twice` }));
    const parent = img.from === undefined ? undefined : byId.get(img.from);
    if (!parent || !img.platforms) return problems;
    const theirs = effective(parent);
    const lacking = platformsOf(img).filter((p) => !theirs.includes(p));
    if (lacking.length > 0) {
      problems.push({
        path: ["images", i, "platforms"],
        message: `${lacking.join(", ")} not built by "${parent.id}" (it builds ${theirs.join(", ")}); remove ${lacking.join(", ")} here or add it to "${parent.id}"`,
      });
    }
    return problems;
  });
};

const acyclic: Rule = (m) => {
  const cycle = findCycle(new Map(m.images.map((i) => [i.id, i.from ? [i.from] : []])));
  if (!cycle) return [];
  const i = m.images.findIndex((img) => img.id === cycle[0]);
  return [{ path: ["images", i, "from"], message: `dependency cycle: ${cycle.join(" → ")}` }];
};

const tagTemplates: Rule = (m) =>
  m.images.flatMap((img, i) => {
    const templates: [(string | number)[], string][] = [];
    if (img.tags?.testing) templates.push([["tags", "testing"], img.tags.testing]);
    if (img.tags?.release) templates.push([["tags", "release"], img.tags.release]);
    img.tags?.aliases?.forEach((a, j) => templates.push([["tags", "aliases", j], a]));
    const distros = m.distros.map((d) => d.name);
    const problems: Problem[] = [];
    for (const [distro, aliases] of Object.entries(img.tags?.distroAliases ?? {})) {
      if (!distros.includes(distro)) problems.push({ path: ["images", i, "tags", "distroAliases", distro], message: `unknown distro "${distro}"; ${known(distros)}` });
      aliases.forEach((a, j) => templates.push([["tags", "distroAliases", distro, j], a]));
    }
    return [
      ...problems,
      ...templates.flatMap(([path, t]) => {
        const unknownNames = [...t.matchAll(/\{([^}]*)\}/g)].map((x) => x[1]!).filter((n) => !(TAG_PLACEHOLDERS as readonly string[]).includes(n));
        return unknownNames.map((n) => ({ path: ["images", i, ...path], message: `unknown placeholder {${n}}; ${known(TAG_PLACEHOLDERS)}` }));
      }),
    ];
  });

/** Placeholders the title and description templates may use; see plan/metadata.ts. */
export const TEXT_PLACEHOLDERS = ["version", "major", "flavour", "distro", "image"] as const;

const textTemplates: Rule = (m) =>
  m.images.flatMap((img, i) =>
    (["title", "description"] as const).flatMap((key) => {
      const text = img[key];
      if (text === undefined) return [];
      const unknownNames = [...text.matchAll(/\{([^}]*)\}/g)].map((x) => x[1]!).filter((n) => !(TEXT_PLACEHOLDERS as readonly string[]).includes(n));
      return unknownNames.map((n) => ({ path: ["images", i, key], message: `unknown placeholder {${n}}; ${known(TEXT_PLACEHOLDERS)}` }));
    }),
  );

// The stage names operand flavours the matrix has, and runs kubectl from a pinned image.
const operatorStage: Rule = (m) => {
  const op = m.operator;
  if (!op?.enable) return [];
  const flavours = [...new Set(m.images.filter((i) => i.kind === "operand" && i.flavour).map((i) => i.flavour!))];
  const problems: Problem[] = (op.flavours ?? []).flatMap((f, i) =>
    flavours.includes(f) ? [] : [{ path: ["operator", "flavours", i], message: `no operand image has flavour "${f}"; ${known(flavours)}` }],
  );
  if (!m.tools.kubectl) problems.push({ path: ["tools"], message: "operator needs tools.kubectl: a kubectl image pinned by digest (the binary at /bin/kubectl)" });
  if (op.checks.includes("switchover") && !op.checks.includes("replication")) {
    problems.push({ path: ["operator", "checks"], message: "switchover needs replication: a switchover promotes the streaming replica; add replication" });
  }
  return problems;
};

const RULES: Rule[] = [uniqueIds, versionsMatchMajors, distrosKnown, distroMajorsAvailable, imageReferences, kindShape, fromCompatible, platformsOfParent, acyclic, tagTemplates, textTemplates, operatorStage, ...SAFETY_RULES, ...CUSTOM_RULES];

function duplicates<T>(values: T[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) < i ? [i] : []));
}

/** The first cycle in a dependency graph, closed (a → b → a), or undefined. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}
