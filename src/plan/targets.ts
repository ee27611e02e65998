// Matrix → targets: one per image × PostgreSQL version × distro where the kind applies.
import { KINDS, platformsOf, type ImageKind } from "../kinds.js";
import type { Problem } from "../matrix/problems.js";
import { imageRepositories } from "../matrix/safety.js";
import type { ImageConfig, Matrix, PackageSource } from "../matrix/schema.js";
import { defaultTitle, renderText } from "./metadata.js";
import { byKey } from "./order.js";
import { comparePgVersions } from "./pgversion.js";
import { resolveEnv, resolvePackages } from "./env.js";
import { renderTags } from "./tags.js";
import type { Carries, CiUser, Excluded, PgVersion, ResolvedExtension, RunInputs, Skipped, TarballTemplate, Target, TargetCommon, TargetOf } from "./types.js";

/** Where an upgrade tester's tarballs go unless the image's extension.tarballs says. */
export const DEFAULT_TARBALLS: readonly TarballTemplate[] = [{ path: "/opt/pg-images/ext-upgrade/install-pg{major}-{name}{version}.tar" }];

/** The one place target ids are made: image, major(s) where it has one, distro where it has one. */
export function targetId(image: string, pgMajor: number | undefined, distro: string | undefined): string {
  return [image, pgMajor, distro].filter((part) => part !== undefined).join("-");
}

export interface Expansion {
  targets: Target[];
  skipped: Skipped[];
  problems: Problem[];
}

