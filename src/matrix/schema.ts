// The shape of matrix.yaml. Every object is strict: an unknown key is an error, because a
// typo ("enabel: false") must never pass silently. Schema and type share one name.
import { z } from "zod";
import { IMAGE_KINDS, PLATFORMS } from "../kinds.js";

export { IMAGE_KINDS, type ImageKind } from "../kinds.js";

/**
 * An operand flavour is the matrix's own word for what an image carries (minimal, standard,
 * system, custom…); which flavour stacks on which is the image's `from`. It becomes part of tags,
 * catalog names and file names, so it keeps to a tag-safe grammar.
 */
export const flavourName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "a flavour name: lower-case letters, digits, _ and -, a letter or digit first, at most 40 characters");
export type Flavour = string;

/** pgdg: apt.postgresql.org (+ its archive for old minors). distro: the release's own archive. */
export const PACKAGE_SOURCES = ["pgdg", "distro"] as const;
export type PackageSource = (typeof PACKAGE_SOURCES)[number];

const major = z.number().int().min(10).max(99);
const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes");
// An apt version or a version pattern as apt accepts after "=": "16.13-*", "1:2.3-1+deb12u1".
const aptVersion = z.string().regex(/^[0-9A-Za-z.+:~*-]+$/, "an apt version or pattern such as 16.13-*");
// An image reference pinned by digest: name[:tag]@sha256:<64 hex>.
export const pinnedImage = z
  .string()
  .regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, "an image reference pinned by digest (name:tag@sha256:…)");

const PostgresVersion = z.strictObject({
  major,
  /** Exact upstream version: "17.9", or "19~beta2" for a preview. */
  version: z.string().regex(/^\d+(\.\d+|~(alpha|beta|rc)\d+)$/, 'a version such as "17.9" or "19~beta1"'),
  /** A preview major: no rolling aliases and no extensions. */
  preview: z.boolean().default(false),
});

const Distro = z.strictObject({
  name,
  base: pinnedImage,
  /** PostgreSQL majors built on this release unless an image narrows them. */
  pg: z.array(major).min(1),
});

const Pgdg = z.strictObject({
  mirror: z.url().default("https://apt.postgresql.org/pub/repos/apt"),
  archive: z.url().default("https://apt-archive.postgresql.org/pub/repos/apt"),
  /** Where the signing key comes from; fetched once per build, checked against `fingerprint`. */
  keyUrl: z.url().default("https://www.postgresql.org/media/keys/ACCC4CF8.asc"),
  fingerprint: z
    .string()
    .regex(/^[0-9A-F]{40}$/, "a 40-character upper-case hex key fingerprint")
    .default("B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8"),
});

const Extension = z.strictObject({
  /** apt package, with {major} for the PostgreSQL major: postgresql-{major}-pgaudit. */
  package: z.string().regex(/^[a-z0-9{}.+-]+$/, "an apt package name, {major} allowed"),
  /** Extension names for CREATE EXTENSION; empty for a package that adds none (a JIT package). */
  create: z.array(z.string().regex(/^[a-z0-9_]+$/)).default([]),
  /** Libraries that must be in shared_preload_libraries for CREATE EXTENSION to work. */
  preload: z.array(z.string().regex(/^[a-z0-9_]+$/)).default([]),
  /** Pinned versions: package source → PostgreSQL major → apt version pattern. */
  pins: z.partialRecord(z.enum(PACKAGE_SOURCES), z.record(z.string().regex(/^\d+$/), aptVersion)),
  /** Only from this PostgreSQL major on (the separate JIT package exists from 18). */
  since: major.optional(),
});

const Unavailable = z.strictObject({
  extension: name,
  pg: major.optional(),
  distro: name.optional(),
  source: z.enum(PACKAGE_SOURCES).optional(),
  /** Why it is left out; printed in the plan. */
  reason: z.string().min(3),
});

const Pair = z.strictObject({ pg: major, distro: name });

const Tags = z.strictObject({
  /** Unique tag in the testing repository. */
  testing: z.string().optional(),
  /** Unique tag in the release repository. */
  release: z.string().optional(),
  /** Rolling aliases in the release repository, moved only after the gate. */
  aliases: z.array(z.string()).optional(),
  /** More rolling aliases for the targets on one distro (legacy {version} and {major} on bullseye). */
  distroAliases: z.record(name, z.array(z.string()).min(1)).optional(),
  /** Preview majors (19~beta3) get the rolling aliases too; default: they get none. */
  previewAliases: z.boolean().optional(),
});

