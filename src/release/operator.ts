// The CloudNativePG stage, as data: which operand targets it runs on, the manifests (a namespace,
// an ImageCatalog naming the candidate by digest, a Cluster, a Database), the shell that drives
// kubectl through the checks and always deletes what it made, how its output becomes check
// results, and the caller's kubeconfig made usable from inside the engine. The engine side is
// src/chain/operator.ts.
import { parse, stringify } from "yaml";
import type { OperatorCheck, OperatorConfig } from "../matrix/schema.js";
import type { PlannedTarget } from "../plan/types.js";
import type { CheckResult } from "./decisions.js";

/** The Cluster's name in its namespace: its pods are pg-1 and pg-2. */
export const CLUSTER = "pg";
/** The database initdb makes and the Database resource manages. */
export const DATABASE = "app";

export interface OperatorRun {
  namespace: string;
  /** The candidate as the cluster's nodes pull it: repository@sha256:…. */
  image: string;
  major: number;
  /** What SELECT version() starts with: "PostgreSQL 17.9 ". */
  banner: string;
  operatorVersion: string;
  checks: OperatorCheck[];
  instances: number;
  /** CREATE EXTENSION names the Database resource creates, and the preloads they need. */
  creates: string[];
  preload: string[];
  timeout: number;
  storage: string;
}

/** Whether the stage runs on a target: an enabled stage, an operand of one of its flavours. */
export function operatorApplies(config: OperatorConfig | undefined, t: PlannedTarget): boolean {
  if (!config?.enable || t.kind !== "operand") return false;
  return !config.flavours || config.flavours.includes(t.flavour);
}

/** The namespace for one run: the digest's start and a nonce, within Kubernetes' 63 characters. */
export function runNamespace(digest: string, nonce: string): string {
  return `pg-images-${digest.replace(/^sha256:/, "").slice(0, 12)}-${nonce.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 20)}`;
}

export function operatorRun(config: OperatorConfig, t: PlannedTarget, image: string, namespace: string, banner: string): OperatorRun {
  const [pg] = t.postgres;
  if (t.kind !== "operand" || !pg) throw new Error(`${t.id}: the operator stage runs operand images only`);
  const replicated = config.checks.includes("replication");
  return {
    namespace,
    image,
    major: pg.major,
    banner,
    operatorVersion: config.version,
    checks: OPERATOR_ORDER.filter((c) => config.checks.includes(c)),
    instances: replicated ? 2 : 1,
    creates: [...new Set(t.extensions.flatMap((e) => e.create))],
    preload: [...new Set(t.extensions.flatMap((e) => e.preload))],
    timeout: config.timeout,
    storage: config.storage,
  };
}

const OPERATOR_ORDER: OperatorCheck[] = ["ready", "version", "extensions", "replication", "switchover"];

/** The check names in reports; "deleted" is the clean-up every run ends with. */
export function checkName(run: OperatorRun, id: OperatorCheck | "deleted"): string {
  switch (id) {
    case "ready":
      return `CloudNativePG ${run.operatorVersion}: a Cluster of ${run.instances} instance${run.instances > 1 ? "s" : ""} with the image is ready`;
    case "version":
      return `CloudNativePG: SELECT version() reports ${run.banner.trim().replace(/^PostgreSQL /, "")}`;
    case "extensions": {
      const parts = [...(run.creates.length ? [`a Database resource creates ${run.creates.join(", ")}`] : []), ...(run.preload.length ? [`${run.preload.join(", ")} preloaded`] : [])];
      return `CloudNativePG: ${parts.join("; ")}`;
    }
    case "replication":
      return "CloudNativePG: the second instance streams from the primary";
    case "switchover":
      return "CloudNativePG: a switchover to the replica completes";
    case "deleted":
      return "CloudNativePG: the cluster is deleted";
  }
}

/** The checks the script runs: extensions only when the image bundles some to create or preload. */
function scriptChecks(run: OperatorRun): OperatorCheck[] {
  return run.checks.filter((c) => c !== "extensions" || run.creates.length + run.preload.length > 0);
}

