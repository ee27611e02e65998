#!/usr/bin/env node
// The GitLab child pipeline for one run, generated from the plan JSON:
//
//   node scripts/ci/gitlab-pipeline.mjs plan.json > images.gitlab-ci.yml
//
// One `images:<root>` job per dependency chain (a root target and every target built on it:
// build-all and publish build parents in the same engine session), and on the default branch or
// a tag one `release:<root>` job after it. The run's timestamp and revision are read from the
// plan's inputs, so every job of the run passes the same values. The Dagger version is
// dagger.json's engineVersion.
//
// What a job does comes from GitLab's predefined variables, read here in the parent pipeline
// (in a child pipeline CI_PIPELINE_SOURCE is always "parent_pipeline"):
//   merge request, other branches   build-all, no credentials
//   default branch (push, schedule) publish to the testing repository; release is manual
//   tag                             publish, then release
// With _EXPERIMENTAL_DAGGER_RUNNER_HOST set (a shared engine: tcp://…, kube-pod://…), the jobs
// get no docker:dind service.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";

const DOCKER = "docker:27.5.1";
const MODULE_ARGS = '--registry "$CI_REGISTRY_IMAGE" --testing-registry "$CI_REGISTRY_IMAGE/testing" --timestamp "$TIMESTAMP" --revision "$REVISION"';
const CREDENTIALS = '--username "$CI_REGISTRY_USER" --password env:CI_REGISTRY_PASSWORD';
// Keyless signing of what passed: GitLab's OIDC identity token for Sigstore, read by cosign.
const SIGNING = "--oidc-token env:SIGSTORE_ID_TOKEN";
const ID_TOKENS = { SIGSTORE_ID_TOKEN: { aud: "sigstore" } };

/**
 * A call whose job is red when any target failed or was blocked: `check` exports the report and
 * passes only when all passed; otherwise the same call exports the report with `directory` (the
 * engine's cache and idempotent publishing make it cheap) and the job fails.
 */
export function checked(call) {
  return [`dagger call ${MODULE_ARGS} ${call} check export --path out && exit 0`, `dagger call ${MODULE_ARGS} ${call} directory export --path out`, "exit 1"];
}

/** Targets grouped under the root of their dependsOn chain, each group with the filters that pick exactly it. */
export function groups(plan) {
  const byId = new Map(plan.targets.map((t) => [t.id, t]));
  const roots = (t) => (t.dependsOn.length === 0 ? [t.id] : [...new Set(t.dependsOn.flatMap((d) => roots(byId.get(d))))].sort());
  const byRoot = new Map();
  for (const t of plan.targets) {
    const r = roots(t);
    if (r.length !== 1) throw new Error(`${t.id} builds on more than one chain: ${r.join(", ")}`);
    byRoot.set(r[0], [...(byRoot.get(r[0]) ?? []), t]);
  }
  return [...byRoot.keys()].sort().map((root) => {
    const targets = byRoot.get(root);
    const uniq = (xs) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const f = {
      image: uniq(targets.map((t) => t.image)),
      pg: uniq(targets.flatMap((t) => t.postgres.map((p) => p.major))),
      distro: uniq(targets.flatMap((t) => (t.distro ? [t.distro] : []))),
    };
    const picks = (t) =>
      (f.image.length === 0 || f.image.includes(t.image)) &&
      (f.pg.length === 0 || t.postgres.some((p) => f.pg.includes(p.major))) &&
      (f.distro.length === 0 || (t.distro !== undefined && f.distro.includes(t.distro)));
    const extra = plan.targets.filter((t) => picks(t) && !targets.includes(t)).map((t) => t.id);
    if (extra.length > 0) throw new Error(`the filters of group ${root} also pick ${extra.join(", ")}`);
    const filters = [...f.image.map((v) => `--image ${v}`), ...f.pg.map((v) => `--pg ${v}`), ...f.distro.map((v) => `--distro ${v}`)];
    return { root, targets: targets.map((t) => t.id), filters: filters.join(" ") };
  });
}

/** What the run does, from GitLab's predefined variables. */
export function mode(env) {
  if (env.CI_COMMIT_TAG) return { publish: true, release: "on_success" };
  if (env.CI_PIPELINE_SOURCE !== "merge_request_event" && env.CI_COMMIT_BRANCH && env.CI_COMMIT_BRANCH === env.CI_DEFAULT_BRANCH) {
    return { publish: true, release: "manual" };
  }
  return { publish: false, release: "never" };
}

export function pipeline(plan, env, engineVersion) {
  const { publish, release } = mode(env);
  const remote = Boolean(env._EXPERIMENTAL_DAGGER_RUNNER_HOST);
  const dagger = {
    image: `${DOCKER}-cli`,
    ...(remote
      ? {}
      : {
          services: [`${DOCKER}-dind`],
          variables: { DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS_CERTDIR: "/certs", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs/client" },
        }),
    before_script: [
      "apk add --no-cache curl",
      'curl -fsSL https://dl.dagger.io/dagger/install.sh | BIN_DIR=/usr/local/bin DAGGER_VERSION="$DAGGER_VERSION" sh',
    ],
    artifacts: { when: "always", paths: ["out/"], expire_in: "30 days" },
  };
  const doc = {
    variables: { DAGGER_VERSION: engineVersion.replace(/^v/, ""), TIMESTAMP: plan.inputs.timestamp, REVISION: plan.inputs.revision },
    stages: release === "never" ? ["images"] : ["images", "release"],
    ".dagger": dagger,
  };
  for (const g of groups(plan)) {
    doc[`images:${g.root}`] = {
      extends: ".dagger",
      stage: "images",
      ...(publish ? { id_tokens: ID_TOKENS } : {}),
      script: checked(publish ? `publish ${g.filters} ${CREDENTIALS} ${SIGNING}` : `build-all ${g.filters}`),
    };
    if (release !== "never") {
      doc[`release:${g.root}`] = {
        extends: ".dagger",
        stage: "release",
        needs: [`images:${g.root}`],
        when: release,
        ...(release === "manual" ? { allow_failure: true } : {}),
        id_tokens: ID_TOKENS,
        script: checked(`publish --release ${g.filters} ${CREDENTIALS} ${SIGNING}`),
      };
    }
  }
  const header = `# Generated by scripts/ci/gitlab-pipeline.mjs from the plan of ${plan.inputs.revision} at ${plan.inputs.timestamp}.\n`;
  return header + stringify(doc, { lineWidth: 0 });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [planPath, daggerJson = "dagger.json"] = process.argv.slice(2);
  if (!planPath) {
    process.stderr.write("usage: node scripts/ci/gitlab-pipeline.mjs PLAN.json [dagger.json]\n");
    process.exit(2);
  }
  const plan = JSON.parse(readFileSync(planPath, "utf8"));
  const { engineVersion } = JSON.parse(readFileSync(daggerJson, "utf8"));
  try {
    process.stdout.write(pipeline(plan, process.env, engineVersion));
  } catch (e) {
    process.stderr.write(`gitlab-pipeline: ${e.message}\n`);
    process.exit(1);
  }
}