const UpgradeVersion = z.strictObject({
  /**
   * The release's name in tarball names and build ids ("12.1.6"); default: the ref. Not the SQL
   * version: the smoke check reads that (default_version) from the built control file.
   */
  version: z.string().regex(/^[0-9A-Za-z._-]+$/, "letters, digits and . _ -").optional(),
  /** Git ref (tag) to build. */
  ref: z.string().min(1),
  /** PostgreSQL majors this old version supports; default: all of the image's. */
  pg: z.array(major).optional(),
});

const Tarball = z.strictObject({
  /** Absolute path template: "/install-pg{major}-{name}{ref}.tar". */
  path: z.string().min(1),
  /** Keep only the files whose path matches this glob ("*.so"); default: every file. */
  only: z.string().min(1).optional(),
});

const ExtensionProject = z.strictObject({
  /** The extension's name, as CREATE EXTENSION knows it: pg_cron, postgis. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, dashes and underscores"),
  /** Git URL the upgrade tester clones older versions from (file:// for a local repository). */
  repository: z.string().min(1),
  /** Older versions the upgrade tester carries. */
  versions: z.array(UpgradeVersion).default([]),
  /**
   * Where each older version's tarball goes: absolute path templates with {major}, {name},
   * {ref} and {version}; `only` keeps the files matching a glob (a library-only variant).
   */
  tarballs: z.array(Tarball).min(1).optional(),
});

/**
 * Environment variables, name → value with placeholders ({major}, {version}, {versions},
 * {extensionVersions}); null removes a kind's default (kinds.ts).
 */
const Env = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a variable name: letters, digits and _, not starting with a digit"), z.string().nullable());

/** The privilege-drop tools a CI user can come with: gosu from the release's archive, setpriv from util-linux. */
export const PRIVILEGE_DROP = ["gosu", "setpriv"] as const;

const CiUser = z.strictObject({
  /** Login name, as useradd takes it: ci. */
  name: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "a login name: lower-case letters, digits, _ and -, at most 32, not starting with a digit or -"),
  /** Home directory; default /home/<name>. */
  home: z.string().optional(),
  /** Login shell; default /bin/bash. */
  shell: z.string().optional(),
  /** The image's working directory (WORKDIR); default: none set. */
  workdir: z.string().optional(),
  /** Make it the image's user (USER); default false: the image runs as root and drops privileges. */
  default: z.boolean().default(false),
  /** How CI steps drop to it: `gosu <user> cmd` or `setpriv`; default gosu. */
  privilegeDrop: z.enum(PRIVILEGE_DROP).default("gosu"),
  /** Paths (recursively) the user owns, so it can write there: where the project untars old builds. */
  owns: z.array(z.string()).default([]),
});

/** Where a failtester's Python comes from: the release's archive (python3.N), or the base image (python:3.12-slim-bookworm). */
export const INTERPRETER_SOURCES = ["apt", "image"] as const;

const Interpreter = z.strictObject({
  /** The venv's Python, major.minor: "3.13". */
  version: z.string().regex(/^3\.\d{1,2}$/, 'a Python version major.minor, such as "3.13"'),
  /** apt (default): python<version> from the distro's archive. image: already on the base image's PATH. */
  source: z.enum(INTERPRETER_SOURCES).default("apt"),
});

const SourceBuild = z.strictObject({
  /** The command the build installs; checked on PATH (with `version`, its --version must print it). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, "a command name: letters, digits and _ . + -"),
  /** Git URL to clone (file:// for a local repository), or a path relative to matrix.yaml. */
  repository: z.string().min(1),
  /** Git tag (or branch) to build. */
  ref: z.string().min(1),
  /**
   * make targets that build and install it ("uncrustify/.install"); default: a CMake project is
   * configured, built and installed with CMake, any other with ./configure (if present) and make install.
   */
  make: z.array(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_./+-]*$/, "a make target: letters, digits and _ . / + -, not starting with - or .")).min(1).optional(),
  /** What `<name> --version` must print; default: only that the command is on PATH. */
  version: z.string().regex(/^[0-9A-Za-z._+-]+$/, "letters, digits and . _ + -").optional(),
});

