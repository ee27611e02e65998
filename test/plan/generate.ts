// Random matrices for the render property: a seeded PRNG (mulberry32, written out so the sequence
// never changes with a dependency) combines kinds, from-links, pg/distro pairs, flavours,
// extensions and tags. Most choices lean towards what the rules accept, some deliberately not,
// so the matrices that validate cover the corners the rules leave open.
import { stringify } from "yaml";

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DIGEST = "@sha256:" + "a".repeat(64);
export const KINDS = ["operand", "extbuilder", "exttester", "failtester", "pgupgradetester", "extupgradetester", "stylechecker"] as const;
const FLAVOURS = ["minimal", "standard", "full"] as const;
// The parent kinds each kind is usually built from; the generator follows this most of the time.
const USUAL_FROM: Record<string, readonly string[]> = {
  operand: ["operand"],
  exttester: ["extbuilder"],
  failtester: ["extbuilder"],
  extupgradetester: ["extbuilder", "exttester"],
};
const TAG_TEMPLATES = ["{version}-{distro}-{image}", "{major}-{distro}-{timestamp}", "{versions}-{image}-{revision}", "{image}-{timestamp}", "x-{flavour}-{distro}-{major}"];
export const REQUIREMENTS = "req/requirements.txt";

export interface Generated {
  text: string;
  /** Files the matrix names, with text, as the shell would read them. */
  files: Map<string, string>;
}

