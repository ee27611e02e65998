#!/usr/bin/env node
// The GitLab child pipeline for one run, formatted from the plan JSON:
//
//   node scripts/ci/gitlab-pipeline.mjs plan.json > images.gitlab-ci.yml
//
// One `images:<group>` job per group of the plan (`plan.groups`: a dependency chain and the
// filters that pick exactly it, computed by pg-images in src/plan/groups.ts; nothing is grouped
// here), and on the default branch or a tag one `release:<group>` job after it. The run's timestamp and revision are read from the
// plan's inputs, so every job of the run passes the same values. The Dagger version is
// dagger.json's engineVersion.
//
// What a job does comes from GitLab's predefined variables, read here in the parent pipeline
// (in a child pipeline CI_PIPELINE_SOURCE is always "parent_pipeline"):
//   merge request, other branches   build-all, no credentials
//   default branch (push, schedule) publish to the testing repository; release is manual
//   tag                             publish, then release
// With _EXPERIMENTAL_DAGGER_RUNNER_HOST set (a shared engine: tcp://…, kube-pod://…), the jobs
// get no docker:dind service. With PG_IMAGES_KUBECONFIG set (a file-type CI/CD variable: the
// kubeconfig of a cluster running the CloudNativePG version matrix.yaml's operator pins, whose API
// server the runners reach and whose nodes pull from the testing repository), the images jobs
// run the operator stage on it.
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
export function checked(call, module = MODULE_ARGS) {
  return [`dagger call ${module} ${call} check export --path out && exit 0`, `dagger call ${module} ${call} directory export --path out`, "exit 1"];
}

/** The module arguments of the jobs that build: the cluster of the operator stage, when one is given. */
const CLUSTER = `${MODULE_ARGS} --kubeconfig file:"$PG_IMAGES_KUBECONFIG"`;

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
    stages: release === "never" ? ["images"] : ["images", "release", "catalogs"],
    ".dagger": dagger,
  };
  for (const g of plan.groups) {
    doc[`images:${g.group}`] = {
      extends: ".dagger",
      stage: "images",
      ...(publish ? { id_tokens: ID_TOKENS } : {}),
      script: checked(publish ? `publish ${g.args} ${CREDENTIALS} ${SIGNING}` : `build-all ${g.args}`, env.PG_IMAGES_KUBECONFIG ? CLUSTER : MODULE_ARGS),
    };
    if (release !== "never") {
      doc[`release:${g.group}`] = {
        extends: ".dagger",
        stage: "release",
        needs: [`images:${g.group}`],
        when: release,
        ...(release === "manual" ? { allow_failure: true } : {}),
        id_tokens: ID_TOKENS,
        script: checked(`publish --release ${g.args} ${CREDENTIALS} ${SIGNING}`),
      };
    }
  }
  if (release !== "never") {
    // After the release jobs, whichever of them ran: the catalogs are read from the release
    // repository, so they name exactly what is released.
    doc.catalogs = {
      extends: ".dagger",
      stage: "catalogs",
      needs: plan.groups.map((g) => ({ job: `release:${g.group}`, optional: true })),
      when: "always",
      id_tokens: ID_TOKENS,
      script: [`dagger call ${MODULE_ARGS} catalogs ${CREDENTIALS} ${SIGNING} export --path out/catalogs`],
    };
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
