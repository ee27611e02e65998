// The plan's vocabulary: what one build target is, independent of how it gets built.
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

/** One image to build: an image of the matrix for one PostgreSQL version (or set) and distro. */
export interface Target {
  /** Stable id, made by targetId(): "standard-17-trixie". */
  id: string;
  image: string;
  kind: ImageKind;
  flavour?: Flavour;
  description: string;
  /** One version for most kinds; every major for pgupgradetester; none for stylechecker. */
  postgres: PgVersion[];
  distro?: string;
  packageSource: PackageSource;
  /** Digest-pinned root image of the chain this target stands on. */
  base: string;
  /** The target this one is built on. */
  from?: string;
  push: boolean;
  repository: { testing: string; release: string };
  tags: Tags;
  /** Extensions bundled, the parent's included. */
  extensions: ResolvedExtension[];
  excluded: Excluded[];
  /** Extra apt packages with version patterns ("" = the release's version). */
  packages: { name: string; version: string }[];
  /** failtester: requirements file path relative to the matrix. */
  requirements?: string;
  /** stylechecker: Python tools and exact versions. */
  python?: { name: string; version: string }[];
  /** extupgradetester: the extension project and the older versions for this target's major. */
  extension?: { name: string; repository: string; versions: { version: string; ref: string }[] };
}

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

export interface PlannedTarget extends Target {
  /** Hash of the recipe (steps, base, pins) and of the targets it builds on. */
  inputKey: string;
  /** Target ids that must be built first. */
  dependsOn: string[];
  /** Picked by the filters (false: only here because a picked target builds on it). */
  selected: boolean;
  annotations: Record<string, string>;
}

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
  /** Combinations the matrix deliberately does not build, with why. */
  skipped: Skipped[];
}
