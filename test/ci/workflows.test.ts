// The CI examples call the module's own functions: the GitHub workflow, the GitLab parent
// pipeline and the child pipeline scripts/ci/gitlab-pipeline.mjs formats from a plan's groups.
// The plan fixture is `npx pg-images plan --format json --matrix test/fixtures/matrices/valid.yaml
// --timestamp 202601020304 --revision abc1234`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { introspect, kebab } from "../helpers/introspect.js";

const read = (path: string) => readFileSync(path, "utf8");
const github = parse(read(".github/workflows/images.yml"));
const gitlab = parse(read(".gitlab-ci.yml"));
const engineVersion: string = JSON.parse(read("dagger.json")).engineVersion;
const PLAN = "test/fixtures/ci/plan.json";

// The functions the module registers (the SDK's introspector), as the CLI spells them.
const { constructor: moduleConstructor, functions, objects } = introspect();
const registered = new Map(Object.values(functions).map((f) => [kebab(f.name), Object.keys(f.arguments).map(kebab)]));
const MODULE_ARGS = Object.keys(moduleConstructor.arguments).filter((a) => a !== "source").map((a) => `--${kebab(a)}`);
const BOOLEAN_ARGS = ["--release", "--ephemeral"];

interface Call { module: Record<string, string>; fn: string; args: string[]; chain: string[] }

/** A `dagger call` command line: module arguments, the function, its flags, the chained calls. */
function parseCall(line: string): Call {
  const tokens = line.replace(/\\\n/g, " ").trim().split(/\s+/);
  const rest = tokens.slice(tokens.indexOf("call") + 1);
  const module: Record<string, string> = {};
  let k = 0;
  while (rest[k]?.startsWith("--") || rest[k] === "$CLUSTER") {
    // $CLUSTER: the operator stage's module arguments, empty unless its step set them.
    if (rest[k] === "$CLUSTER") {
      k += 1;
      continue;
    }
    module[rest[k]!] = rest[k + 1]!;
    k += 2;
  }
  const fn = rest[k++]!;
  const args: string[] = [];
  while (k < rest.length && (rest[k]!.startsWith("--") || rest[k] === "$FILTERS")) {
    const flag = rest[k]!;
    args.push(flag);
    k += flag === "$FILTERS" || BOOLEAN_ARGS.includes(flag) ? 1 : 2;
  }
  // `… && exit 0`: the shell's part of the line, not the call's.
  const end = rest.indexOf("&&");
  return { module, fn, args, chain: rest.slice(k, end < 0 ? undefined : end) };
}

// A red run: `check` fails and exports nothing, so the same call exports the report with
// `directory`, and the step fails. Both chains must exist on the Report object.
const CHECKED = ["check", "export", "--path", "out"];
const REPORTED = ["directory", "export", "--path", "out"];

const daggerLines = (script: string) => script.replace(/\\\n/g, " ").split("\n").filter((l) => /\bdagger call\b/.test(l));

type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, string> };
const steps = (job: string): Step[] => github.jobs[job].steps;
const githubCalls = Object.keys(github.jobs).flatMap((job) =>
  steps(job).flatMap((s) => daggerLines(s.run ?? "").map((line) => ({ job, step: s.name, call: parseCall(line) }))),
);

