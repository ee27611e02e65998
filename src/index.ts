/**
 * pg-images builds, inventories, smoke-tests and publishes the container images PostgreSQL
 * projects run on, from one declarative matrix.yaml.
 *
 * The chain for every image is build → SBOM (syft) → smoke test → publish, and a release promotes
 * exactly the digests that were tested.
 */
import { argument, dag, type Container, type Directory, func, object, type Secret, type Service } from "@dagger.io/dagger";
import { givenHostServices, type HostService } from "./chain/hostServices.js";
import { Pipeline, type PipelineOptions } from "./chain/pipeline.js";
import type { Signing } from "./chain/signer.js";
import type { PinBumps, Report } from "./report.js";

// Every function is cached for one session only (`cache: "session"`), never across runs: they
// read the clock (the default timestamp) or a registry, or run smoke tests whose failure may be
// transient, so a re-run tests and reports again instead of replaying an old report.
@object()
export class PgImages {
  // Constructor arguments, kept for the functions below (documented on the constructor).
  source: Directory;
  matrix: string;
  registry?: string;
  testingRegistry?: string;
  timestamp?: string;
  revision?: string;
  hostServices: Service[];
  kubeconfig?: Secret;

  constructor(
    /** The repository holding matrix.yaml and the files it names. */
    @argument({ defaultPath: "/", ignore: ["node_modules", "dist", ".git", "out"] }) source: Directory,
    /** Path of the matrix inside source. */
    matrix = "matrix.yaml",
    /** Release repository prefix, overriding matrix.yaml's registry.release (e.g. ghcr.io/acme). */
    registry?: string,
    /** Testing repository prefix, overriding matrix.yaml's registry.testing. */
    testingRegistry?: string,
    /** UTC build time, YYYYMMDDhhmm; default: now. Pass the same value to every job of one run. */
    timestamp?: string,
    /** Source revision for tags and labels; default: "dev". */
    revision?: string,
    /**
     * Registries or package mirrors on this machine's loopback that the matrix or the registry
     * flags name, e.g. tcp://127.0.0.1:5000 for --registry 127.0.0.1:5000/acme.
     */
    hostServices: Service[] = [],
    /**
     * A kubeconfig (e.g. file:$HOME/.kube/config, env:KUBECONFIG_TEXT) of a cluster running the
     * CloudNativePG version matrix.yaml's operator pins: build-all and publish run every operand
     * image there before anything is tagged. Its certificates and keys embedded; an API server on
     * this machine's loopback also goes in --host-services.
     */
    kubeconfig?: Secret,
  ) {
    this.source = source;
    this.matrix = matrix;
    this.registry = registry;
    this.testingRegistry = testingRegistry;
    this.timestamp = timestamp;
    this.revision = revision;
    this.hostServices = hostServices;
    this.kubeconfig = kubeconfig;
  }

  /**
   * The build plan: every target with its tags, dependencies and annotations, in build order.
   * CI providers fan out one job per target from the JSON. With --explain, each target's
   * packages are resolved against the archive now and compared with its first alias: the
   * change publish would act on (`unchanged (same packages)`, `changed: libssl3 a → b (…)`).
   *
   * Example usage: dagger call plan --format json --pg 17
   */
  @func({ cache: "session" })
  async plan(
    /** table (for people) or json (for CI fan-out). */
    format = "table",
    /** Only these images (ids in matrix.yaml). */
    image: string[] = [],
    /** Only these PostgreSQL majors. */
    pg: number[] = [],
    /** Only these Debian releases. */
    distro: string[] = [],
    /** Only these operand flavours. */
    flavour: string[] = [],
    /** Resolve packages and say why each target would be built or left unchanged (needs the engine and the registry). */
    explain = false,
  ): Promise<string> {
    return (await this.pipeline()).planText(format, { image, pg, distro, flavour }, explain);
  }

  /**
   * One target's image, built on the engine (not smoke-tested, not published).
   *
   * Example usage: dagger call build --target minimal-17-trixie terminal
   */
  @func({ cache: "session" })
  async build(
    /** A target id from the plan, e.g. minimal-17-trixie. */
    target: string,
  ): Promise<Container> {
    return (await this.pipeline()).build(target);
  }

  /**
   * An equivalent Dockerfile for one target, for building without the pipeline.
   *
   * Example usage: dagger call dockerfile --target standard-18-bookworm
   */
  @func({ cache: "session" })
  async dockerfile(
    /** A target id from the plan, e.g. standard-18-bookworm. */
    target: string,
  ): Promise<string> {
    return (await this.pipeline()).dockerfile(target);
  }

  /**
   * Build every enabled target (or those the filters pick), write SBOMs, run smoke tests.
   * Returns the run's Report: `check` fails the call when any target failed or was blocked,
   * `directory` holds summary.txt, summary.json and the SBOMs.
   *
   * Example usage: dagger call build-all --pg 17 check export --path ./out
   */
  @func({ cache: "session" })
  async buildAll(
    /** Only these images (ids in matrix.yaml). */
    image: string[] = [],
    /** Only these PostgreSQL majors. */
    pg: number[] = [],
    /** Only these Debian releases. */
    distro: string[] = [],
    /** Only these operand flavours. */
    flavour: string[] = [],
  ): Promise<Report> {
    return (await this.pipeline()).buildAll({ image, pg, distro, flavour });
  }