const PythonTools = z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.string().regex(/^[0-9][0-9A-Za-z.]*$/));

export const ImageConfig = z.strictObject({
  id: name,
  kind: z.enum(IMAGE_KINDS),
  /** operand: the flavour's name, the matrix's own word (minimal, standard, system). */
  flavour: flavourName.optional(),
  enable: z.boolean().default(true),
  /** false: built and tested, never published. */
  push: z.boolean().default(true),
  /** Repository name under the registry prefixes; default: the id. */
  repository: name.optional(),
  /**
   * The OCI description, a template: {version} (as written, 19~beta3), {major}, {flavour},
   * {distro}, {image}; default: the kind's. "A {flavour} PostgreSQL {version} container image".
   */
  description: z.string().optional(),
  /** The OCI title, a template like description; default: "<id> <version> <distro>". */
  title: z.string().optional(),
  /** Another image this one is built on; it is built first. */
  from: name.optional(),
  /** Narrow the distros' pairs to these majors / distros, or list the pairs outright. */
  pg: z.array(major).optional(),
  distros: z.array(name).optional(),
  pairs: z.array(Pair).optional(),
  tags: Tags.optional(),
  /** Extensions (keys of `extensions`) the image bundles. */
  extensions: z.array(name).optional(),
  /**
   * Extra apt packages, name → version pattern ("" leaves the version to the release); null
   * removes one of the kind's default packages (kinds.ts).
   */
  packages: z.record(z.string().regex(/^[a-z0-9.+-]+$/), z.union([aptVersion, z.literal("")]).nullable()).optional(),
  /** Environment variables set in the image; merged over the kind's defaults (kinds.ts). */
  env: Env.optional(),
  /** A non-root user for CI steps (test images). */
  ciUser: CiUser.optional(),
  /** Extensions deliberately left out for some targets, with the reason. */
  unavailable: z.array(Unavailable).optional(),
  /**
   * failtester, operand, stylechecker: a hash-pinned pip requirements file, relative to
   * matrix.yaml. An operand installs it into the system Python (the Barman Cloud tools of a
   * `system` flavour); the others into a venv. A VCS line is accepted pinned to a full commit.
   */
  requirements: z.string().optional(),
  /** stylechecker: Python tools checked by their --version, name → exact version; installed from `requirements`. */
  python: PythonTools.optional(),
  /** failtester: the Python its venv is made with; default: the distro's python3. */
  interpreter: Interpreter.optional(),
  /** stylechecker: tools built from source at a pinned ref, installed under /usr/local. */
  sources: z.array(SourceBuild).min(1).optional(),
  /** stylechecker and other base-only images: the digest-pinned base, instead of a distro's. */
  base: pinnedImage.optional(),
  /**
   * exttester: PostgreSQL's own regression suite (regress.so and lib/regress/), built from the
   * package source's source package of the exact server version; default true.
   */
  regressionSuite: z.boolean().optional(),
  /** exttester: the server's -dbgsym package; default: where the package source has them (pgdg). */
  debugSymbols: z.boolean().optional(),
  /** extupgradetester: the extension project and its older versions. */
  extension: ExtensionProject.optional(),
  /** Platforms to build, test and publish as one image index; default: the kind's (kinds.ts). */
  platforms: z.array(z.enum(PLATFORMS)).min(1).optional(),
});
export type ImageConfig = z.infer<typeof ImageConfig>;

/** A registry host with an optional path: ghcr.io/acme, 127.0.0.1:5000/pg. */
export const repositoryPrefix = z.string().regex(/^[a-z0-9.:-]+(\/[a-z0-9._-]+)*$/, "a registry host with an optional path, such as ghcr.io/acme");

const Registry = z.strictObject({
  /** Repository prefix for released images: ghcr.io/acme. */
  release: repositoryPrefix,
  /** Repository prefix for unreleased images. */
  testing: repositoryPrefix,
  /**
   * The name of an image's testing repository under `testing`, from its release repository's
   * name: "{repository}" (default) or "{repository}-testing" (postgresql-testing).
   */
  testingRepository: z
    .string()
    .regex(/^[a-z0-9._{}-]+(\/[a-z0-9._{}-]+)*$/, "a repository name with {repository} in it, such as {repository}-testing")
    .default("{repository}"),
});

