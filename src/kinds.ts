// The image kinds, one record each: what a kind's image config needs and must not carry, what it
// may be built from, how many PostgreSQL versions a target has, its default description and tags.
// The schema's enum, the kind rules (matrix/rules.ts), the targets expansion (plan/targets.ts),
// default tags (plan/tags.ts) and the recipe lookup (recipes/index.ts) all read this table.
//
// A kind's recipe is the one thing not stored here as a value. Recipes take the plan's targets,
// whose types are derived from this table (plan/types.ts), and the matrix schema imports this file:
// a function reference here would make the schema load every recipe and close an import cycle
// (schema → kinds → recipes → plan → kinds). So the kind name is the reference: recipes/index.ts
// resolves it through a record typed `{ [K in ImageKind]: (target: TargetOf<K>, …) => Recipe }`,
// and the compiler refuses a kind without a recipe, or a recipe that reads another kind's fields.
// Pure: no imports but types.
import type { ImageConfig } from "./matrix/schema.js";
import type { TagTemplates } from "./plan/tags.js";

/** The image kinds pg-images knows how to build; each has one recipe in src/recipes/. */
export const IMAGE_KINDS = ["extbuilder", "exttester", "failtester", "pgupgradetester", "extupgradetester", "stylechecker", "operand"] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

/**
 * Platforms an image can be built for. arm64 builds and smoke tests run under emulation where the
 * engine's host is amd64 (binfmt_misc + qemu-user-static).
 */
export const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type Platform = (typeof PLATFORMS)[number];
/** Operand images run in production on both; test images serve CI runners, which are amd64. */
const BOTH: readonly Platform[] = ["linux/amd64", "linux/arm64"];
const AMD64: readonly Platform[] = ["linux/amd64"];

/** Keys of an image config that only some kinds use; every other key applies to all kinds. */
export type KindKey = "flavour" | "pg" | "distros" | "pairs" | "extensions" | "unavailable" | "requirements" | "python" | "base" | "extension" | "ciUser" | "interpreter" | "sources" | ExttesterKey;
/** What only an exttester carries: PostgreSQL's own regression suite and debug symbols. */
type ExttesterKey = "regressionSuite" | "debugSymbols";
const NOT_EXTTESTER: readonly ExttesterKey[] = ["regressionSuite", "debugSymbols"];

export interface KindSpec {
  /** Default description (the OCI description annotation) when the image gives none. */
  description: string;
  /**
   * PostgreSQL per target. one: a target per (major, distro) pair. every: one target per distro
   * holding every major (two or more). none: one target, no PostgreSQL and no distro, built on `base`.
   */
  postgres: "one" | "every" | "none";
  /** Keys the image must give. */
  needs: readonly KindKey[];
  /** Keys the image must not give: the recipe would ignore them, so they are refused. */
  forbids: readonly KindKey[];
  /** The kinds it may be built from (their image, not a base); absent: never built from another. */
  from?: { kinds: readonly ImageKind[]; required: boolean };
  /** Default tag templates; an image's `tags` override them one by one. */
  tags: TagTemplates;
  /** Platforms built unless the image says `platforms`. */
  platforms: readonly Platform[];
  /**
   * Environment variables set unless the image's `env` overrides them (null removes one); values
   * take the env placeholders (ENV_PLACEHOLDERS in matrix/rules.ts).
   */
  env: Readonly<Record<string, string>>;
  /**
   * apt packages installed at the release's version unless the image's `packages` pins them or
   * removes them (null). What the recipe itself needs to work is not here but in the recipe.
   */
  packages: readonly string[];
}

const OPERAND_TAG = "{version}-{timestamp}-{flavour}-{distro}";
/** Test images: the-process's dev/release scheme. */
// Release tags carry the timestamp too: a scheduled run rebuilds an image whose packages changed
// at the same revision, and that rebuild needs a unique tag of its own (a tag of the revision alone
// already names the previous build and is immutable).
const TEST_TAGS: TagTemplates = { testing: "{version}-dev{timestamp}", release: "{version}-v{shortrevision}-{timestamp}", aliases: ["{version}"] };
/**
 * Keys only operands (flavour, bundled extensions), the stylechecker (its own base, tools built
 * from source) or the failtester (its Python) take.
 */
const NOT_OPERAND: readonly KindKey[] = ["flavour", "extensions", "unavailable", "base", "sources"];
/** One PostgreSQL version: which one, for build scripts that read it from the environment. */
const PG_ENV = { PG_MAJOR: "{major}", PG_VERSION: "{version}" };
/**
 * Tools extension CI jobs expect on the image their chain starts from: coverage upload (git, curl,
 * gnupg), debugging and coverage (gdb, lcov), grammars generated at build time (bison, flex), and
 * sys/sdt.h, which PostgreSQL's probes.h includes when the server was built with probes.
 */
