// The plan's vocabulary: what one build target is, independent of how it gets built.
import type { Platform } from "../kinds.js";
import type { Group } from "./groups.js";
import type { Flavour, ImageKind, PackageSource } from "../matrix/schema.js";

export interface PgVersion {
  major: number;
  /** Upstream version: "17.9", "19~beta1". */
  version: string;
  preview: boolean;
}

export interface ResolvedExtension {
  name: string;
  /** apt package with the major filled in. */
  package: string;
  /** apt version pattern from the matrix pins. */
  version: string;
  create: string[];
  preload: string[];
}

export interface Excluded {
  extension: string;
  reason: string;
}

export interface Tags {
  /** Unique tag in the testing repository. */
  testing: string;
  /** Unique tag in the release repository. */
  release: string;
  /** Rolling tags in the release repository. */
  aliases: string[];
}

/** What every target has, whatever its kind. */
export interface TargetCommon {
  /** Stable id, made by targetId(): "standard-17-trixie". */
  id: string;
  image: string;
  /** The OCI title and description, placeholders filled in. */
  title: string;
  description: string;
  packageSource: PackageSource;
  /** Digest-pinned root image of the chain this target stands on. */
  base: string;
  push: boolean;
  repository: { testing: string; release: string };
  tags: Tags;
  /** Extensions bundled, the parent's included (only operands bundle any). */
  extensions: ResolvedExtension[];
  excluded: Excluded[];
  /** Extra apt packages with version patterns ("" = the release's version). */
  packages: { name: string; version: string }[];
  /** Built, smoke-tested and published together as one image index. */
  platforms: Platform[];
  /** Environment variables, placeholders filled, the kind's defaults merged in; sorted by name. */
  env: { name: string; value: string }[];
  /** A non-root user for CI steps, with its defaults filled. */
  ciUser?: CiUser;
}

export interface CiUser {
  name: string;
  home: string;
  shell: string;
  /** WORKDIR of the image, if set. */
  workdir?: string;
  /** The image's USER. */
  default: boolean;
  privilegeDrop: "gosu" | "setpriv";
  /** Paths chowned to it, recursively. */
  owns: string[];
}

/** Where an extension upgrade tester puts an older version's files: a path template and a filter. */
export interface TarballTemplate {
  /** Absolute path with {major}, {name}, {ref}, {version}. */
  path: string;
  /** A glob the kept files match; absent: every file. */
  only?: string;
}

/** A tool built from a git repository at a ref (stylechecker). */
export interface SourceBuild {
  /** The command it installs. */
  name: string;
  repository: string;
  ref: string;
  /** make targets that build and install it; absent: CMake, or ./configure && make install. */
  make?: string[];
  /** What `<name> --version` must print. */
  version?: string;
}

/** What an exttester carries besides its tools. */
export interface Carries {
  /** PostgreSQL's regression suite, built from the package source's source package. */
  regressionSuite: boolean;
  /** The server's -dbgsym package. */
  debugSymbols: boolean;
  /** What is left out, and why (printed in the plan). */
  leftOut: string[];
}

/** Kind-specific fields; a kind that lacks one reads it as undefined, never as a value. */
interface KindFields {
  flavour: Flavour;
  distro: string;
  /** The target this one is built on. */
  from: string;
  /** failtester, operand: hash-pinned pip requirements file, path relative to the matrix. */
  requirements: string;
  /** stylechecker: Python tools and exact versions. */
  python: { name: string; version: string }[];
  /** failtester: the Python its venv is made with (the distro's python3 when absent). */
  interpreter: { version: string; source: "apt" | "image" };
  /** stylechecker: tools built from source at a pinned ref. */
  sources: SourceBuild[];
  /** extupgradetester: the extension project and the older versions for this target's major. */
  extension: { name: string; repository: string; versions: { version: string; ref: string }[]; tarballs: TarballTemplate[] };
  /** exttester: PostgreSQL's regression suite and debug symbols. */
  carries: Carries;
}
type Has<K extends keyof KindFields> = Pick<KindFields, K>;
type May<K extends keyof KindFields> = Partial<Pick<KindFields, K>>;
type Lacks<K extends keyof KindFields> = { [P in K]?: undefined };

