// The CloudNativePG stage on a real cluster (scripts/world/kube.sh: Kubernetes 1.34 and the
// operator, started by up.sh, or here while its build was still under way): an image that
// breaks the operator's contract fails the stage with the operator's own account and is not
// tagged; standard (15 on bookworm, a two-instance cluster replicating and switching over) and
// minimal (17 on trixie) pass it; and a Cluster started from the ClusterImageCatalog a release
// writes runs what was released. The images are those the chain and catalogs tests build (same
// recipes, pins and run times: harness.ts), so the engine has them.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { makeContext, REPO, resolveMatrix, useWorldEngine, WORLD } from "../../scripts/world/world.js";
import { BROKEN_TIME, call, CATALOGS_17_TIME, dropWork, MATRIX_TIME, statuses, useWorldDagger, type Summary } from "./harness.js";
import { runNamespace } from "../../src/release/operator.js";
import { manifestDigest } from "./registry.js";

const runId = `operator${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
const KUBECONFIG = join(WORLD, "kube/run/admin.kubeconfig");
const OPERATOR = "1.28.2";
const paths: Record<string, string> = {};

const kubectl = (args: string[], input?: string) => {
  const r = spawnSync(join(WORLD, "kube/bin/kubectl"), args, { input, encoding: "utf8", env: { ...process.env, KUBECONFIG } });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim(), stdout: r.stdout.trim() };
};

/** The matrix with kubectl among the tools and the operator section. */
const withOperator = (template: string, operator: string) =>
  template.replace(`  registry: "{{tool:registry}}"\n`, `  registry: "{{tool:registry}}"\n  kubectl: "{{tool:kubectl}}"\n`) + `\noperator:\n  version: "${OPERATOR}"\n${operator}`;

async function writeMatrix(name: string, template: string, edit: (text: string, values: Record<string, string>) => string = (t) => t): Promise<void> {
  const { text, values } = await resolveMatrix(template);
  paths[name] = join(".pg-images", runId, `${name}.yaml`);
  writeFileSync(join(REPO, paths[name]), edit(text, values));
}

const checksOf = (s: Summary, id: string) => s.targets[id]!.checks.filter((c) => c.name.startsWith("CloudNativePG"));
/** The stage's namespaces still there: none once the runs are over. */
const namespaces = () => kubectl(["get", "namespaces", "-l", "app.kubernetes.io/managed-by=pg-images", "-o", "name"]).stdout.split("\n").filter(Boolean);
/** Those of one image's runs (runNamespace with an empty nonce is their common start). */
const namespacesOf = (digest: string) => namespaces().filter((n) => n.startsWith(`namespace/${runNamespace(digest, "")}`));

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  // On a fresh machine the test command leaves Kubernetes building while the other files run:
  // kube.sh up waits for that build and starts the cluster (a no-op when up.sh already did).
  const up = spawnSync("bash", ["scripts/world/kube.sh", "up"], { cwd: REPO, encoding: "utf8" });
  if (up.status !== 0) throw new Error(`kube.sh up failed (exit ${up.status}):\n${`${up.stdout}${up.stderr}`.split("\n").slice(-30).join("\n")}`);
  const ready = kubectl(["get", "--raw", "/readyz"]);
  if (!ready.ok) throw new Error(`no cluster at ${KUBECONFIG} after kube.sh up: ${ready.out}`);
  mkdirSync(work, { recursive: true });
  const e2e = readFileSync(join(REPO, "test/e2e/matrix.yaml"), "utf8");
  // The files and local repositories the e2e matrix's stylechecker names, beside the matrices.
  makeContext(work, (await resolveMatrix(e2e)).text);
  // The two-instance checks on standard alone (minimal passes the stage on trixie below): one
  // replicating cluster per run keeps the file within its time.
  await writeMatrix("bookworm", withOperator(e2e, "  flavours: [standard]\n  timeout: 240\n"));
  // The chain test's broken recipe: "pgaudit" installs another extension's package, so the
  // preload the Cluster asks for is not there.
  await writeMatrix("broken", withOperator(e2e, "  flavours: [standard]\n  timeout: 240\n"), (text, values) =>
    text.replace("package: postgresql-{major}-pgaudit", "package: postgresql-{major}-hll").replace(/("15": ")[^"]*(")/, `$1${values["{{pin:bookworm:postgresql-15-hll}}"]}$2`),
  );
  await writeMatrix("trixie", withOperator(readFileSync(join(REPO, "test/e2e/catalogs.yaml"), "utf8"), "  checks: [ready, version]\n  timeout: 240\n"));
}, 600_000);

afterAll(() => {
  // Each case checks its own images' namespaces; once all are over, none of the stage's is left.
  const left = namespaces();
  dropWork(work);
  if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(", ")}`);
});

