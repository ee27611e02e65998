#!/usr/bin/env node
// Client mode: the module's own functions, called through a Dagger engine reached by the CLI
// (`dagger call` needs the engine to load the TypeScript module; this needs only an engine).
//
//   pg-images-local build-all [--matrix FILE] [--timestamp T] [--revision R] [--out DIR] [filters]
//                             [--kubeconfig FILE]   (the operator stage on that cluster; publish too)
//   pg-images-local publish [--release] [--registry P] [--testing-registry P] [--username U --password-env VAR]
//                           [--signing-key-env VAR --signing-password-env VAR]
//   pg-images-local plan [--format json] [--explain]
//   pg-images-local retention [--days N] [--delete]     (a dry run unless --delete)
//   pg-images-local catalogs [--registry P] [--out DIR] [--signing-key-env VAR --signing-password-env VAR]
//   pg-images-local bump-pins [--write]                 (--write rewrites the matrix file in place)
import { connection, dag } from "@dagger.io/dagger";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { verdictMessage } from "../src/release/verdict.js";
import type { Report } from "../src/report.js";
import { hostSource, LocalPgImages } from "../scripts/world/localModule.js";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    source: { type: "string", default: "." },
    matrix: { type: "string", default: "matrix.yaml" },
    timestamp: { type: "string" },
    revision: { type: "string" },
    registry: { type: "string" },
    "testing-registry": { type: "string" },
    kubeconfig: { type: "string" },
    release: { type: "boolean", default: false },
    username: { type: "string" },
    "password-env": { type: "string" },
    "signing-key-env": { type: "string" },
    "signing-password-env": { type: "string" },
    format: { type: "string", default: "table" },
    days: { type: "string", default: "14" },
    delete: { type: "boolean", default: false },
    write: { type: "boolean", default: false },
    explain: { type: "boolean", default: false },
    out: { type: "string", default: "out" },
    image: { type: "string", multiple: true, default: [] },
    pg: { type: "string", multiple: true, default: [] },
    distro: { type: "string", multiple: true, default: [] },
    flavour: { type: "string", multiple: true, default: [] },
  },
});
const [fn] = positionals;
const filters = [o.image, o.pg.map(Number), o.distro, o.flavour] as const;

/** A Dagger Secret from the environment variable a flag names. */
const secretFrom = (flag: "signing-key-env" | "signing-password-env") => {
  const name = o[flag];
  return name ? dag.setSecret(flag, process.env[name] ?? "") : undefined;
};

let failed = false;
let reportText = "";
try {
  await connection(
    async () => {
      const source = hostSource(resolve(o.source));
      const kubeconfig = o.kubeconfig ? dag.setSecret("kubeconfig", readFileSync(resolve(o.kubeconfig), "utf8")) : undefined;
      const m = new LocalPgImages(source, o.matrix, o.registry, o["testing-registry"], o.timestamp, o.revision, [], kubeconfig);
      const password = o["password-env"] ? dag.setSecret("registry-password", process.env[o["password-env"]] ?? "") : undefined;
      let report: Report;
      switch (fn) {
        case "plan":
          process.stdout.write(await m.plan(o.format, ...filters, o.explain));
          return;
        case "retention":
          process.stdout.write(await m.retention(Number(o.days), !o.delete, o.username, password));
          return;
        case "catalogs":
          await (await m.catalogs(o.username, password, secretFrom("signing-key-env"), secretFrom("signing-password-env"))).export(resolve(o.out));
          process.stdout.write(`catalogs: ${resolve(o.out)}\n`);
          return;
        case "bump-pins": {
          const pins = await m.bumpPins();
          process.stdout.write(await pins.report);
          if (o.write) await pins.matrix.export(resolve(o.source, o.matrix));
          return;
        }
        case "build-all":
          report = await m.buildAll(...filters);
          break;
        case "publish":
          report = await m.publish(o.release, o.username, password, ...filters, false, secretFrom("signing-key-env"), secretFrom("signing-password-env"));
          break;
        default:
          throw new Error(`unknown function "${fn ?? ""}"; one of: plan, build-all, publish, retention, catalogs, bump-pins`);
      }
      // The same contract as `dagger call … check`: the report is always written, and any failed
      // or blocked target makes the exit code non-zero.
      await report.directory.export(resolve(o.out));
      failed = report.failed.length > 0;
      reportText = `\n${failed ? verdictMessage(report) : report.summary}report: ${resolve(o.out)}\n`;
    },
    { LogOutput: process.stderr },
  );
} catch (e) {
  // The SDK wraps what the function threw; the function's own message (a matrix problem names the
  // file and key) is what the caller needs, without the SDK's stack.
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  process.stderr.write(`\npg-images ${fn ?? ""}: ${cause instanceof Error ? cause.message : String(cause)}\n`);
  process.exit(1);
}
// After the engine's progress output, so the summary is the last thing on the terminal.
process.stdout.write(reportText);
process.exitCode = failed ? 1 : 0;
