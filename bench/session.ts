// What the engine benchmarks share. Each measurement is its own engine session, as each CI run or
// laptop re-run is: what carries over is the engine's cache, not the session's memory of results.
import { connection, dag } from "@dagger.io/dagger";

export const session = <T>(fn: () => Promise<T>): Promise<T> => {
  let out: T;
  return connection(async () => {
    out = await fn();
  }).then(() => out);
};

/** Empty the engine's cache: the next build is cold (base images then come from 127.0.0.1:5000). */
export const prune = () => session(() => dag.engine().localCache().prune().then(() => undefined));
