// The CloudNativePG stage's pure parts: which targets it runs on, the manifests, the script's
// verdict lines read back, the caller's kubeconfig made usable in the engine, and the matrix's
// operator section validated. The stage itself runs in test/e2e/operator.test.ts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse, stringify } from "yaml";
import { planProblems } from "../helpers/problems.js";
import { planFromText } from "../../src/plan/fromText.js";
import type { PlannedTarget } from "../../src/plan/types.js";
import { checkName, kubeconfigForEngine, operatorApplies, operatorManifests, operatorRun, operatorScript, parseOperatorOutput, runNamespace } from "../../src/release/operator.js";
import { OPERATOR_CHECKS, type OperatorConfig } from "../../src/matrix/schema.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const inputs = { timestamp: "202601020304", revision: "abc1234" };
const KUBECTL = `registry.k8s.io/kubectl:v1.34.4@sha256:${"a".repeat(64)}`;
const OPERANDS = `images:
  - { id: minimal, kind: operand, flavour: minimal, repository: postgresql }
  - { id: standard, kind: operand, flavour: standard, repository: postgresql, from: minimal, extensions: [pgaudit] }
`;
const matrix = (operator: string, tools = `\n  kubectl: "${KUBECTL}"`) =>
  valid.slice(0, valid.indexOf("images:")).replace(/^tools:\n((?: .*\n)+)/m, (all) => all.trimEnd() + tools + "\n") + OPERANDS + operator;
const plan = (text: string) => planFromText(text, "m.yaml", { inputs });
const problems = (text: string): string[] => planProblems(() => plan(text));

const planned = plan(matrix(`operator: { version: "1.28.2" }\n`));
const config = planned.matrix.operator!;
const standard = planned.plan.targets.find((t) => t.id === "standard-17-trixie")! as PlannedTarget;
const minimal = planned.plan.targets.find((t) => t.id === "minimal-17-trixie")! as PlannedTarget;
const IMAGE = `127.0.0.1:5000/t/postgresql@sha256:${"b".repeat(64)}`;
const run = (c: OperatorConfig = config, t: PlannedTarget = standard) => operatorRun(c, t, IMAGE, "pg-images-ns", "PostgreSQL 17.9 ");

describe("operator section of matrix.yaml", () => {
  it("defaults: every check, every operand flavour, 300 s, 1Gi volumes", () => {
    expect(config).toEqual({ version: "1.28.2", enable: true, checks: [...OPERATOR_CHECKS], timeout: 300, storage: "1Gi" });
  });

  it.each([
    ["an unknown flavour", `operator: { version: "1.28.2", flavours: [full] }\n`, undefined, /^operator\.flavours\.0: no operand image has flavour "full"; known: minimal, standard$/],
    ["no kubectl image", `operator: { version: "1.28.2" }\n`, "", /^tools: operator needs tools\.kubectl: a kubectl image pinned by digest/],
    ["a switchover without replication", `operator: { version: "1.28.2", checks: [ready, switchover] }\n`, undefined, /^operator\.checks: switchover needs replication/],
    ["an unknown check", `operator: { version: "1.28.2", checks: [backup] }\n`, undefined, /^operator\.checks\.0: /],
    ["a version range", `operator: { version: "1.28" }\n`, undefined, /^operator\.version: .*a CloudNativePG release such as "1\.28\.2"/],
    ["a typo in a key", `operator: { version: "1.28.2", timout: 60 }\n`, undefined, /^operator\.timout: unknown key "timout"$/],
  ])("refuses %s, naming where", (_, operator, tools, message) => {
    expect(problems(matrix(operator, tools))).toContainEqual(expect.stringMatching(message));
  });

  it("a disabled stage needs no kubectl image", () => {
    expect(problems(matrix(`operator: { version: "1.28.2", enable: false }\n`, ""))).toEqual([]);
  });
});