export const TEST_TOOLS = ["bison", "curl", "flex", "gdb", "git", "gnupg", "lcov", "systemtap-sdt-dev"];

export const KINDS: Record<ImageKind, KindSpec> = {
  operand: {
    description: "PostgreSQL server",
    postgres: "one",
    needs: ["flavour"],
    forbids: ["python", "extension", "base", "ciUser", "interpreter", "sources", ...NOT_EXTTESTER],
    // A flavour with from stacks on that image (standard on minimal); without, it stands on the
    // distro's base. The flavours' names and their order are the matrix's, not this table's.
    from: { kinds: ["operand"], required: false },
    tags: { testing: OPERAND_TAG, release: OPERAND_TAG, aliases: ["{version}-{flavour}-{distro}", "{major}-{flavour}-{distro}"] },
    platforms: BOTH,
    env: {},
    packages: [],
  },
  extbuilder: {
    description: "Builds a PostgreSQL extension against one PostgreSQL version",
    postgres: "one",
    needs: [],
    forbids: [...NOT_OPERAND, "requirements", "python", "extension", "interpreter", ...NOT_EXTTESTER],
    tags: TEST_TAGS,
    platforms: AMD64,
    env: PG_ENV,
    packages: TEST_TOOLS,
  },
  exttester: {
    description: "Runs a PostgreSQL extension's regression and isolation suites",
    postgres: "one",
    needs: [],
    forbids: [...NOT_OPERAND, "requirements", "python", "extension", "interpreter"],
    from: { kinds: ["extbuilder"], required: true },
    tags: TEST_TAGS,
    platforms: AMD64,
    env: PG_ENV,
    packages: [],
  },
  failtester: {
    description: "Runs a PostgreSQL extension's failure-injection tests (mitmproxy)",
    postgres: "one",
    needs: ["requirements"],
    forbids: [...NOT_OPERAND, "python", "extension", ...NOT_EXTTESTER],
    from: { kinds: ["extbuilder"], required: true },
    tags: TEST_TAGS,
    platforms: AMD64,
    env: PG_ENV,
    packages: [],
  },
  pgupgradetester: {
    description: "Every configured PostgreSQL major, for pg_upgrade tests",
    postgres: "every",
    needs: [],
    forbids: [...NOT_OPERAND, "requirements", "python", "extension", "pairs", "interpreter", ...NOT_EXTTESTER],
    tags: { testing: "{versions}-dev{timestamp}", release: "{versions}-v{shortrevision}-{timestamp}", aliases: ["{versions}"] },
    platforms: AMD64,
    env: { PG_VERSIONS: "{versions}" },
    packages: TEST_TOOLS,
  },
  extupgradetester: {
    description: "Older builds of an extension, for extension upgrade tests",
    postgres: "one",
    needs: ["extension"],
    forbids: [...NOT_OPERAND, "requirements", "python", "interpreter", ...NOT_EXTTESTER],
    from: { kinds: ["extbuilder", "exttester"], required: true },
    tags: TEST_TAGS,
    platforms: AMD64,
    env: PG_ENV,
    packages: [],
  },
  stylechecker: {
    description: "Pinned code style tools",
    postgres: "none",
    needs: ["base"],
    forbids: ["flavour", "extensions", "unavailable", "extension", "pg", "distros", "pairs", "interpreter", ...NOT_EXTTESTER],
    tags: { testing: "dev{timestamp}", release: "v{shortrevision}-{timestamp}", aliases: ["latest"] },
    platforms: AMD64,
    env: {},
    packages: ["git"],
  },
};

/** Whether an image of this kind must, may or must not name `from`. */
export function fromRule(img: Pick<ImageConfig, "kind">): "required" | "optional" | "forbidden" {
  const spec = KINDS[img.kind].from;
  if (!spec) return "forbidden";
  return spec.required ? "required" : "optional";
}

/**
 * The platforms an image is built for: its own list, else those of the image it is built on (a
 * flavour stacks on what its parent built), else its kind's; in the order of PLATFORMS.
 */
export function platformsOf(img: Pick<ImageConfig, "kind" | "platforms">, parent?: readonly Platform[]): Platform[] {
  const wanted = img.platforms ?? parent ?? KINDS[img.kind].platforms;
  return PLATFORMS.filter((p) => wanted.includes(p));
}
