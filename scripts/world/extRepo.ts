// The fixture extension's git repository, made at test time from test/fixtures/ext-repo-src/:
// 1.0 committed and tagged v1.0, then 1.1 (with the 1.0→1.1 upgrade script) tagged v1.1.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export const EXT_REPO_VERSIONS = ["1.0", "1.1"] as const;

export function makeExtRepo(srcRoot: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=pg-images tests", "-c", "user.email=tests@pg-images.invalid", "-c", "init.defaultBranch=main", ...args], { cwd: dir, stdio: "pipe" });
  git("init", "-q");
  for (const version of EXT_REPO_VERSIONS) {
    for (const f of readdirSync(dir)) if (f !== ".git") rmSync(join(dir, f), { recursive: true });
    cpSync(join(srcRoot, version), dir, { recursive: true });
    git("add", "-A");
    git("commit", "-q", "-m", `greeter ${version}`);
    git("tag", `v${version}`);
  }
}