describe("which targets the stage runs on", () => {
  it("operands of the listed flavours only; none when disabled or absent", () => {
    expect(operatorApplies(config, standard)).toBe(true);
    expect(operatorApplies({ ...config, flavours: ["minimal"] }, standard)).toBe(false);
    expect(operatorApplies({ ...config, flavours: ["minimal"] }, minimal)).toBe(true);
    expect(operatorApplies({ ...config, enable: false }, minimal)).toBe(false);
    expect(operatorApplies(undefined, minimal)).toBe(false);
  });

  it("a namespace per run, a valid Kubernetes name", () => {
    const ns = runNamespace(`sha256:${"c".repeat(64)}`, "MX1Q-8izb3");
    expect(ns).toBe(`pg-images-${"c".repeat(12)}-mx1q8izb3`);
    expect(ns).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe("the manifests", () => {
  it("a catalog naming the candidate by digest and major, a Cluster of two with the preloads, a Database creating the extensions", () => {
    const docs = parseAllDocuments(operatorManifests(run())).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual(["Namespace", "ImageCatalog", "Cluster", "Database"]);
    expect(docs.slice(1).every((d) => d.metadata.namespace === "pg-images-ns")).toBe(true);
    expect(docs[1]!.spec).toEqual({ images: [{ major: 17, image: IMAGE }] });
    expect(docs[2]!.spec).toMatchObject({
      instances: 2,
      imageCatalogRef: { apiGroup: "postgresql.cnpg.io", kind: "ImageCatalog", name: "candidate", major: 17 },
      storage: { size: "1Gi" },
      postgresql: { shared_preload_libraries: ["pgaudit"] },
    });
    expect(docs[3]!.spec).toEqual({ name: "app", owner: "app", cluster: { name: "pg" }, extensions: [{ name: "pgaudit", ensure: "present" }] });
  });

  it("one instance and no Database without replication and extensions checks, or without extensions", () => {
    const kinds = (r: ReturnType<typeof run>) => parseAllDocuments(operatorManifests(r)).map((d) => (d.toJS() as { kind: string }).kind);
    const single = run({ ...config, checks: ["ready", "version"] });
    expect(single.instances).toBe(1);
    expect(kinds(single)).toEqual(["Namespace", "ImageCatalog", "Cluster"]);
    expect(kinds(run(config, minimal))).toEqual(["Namespace", "ImageCatalog", "Cluster"]);
    expect(operatorManifests(run(config, minimal))).not.toContain("shared_preload_libraries");
  });
});

describe("the script", () => {
  it("runs the configured checks in order and always ends with the clean-up", () => {
    const script = operatorScript(run({ ...config, checks: ["ready", "version"] }));
    expect(script).toContain("report ok ready");
    expect(script).toContain("report ok version");
    expect(script).not.toContain("report ok replication");
    expect(script).not.toContain("report ok extensions");
    expect(script.trimEnd().split("\n").at(-1)).toBe("cleanup");
    // Every failure path cleans up too.
    expect(script).toMatch(/^fail\(\) \{ report fail "\$1" "\$2"; cleanup; exit 0; \}$/m);
  });

  it("leaves the extensions check out for an image that bundles none", () => {
    expect(operatorScript(run(config, minimal))).not.toContain("report ok extensions");
    expect(operatorScript(run())).toContain("report ok extensions");
  });

  it("is valid shell", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync("sh", ["-n"], { input: operatorScript(run()), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("the script's verdicts as check results", () => {
  const line = (ok: string, id: string, detail: string) => `@@check ${ok} ${id} ${Buffer.from(detail).toString("base64")}`;

  it("each verdict by its report name, failures with the operator's account", () => {
    const r = run();
    const out = ["kubectl noise", line("fail", "ready", 'pods cannot run: pg-1 Running postgres:CrashLoopBackOff/3\nFATAL: could not access file "pgaudit"'), line("ok", "deleted", "")].join("\n");
    expect(parseOperatorOutput(r, out)).toEqual([
      { name: "CloudNativePG 1.28.2: a Cluster of 2 instances with the image is ready", ok: false, detail: 'pods cannot run: pg-1 Running postgres:CrashLoopBackOff/3\nFATAL: could not access file "pgaudit"' },
      { name: "CloudNativePG: the cluster is deleted", ok: true },
    ]);
  });

  it("names every check after what it proves", () => {
    const r = run();
    expect(["ready", "version", "extensions", "replication", "switchover", "deleted"].map((c) => checkName(r, c as "ready"))).toEqual([
      "CloudNativePG 1.28.2: a Cluster of 2 instances with the image is ready",
      "CloudNativePG: SELECT version() reports 17.9",
      "CloudNativePG: a Database resource creates pgaudit; pgaudit preloaded",
      "CloudNativePG: the second instance streams from the primary",
      "CloudNativePG: a switchover to the replica completes",
      "CloudNativePG: the cluster is deleted",
    ]);
  });

  it("reads what the script's own report function prints", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = run();
    const report = operatorScript(r).split("\n").find((l) => l.startsWith("report() {"))!;
    const out = spawnSync("sh", ["-c", `${report}\nreport fail ready 'not ready after 300s\nFATAL: x'\nreport ok deleted ''`], { encoding: "utf8" }).stdout;
    expect(parseOperatorOutput(r, out)).toEqual([
      { name: checkName(r, "ready"), ok: false, detail: "not ready after 300s\nFATAL: x" },
      { name: checkName(r, "deleted"), ok: true },
    ]);
  });

  it("no verdict at all fails readiness with what was printed", () => {
    expect(parseOperatorOutput(run(), "error: unknown flag\n")).toEqual([
      { name: checkName(run(), "ready"), ok: false, detail: "the stage printed no verdict: error: unknown flag" },
    ]);
  });
});

describe("the kubeconfig in the engine", () => {
  const kubeconfig = (server: string, cluster: Record<string, unknown> = {}, user: Record<string, unknown> = { token: "t" }) =>
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "kind-ci",
      contexts: [{ name: "kind-ci", context: { cluster: "kind-ci", user: "kind-ci" } }, { name: "other", context: { cluster: "other", user: "other" } }],
      clusters: [{ name: "kind-ci", cluster: { server, "certificate-authority-data": "Q0E=", ...cluster } }, { name: "other", cluster: { server: "https://other:6443" } }],
      users: [{ name: "kind-ci", user }, { name: "other", user: { token: "secret-of-another-cluster" } }],
    });

  it("an API server on the caller's loopback: reached by the tunnel's name, its certificate checked against the original", () => {
    const k = kubeconfigForEngine(kubeconfig("https://127.0.0.1:43210"));
    expect(k.loopback).toEqual({ host: "127.0.0.1", port: 43210 });
    const doc = parse(k.text) as { clusters: { cluster: Record<string, unknown> }[]; users: unknown[]; contexts: unknown[] };
    expect(doc.clusters).toEqual([{ name: "kind-ci", cluster: { server: "https://kube-api:43210", "certificate-authority-data": "Q0E=", "tls-server-name": "127.0.0.1" } }]);
    // The current context only: another cluster's credentials stay out of the engine.
    expect(k.text).not.toContain("secret-of-another-cluster");
    expect(doc.contexts).toHaveLength(1);
  });

  it("any other server as it is, no tunnel", () => {
    const k = kubeconfigForEngine(kubeconfig("https://10.244.0.1:6443"));
    expect(k.loopback).toBeUndefined();
    expect((parse(k.text) as { clusters: { cluster: { server: string } }[] }).clusters[0]!.cluster.server).toBe("https://10.244.0.1:6443");
  });

  it.each([
    ["a CA file", kubeconfig("https://127.0.0.1:6443", { "certificate-authority": "/home/me/.kube/ca.crt" }), /clusters "kind-ci" certificate-authority names a file \(\/home\/me\/\.kube\/ca\.crt\) the engine cannot read; embed it: kubectl config view --flatten --minify/],
    ["a client key file", kubeconfig("https://127.0.0.1:6443", {}, { "client-key": "/k.key" }), /users "kind-ci" client-key names a file/],
    ["a credential plugin", kubeconfig("https://eks:443", {}, { exec: { command: "aws" } }), /users "kind-ci" runs a credential plugin/],
    ["no current context", "apiVersion: v1\nkind: Config\n", /no current-context/],
    ["not YAML", "{:", /kubeconfig: not YAML/],
  ])("refuses %s, saying what to do", (_, text, message) => {
    expect(() => kubeconfigForEngine(text)).toThrow(message);
  });
});