export function generateMatrix(rnd: Rng): Generated {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const subset = <T>(xs: readonly T[], p = 0.6): T[] => xs.filter(() => chance(p));
  // Without repeats, most of the time: a value listed twice is refused.
  const once = <T>(xs: T[]): T[] => (chance(0.95) ? [...new Set(xs)] : xs);

  const source = chance(0.85) ? "pgdg" : "distro";
  const majors = [...new Set([pick([15, 16, 17]), ...subset([13, 15, 16, 17, 18])])].sort();
  const previewMajor = chance(0.3) ? 19 : undefined;
  const postgres = [
    ...majors.map((major) => ({ major, version: `${major}.${1 + Math.floor(rnd() * 9)}` })),
    ...(previewMajor ? [{ major: previewMajor, version: pick(["19~beta1", "19~rc1"]), preview: true }] : []),
  ];
  const allMajors = postgres.map((p) => p.major);
  const distroNames = [...new Set([pick(["trixie", "bookworm"]), ...subset(["trixie", "bookworm", "bullseye"], 0.3)])];
  const distros = distroNames.map((name) => {
    const own = { bullseye: 13, bookworm: 15, trixie: 17 }[name]!;
    const offered = source === "pgdg" ? allMajors : allMajors.filter((m) => m === own || (chance(0.5) && m === own - 2));
    const pg = subset(offered, 0.7);
    return { name, base: `docker.io/library/debian:${name}-slim${DIGEST}`, pg: pg.length > 0 ? pg : offered.slice(0, 1) };
  });
  const extensions: Record<string, unknown> = {
    pgaudit: { package: "postgresql-{major}-pgaudit", create: ["pgaudit"], preload: ["pgaudit"], pins: { [source]: Object.fromEntries(subset(allMajors, 0.85).map((m) => [String(m), `${m}.1-*`])) } },
    jit: { package: "postgresql-{major}-jit", pins: { [source]: Object.fromEntries(allMajors.map((m) => [String(m), `${m}.0-*`])) }, since: pick([15, 17, 18]) },
  };

  const images: Record<string, unknown>[] = [];
  const count = 1 + Math.floor(rnd() * 6);
  for (let n = 0; n < count; n++) {
    const kind = pick(KINDS);
    const img: Record<string, unknown> = { id: `${kind.slice(0, 5)}${n}`, kind };
    const usual = USUAL_FROM[kind];
    if (kind !== "operand" && usual && chance(0.9) && !images.some((p) => usual.includes(p.kind as string))) {
      images.push({ id: `extbu${n}p`, kind: "extbuilder", ...(distroNames.length > 1 ? { distros: [distroNames[0]] } : {}) });
    }
    const parents = images.filter((p) => (usual ?? []).includes(p.kind as string));
    if (kind === "operand") {
      const flavourParent = parents.find((p) => p.flavour === "minimal" || p.flavour === "standard");
      if (flavourParent && chance(0.7)) {
        img.flavour = flavourParent.flavour === "minimal" ? "standard" : "full";
        img.from = flavourParent.id;
      } else img.flavour = chance(0.9) ? "minimal" : pick(FLAVOURS);
      if (chance(0.4)) img.extensions = subset(["pgaudit", "jit"], 0.7);
      if (img.extensions && chance(0.3)) img.unavailable = [{ extension: (img.extensions as string[])[0] ?? "pgaudit", reason: "not packaged" }];
    } else if (usual && parents.length > 0 && chance(0.92)) {
      img.from = pick(parents).id;
    } else if (chance(0.1) && images.length > 0) {
      img.from = pick(images).id; // often refused: the wrong kind, or a kind with no from
    }
    if (kind === "failtester" && chance(0.97)) img.requirements = REQUIREMENTS;
    if (kind === "stylechecker") {
      if (chance(0.97)) img.base = `docker.io/library/debian:bookworm-slim${DIGEST}`;
      if (chance(0.97)) img.python = Object.fromEntries(subset([["black", "25.1.0"], ["flake8", "7.2.0"]], 0.8));
      if (img.python && chance(0.97)) img.requirements = REQUIREMENTS;
      if (chance(0.5)) img.sources = [{ name: "uncrustify", repository: pick(["https://example.org/uncrustify.git", "style-repo"]), ref: "uncrustify-0.82.0", ...(chance(0.5) ? { version: "0.82.0" } : { make: ["install"] }) }];
    }
    if (kind === "extupgradetester" && chance(0.97)) {
      img.extension = {
        name: "citus",
        repository: pick(["https://example.org/citus.git", "ext-repo"]),
        // A version for every major, mostly: a major with none is refused.
        versions: [...subset([{ version: "12.1", ref: "v12.1", pg: [majors[0]] }], 0.7), ...(chance(0.9) ? [{ version: "13.0", ref: "v13.0" }] : [])],
      };
    }
    if (kind !== "stylechecker") {
      // Test kinds' default tags carry no {distro}: real matrices give them one distro.
      if (kind !== "operand" && distroNames.length > 1 && chance(0.8)) img.distros = [pick(distroNames)];
      else if (chance(0.25)) img.distros = once([pick(distroNames), ...subset(distroNames, 0.5)]);
      if (chance(0.25)) img.pg = once([pick(allMajors), ...subset(allMajors, 0.5)]);
      if (chance(0.1)) {
        img.pairs = [{ pg: pick(allMajors), distro: pick(distroNames) }];
        if (chance(0.95)) delete img.pg, delete img.distros;
      }
    }
    if (chance(0.2)) img.packages = { "locales-all": "", shellcheck: "0.9.0-*" };
    if (chance(0.2)) {
      // Placeholders the kind has a value for, most of the time.
      const fits = chance(0.8) ? TAG_TEMPLATES.filter((t) => (kind === "operand" || !t.includes("{flavour}")) && (kind !== "stylechecker" || !/\{(major|version|versions|distro)\}/.test(t))) : TAG_TEMPLATES;
      // Unique tags differ per run, mostly: testing with {timestamp}, release with it or {revision}.
      const unique = (re: RegExp) => (chance(0.9) && fits.some((t) => re.test(t)) ? fits.filter((t) => re.test(t)) : fits);
      img.tags = { testing: pick(unique(/\{timestamp\}/)), release: pick(unique(/\{(timestamp|revision)\}/)), aliases: subset(fits, 0.3) };
    }
    if (chance(0.1)) img.enable = false;
    if (chance(0.1)) img.push = false;
    if (chance(0.1)) img.description = "Made by the generator";
    if (chance(0.01)) img.flavour = pick(FLAVOURS);
    if (chance(0.01)) img.extensions = ["pgaudit"];
    // What an image adds to its kind: env (placeholders the kind may lack), a CI user, tarballs.
    if (chance(0.2)) {
      // Placeholders the kind has a value for, most of the time.
      const all = ["{major}", "{versions}", "v{version}", "{majors}", "{extensionVersions}", "plain"];
      const fits = all.filter((v) => v === "plain" || (kind === "extupgradetester" ? true : kind === "pgupgradetester" ? /versions|majors/.test(v) && !v.includes("extension") : kind === "stylechecker" ? false : !v.includes("extension")));
      img.env = chance(0.85) ? { EXT_PG: pick(chance(0.9) ? fits : all) } : { PG_MAJOR: null };
    }
    // null removes a default tool: extbuilder and pgupgradetester have lcov, the others none.
    if (chance(0.05) && (["extbuilder", "pgupgradetester"].includes(kind) || chance(0.1))) img.packages = { ...(img.packages as object), lcov: null };
    if (kind !== "operand" ? chance(0.2) : chance(0.01)) {
      img.ciUser = { name: "ci", privilegeDrop: pick(["gosu", "setpriv"]), default: chance(0.5), ...(chance(0.5) ? { workdir: "/work", owns: ["/usr/lib/postgresql"] } : {}) };
    }
    const ext = img.extension as { tarballs?: unknown } | undefined;
    if (ext && chance(0.5)) ext.tarballs = [{ path: "/install-pg{major}-{name}{ref}.tar" }, ...(chance(0.5) ? [{ path: "/so-pg{major}-{name}{version}.tar", only: "*.so" }] : [])];
    images.push(img);
  }
  const matrix = {
    registry: { release: "registry.example/pg", testing: "registry.example/pg-testing" },
    packageSource: source,
    postgres,
    distros,
    tools: { syft: `syft:1${DIGEST}`, crane: `crane:debug${DIGEST}`, registry: `registry:3${DIGEST}` },
    metadata: { vendor: "example", url: "https://example.org/pg", source: "https://example.org/pg.git" },
    extensions,
    images,
  };
  return { text: stringify(matrix), files: new Map([[REQUIREMENTS, ["mitmproxy==11.0.0", "black==25.1.0", "flake8==7.2.0"].map((r) => `${r} --hash=sha256:${"b".repeat(64)}\n`).join("")]]) };
}