/** The child pipeline for one parent event, generated the way the plan job does. */
function childPipeline(env: Record<string, string>, plan = PLAN): Record<string, any> {
  return parse(execFileSync("node", ["scripts/ci/gitlab-pipeline.mjs", plan], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" }));
}
const MR = { CI_PIPELINE_SOURCE: "merge_request_event", CI_DEFAULT_BRANCH: "main", CI_MERGE_REQUEST_IID: "7" };
const MAIN = { CI_PIPELINE_SOURCE: "push", CI_COMMIT_BRANCH: "main", CI_DEFAULT_BRANCH: "main" };
const TAG = { CI_PIPELINE_SOURCE: "push", CI_COMMIT_TAG: "v1.0.0", CI_DEFAULT_BRANCH: "main" };
const scenarios = { MR, MAIN, TAG };
const jobs = (p: Record<string, any>) => Object.keys(p).filter((k) => /^(images|release):/.test(k));
const gitlabCalls = (p: Record<string, any>) =>
  jobs(p).flatMap((job) => (p[job].script as string[]).flatMap(daggerLines).map((line) => ({ job, call: parseCall(line) })));

const GROUPS = [
  "extbuilder-16-trixie",
  "extbuilder-17-trixie",
  "minimal-16-trixie",
  "minimal-17-bookworm",
  "minimal-17-trixie",
  "minimal-19-trixie",
  "pgupgradetester-trixie",
];

describe("the module's functions", () => {
  it("registers the functions the CI examples call", () => {
    expect([...registered.keys()]).toEqual(expect.arrayContaining(["plan", "build", "build-all", "publish"]));
  });

  it.each([
    ["images", "Build and smoke-test (no credentials)", "build-all", ["$FILTERS"]],
    ["images", "Publish to the testing repository", "publish", ["$FILTERS", "--username", "--password", "--oidc-token"]],
    ["release", "Promote the tested digests", "publish", ["--release", "$FILTERS", "--username", "--password", "--oidc-token"]],
  ])("GitHub %s / %s calls %s with registered arguments", (job, step, fn, args) => {
    const found = githubCalls.filter((c) => c.job === job && c.step === step);
    expect(found.map((c) => c.call.chain)).toEqual([CHECKED, REPORTED]);
    for (const { call } of found) {
      expect(call.fn).toBe(fn);
      expect(registered.has(call.fn)).toBe(true);
      expect(call.args).toEqual(args);
      for (const a of call.args.filter((a) => a !== "$FILTERS")) expect(registered.get(call.fn)).toContain(a.slice(2));
      expect(Object.keys(call.module).every((m) => MODULE_ARGS.includes(m))).toBe(true);
    }
    expect(found[1]!.call.module).toEqual(found[0]!.call.module);
  });

  it.each([
    ["catalogs", "Catalogs from the release repository", "catalogs", ["--username", "--password", "--oidc-token"], ["export", "--path", "catalogs"]],
    ["pins", "Bump pins from the package source", "bump-pins", [], ["report", ">", "pins.txt"]],
    ["pins", "Bump pins from the package source", "bump-pins", [], ["matrix", "export", "--path", "matrix.yaml"]],
  ])("GitHub %s / %s calls %s with registered arguments and chains", (job, step, fn, args, chain) => {
    const found = githubCalls.filter((c) => c.job === job && c.step === step && c.call.chain.join(" ") === chain.join(" "));
    expect(found).toHaveLength(1);
    expect(found[0]!.call.fn).toBe(fn);
    expect(found[0]!.call.args).toEqual(args);
    for (const a of args) expect(registered.get(fn)).toContain(a.slice(2));
  });

  it.each(["MAIN", "TAG"] as const)("GitLab %s: a catalogs job after every release job, with registered arguments", (scenario) => {
    const child = childPipeline(scenarios[scenario]);
    expect(child.catalogs.needs.map((n: { job: string }) => n.job)).toEqual(jobs(child).filter((j) => j.startsWith("release:")));
    const [call] = (child.catalogs.script as string[]).flatMap(daggerLines).map(parseCall);
    expect(call!.fn).toBe("catalogs");
    for (const a of call!.args) expect(registered.get("catalogs")).toContain(a.slice(2));
    expect(childPipeline(MR).catalogs).toBeUndefined();
  });

  it("the catalogs job runs after every release job, and the pins job only on the schedule", () => {
    expect(github.jobs.catalogs.needs).toEqual(["plan", "release"]);
    expect(github.jobs.catalogs.if).toContain("needs.release.result != 'skipped'");
    expect(github.jobs.pins.if).toBe("github.event_name == 'schedule'");
  });

  it("makes no other dagger call on GitHub", () => {
    expect(githubCalls).toHaveLength(9);
  });

  it("chains calls the Report object has: check and directory, each a Directory to export", () => {
    expect(functions.buildAll!.returnType).toMatchObject({ name: "Report" });
    expect(objects.Report!.methods.check!.returnType).toMatchObject({ kind: "OBJECT_KIND", name: "Directory" });
    expect(objects.Report!.properties.directory).toMatchObject({ type: { kind: "OBJECT_KIND", name: "Directory" } });
  });

  it.each([
    ["MR", "images:minimal-17-trixie", "build-all", ["--image", "--image", "--pg", "--distro"]],
    ["MAIN", "images:minimal-17-trixie", "publish", ["--image", "--image", "--pg", "--distro", "--username", "--password", "--oidc-token"]],
    ["MAIN", "release:minimal-17-trixie", "publish", ["--release", "--image", "--image", "--pg", "--distro", "--username", "--password", "--oidc-token"]],
    ["TAG", "release:pgupgradetester-trixie", "publish", ["--release", "--image", "--pg", "--pg", "--distro", "--username", "--password", "--oidc-token"]],
  ] as const)("GitLab %s: %s calls %s with registered arguments", (scenario, job, fn, args) => {
    const calls = gitlabCalls(childPipeline(scenarios[scenario]));
    for (const { call } of calls) {
      expect(registered.has(call.fn)).toBe(true);
      for (const a of call.args) expect(registered.get(call.fn)).toContain(a.slice(2));
      expect(Object.keys(call.module).every((m) => MODULE_ARGS.includes(m))).toBe(true);
    }
    const found = calls.filter((c) => c.job === job);
    expect(found.map((c) => c.call.chain)).toEqual([CHECKED, REPORTED]);
    for (const { call } of found) {
      expect(call.fn).toBe(fn);
      expect(call.args).toEqual(args);
    }
  });
});

describe("the Dagger version", () => {
  it("is dagger.json's engineVersion", () => {
    expect(engineVersion).toBe("v0.21.8");
  });

  it.each(["images", "release"])("GitHub %s installs that version with the action pinned by commit", (job) => {
    const install = steps(job).filter((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
    expect(install).toHaveLength(1);
    expect(install[0]!.uses).toMatch(/^dagger\/dagger-for-github@[0-9a-f]{40}$/);
    expect(`v${install[0]!.with!.version}`).toBe(engineVersion);
  });

  it("pins every GitHub action by commit", () => {
    const uses = Object.keys(github.jobs).flatMap((job) => steps(job).flatMap((s) => (s.uses ? [s.uses] : [])));
    expect(uses.filter((u) => !/@[0-9a-f]{40}$/.test(u))).toEqual([]);
  });

  it("GitLab installs that version", () => {
    const child = childPipeline(MAIN);
    expect(`v${child.variables.DAGGER_VERSION}`).toBe(engineVersion);
    expect(child[".dagger"].before_script.join("\n")).toContain('DAGGER_VERSION="$DAGGER_VERSION"');
  });
});

describe("one timestamp per run", () => {
  const DATE = "date -u +%Y%m%d%H%M";
  const count = (text: string) => text.split(DATE).length - 1;

  it("GitHub computes it once, in the plan job, and plans with it", () => {
    for (const job of Object.keys(github.jobs)) {
      expect(count(steps(job).map((s) => s.run ?? "").join("\n"))).toBe(job === "plan" ? 1 : 0);
    }
    const plan = steps("plan").find((s) => s.name === "Plan")!;
    expect(plan.run).toContain('npx pg-images plan --format json --timestamp "$TIMESTAMP" --revision "$REVISION"');
    expect(plan.env).toEqual({ TIMESTAMP: "${{ steps.run.outputs.timestamp }}", REVISION: "${{ steps.run.outputs.revision }}" });
  });

  it("GitHub and GitLab pass the full commit SHA as the revision (the annotation's value)", () => {
    expect(steps("plan").find((s) => s.id === "run")!.run).toContain('echo "revision=$GITHUB_SHA" >> "$GITHUB_OUTPUT"');
    expect(gitlab.plan.script).toContain('REVISION="$CI_COMMIT_SHA"');
  });

  it.each(["images", "release"])("GitHub %s gets the plan job's values", (job) => {
    expect(github.jobs[job].needs).toContain("plan");
    expect(github.jobs[job].env).toMatchObject({ TIMESTAMP: "${{ needs.plan.outputs.timestamp }}", REVISION: "${{ needs.plan.outputs.revision }}" });
  });

  it("GitHub passes it to every dagger call of the run (the pins job plans nothing and publishes nothing)", () => {
    for (const { call } of githubCalls.filter((c) => c.job !== "pins")) expect(call.module).toEqual({ "--timestamp": '"$TIMESTAMP"', "--revision": '"$REVISION"' });
  });

  it("GitLab computes it once, in the plan job", () => {
    expect(count(read(".gitlab-ci.yml"))).toBe(1);
    expect(gitlab.plan.script).toContain('npx pg-images plan --format json --timestamp "$TIMESTAMP" --revision "$REVISION" > plan.json');
  });

  it.each(["MR", "MAIN", "TAG"] as const)("GitLab %s: the child pipeline carries the plan's values to every call", (scenario) => {
    const child = childPipeline(scenarios[scenario]);
    expect(child.variables).toMatchObject({ TIMESTAMP: "202601020304", REVISION: "abc1234" });
    for (const { call } of gitlabCalls(child)) expect(call.module).toMatchObject({ "--timestamp": '"$TIMESTAMP"', "--revision": '"$REVISION"' });
  });
});

describe("fan-out by dependency chain", () => {
  const plan = JSON.parse(read(PLAN));

  it("the plan gives the groups: one chain each, with the filters that pick exactly it", () => {
    expect(plan.groups.map((g: { group: string }) => g.group)).toEqual(GROUPS);
    expect(plan.groups[4]).toEqual({
      group: "minimal-17-trixie",
      targets: ["minimal-17-trixie", "standard-17-trixie"],
      filters: { image: ["minimal", "standard"], pg: [17], distro: ["trixie"] },
      args: "--image minimal --image standard --pg 17 --distro trixie",
    });
  });

  it("GitHub's job matrix is the plan's groups as they are", () => {
    const run = steps("plan").find((s) => s.id === "fanout")!.run!;
    const matrixLine = run.split("\n").find((l) => l.startsWith('echo "matrix='))!;
    const program = /jq -c '([^']*)' plan\.json/.exec(matrixLine)![1]!;
    expect(JSON.parse(execFileSync("jq", ["-c", program, PLAN], { encoding: "utf8" }))).toEqual({ include: plan.groups });
    expect(github.jobs.images.strategy).toEqual({ "fail-fast": false, matrix: "${{ fromJSON(needs.plan.outputs.matrix) }}" });
    expect(github.jobs.release.strategy).toEqual(github.jobs.images.strategy);
    for (const job of ["images", "release"]) expect(github.jobs[job].env.FILTERS).toBe("${{ matrix.args }}");
  });

  // Grouping is plan logic: neither CI file re-derives it from the targets.
  it.each([
    ["GitHub's workflow", () => JSON.stringify(github)],
    ["GitLab's generator", () => read("scripts/ci/gitlab-pipeline.mjs")],
  ])("%s reads no dependsOn and groups nothing itself", (_, text) => {
    expect(text()).not.toMatch(/dependsOn|group_by|\.targets\b.*\.postgres/);
  });

  it.each([
    ["MR", 7, ["images:extbuilder-16-trixie", "images:extbuilder-17-trixie", "images:minimal-16-trixie", "images:minimal-17-bookworm", "images:minimal-17-trixie", "images:minimal-19-trixie", "images:pgupgradetester-trixie"]],
    ["MAIN", 14, ["images:minimal-19-trixie", "release:minimal-19-trixie", "images:pgupgradetester-trixie", "release:pgupgradetester-trixie"]],
    ["TAG", 14, ["images:extbuilder-16-trixie", "release:extbuilder-16-trixie"]],
  ] as const)("GitLab %s: %i jobs, one per group and stage", (scenario, n, names) => {
    const child = childPipeline(scenarios[scenario]);
    expect(jobs(child)).toHaveLength(n);
    expect(jobs(child)).toEqual(expect.arrayContaining([...names]));
    expect(jobs(child).filter((j) => j.startsWith("images:")).map((j) => j.slice("images:".length))).toEqual(GROUPS);
  });

  it("GitLab calls each group's job with the plan's filters", () => {
    const child = childPipeline(MR);
    expect(child["images:minimal-17-trixie"].script[0]).toContain("build-all --image minimal --image standard --pg 17 --distro trixie check export");
  });

  it("GitLab's parent runs the generated file as a child pipeline", () => {
    expect(gitlab.plan.script).toContain("node scripts/ci/gitlab-pipeline.mjs plan.json > images.gitlab-ci.yml");
    expect(gitlab.images.trigger).toEqual({ include: [{ artifact: "images.gitlab-ci.yml", job: "plan" }], strategy: "depend" });
  });

  it("GitHub and GitLab both follow the groups the plan gives, whatever they are", () => {
    const changed = { ...plan, groups: [{ group: "only-one", targets: ["x"], filters: { image: ["x"], pg: [], distro: [] }, args: "--image x" }] };
    const path = join(mkdtempSync(join(tmpdir(), "pg-images-ci-")), "plan.json");
    writeFileSync(path, JSON.stringify(changed));
    expect(jobs(childPipeline(MR, path))).toEqual(["images:only-one"]);
    const run = steps("plan").find((s) => s.id === "fanout")!.run!;
    const program = /jq -c '([^']*)' plan\.json/.exec(run)![1]!;
    expect(JSON.parse(execFileSync("jq", ["-c", program, path], { encoding: "utf8" })).include.map((g: { args: string }) => g.args)).toEqual(["--image x"]);
  });
});

