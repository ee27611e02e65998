// The CloudNativePG stage on the engine: the candidate goes to its testing repository by digest
// only (no tag, so nothing can point at it yet), and kubectl, in a container holding the caller's
// kubeconfig, runs the stage's script (src/release/operator.ts) against the caller's cluster,
// whose nodes pull the candidate from there. One cluster at a time: each takes a node's worth of
// pods and volumes.
import { dag, type File, type Secret } from "@dagger.io/dagger";
import type { Matrix, OperatorConfig } from "../matrix/schema.js";
import type { PlannedTarget } from "../plan/types.js";
import type { CheckResult } from "../release/decisions.js";
import { checkName, KUBE_API_ALIAS, kubeconfigForEngine, KUBECONFIG_PATH, MANIFESTS_PATH, operatorApplies, operatorManifests, operatorRun, operatorScript, parseOperatorOutput, runNamespace, type EngineKubeconfig } from "../release/operator.js";
import { versionBanner } from "../recipes/smoke.js";
import type { HostService } from "./hostServices.js";
import { EPHEMERAL_HOST, hostOf, type RegistryClient } from "./registry.js";
import { failure } from "./target.js";

/** Where kubectl's own image (registry.k8s.io/kubectl) keeps the binary. */
export const KUBECTL_BINARY = "/bin/kubectl";

export class OperatorStage {
  private queue: Promise<unknown> = Promise.resolve();
  private nonce = 0;

  private constructor(
    private readonly config: OperatorConfig,
    private readonly kube: EngineKubeconfig,
    private readonly secret: Secret,
    private readonly tools: { crane: string; kubectl: string },
    private readonly registry: RegistryClient,
    private readonly hostService: HostService,
  ) {}

  /**
   * The stage for a matrix and a kubeconfig; undefined when no cluster is given or the matrix
   * turns the stage off. Throws when a cluster is given and the matrix does not configure the
   * stage, or the kubeconfig cannot work from the engine.
   */
  static async create(matrix: Matrix, matrixPath: string, kubeconfig: Secret | undefined, registry: RegistryClient, hostService: HostService): Promise<OperatorStage | undefined> {
    if (!kubeconfig) return undefined;
    const config = matrix.operator;
    if (!config) throw new Error(`--kubeconfig names a cluster, but ${matrixPath} has no operator section: pin the CloudNativePG version it runs there (operator.version)`);
    if (!config.enable) return undefined;
    // The rules ask for it whenever the stage is enabled.
    const kubectl = matrix.tools.kubectl!;
    const kube = kubeconfigForEngine(await kubeconfig.plaintext());
    const secret = dag.setSecret("pg-images-operator-kubeconfig", kube.text);
    return new OperatorStage(config, kube, secret, { crane: matrix.tools.crane, kubectl }, registry, hostService);
  }

  applies(t: PlannedTarget): boolean {
    return operatorApplies(this.config, t);
  }

  /** The stage's checks for one candidate (the tarball, whose manifest digest is `digest`). */
  async run(t: PlannedTarget, tarball: File, digest: string): Promise<CheckResult[]> {
    const nonce = `${Date.now().toString(36)}${this.nonce++}`;
    const image = `${this.pullRepository(t.repository.testing)}@${digest}`;
    const run = operatorRun(this.config, t, image, runNamespace(digest, nonce), versionBanner(t.postgres[0]!));
    const ready = (detail: string): CheckResult[] => [{ name: checkName(run, "ready"), ok: false, detail }];
    if (hostOf(t.repository.testing) === EPHEMERAL_HOST) {
      return ready("the cluster cannot pull from the throwaway registry inside the engine: give a testing registry its nodes reach (--testing-registry, and operator.pullRegistry when they name it otherwise)");
    }
    try {
      await this.registry.push(tarball, `${t.repository.testing}@${digest}`);
    } catch (e) {
      return ready(`pushing the candidate to ${t.repository.testing} by digest: ${failure(e)}`);
    }
    const turn = this.queue.then(async () => {
      let c = dag
        .container()
        .from(this.tools.crane)
        .withFile("/usr/local/bin/kubectl", dag.container().from(this.tools.kubectl).file(KUBECTL_BINARY), { permissions: 0o755 })
        .withMountedSecret(KUBECONFIG_PATH, this.secret)
        .withNewFile(MANIFESTS_PATH, operatorManifests(run))
        // The cluster's state is not the engine's to cache: every run is a new exec.
        .withEnvVariable("PG_IMAGES_CALL", nonce);
      if (this.kube.loopback) c = c.withServiceBinding(KUBE_API_ALIAS, this.hostService(this.kube.loopback.host, this.kube.loopback.port));
      try {
        return parseOperatorOutput(run, await c.withExec(["sh", "-c", operatorScript(run)]).stdout());
      } catch (e) {
        return ready(`the stage did not run: ${failure(e)}`);
      }
    });
    this.queue = turn;
    return turn;
  }

  /** The testing repository as the cluster's nodes name it. */
  private pullRepository(repository: string): string {
    const pull = this.config.pullRegistry;
    return pull ? `${pull}${repository.slice(hostOf(repository).length)}` : repository;
  }
}