/** The objects of one run, as one YAML stream, the namespace first. */
export function operatorManifests(run: OperatorRun): string {
  const meta = (name: string) => ({ name, namespace: run.namespace });
  const docs: object[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: run.namespace, labels: { "app.kubernetes.io/managed-by": "pg-images" } } },
    // A catalog says which major the image is: the digest reference has no tag to read it from.
    { apiVersion: "postgresql.cnpg.io/v1", kind: "ImageCatalog", metadata: meta("candidate"), spec: { images: [{ major: run.major, image: run.image }] } },
    {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: meta(CLUSTER),
      spec: {
        instances: run.instances,
        imageCatalogRef: { apiGroup: "postgresql.cnpg.io", kind: "ImageCatalog", name: "candidate", major: run.major },
        storage: { size: run.storage },
        bootstrap: { initdb: { database: DATABASE, owner: DATABASE } },
        ...(run.preload.length ? { postgresql: { shared_preload_libraries: run.preload } } : {}),
      },
    },
  ];
  if (run.checks.includes("extensions") && run.creates.length > 0) {
    docs.push({
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Database",
      metadata: meta(DATABASE),
      spec: { name: DATABASE, owner: DATABASE, cluster: { name: CLUSTER }, extensions: run.creates.map((name) => ({ name, ensure: "present" })) },
    });
  }
  return docs.map((d) => stringify(d)).join("---\n");
}

/** Where the script expects the manifests and the kubeconfig. */
export const MANIFESTS_PATH = "/pg-images/manifests.yaml";
export const KUBECONFIG_PATH = "/pg-images/kubeconfig";

/** A single-quoted shell word. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Shell (busybox or GNU tools, kubectl on PATH): apply, run the checks in order (one failing ends
 * the run), delete the namespace whatever happened. It prints only `@@check <ok|fail> <id>
 * <base64 detail>` lines and exits 0: parseOperatorOutput reads them. A failure's detail is the
 * operator's own account: the Cluster's phase and conditions, pods' states, warning events and the
 * error lines of the instances' logs.
 */
