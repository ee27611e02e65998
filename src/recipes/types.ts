// Recipes are data: the steps that make an image and the checks that prove it works. Both
// renderers (Dagger containers, Dockerfile text) and both smoke runners read the same data.

/** Where copied files come from. */
export type Source =
  /** A path in the pipeline's source directory (the folder holding matrix.yaml). */
  | { context: string }
  /** A path inside an artifact this recipe builds first. */
  | { artifact: string; path: string };

export type Step =
  | { op: "env"; name: string; value: string }
  /** A shell script run with sh -e as the current user; `apt` when it installs packages. */
  | { op: "run"; script: string; apt?: AptUse }
  | { op: "user"; user: string }
  | { op: "workdir"; path: string }
  /** A file, or a directory's contents; `to` ending in "/" puts a file into that directory. */
  | { op: "copy"; source: Source; what: "file" | "directory"; to: string }
  /** [] removes any entrypoint the base image had. */
  | { op: "entrypoint"; args: string[] }
  | { op: "cmd"; args: string[] };

export type RunStep = Extract<Step, { op: "run" }>;

/**
 * What a step asks apt for: the packages it installs and keeps (as apt arguments: name or
 * name=version pattern), and whether it is the step that writes the apt sources. The resolver
 * simulates these requests against the archive of the run, and the renderer ties the step's
 * cache to what they resolve to, so an archive update is never hidden by a cached step.
 */
export interface AptUse {
  install: string[];
  sources?: true;
}

/** What a stage starts from: a digest-pinned image, or another target's image. */
export type Base = { image: string } | { target: string };

/**
 * A build whose output is reused across images and runs: an older extension version compiled for
 * one PostgreSQL major. Its content key (hash of base and steps) names the output, so the engine's
 * cache, or a registry, can serve it instead of a rebuild.
 */
export interface Artifact {
  id: string;
  base: Base;
  steps: Step[];
  /** Directory holding the outputs once the steps ran. */
  output: string;
}

export interface SmokeCheck {
  /** Short, unique within the recipe: shown in reports as "<target>: <name>". */
  name: string;
  script: string;
  /** Run as this user (default: the image's own). */
  user?: string;
  /** Directories mounted read-only: from the build context, or a fixture of pg-images itself. */
  mounts?: Mount[];
  /** How the container runs (user, filesystem, capabilities); absent, the image runs as it is. */
  runtime?: Runtime;
}

/**
 * A container run under constraints, as an orchestrator runs it. Docker applies every field
 * directly; Dagger's withExec has no read-only root or capability drop, so its runner emulates
 * the root by a scan for writes afterwards (src/chain/target.ts says how).
 */
export interface Runtime {
  /** Nothing may be written outside the tmpfs and volumes below. */
  readOnlyRoot: boolean;
  /** "uid:gid", replacing the check's user and the image's. */
  user: string;
  /** No capabilities, and no way to gain any (no privilege escalation through setuid files). */
  dropCapabilities: boolean;
  /** Empty in-memory directories, mode 0777 (a pod's emptyDir), fresh for the check. */
  tmpfs: string[];
  /** Empty directories owned by `user` (what a pod's fsGroup makes of a volume), fresh for the check. */
  volumes: string[];
  env: Record<string, string>;
}

export type Mount =
  /** A path in the pipeline's source directory (the folder holding matrix.yaml). */
  | { context: string; at: string }
  /** A path in pg-images's own source tree (test/fixtures/…), independent of the user's project. */
  | { fixture: string; at: string };

/**
 * What the built image's config must say; the smoke runner reads it from the image (docker
 * inspect / Container.user, .entrypoint), not from inside a container.
 */
export interface ExpectedConfig {
  /** Config.User exactly: "26". */
  user: string;
  /** Config.Entrypoint exactly; [] means none (unset or empty). */
  entrypoint: string[];
}

export interface Recipe {
  target: string;
  base: Base;
  artifacts: Artifact[];
  steps: Step[];
  smoke: SmokeCheck[];
  /** Checked from the image config by the smoke runner; absent: nothing expected. */
  config?: ExpectedConfig;
}
