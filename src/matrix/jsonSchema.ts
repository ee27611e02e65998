// The JSON Schema editors use for matrix.yaml, generated from the zod schema (one source).
import { z } from "zod";
import { Matrix } from "./schema.js";

export function matrixJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(Matrix, { io: "input", target: "draft-2020-12" }),
    title: "pg-images matrix.yaml",
  };
}