const Tools = z.strictObject({
  /** syft, pinned by digest; run to write SBOMs. */
  syft: pinnedImage,
  /** crane (a :debug variant, with a shell), pinned by digest; pushes, copies and tags. */
  crane: pinnedImage,
  /** The registry image the ephemeral testing registry runs from. */
  registry: pinnedImage,
  /** cosign, pinned by digest; signs and attests what passed (needed only when signing). */
  cosign: pinnedImage.optional(),
  /**
   * regctl (the binary at /regctl, as in ghcr.io/regclient/regctl), pinned by digest; sets the
   * times in every exported image to the epoch, for reproducible digests. Without it, digests
   * carry the build's times.
   */
  regctl: pinnedImage.optional(),
  /**
   * kubectl (the binary at /bin/kubectl, as in registry.k8s.io/kubectl), pinned by digest; drives
   * the operator stage (needed only with `operator`).
   */
  kubectl: pinnedImage.optional(),
});

/** What the operator stage checks, in the order it runs them. */
export const OPERATOR_CHECKS = ["ready", "version", "extensions", "replication", "switchover"] as const;
export type OperatorCheck = (typeof OPERATOR_CHECKS)[number];

/**
 * The CloudNativePG stage: each operand image run by the operator on the cluster the caller gives
 * (--kubeconfig), before anything is tagged. Without a cluster the stage does not run.
 */
const Operator = z.strictObject({
  /** The CloudNativePG version the cluster's operator must run, exactly: "1.28.2". */
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a CloudNativePG release such as "1.28.2"'),
  /** false: never run the stage, even with a cluster given. */
  enable: z.boolean().default(true),
  /** Only operand images of these flavours; default: every operand image. */
  flavours: z.array(flavourName).min(1).optional(),
  /**
   * ready: a Cluster with the image becomes ready. version: SELECT version() reports the pinned
   * version. extensions: a Database resource creates the bundled extensions, preloads loaded.
   * replication and switchover: a second instance streams, then becomes the primary.
   */
  checks: z.array(z.enum(OPERATOR_CHECKS)).min(1).default([...OPERATOR_CHECKS]),
  /** Seconds each wait may take (the Cluster ready, the switchover done). */
  timeout: z.number().int().min(30).max(3600).default(300),
  /** Each instance's volume, a Kubernetes quantity. */
  storage: z.string().regex(/^\d+(Mi|Gi)$/, 'a size such as "1Gi"').default("1Gi"),
  /**
   * The testing registry's host as the cluster's nodes pull from it, when it differs from the one
   * pg-images pushes to (kind with a registry container: "kind-registry:5000").
   */
  pullRegistry: z.string().regex(/^[a-z0-9.-]+(:\d+)?$/, "a registry host[:port]").optional(),
});
export type OperatorConfig = z.infer<typeof Operator>;

export const Matrix = z.strictObject({
  $schema: z.string().optional(),
  registry: Registry,
  packageSource: z.enum(PACKAGE_SOURCES).default("pgdg"),
  pgdg: Pgdg.prefault({}),
  postgres: z.array(PostgresVersion).min(1),
  distros: z.array(Distro).min(1),
  tools: Tools,
  /** Extensions the operand flavours can bundle. */
  extensions: z.record(name, Extension).default({}),
  /** OCI metadata shared by every image. */
  metadata: z
    .strictObject({
      vendor: z.string(),
      url: z.url(),
      source: z.url(),
      documentation: z.url().optional(),
      authors: z.string().optional(),
      licenses: z.string().default("PostgreSQL"),
      /** images.cnpg.io/publisher on the catalogs; default: the host of url. */
      publisher: z
        .string()
        .regex(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, "a Kubernetes label value: letters, digits, . _ -, at most 63 characters, a letter or digit at both ends")
        .optional(),
    }),
  images: z.array(ImageConfig).min(1),
  operator: Operator.optional(),
});
export type Matrix = z.infer<typeof Matrix>;
export type MatrixInput = z.input<typeof Matrix>;
