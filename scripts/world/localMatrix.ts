// Prints the end-to-end matrix filled in for this machine's world (base digests, tool images,
// the archive's current PostgreSQL): what `npm run local` builds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, resolveMatrix, useWorldEngine } from "./world.js";

useWorldEngine();
const { text } = await resolveMatrix(readFileSync(join(REPO, "test/e2e/matrix.yaml"), "utf8"));
process.stdout.write(text);