describe("releases", () => {
  it("GitHub releases after the images job, only on the schedule or a release dispatch from main", () => {
    expect(github.jobs.release.needs).toEqual(["plan", "images"]);
    expect(github.jobs.release.if).toBe(
      "github.ref == 'refs/heads/main' && (github.event_name == 'schedule' || (github.event_name == 'workflow_dispatch' && inputs.release))",
    );
    expect(github.on.workflow_dispatch.inputs.release).toMatchObject({ type: "boolean", default: false });
  });

  it.each([
    ["MAIN", "manual"],
    ["TAG", "on_success"],
  ] as const)("GitLab %s: each release job needs its images job and runs %s", (scenario, when) => {
    const child = childPipeline(scenarios[scenario]);
    for (const g of GROUPS) expect(child[`release:${g}`]).toMatchObject({ stage: "release", needs: [`images:${g}`], when });
  });
});

describe("no credentials on pull requests", () => {
  const mentionsSecrets = (o: unknown) => /secrets\.|--password/.test(JSON.stringify(o ?? {}));

  it("GitHub keeps secrets out of workflow and job environments", () => {
    expect(mentionsSecrets(github.env)).toBe(false);
    for (const job of Object.keys(github.jobs)) expect(mentionsSecrets(github.jobs[job].env)).toBe(false);
  });

  it.each([
    ["images", "Publish to the testing repository"],
    ["release", "Promote the tested digests"],
  ])("GitHub %s / %s is the only kind of step with credentials, and never runs for a pull request", (job, step) => {
    const withSecrets = Object.keys(github.jobs).flatMap((j) => steps(j).filter(mentionsSecrets).map((s) => [j, s.name]));
    expect(withSecrets).toContainEqual([job, step]);
    // The third: the catalogs job, which runs only after release jobs ran (never for a pull request).
    expect(withSecrets).toEqual(expect.arrayContaining([["catalogs", "Catalogs from the release repository"]]));
    expect(withSecrets).toHaveLength(3);
    expect(steps(job).find((s) => s.name === step)!.if).toContain("github.event_name != 'pull_request'");
  });

  it("GitHub's pull-request step calls build-all without credentials", () => {
    const step = steps("images").find((s) => s.name === "Build and smoke-test (no credentials)")!;
    expect(step.if).toBe("github.event_name == 'pull_request' || github.ref != 'refs/heads/main'");
    expect(mentionsSecrets(step)).toBe(false);
  });

  it("GitHub grants packages: write only to the jobs that push", () => {
    expect(github.permissions).toEqual({ contents: "read" });
    expect(github.jobs.plan.permissions).toBeUndefined();
    expect(github.jobs.images.permissions).toEqual({ contents: "read", packages: "write", "id-token": "write" });
    expect(github.jobs.release.permissions).toEqual({ contents: "read", packages: "write", "id-token": "write" });
  });

  it("GitLab merge requests get build-all only, with no credentials and no release", () => {
    const child = childPipeline(MR);
    expect(JSON.stringify(child)).not.toMatch(/CI_REGISTRY_PASSWORD|--password|CI_REGISTRY_USER/);
    expect(new Set(gitlabCalls(child).map((c) => c.call.fn))).toEqual(new Set(["build-all"]));
    expect(jobs(child).filter((j) => j.startsWith("release:"))).toEqual([]);
  });

  it("GitLab publishes with the registry's CI/CD variables", () => {
    for (const { call } of gitlabCalls(childPipeline(MAIN))) {
      expect(call.module).toMatchObject({ "--registry": '"$CI_REGISTRY_IMAGE"', "--testing-registry": '"$CI_REGISTRY_IMAGE/testing"' });
    }
    const line = childPipeline(MAIN)["images:minimal-17-trixie"].script[0];
    expect(line).toContain('--username "$CI_REGISTRY_USER" --password env:CI_REGISTRY_PASSWORD');
  });
});

