// extbuilder: compiles a PostgreSQL extension against one exact PostgreSQL version (PGXS),
// with the libraries extensions commonly link against, and the test tools (kinds.ts TEST_TOOLS)
// unless the matrix removes them. Runs as root: `make install` writes into PostgreSQL's
// directories. The socket directory is writable by any user, for CI users' test servers.
import type { ExtbuilderTarget } from "../plan/types.js";
import { aptSetup, pgInstall, pgPackages, pgPath, pinned } from "./apt.js";
import { PGXS_FIXTURE, REAL_FIXTURE, type Fixture } from "./fixtures.js";
import { socketDirCheck, socketDirWritable } from "./customise.js";
import type { RecipeContext } from "./index.js";
import type { Recipe, SmokeCheck, Step } from "./types.js";

/**
 * Build tools and the -dev libraries of PostgreSQL's own optional features. libkrb5-dev: the
 * server headers are built with GSSAPI, and libpq/libpq-be.h includes gssapi/gssapi.h.
 */
export const BUILD_PACKAGES = [
  "autoconf",
  "build-essential",
  "ca-certificates",
  "git",
  "libcurl4-openssl-dev",
  "libicu-dev",
  "libkrb5-dev",
  "liblz4-dev",
  "libreadline-dev",
  "libselinux1-dev",
  "libssl-dev",
  "libxslt1-dev",
  "libzstd-dev",
  "locales",
  "perl",
];

/** Locales generated in every extension test image. */
export const LOCALES = ["en_US.UTF-8"];

export function extbuilderRecipe(target: ExtbuilderTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const steps: Step[] = [
    aptSetup(target.packageSource, target.distro, target.postgres, ctx.pgdg),
    pgInstall([...pgPackages([pg], ["server-dev", "libpq-dev"]), ...withPackages(BUILD_PACKAGES, target.packages)]),
    { op: "run", script: [generateLocales(LOCALES), socketDirWritable()].join("\n") },
    { op: "env", name: "PATH", value: pgPath(pg.major) },
  ];
  return {
    target: target.id,
    base: { image: target.base },
    artifacts: [],
    steps,
    smoke: [
      buildFixture(PGXS_FIXTURE, "builds and installs a PGXS extension"),
      buildFixture(REAL_FIXTURE, "builds an extension using the server's connection headers and common libraries"),
      socketDirCheck(),
    ],
  };
}

/** The recipe's own packages and the target's, each once: the target's pin wins. */
export function withPackages(own: readonly string[], target: readonly { name: string; version: string }[]): string[] {
  const names = new Set(target.map((p) => p.name));
  return [...own.filter((p) => !names.has(p)), ...target.map((p) => pinned(p.name, p.version || undefined))];
}

/**
 * Shell: enable locales in /etc/locale.gen and generate them. A locale is its name (da_DK.UTF-8),
 * or its whole line there, name and charset, for a legacy encoding (da_DK ISO-8859-1).
 */
export function generateLocales(locales: readonly string[]): string {
  // A name is followed by its charset on its line; a whole line ends there.
  const match = (l: string) => (l.includes(" ") ? { body: l.replaceAll(".", "\\."), end: "$" } : { body: `${l.replace(".", "\\.")} `, end: "" });
  return [
    ...locales.map((l) => `sed -i 's/^# *\\(${match(l).body}\\)${match(l).end}/\\1/' /etc/locale.gen`),
    ...locales.map((l) => `grep -q '^${match(l).body}${match(l).end}' /etc/locale.gen || { echo "locale ${l} is not in /etc/locale.gen"; exit 1; }`),
    "locale-gen",
  ].join("\n");
}

/** Copy the mounted fixture to a scratch directory $b (the mount is read-only), build, install. */
export function fixtureBuildScript(fixture: Fixture): string {
  return [
    `b=$(mktemp -d) && cp -R ${fixture.at}/. "$b" && cd "$b"`,
    `make >make.log 2>&1 || { cat make.log; echo "make failed"; exit 1; }`,
    `make install >install.log 2>&1 || { cat install.log; echo "make install failed"; exit 1; }`,
    `test -f "$(pg_config --sharedir)/extension/${fixture.extension}.control" || { echo "${fixture.extension}.control not installed under $(pg_config --sharedir)"; exit 1; }`,
  ].join("\n");
}

function buildFixture(fixture: Fixture, name: string): SmokeCheck {
  return { name, script: fixtureBuildScript(fixture), mounts: [{ fixture: fixture.path, at: fixture.at }] };
}