export function operatorScript(run: OperatorRun): string {
  const checks = scriptChecks(run);
  const has = (c: OperatorCheck) => checks.includes(c);
  const lines = [
    `export KUBECONFIG=${KUBECONFIG_PATH}`,
    `NS=${q(run.namespace)} C=${CLUSTER} TIMEOUT=${run.timeout}`,
    `k() { kubectl --request-timeout=60s -n "$NS" "$@"; }`,
    `report() { printf '@@check %s %s %s\\n' "$1" "$2" "$(printf '%s' "$3" | base64 | tr -d '\\n')"; }`,
    `psql_on() { p=$1; shift; k exec "$p" -c postgres -- psql -X -At -v ON_ERROR_STOP=1 -d ${DATABASE} "$@" 2>&1; }`,
    // One line per pod: phase, then each container's waiting or terminated reason and restarts.
    `pod_states() { k get pods -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.phase}{range .status.initContainerStatuses[*]}{" "}{.name}:{.state.waiting.reason}{.state.terminated.reason}/{.restartCount}{end}{range .status.containerStatuses[*]}{" "}{.name}:{.state.waiting.reason}{.state.terminated.reason}/{.restartCount}{end}{"\\n"}{end}' 2>&1; }`,
    `diagnose() {`,
    `  echo "Cluster $C: $(k get cluster $C -o jsonpath='{.status.phase}{": "}{.status.phaseReason}' 2>&1)"`,
    `  k get cluster $C -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\\n"}{end}' 2>/dev/null`,
    `  echo "pods:"; pod_states`,
    `  echo "warning events:"; k get events --field-selector type=Warning -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {.reason}: {.message}{"\\n"}{end}' 2>&1 | tail -n 8`,
    `  echo "errors in the logs:"`,
    `  for p in $(k get pods -o jsonpath='{.items[*].metadata.name}' 2>/dev/null); do`,
    `    { k logs "$p" --all-containers --previous --tail=300 2>/dev/null; k logs "$p" --all-containers --tail=300 2>/dev/null; } |`,
    `      grep -E '"error_severity":"(FATAL|PANIC|ERROR)"|"level":"error"|[^A-Z](FATAL|PANIC): ' |`,
    // PostgreSQL's own lines (as pg_ctl relayed them, or as records), then the manager's errors.
    `      sed -E 's/.*[^A-Z](FATAL|PANIC): +(([^"\\\\]|\\\\.)*)".*/\\1: \\2/; s/.*"error_severity":"([A-Z]+)".*"message":"(([^"\\\\]|\\\\.)*)".*/\\1: \\2/; s/.*"level":"error".*"msg":"([^"]*)".*"error":"([^"]*)".*/error: \\1: \\2/; s/\\\\"/"/g' |`,
    `      cut -c1-400 | uniq | tail -n 4 | sed "s/^/  $p: /"`,
    `  done`,
    `}`,
    // Ready: the instances ready and healthy (and, when given, this primary). Gives up at once
    // when a pod cannot run (crash loop, image not pulled) or a job failed: waiting longer only
    // hides the reason.
    `wait_ready() {`,
    `  end=$(( $(date +%s) + TIMEOUT ))`,
    `  while :; do`,
    `    s=$(k get cluster $C -o jsonpath='{.status.readyInstances}/{.status.currentPrimary}/{.status.phase}' 2>&1)`,
    `    ready=\${s%%/*} rest=\${s#*/}; primary=\${rest%%/*} phase=\${rest#*/}`,
    `    [ "$ready" = "$1" ] && [ "$phase" = "Cluster in healthy state" ] && { [ -z "\${2:-}" ] || [ "$primary" = "$2" ]; } && return 0`,
    `    stuck=$(pod_states | grep -E 'CrashLoopBackOff|ImagePullBackOff|ErrImageNeverPull|InvalidImageName|CreateContainerConfigError|CreateContainerError|/([2-9]|[1-9][0-9]+)( |$)' | head -n 3)`,
    `    [ -z "$stuck" ] || { echo "pods cannot run: $stuck"; return 1; }`,
    `    jobs=$(k get jobs -o jsonpath='{range .items[?(@.status.failed)]}{.metadata.name}{" "}{end}' 2>/dev/null)`,
    `    [ -z "$jobs" ] || { echo "jobs failed: $jobs"; return 1; }`,
    `    [ "$(date +%s)" -lt "$end" ] || { echo "not ready after \${TIMEOUT}s (ready/primary/phase: $s)"; return 1; }`,
    `    sleep 3`,
    `  done`,
    `}`,
    // until <seconds> <command...>: retry until it succeeds (a replica replays what the primary wrote).
    `until_ok() { n=$1; shift; while ! "$@" >/dev/null 2>&1; do n=$((n - 1)); [ "$n" -gt 0 ] || return 1; sleep 1; done; }`,
    `fail() { report fail "$1" "$2"; cleanup; exit 0; }`,
    `cleanup() {`,
    `  k delete cluster $C --wait=false >/dev/null 2>&1`,
    `  if d=$(kubectl --request-timeout=0 delete namespace "$NS" --wait=true --timeout=\${TIMEOUT}s 2>&1); then report ok deleted ""; else report fail deleted "$d"; fi`,
    `}`,
    `a=$(kubectl apply -f ${MANIFESTS_PATH} 2>&1) || fail ready "kubectl apply failed: $a"`,
    `r=$(wait_ready ${run.instances}) || fail ready "$r\n$(diagnose)"`,
    `P=$(k get cluster $C -o jsonpath='{.status.currentPrimary}')`,
    `R=$(k get cluster $C -o jsonpath='{.status.instanceNames}' | tr -d '[]"' | tr ',' '\\n' | grep -vx "$P" | head -n 1)`,
    // The operator that ran the image stamps its version on the pods it makes.
    `ov=$(k get pod "$P" -o jsonpath='{.metadata.annotations.cnpg\\.io/operatorVersion}' 2>&1)`,
    `[ "$ov" = ${q(run.operatorVersion)} ] || fail ready "the cluster's operator is CloudNativePG $ov; matrix.yaml pins ${run.operatorVersion}"`,
    `report ok ready "$P ready under CloudNativePG $ov"`,
  ];
  if (has("version")) {
    lines.push(
      `v=$(psql_on "$P" -c 'SELECT version()') || fail version "psql on $P: $v"`,
      `case "$v" in ${q(run.banner)}*) report ok version "$v" ;; *) fail version "SELECT version() returned '$v', expected '${run.banner}…'" ;; esac`,
    );
  }
  if (has("extensions")) {
    if (run.creates.length > 0) {
      lines.push(
        `w=$(k wait database/${DATABASE} --for=jsonpath='{.status.applied}'=true --timeout=\${TIMEOUT}s 2>&1) || fail extensions "the Database resource was not applied: $(k get database ${DATABASE} -o jsonpath='{.status.message} {range .status.extensions[*]}{.name}: {.message} {end}' 2>&1) ($w)"`,
        `e=$(psql_on "$P" -c "SELECT string_agg(extname, ' ' ORDER BY extname) FROM pg_extension") || fail extensions "psql on $P: $e"`,
        ...run.creates.map((c) => `case " $e " in *" ${c} "*) ;; *) fail extensions "${c} is not in pg_extension of ${DATABASE} ($e)" ;; esac`),
      );
    }
    if (run.preload.length > 0) {
      lines.push(
        `l=$(psql_on "$P" -c 'SHOW shared_preload_libraries') || fail extensions "psql on $P: $l"`,
        ...run.preload.map((p) => `case ",$(echo "$l" | tr -d ' ')," in *",${p},"*) ;; *) fail extensions "${p} is not loaded: shared_preload_libraries is '$l'" ;; esac`),
      );
    }
    lines.push(`report ok extensions "extensions: \${e:-none}; preloaded: \${l:-none}"`);
  }
  if (has("replication")) {
    lines.push(
      `[ -n "$R" ] || fail replication "no second instance: $(k get cluster $C -o jsonpath='{.status.instanceNames}')"`,
      `s=$(psql_on "$P" -c "SELECT application_name || ' ' || state FROM pg_stat_replication") || fail replication "psql on $P: $s"`,
      `[ "$s" = "$R streaming" ] || fail replication "pg_stat_replication on $P: '$s', expected '$R streaming'\n$(diagnose)"`,
      `o=$(psql_on "$P" -c "CREATE TABLE pg_images_probe (v text); INSERT INTO pg_images_probe VALUES ('written on $P')") || fail replication "writing on $P: $o"`,
      `until_ok 30 sh -c "[ \\"\\$(kubectl -n $NS exec $R -c postgres -- psql -X -At -d ${DATABASE} -c 'SELECT v FROM pg_images_probe')\\" = 'written on $P' ]" || fail replication "the row written on $P did not reach $R in 30s"`,
      `report ok replication "$R streams from $P; a row written on $P is read on $R"`,
    );
  }
  if (has("switchover")) {
    lines.push(
      // What `kubectl cnpg promote` does: the target primary and the phase, on the status.
      `o=$(k patch cluster $C --subresource=status --type=merge -p "{\\"status\\":{\\"targetPrimary\\":\\"$R\\",\\"phase\\":\\"Switchover in progress\\",\\"phaseReason\\":\\"Switching over to $R\\"}}" 2>&1) || fail switchover "patching the status: $o"`,
      `r=$(wait_ready ${run.instances} "$R") || fail switchover "$r\n$(diagnose)"`,
      `o=$(psql_on "$R" -c "INSERT INTO pg_images_probe VALUES ('written on $R')") || fail switchover "writing on the new primary $R: $o"`,
      `until_ok 30 sh -c "[ \\"\\$(kubectl -n $NS exec $P -c postgres -- psql -X -At -d ${DATABASE} -c 'SELECT count(*) FROM pg_images_probe')\\" = 2 ]" || fail switchover "the row written on $R did not reach the old primary $P in 30s\n$(diagnose)"`,
      `report ok switchover "$R is the primary; $P follows it"`,
    );
  }
  lines.push("cleanup");
  return lines.join("\n");
}