  /**
   * Build, SBOM, smoke-test, then publish what passed to the testing repository under its unique
   * tag. With --release, promote the tested digests to the release repository instead (no
   * rebuild) and move rolling aliases where the gate allows. Without a testing registry in
   * matrix.yaml or --testing-registry, images go to a throwaway registry inside the engine.
   * Returns the run's Report, as build-all does (release notes and catalogs in its directory).
   *
   * Example usage: dagger call --registry ghcr.io/acme publish --release --username me --password env:GHCR_TOKEN check export --path ./out
   */
  @func({ cache: "session" })
  async publish(
    /** Promote the tested digests to the release repository and move the aliases. */
    release = false,
    /** Registry user name. */
    username?: string,
    /** Registry password or token, e.g. env:GHCR_TOKEN. */
    password?: Secret,
    /** Only these images (ids in matrix.yaml). */
    image: string[] = [],
    /** Only these PostgreSQL majors. */
    pg: number[] = [],
    /** Only these Debian releases. */
    distro: string[] = [],
    /** Only these operand flavours. */
    flavour: string[] = [],
    /** Use a throwaway registry inside the engine even when registries are given. */
    ephemeral = false,
    /** Sign and attest with this cosign private key (cosign.key's text), e.g. env:COSIGN_KEY. */
    signingKey?: Secret,
    /** The signing key's password, e.g. env:COSIGN_PASSWORD. */
    signingPassword?: Secret,
    /** Sign keyless with this OIDC identity token (audience sigstore) from the CI provider. */
    oidcToken?: Secret,
  ): Promise<Report> {
    const p = await this.pipeline();
    const signing = signingFrom(signingKey, signingPassword, oidcToken);
    return p.publish({ release, ephemeral, filters: { image, pg, distro, flavour }, ...(username && password ? { auth: { username, password } } : {}), ...(signing ? { signing } : {}) });
  }

  /**
   * CloudNativePG ClusterImageCatalogs (catalog-<flavour>-<distro>.yaml and a kustomization.yaml)
   * for every operand major of the matrix, read from the release repositories: each major's image
   * as its aliases point at it now, by timestamped tag and digest; previews left out, and
   * left-out.txt naming any major with no released image. Run it after every release job; with a
   * signing identity each catalog is signed as a blob (<catalog>.bundle).
   *
   * Example usage: dagger call --registry ghcr.io/acme catalogs export --path ./catalogs
   */
  @func({ cache: "session" })
  async catalogs(
    /** Registry user name. */
    username?: string,
    /** Registry password or token, e.g. env:GHCR_TOKEN. */
    password?: Secret,
    /** Sign each catalog with this cosign private key, e.g. env:COSIGN_KEY. */
    signingKey?: Secret,
    /** The signing key's password, e.g. env:COSIGN_PASSWORD. */
    signingPassword?: Secret,
    /** Sign keyless with this OIDC identity token (audience sigstore). */
    oidcToken?: Secret,
  ): Promise<Directory> {
    const signing = signingFrom(signingKey, signingPassword, oidcToken);
    return (await this.pipeline()).catalogs(username && password ? { username, password } : undefined, signing);
  }

  /**
   * Newer PostgreSQL minors and extension versions for matrix.yaml's pins, read from the package
   * source the build installs from (every distro that installs a pin must carry the new version,
   * and every target of the bumped matrix must resolve). Returns the report and the rewritten
   * matrix.yaml, comments and layout kept, for a CI job to propose as a change.
   *
   * Example usage: dagger call bump-pins matrix export --path matrix.yaml
   */
  @func({ cache: "session" })
  async bumpPins(): Promise<PinBumps> {
    return (await this.pipeline()).bumpPins();
  }

  /**
   * Delete unique dev tags older than a number of days from the testing repository.
   *
   * Example usage: dagger call retention --days 14 --dry-run=false --username me --password env:TOKEN
   */
  @func({ cache: "session" })
  async retention(
    /** Dev tags older than this many days go. */
    days = 14,
    /** Only list what would be deleted. */
    dryRun = true,
    /** Registry user name. */
    username?: string,
    /** Registry password or token. */
    password?: Secret,
  ): Promise<string> {
    return (await this.pipeline()).retention(days, dryRun, username && password ? { username, password } : undefined);
  }

  /** pg-images's own tree, where the smoke tests' fixtures live. */
  protected fixtures(): Directory {
    return dag.currentModule().source();
  }

  /** Services on the caller's loopback: under `dagger call`, only those passed as arguments. */
  protected hostService(): Promise<HostService> {
    return givenHostServices(this.hostServices);
  }

  private async pipeline(): Promise<Pipeline> {
    const options: PipelineOptions = {
      source: this.source,
      matrix: this.matrix,
      registry: { release: this.registry, testing: this.testingRegistry },
      timestamp: this.timestamp,
      revision: this.revision,
      fixtures: this.fixtures(),
      hostService: await this.hostService(),
      kubeconfig: this.kubeconfig,
    };
    return Pipeline.load(options);
  }
}

/** The signing arguments as one choice: a key with its password, or an identity token, or none. */
function signingFrom(key?: Secret, password?: Secret, token?: Secret): Signing | undefined {
  if (key && token) throw new Error("--signing-key and --oidc-token: give one way to sign, not both");
  if (key && !password) throw new Error("--signing-key needs --signing-password (cosign keys are encrypted)");
  if (password && !key) throw new Error("--signing-password without --signing-key");
  if (key && password) return { key, password };
  return token ? { identityToken: token } : undefined;
}