export function expandTargets(m: Matrix, inputs: RunInputs): Expansion {
  const out: Expansion = { targets: [], skipped: [], problems: [] };
  const byId = new Map<string, Target>();
  // Target ids deliberately not built, so an image built on one is skipped with it.
  const notBuilt = new Set<string>();
  // Parents first, so a child finds its parent's target (the rules already refused cycles).
  for (const i of imageOrder(m)) {
    const img = m.images[i]!;
    if (!img.enable) {
      out.skipped.push({ image: img.id, reason: "enable: false" });
      continue;
    }
    for (const shape of shapesOf(m, img, i, out, notBuilt)) {
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

// The (versions, distro) combinations an image is built for. A combination its parent skips is
// skipped too, with the parent's reason: a preview the parent leaves out is no error of the child.
function shapesOf(m: Matrix, img: ImageConfig, i: number, out: Expansion, notBuilt: Set<string>): Shape[] {
  const version = (major: number) => m.postgres.find((p) => p.major === major)!;
  const distros = m.distros.filter((d) => !img.distros || img.distros.includes(d.name));
  const postgres = KINDS[img.kind].postgres;
  if (postgres === "none") return [{ postgres: [] }];
  if (postgres === "every") {
    return distros.flatMap((d) => {
      const majors = d.pg
        .filter((p) => (img.pg ? img.pg.includes(p) : !version(p).preview))
        .sort((a, b) => comparePgVersions(version(a).version, version(b).version));
      if (majors.length < 2) {
        out.problems.push({ path: ["images", i], message: `${img.kind} needs two or more PostgreSQL majors on ${d.name}, found ${majors.join(", ") || "none"}` });
        return [];
      }
      return [{ postgres: majors.map(version), distro: d.name }];
    });
  }
  const pairs = img.pairs ?? distros.flatMap((d) => d.pg.filter((p) => !img.pg || img.pg.includes(p)).map((pg) => ({ pg, distro: d.name })));
  return pairs.flatMap(({ pg, distro }) => {
    const v = version(pg);
    const parent = img.from === undefined ? undefined : targetId(img.from, pg, distro);
    const reason =
      parent !== undefined && notBuilt.has(parent)
        ? `${parent} is not built`
        : v.preview && (img.extensions?.length ?? 0) > 0
          ? "preview majors get no extensions"
          : undefined;
    if (reason) {
      out.skipped.push({ image: img.id, pg, distro, reason });
      notBuilt.add(targetId(img.id, pg, distro));
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
  const missing = (key: string) => out.problems.push({ path: ["images", i, key], message: `required for kind ${img.kind}` });
  const base = parent?.base ?? img.base ?? distro?.base;
  const byKind = kindPart(img, m.packageSource, shape, parent, missing);
  if (!byKind) return undefined;
  // An upgrade tester with nothing to upgrade from would be published empty.
  if (byKind.kind === "extupgradetester" && byKind.extension.versions.length === 0) {
    const major = shape.postgres[0]!.major;
    out.problems.push({
      path: ["images", i, "extension", "versions"],
      message: `${id}: no older version of ${byKind.extension.name} for PostgreSQL ${major}; add one whose pg lists ${major}, or leave ${major} out of this image's pg`,
    });
    return undefined;
  }
  if (!base) return void missing("base"); // the rules require a base or a distro
  const { extensions, excluded } = resolveExtensions(m, img, i, shape, out);
  const repository = img.repository ?? img.id;
  const preview = shape.postgres.some((p) => p.preview);
  const templates = { ...KINDS[img.kind].tags, ...img.tags };
  const text = { image: img.id, postgres: shape.postgres, distro: shape.distro, flavour: img.flavour };
  const common: TargetCommon = {
    id,
    image: img.id,
    title: img.title === undefined ? defaultTitle(img.id, shape.postgres, shape.distro) : renderText(img.title, text),
    description: renderText(img.description ?? KINDS[img.kind].description, text),
    packageSource: m.packageSource,
    base,
    push: img.push,
    repository: imageRepositories(m.registry, repository),
    tags: renderTags(templates, { image: img.id, postgres: shape.postgres, distro: shape.distro, flavour: img.flavour, ...inputs }, preview),
    extensions: [...(parent?.extensions ?? []), ...extensions],
    excluded: [...(parent?.excluded ?? []), ...excluded],
    platforms: platformsOf(img, parent?.platforms),
    packages: resolvePackages(img.kind, img.packages),
    env: resolveEnv(img.kind, img.env, {
      postgres: shape.postgres,
      ...(byKind.kind === "extupgradetester" ? { extensionVersions: byKind.extension.versions.map((v) => v.version) } : {}),
    }),
    ...(img.ciUser ? { ciUser: ciUserOf(img.ciUser) } : {}),
  };
  return { ...common, ...byKind };
}

function ciUserOf(u: NonNullable<ImageConfig["ciUser"]>): CiUser {
  return {
    name: u.name,
    home: u.home ?? `/home/${u.name}`,
    shell: u.shell ?? "/bin/bash",
    ...(u.workdir !== undefined ? { workdir: u.workdir } : {}),
    default: u.default,
    privilegeDrop: u.privilegeDrop,
    owns: u.owns,
  };
}

/** The kind-specific part of a target: what its kind guarantees, by type. */
type KindPart = { [K in ImageKind]: Omit<TargetOf<K>, keyof TargetCommon> }[ImageKind];

// The rules (kinds.ts) already require every key read here; a missing one is reported, not assumed.
function kindPart(img: ImageConfig, source: PackageSource, shape: Shape, parent: Target | undefined, missing: (key: string) => void): KindPart | undefined {
  const [first, second, ...rest] = shape.postgres;
  const one: [PgVersion] | undefined = first && !second ? [first] : undefined;
  const every: [PgVersion, PgVersion, ...PgVersion[]] | undefined = first && second ? [first, second, ...rest] : undefined;
  const distro = shape.distro;
  const need = <T>(value: T | undefined, key: string): value is T => {
    if (value === undefined) missing(key);
    return value !== undefined;
  };
  // One PostgreSQL version on one distro: what every kind but two stands on.
  const single = distro !== undefined && one ? { postgres: one, distro } : undefined;
  switch (img.kind) {
    case "operand":
      if (!need(single, "pg") || !need(img.flavour, "flavour")) return undefined;
      return { kind: img.kind, ...single, flavour: img.flavour, ...(parent ? { from: parent.id } : {}), ...(img.requirements ? { requirements: img.requirements } : {}) };
    case "extbuilder":
      return need(single, "pg") ? { kind: img.kind, ...single } : undefined;
    case "exttester":
      return need(single, "pg") && need(parent, "from") ? { kind: img.kind, ...single, from: parent.id, carries: carriesOf(img, source) } : undefined;
    case "failtester":
      if (!need(single, "pg") || !need(parent, "from") || !need(img.requirements, "requirements")) return undefined;
      return { kind: img.kind, ...single, from: parent.id, requirements: img.requirements, ...(img.interpreter ? { interpreter: img.interpreter } : {}) };
    case "extupgradetester": {
      if (!need(single, "pg") || !need(parent, "from") || !need(img.extension, "extension")) return undefined;
      const major = single.postgres[0].major;
      const { name, repository, versions, tarballs } = img.extension;
      const forMajor = versions.filter((v) => !v.pg || v.pg.includes(major)).map(({ version, ref }) => ({ version: version ?? ref, ref }));
      return { kind: img.kind, ...single, from: parent.id, extension: { name, repository, versions: forMajor, tarballs: tarballs ?? [...DEFAULT_TARBALLS] } };
    }
    case "pgupgradetester":
      return need(distro, "distros") && need(every, "pg") ? { kind: img.kind, postgres: every, distro } : undefined;
    case "stylechecker":
      return {
        kind: img.kind,
        postgres: [],
        python: Object.entries(img.python ?? {}).map(([name, version]) => ({ name, version })),
        sources: (img.sources ?? []).map((s) => ({ ...s })),
        ...(img.requirements ? { requirements: img.requirements } : {}),
      };
  }
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

/**
 * What an exttester carries: the regression suite unless the image turns it off; debug symbols
 * where the package source has them (PGDG does; Debian keeps its own in a separate archive).
 */
export function carriesOf(img: Pick<ImageConfig, "regressionSuite" | "debugSymbols">, source: PackageSource): Carries {
  const regressionSuite = img.regressionSuite ?? true;
  const debugSymbols = img.debugSymbols ?? source === "pgdg";
  const leftOut = [
    ...(regressionSuite ? [] : ["PostgreSQL's regression suite: regressionSuite is false"]),
    ...(debugSymbols ? [] : [img.debugSymbols === false ? "debug symbols: debugSymbols is false" : `debug symbols: package source "${source}" has no -dbgsym packages (Debian keeps them in a separate debug archive)`]),
  ];
  return { regressionSuite, debugSymbols, leftOut };
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
