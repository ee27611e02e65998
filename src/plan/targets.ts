// Matrix → targets: one per image × PostgreSQL version × distro where the kind applies.
import type { Problem } from "../matrix/problems.js";
import type { ImageConfig, Matrix } from "../matrix/schema.js";
import { defaultTags, renderTags } from "./tags.js";
import type { Excluded, PgVersion, ResolvedExtension, RunInputs, Skipped, Target } from "./types.js";

/** The one place target ids are made: image, major(s) where it has one, distro where it has one. */
export function targetId(image: string, pgMajor: number | undefined, distro: string | undefined): string {
  return [image, pgMajor, distro].filter((part) => part !== undefined).join("-");
}

const KIND_DESCRIPTIONS: Record<ImageConfig["kind"], string> = {
  operand: "PostgreSQL server",
  extbuilder: "Builds a PostgreSQL extension against one PostgreSQL version",
  exttester: "Runs a PostgreSQL extension's regression and isolation suites",
  failtester: "Runs a PostgreSQL extension's failure-injection tests (mitmproxy)",
  pgupgradetester: "Every configured PostgreSQL major, for pg_upgrade tests",
  extupgradetester: "Older builds of an extension, for extension upgrade tests",
  stylechecker: "Pinned code style tools",
};

export interface Expansion {
  targets: Target[];
  skipped: Skipped[];
  problems: Problem[];
}

export function expandTargets(m: Matrix, inputs: RunInputs): Expansion {
  const out: Expansion = { targets: [], skipped: [], problems: [] };
  const byId = new Map<string, Target>();
  // Parents first, so a child finds its parent's target (the rules already refused cycles).
  for (const i of imageOrder(m)) {
    const img = m.images[i]!;
    if (!img.enable) {
      out.skipped.push({ image: img.id, reason: "enable: false" });
      continue;
    }
    for (const shape of shapesOf(m, img, i, out)) {
      const target = makeTarget(m, img, i, shape, inputs, byId, out);
      if (target) {
        byId.set(target.id, target);
        out.targets.push(target);
      }
    }
  }
  return out;
}

interface Shape {
  postgres: PgVersion[];
  distro?: string;
}

// The (versions, distro) combinations an image is built for.
function shapesOf(m: Matrix, img: ImageConfig, i: number, out: Expansion): Shape[] {
  const version = (major: number) => m.postgres.find((p) => p.major === major)!;
  const distros = m.distros.filter((d) => !img.distros || img.distros.includes(d.name));
  if (img.kind === "stylechecker") return [{ postgres: [] }];
  if (img.kind === "pgupgradetester") {
    return distros.flatMap((d) => {
      const majors = d.pg.filter((p) => (img.pg ? img.pg.includes(p) : !version(p).preview)).sort((a, b) => a - b);
      if (majors.length < 2) {
        out.problems.push({ path: ["images", i], message: `pgupgradetester needs two or more PostgreSQL majors on ${d.name}, found ${majors.join(", ") || "none"}` });
        return [];
      }
      return [{ postgres: majors.map(version), distro: d.name }];
    });
  }
  const pairs = img.pairs ?? distros.flatMap((d) => d.pg.filter((p) => !img.pg || img.pg.includes(p)).map((pg) => ({ pg, distro: d.name })));
  return pairs.flatMap(({ pg, distro }) => {
    const v = version(pg);
    if (v.preview && (img.extensions?.length ?? 0) > 0) {
      out.skipped.push({ image: img.id, pg, distro, reason: "preview majors get no extensions" });
      return [];
    }
    return [{ postgres: [v], distro }];
  });
}