// The cases run at once: each mostly waits on the cluster (pods starting, a switchover), and
// each has its own images, namespaces and report.
describe.concurrent("the CloudNativePG stage on a real cluster", () => {
  it("an image the operator cannot run fails the stage with the operator's reason, is not tagged, and its cluster is deleted", async () => {
    const r = await call(work, "broken", ["publish", "--image", "minimal", "--image", "standard", "--matrix", paths.broken!, ...registryArgs, "--timestamp", BROKEN_TIME, "--kubeconfig", KUBECONFIG]);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "failed" });
    expect(r.code).not.toBe(0);
    const standard = r.summary.targets["standard-15-bookworm"]!;
    // The operator's own account: the instance's PostgreSQL could not load the preload.
    expect(standard.reason).toMatch(/^operator check "CloudNativePG 1\.28\.2: a Cluster of 2 instances with the image is ready" failed: [^\n]*\n(.*\n)*.*FATAL: could not access file "pgaudit": No such file or directory/m);
    expect(checksOf(r.summary, "standard-15-bookworm").map((c) => [c.name, c.ok])).toEqual([
      ["CloudNativePG 1.28.2: a Cluster of 2 instances with the image is ready", false],
      ["CloudNativePG: the cluster is deleted", true],
    ]);
    expect(standard.published).toEqual([]);
    expect(await manifestDigest(standard.tags.testing)).toBeUndefined();
    // The stage runs only on the flavours it names.
    expect(checksOf(r.summary, "minimal-15-bookworm")).toEqual([]);
    expect(namespacesOf(standard.digest!)).toEqual([]);
  });

  it("standard (15, bookworm) passes every check; released, a Cluster from the release's ClusterImageCatalog runs the released digest", async () => {
    const args = ["--image", "minimal", "--image", "standard", "--matrix", paths.bookworm!, ...registryArgs, "--timestamp", MATRIX_TIME];
    const r = await call(work, "bookworm", ["publish", ...args, "--kubeconfig", KUBECONFIG]);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "passed" });
    expect(r.code).toBe(0);
    const passed = (id: string) => checksOf(r.summary, id).filter((c) => c.ok).map((c) => c.name);
    expect(passed("standard-15-bookworm")).toEqual([
      "CloudNativePG 1.28.2: a Cluster of 2 instances with the image is ready",
      expect.stringMatching(/^CloudNativePG: SELECT version\(\) reports 15\.\d+$/),
      "CloudNativePG: a Database resource creates pgaudit; pgaudit preloaded",
      "CloudNativePG: the second instance streams from the primary",
      "CloudNativePG: a switchover to the replica completes",
      "CloudNativePG: the cluster is deleted",
    ]);
    expect(checksOf(r.summary, "standard-15-bookworm").every((c) => c.ok)).toBe(true);
    expect(checksOf(r.summary, "minimal-15-bookworm")).toEqual([]);

    // The release promotes the digests the stage passed (no rebuild, so no stage) and writes the catalogs.
    const released = await call(work, "bookworm-release", ["publish", "--release", ...args]);
    expect(statuses(released.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "passed" });
    // The release's catalog, applied as it is, names the image; a Cluster asks it for major 15.
    const catalogText = readFileSync(join(work, "out/bookworm-release/catalogs/catalog-minimal-bookworm.yaml"), "utf8");
    const catalog = parse(catalogText) as { metadata: { name: string }; spec: { images: { major: number; image: string }[] } };
    const image = catalog.spec.images.find((i) => i.major === 15)!.image;
    expect(image).toContain(`${prefix}/postgresql:`);
    const ns = `${runId}-catalog`;
    const cluster = {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: { name: "from-catalog", namespace: ns },
      spec: { instances: 1, storage: { size: "1Gi" }, imageCatalogRef: { apiGroup: "postgresql.cnpg.io", kind: "ClusterImageCatalog", name: catalog.metadata.name, major: 15 } },
    };
    try {
      expect(kubectl(["apply", "-f", "-"], catalogText).out).toMatch(/clusterimagecatalog.* (created|configured|unchanged)/);
      expect(kubectl(["create", "namespace", ns]).ok).toBe(true);
      expect(kubectl(["apply", "-f", "-"], stringify(cluster)).ok).toBe(true);
      const wait = kubectl(["-n", ns, "wait", "cluster/from-catalog", "--for=condition=Ready", "--timeout=240s"]);
      expect(wait.ok, `${wait.out}\n${kubectl(["-n", ns, "get", "cluster,pods", "-o", "wide"]).out}`).toBe(true);
      expect(kubectl(["-n", ns, "get", "pod", "from-catalog-1", "-o", "jsonpath={.spec.containers[0].image}"]).out).toBe(image);
      const v = kubectl(["-n", ns, "exec", "from-catalog-1", "-c", "postgres", "--", "psql", "-XAtc", "SELECT version()"]);
      expect(v.out).toMatch(/^PostgreSQL 15\.\d+ /);
    } finally {
      kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=120s"]);
      kubectl(["delete", "clusterimagecatalog", catalog.metadata.name]);
    }
    expect(namespacesOf(r.summary.targets["standard-15-bookworm"]!.digest!)).toEqual([]);
  });

  it("17 on trixie passes the stage", async () => {
    const r = await call(work, "trixie", ["build-all", "--pg", "17", "--timestamp", CATALOGS_17_TIME, "--matrix", paths.trixie!, ...registryArgs, "--kubeconfig", KUBECONFIG]);
    expect(statuses(r.summary)).toEqual({ "minimal-17-trixie": "passed" });
    expect(checksOf(r.summary, "minimal-17-trixie").map((c) => [c.name, c.ok])).toEqual([
      ["CloudNativePG 1.28.2: a Cluster of 1 instance with the image is ready", true],
      [expect.stringMatching(/^CloudNativePG: SELECT version\(\) reports 17\.\d+$/), true],
      ["CloudNativePG: the cluster is deleted", true],
    ]);
    expect(namespacesOf(r.summary.targets["minimal-17-trixie"]!.digest!)).toEqual([]);
    expect(r.code).toBe(0);
  });
});