/**
 * The script's output as check results, in the order run, the clean-up last. A run that printed
 * no verdict on readiness (the exec died) fails readiness with what it printed.
 */
export function parseOperatorOutput(run: OperatorRun, out: string): CheckResult[] {
  const results: CheckResult[] = [];
  for (const line of out.split("\n")) {
    const m = /^@@check (ok|fail) (ready|version|extensions|replication|switchover|deleted) ?(\S*)$/.exec(line.trim());
    if (!m) continue;
    const detail = Buffer.from(m[3]!, "base64").toString("utf8").trim();
    const name = checkName(run, m[2] as OperatorCheck | "deleted");
    results.push(m[1] === "ok" ? { name, ok: true } : { name, ok: false, detail: detail || "failed" });
  }
  if (!results.some((r) => r.name === checkName(run, "ready"))) {
    results.unshift({ name: checkName(run, "ready"), ok: false, detail: `the stage printed no verdict: ${out.trim().split("\n").slice(-10).join("\n") || "no output"}` });
  }
  return results;
}

/** The API server's name for the engine's containers when it is on the caller's loopback. */
export const KUBE_API_ALIAS = "kube-api";

export interface EngineKubeconfig {
  /** The kubeconfig kubectl reads in the engine: the current context only. */
  text: string;
  /** The API server on the caller's loopback, reached through a tunnel named KUBE_API_ALIAS. */
  loopback?: { host: string; port: number };
}

