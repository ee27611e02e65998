// What apt would install for each target, against the archive as it is now: no build, only the
// root's base image with its apt sources, a fresh `apt-get update` and two simulations (the
// upgrade of the base, and the install of every package the chain asks for).
import type { Container } from "@dagger.io/dagger";
import type { Platform } from "../kinds.js";
import type { PlannedTarget } from "../plan/types.js";
import type { Base, Recipe, Step } from "../recipes/types.js";
import { parseSimulation, type Lock } from "../release/freshness.js";
import { shellQuote } from "../recipes/apt.js";
import { baseContainer, renderSteps, runScript, type DaggerContext } from "../render/dagger.js";
import { failure } from "./target.js";

/** Set on the update step only, with a value new to each run: the engine never replays it. */
const RUN_ENV = "PG_IMAGES_RESOLVE_RUN";

export type Resolution = { lock: Lock } | { error: string };

export interface ResolveSources {
  target(id: string): PlannedTarget;
  recipe(id: string): Recipe;
  ctx(platform: Platform): DaggerContext;
}

/** A base with apt's sources written and its lists fetched in this run: what the archive carries now. */
export function archiveNow(base: Base, sourceSteps: readonly Step[], ctx: DaggerContext, run: string): Container {
  const c = renderSteps(baseContainer(base, ctx).withUser("root"), sourceSteps, ctx);
  return runScript(c.withEnvVariable(RUN_ENV, run), "DEBIAN_FRONTEND=noninteractive apt-get update -q >&2", ctx);
}

/** The chain from the root (built on a base image) down to the target. */
function chainOf(src: ResolveSources, t: PlannedTarget): PlannedTarget[] {
  const chain = [t];
  while (chain[0]!.from) chain.unshift(src.target(chain[0]!.from));
  return chain;
}

const aptOf = (steps: readonly Step[]) => steps.flatMap((s) => (s.op === "run" && s.apt ? [s.apt] : []));

/**
 * Resolves every target, each platform apart; the update runs once per root and platform, the
 * simulations once per target. A target whose packages do not resolve (a pin the archive does
 * not carry) gets apt's own message.
 */
export async function resolveAll(src: ResolveSources, targets: readonly PlannedTarget[], run: string): Promise<Map<string, Resolution>> {
  const updated = new Map<string, Container>();
  const archiveOf = (root: PlannedTarget, platform: Platform): Container => {
    const key = `${root.id} ${platform}`;
    let c = updated.get(key);
    if (!c) {
      const recipe = src.recipe(root.id);
      // The root's steps up to the one that writes the sources: the same execs its build starts with.
      const upTo = recipe.steps.findIndex((s) => s.op === "run" && s.apt?.sources);
      c = archiveNow(recipe.base, upTo < 0 ? [] : recipe.steps.slice(0, upTo + 1), src.ctx(platform), run);
      updated.set(key, c);
    }
    return c;
  };
  const entries = await Promise.all(
    targets.map(async (t): Promise<[string, Resolution]> => {
      const chain = chainOf(src, t);
      const wanted = [...new Set(chain.flatMap((x) => aptOf(src.recipe(x.id).steps).flatMap((a) => a.install)))];
      try {
        const lock: Lock = {};
        await Promise.all(
          t.platforms.map(async (p) => {
            const simulate = [
              "export DEBIAN_FRONTEND=noninteractive",
              "apt-get -s -q upgrade",
              ...(wanted.length > 0 ? [`apt-get -s -q install --no-install-recommends ${wanted.map(shellQuote).join(" ")}`] : []),
            ].join("\n");
            lock[p] = parseSimulation(await runScript(archiveOf(chain[0]!, p), simulate, src.ctx(p)).stdout());
          }),
        );
        return [t.id, { lock }];
      } catch (e) {
        return [t.id, { error: failure(e) }];
      }
    }),
  );
  return new Map(entries);
}