describe("the operator stage's cluster", () => {
  it("GitHub: a kind cluster and CloudNativePG only when OPERATOR_STAGE is on, and every build or publish call takes $CLUSTER", () => {
    const kube = steps("images").find((st) => st.name === "Kubernetes and CloudNativePG for the operator stage")!;
    expect(kube.if).toBe("vars.OPERATOR_STAGE == 'true'");
    // The operator's version is matrix.yaml's; the calls get the kubeconfig and the API server's tunnel.
    expect(kube.run).toContain("v=$(yq '.operator.version' matrix.yaml)");
    expect(kube.run).toContain('echo "CLUSTER=--kubeconfig file:$RUNNER_TEMP/kubeconfig --host-services $services $registry" >> "$GITHUB_ENV"');
    const index = steps("images").indexOf(kube);
    for (const st of steps("images").filter((x) => daggerLines(x.run ?? "").length > 0)) {
      expect(steps("images").indexOf(st)).toBeGreaterThan(index);
      for (const line of daggerLines(st.run!)) expect(line).toMatch(/^\s*dagger call --timestamp "\$TIMESTAMP" --revision "\$REVISION" \$CLUSTER (build-all|publish) /);
    }
  });

  it.each([
    ["", undefined],
    ["/builds/kubeconfig", 'file:"$PG_IMAGES_KUBECONFIG"'],
  ])("GitLab with PG_IMAGES_KUBECONFIG=%j: images jobs get --kubeconfig %j, release jobs never", (path, kubeconfig) => {
    for (const scenario of [MR, MAIN]) {
      const calls = gitlabCalls(childPipeline({ ...scenario, PG_IMAGES_KUBECONFIG: path }));
      for (const { job, call } of calls) {
        expect(call.module["--kubeconfig"]).toBe(job.startsWith("images:") ? kubeconfig : undefined);
        expect(Object.keys(call.module).every((m) => MODULE_ARGS.includes(m))).toBe(true);
      }
    }
  });
});