function makeTarget(
  m: Matrix,
  img: ImageConfig,
  i: number,
  shape: Shape,
  inputs: RunInputs,
  built: ReadonlyMap<string, Target>,
  out: Expansion,
): Target | undefined {
  const major = shape.postgres.length === 1 ? shape.postgres[0]!.major : undefined;
  const id = targetId(img.id, major, shape.distro);
  let parent: Target | undefined;
  if (img.from) {
    parent = built.get(targetId(img.from, major, shape.distro));
    if (!parent) {
      const parentImage = m.images.find((p) => p.id === img.from);
      const why = parentImage && !parentImage.enable ? `"${img.from}" is disabled` : `"${img.from}" is not built for it`;
      out.problems.push({ path: ["images", i, "from"], message: `${id} builds on ${targetId(img.from, major, shape.distro)}, but ${why}` });
      return undefined;
    }
  }
  const distro = m.distros.find((d) => d.name === shape.distro);
  const base = parent?.base ?? img.base ?? distro?.base;
  if (!base) return undefined; // unreachable: rules require a base or a distro
  const { extensions, excluded } = resolveExtensions(m, img, i, shape, out);
  const repository = img.repository ?? img.id;
  const preview = shape.postgres.some((p) => p.preview);
  const templates = { ...defaultTags(img.kind), ...img.tags };
  return {
    id,
    image: img.id,
    kind: img.kind,
    ...(img.flavour ? { flavour: img.flavour } : {}),
    description: img.description ?? KIND_DESCRIPTIONS[img.kind],
    postgres: shape.postgres,
    ...(shape.distro ? { distro: shape.distro } : {}),
    packageSource: m.packageSource,
    base,
    ...(parent ? { from: parent.id } : {}),
    push: img.push,
    repository: { testing: `${m.registry.testing}/${repository}`, release: `${m.registry.release}/${repository}` },
    tags: renderTags(templates, { image: img.id, postgres: shape.postgres, distro: shape.distro, flavour: img.flavour, ...inputs }, preview),
    extensions: [...(parent?.extensions ?? []), ...extensions],
    excluded: [...(parent?.excluded ?? []), ...excluded],
    packages: Object.entries(img.packages ?? {}).map(([name, version]) => ({ name, version })).sort((a, b) => a.name.localeCompare(b.name)),
    ...(img.requirements ? { requirements: img.requirements } : {}),
    ...(img.python ? { python: Object.entries(img.python).map(([name, version]) => ({ name, version })) } : {}),
    ...(img.extension && major !== undefined
      ? {
          extension: {
            name: img.extension.name,
            repository: img.extension.repository,
            versions: img.extension.versions.filter((v) => !v.pg || v.pg.includes(major)).map(({ version, ref }) => ({ version, ref })),
          },
        }
      : {}),
  };
}

// Each bundled extension needs a pin for this source and major, or an explicit `unavailable`.
function resolveExtensions(m: Matrix, img: ImageConfig, i: number, shape: Shape, out: Expansion): { extensions: ResolvedExtension[]; excluded: Excluded[] } {
  const extensions: ResolvedExtension[] = [];
  const excluded: Excluded[] = [];
  const pg = shape.postgres[0];
  if (!pg) return { extensions, excluded };
  (img.extensions ?? []).forEach((name, j) => {
    const ext = m.extensions[name]!;
    if (ext.since !== undefined && pg.major < ext.since) return;
    const gap = img.unavailable?.find(
      (u) => u.extension === name && (u.pg ?? pg.major) === pg.major && (u.distro ?? shape.distro) === shape.distro && (u.source ?? m.packageSource) === m.packageSource,
    );
    if (gap) {
      excluded.push({ extension: name, reason: gap.reason });
      return;
    }
    const version = ext.pins[m.packageSource]?.[String(pg.major)];
    if (version === undefined) {
      out.problems.push({
        path: ["images", i, "extensions", j],
        message: `no pin for "${name}" on PostgreSQL ${pg.major} from source "${m.packageSource}" (${shape.distro}); add extensions.${name}.pins.${m.packageSource}."${pg.major}" or list it under unavailable with a reason`,
      });
      return;
    }
    extensions.push({ name, package: ext.package.replaceAll("{major}", String(pg.major)), version, create: ext.create, preload: ext.preload });
  });
  return { extensions, excluded };
}

/** Image indexes with every image after the one it is built from. */
function imageOrder(m: Matrix): number[] {
  const order: number[] = [];
  const place = (i: number, seen: Set<number>) => {
    if (order.includes(i) || seen.has(i)) return;
    seen.add(i);
    const parent = m.images.findIndex((p) => p.id === m.images[i]!.from);
    if (parent >= 0) place(parent, seen);
    order.push(i);
  };
  m.images.forEach((_, i) => place(i, new Set()));
  return order;
}