/** PostgreSQL server of one flavour; built on the image its `from` names, or on the base. */
export type OperandTarget = TargetCommon & Has<"flavour" | "distro"> & May<"from" | "requirements"> & Lacks<"python" | "extension" | "carries"> & { kind: "operand"; postgres: [PgVersion] };
export type ExtbuilderTarget = TargetCommon & Has<"distro"> & Lacks<"flavour" | "from" | "requirements" | "python" | "extension" | "carries"> & { kind: "extbuilder"; postgres: [PgVersion] };
/** Built on its extbuilder (`from`). */
export type ExttesterTarget = TargetCommon & Has<"distro" | "from" | "carries"> & Lacks<"flavour" | "requirements" | "python" | "extension"> & { kind: "exttester"; postgres: [PgVersion] };
/** Built on its extbuilder (`from`). */
export type FailtesterTarget = TargetCommon & Has<"distro" | "from" | "requirements"> & May<"interpreter"> & Lacks<"flavour" | "python" | "extension" | "sources" | "carries"> & { kind: "failtester"; postgres: [PgVersion] };
/** Every major of its distro, two or more, oldest first. */
export type PgupgradetesterTarget = TargetCommon & Has<"distro"> & Lacks<"flavour" | "from" | "requirements" | "python" | "extension" | "carries"> & { kind: "pgupgradetester"; postgres: [PgVersion, PgVersion, ...PgVersion[]] };
/** Built on its extbuilder or exttester (`from`), whose image compiles the older versions too. */
export type ExtupgradetesterTarget = TargetCommon & Has<"distro" | "from" | "extension"> & Lacks<"flavour" | "requirements" | "python" | "carries"> & { kind: "extupgradetester"; postgres: [PgVersion] };
/** No PostgreSQL and no distro: pinned tools on its own base. */
export type StylecheckerTarget = TargetCommon & Has<"python" | "sources"> & May<"requirements"> & Lacks<"flavour" | "distro" | "from" | "extension" | "interpreter" | "carries"> & { kind: "stylechecker"; postgres: [] };

/**
 * One image to build: an image of the matrix for one PostgreSQL version (or set) and distro. Typed
 * by kind, so a recipe reads only what its kind guarantees (kinds.ts says what that is).
 */
export type Target = OperandTarget | ExtbuilderTarget | ExttesterTarget | FailtesterTarget | PgupgradetesterTarget | ExtupgradetesterTarget | StylecheckerTarget;
export type TargetOf<K extends ImageKind> = Extract<Target, { kind: K }>;

/** Inputs that vary per run and never come from the clock inside pure code. */
export interface RunInputs {
  /** UTC build time to the minute: YYYYMMDDhhmm. */
  timestamp: string;
  /** Source revision of the pipeline's repository (short SHA). */
  revision: string;
}

export interface Filters {
  image?: string[];
  pg?: number[];
  distro?: string[];
  flavour?: string[];
}

export interface Planned {
  /** Hash of the recipe (steps, base, pins) and of the targets it builds on. */
  recipeKey: string;
  /**
   * What "unchanged" compares: the recipe key until the run resolves the target's packages, then
   * the recipe key with the packages folded in (release/freshness.ts).
   */
  inputKey: string;
  /** Target ids that must be built first. */
  dependsOn: string[];
  /** Picked by the filters (false: only here because a picked target builds on it). */
  selected: boolean;
  annotations: Record<string, string>;
}
export type PlannedTarget = Target & Planned;

export interface Skipped {
  image: string;
  pg?: number;
  distro?: string;
  reason: string;
}

export interface Plan {
  inputs: RunInputs;
  /** Targets in build order: every target after the ones it depends on. */
  targets: PlannedTarget[];
  /** One CI job each: a dependency chain and the filters that pick exactly it (plan/groups.ts). */
  groups: Group[];
  /** Combinations the matrix deliberately does not build, with why. */
  skipped: Skipped[];
}