describe("engines", () => {
  it.each([
    ["", ["docker:27.5.1-dind"]],
    ["tcp://dagger-engine:1234", undefined],
  ])("GitLab with _EXPERIMENTAL_DAGGER_RUNNER_HOST=%j gets services %j", (host, services) => {
    const child = childPipeline({ ...MAIN, _EXPERIMENTAL_DAGGER_RUNNER_HOST: host });
    expect(child[".dagger"].services).toEqual(services);
  });
});

// The steps' shell, run with a stand-in `dagger` on PATH that records its arguments and fails
// `check` when told to: this proves what the scripts do with the exit code, not what Dagger does
// (that is the end-to-end test's and the module's part).
describe("a red target turns the job red, and the report is still exported", () => {
  function runScript(script: string, checkFails: boolean, shell: string[]): { code: number; calls: string[] } {
    const dir = mkdtempSync(join(tmpdir(), "pg-images-ci-shell-"));
    const log = join(dir, "calls");
    writeFileSync(join(dir, "dagger"), `#!/bin/sh\necho "$*" >> "${log}"\ncase "$*" in *" check "*) [ "$CHECK_FAILS" = 1 ] && exit 1;; esac\nexit 0\n`, { mode: 0o755 });
    const env = { PATH: `${dir}:${process.env.PATH}`, CHECK_FAILS: checkFails ? "1" : "0", FILTERS: "--image minimal --pg 17", TIMESTAMP: "202601020304", REVISION: "abc1234" };
    const r = spawnSync(shell[0]!, [...shell.slice(1), script], { env, encoding: "utf8" });
    const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
    return { code: r.status ?? -1, calls: calls.map((c) => c.split(" ").filter((w) => ["check", "directory"].includes(w)).join(" ")) };
  }
  // GitHub runs `run:` with bash -e; GitLab joins the script lines into one bash script with -e.
  const cases = [
    ...["Build and smoke-test (no credentials)", "Publish to the testing repository"].map((name) => ({ where: `GitHub images / ${name}`, script: steps("images").find((s) => s.name === name)!.run!, shell: ["bash", "-e", "-c"] })),
    { where: "GitHub release", script: steps("release").find((s) => s.name === "Promote the tested digests")!.run!, shell: ["bash", "-e", "-c"] },
    ...(["MR", "MAIN", "TAG"] as const).flatMap((sc) => {
      const child = childPipeline(scenarios[sc]);
      return jobs(child).slice(0, 2).map((job) => ({ where: `GitLab ${sc} ${job}`, script: (child[job].script as string[]).join("\n"), shell: ["bash", "-eo", "pipefail", "-c"] }));
    }),
  ];

  it.each(cases)("$where: green exits 0 after check alone", ({ script, shell }) => {
    expect(runScript(script, false, shell)).toEqual({ code: 0, calls: ["check"] });
  });

  it.each(cases)("$where: red exits non-zero after exporting the report", ({ script, shell }) => {
    expect(runScript(script, true, shell)).toEqual({ code: 1, calls: ["check", "directory"] });
  });
});