interface Kubeconfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> & { server?: string } }[];
  users?: { name: string; user: Record<string, unknown> }[];
}

// Keys that name files on the caller's machine; the engine's containers cannot read them.
const FILE_KEYS = ["certificate-authority", "client-certificate", "client-key", "tokenFile"];

/**
 * The caller's kubeconfig as a container in the engine can use it: its current context alone,
 * and an API server on the caller's loopback (kind's 127.0.0.1:<port>) named by the tunnel's
 * alias, its certificate still checked against the name it was issued for (tls-server-name).
 * Throws naming what cannot work there: files, exec plugins, no current context.
 */
export function kubeconfigForEngine(text: string): EngineKubeconfig {
  let doc: Kubeconfig;
  try {
    doc = parse(text) as Kubeconfig;
  } catch (e) {
    throw new Error(`kubeconfig: not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!doc || typeof doc !== "object") throw new Error("kubeconfig: empty");
  const current = doc["current-context"];
  if (!current) throw new Error("kubeconfig: no current-context; set one (kubectl config use-context NAME)");
  const context = doc.contexts?.find((c) => c.name === current)?.context;
  if (!context) throw new Error(`kubeconfig: current-context "${current}" is not among its contexts`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster);
  if (!cluster?.cluster.server) throw new Error(`kubeconfig: context "${current}" names cluster "${context.cluster}", which has no server`);
  const user = doc.users?.find((u) => u.name === context.user);
  if (!user) throw new Error(`kubeconfig: context "${current}" names user "${context.user}", which is not among its users`);
  for (const [what, entry] of [[`clusters "${cluster.name}"`, cluster.cluster], [`users "${user.name}"`, user.user]] as const) {
    for (const key of FILE_KEYS) {
      if (typeof entry[key] === "string") throw new Error(`kubeconfig: ${what} ${key} names a file (${entry[key]}) the engine cannot read; embed it: kubectl config view --flatten --minify`);
    }
  }
  if (user.user.exec || user.user["auth-provider"]) throw new Error(`kubeconfig: users "${user.name}" runs a credential plugin, which the kubectl container does not have; use a token or a client certificate`);
  let url: URL;
  try {
    url = new URL(cluster.cluster.server);
  } catch {
    throw new Error(`kubeconfig: clusters "${cluster.name}" server "${cluster.cluster.server}" is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host);
  const clusterEntry = { ...cluster.cluster };
  if (loopback) {
    clusterEntry.server = `${url.protocol}//${KUBE_API_ALIAS}:${port}${url.pathname === "/" ? "" : url.pathname}`;
    if (!clusterEntry["insecure-skip-tls-verify"] && !clusterEntry["tls-server-name"]) clusterEntry["tls-server-name"] = host;
  }
  const minimal: Kubeconfig & { apiVersion: string; kind: string } = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": current,
    contexts: [{ name: current, context: { cluster: cluster.name, user: user.name } }],
    clusters: [{ name: cluster.name, cluster: clusterEntry }],
    users: [{ name: user.name, user: user.user }],
  };
  return { text: stringify(minimal), ...(loopback ? { loopback: { host, port } } : {}) };
}
