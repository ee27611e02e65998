// Git repositories the tests build from, made at test time: the fixture extension (from
// test/fixtures/ext-repo-src/: 1.0 committed and tagged v1.0, then 1.1 with the 1.0→1.1 upgrade
// script, tagged v1.1), the style tools built from source, and a Python project pip installs
// from a commit.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const EXT_REPO_VERSIONS = ["1.0", "1.1"] as const;

export function makeExtRepo(srcRoot: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const git = gitIn(dir);
  git("init", "-q");
  for (const version of EXT_REPO_VERSIONS) {
    for (const f of readdirSync(dir)) if (f !== ".git") rmSync(join(dir, f), { recursive: true });
    cpSync(join(srcRoot, version), dir, { recursive: true });
    git("add", "-A");
    git("commit", "-q", "-m", `greeter ${version}`);
    git("tag", `v${version}`);
  }
  settle(dir);
}

// Fixed dates make the same commits every run, so a recipe that copies the repository has the
// same cache key in the engine from one test run to the next.
const FIXED_DATE = "2026-01-01T00:00:00Z";

function gitIn(dir: string) {
  return (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=pg-images tests", "-c", "user.email=tests@pg-images.invalid", "-c", "init.defaultBranch=main", ...args], {
      cwd: dir,
      stdio: "pipe",
      encoding: "utf8",
      env: { ...process.env, GIT_AUTHOR_DATE: FIXED_DATE, GIT_COMMITTER_DATE: FIXED_DATE },
    });
}

/** Drops what differs between two makes of the same repository: the index records file times and inodes. */
function settle(dir: string): void {
  rmSync(join(dir, ".git", "index"));
}

/** A repository of one folder, committed and tagged: a tool a stylechecker builds from source. */
export function makeTaggedRepo(src: string, dir: string, tag: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const git = gitIn(dir);
  git("init", "-q");
  cpSync(src, dir, { recursive: true });
  git("add", "-A");
  git("commit", "-q", "-m", `tool at ${tag}`);
  git("tag", tag);
  settle(dir);
}

/**
 * A Python project whose module says which commit it was built from: "pinned" at the commit
 * returned, then "moved" on main, so an install that ignored the pin would show.
 */
export function makeVcsProbeRepo(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "pgi_probe"), { recursive: true });
  const git = gitIn(dir);
  git("init", "-q");
  writeFileSync(join(dir, "pyproject.toml"), '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "pgi-probe"\nversion = "1.0"\n');
  const commit = (mark: string) => {
    writeFileSync(join(dir, "pgi_probe/__init__.py"), `MARK = "${mark}"\n`);
    git("add", "-A");
    git("commit", "-q", "-m", mark);
    return git("rev-parse", "HEAD").trim();
  };
  const pinned = commit("pinned");
  commit("moved");
  settle(dir);
  return pinned;
}