describe("keyless signing of what passed", () => {
  it("GitHub's publishing step signs with the job's OIDC token, fetched for the sigstore audience in a step of its own", () => {
    const publish = steps("images").find((s) => s.name === "Publish to the testing repository")!;
    const token = steps("images").find((s) => s.name === "OIDC token for keyless signing")!;
    expect(token.if).toBe(publish.if);
    expect(token.run).toContain("audience=sigstore");
    expect(token.run).toContain("::add-mask::");
    for (const { call } of githubCalls.filter((c) => c.step === publish.name)) expect(call.args).toContain("--oidc-token");
    expect(registered.get("publish")).toEqual(expect.arrayContaining(["oidc-token", "signing-key", "signing-password"]));
  });

  it("GitHub gives id-token: write to the jobs that publish and release (catalogs are signed there), not to the plan", () => {
    const withIdToken = Object.keys(github.jobs).filter((j) => github.jobs[j].permissions?.["id-token"]);
    expect(withIdToken).toEqual(["images", "release", "catalogs"]);
    const token = steps("release").find((s) => s.name === "OIDC token for keyless signing")!;
    expect(token.run).toContain("audience=sigstore");
    for (const c of githubCalls.filter((c) => c.job === "release")) expect(c.call.args).toContain("--oidc-token");
  });

  it.each([
    ["MR", []],
    ["MAIN", ["images:minimal-17-trixie", "release:minimal-17-trixie"]],
  ] as const)("GitLab %s: jobs that publish or release get a sigstore ID token and pass it", (scenario, withToken) => {
    const child = childPipeline(scenarios[scenario]);
    const having = jobs(child).filter((j) => child[j].id_tokens);
    expect(having.filter((j) => j.endsWith(":minimal-17-trixie"))).toEqual(withToken);
    for (const j of having) expect(child[j].id_tokens).toEqual({ SIGSTORE_ID_TOKEN: { aud: "sigstore" } });
    for (const { job, call } of gitlabCalls(child)) expect(call.args.includes("--oidc-token")).toBe(having.includes(job));
  });
});
