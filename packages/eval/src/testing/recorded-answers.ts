import { readFileSync } from "node:fs";
import { z } from "zod";
import { FIXTURES_DIR, type TemplateStyle } from "../definition.ts";
import { SAMPLE_STATUSES } from "../result.ts";

// Recorded model answers for the scorer tests (a test double for a trained model's output: no
// model runs in the test suite). Each carries the verdict a person checked by hand and why.

const recordedAnswerSchema = z
  .object({
    problemId: z.string().min(1),
    template: z.enum(["azr", "base"]),
    completion: z.string(),
    correct: z.boolean(),
    status: z.enum(SAMPLE_STATUSES),
    why: z.string().min(1),
  })
  .strict();
export type RecordedAnswer = z.infer<typeof recordedAnswerSchema> & { template: TemplateStyle };

export function recordedAnswers(file: string): RecordedAnswer[] {
  const path = `${FIXTURES_DIR}answers/${file}`;
  return readFileSync(path, "utf8")
    .split("\n")
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim() !== "")
    .map(([line, n]) => {
      const r = recordedAnswerSchema.safeParse(JSON.parse(line));
      if (!r.success) throw new Error(`${path}:${n}: ${r.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
      return r.data;
    });
}
