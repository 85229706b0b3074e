import type { BenchmarkDefinition } from "../definition.ts";
import type { Problem } from "../problem.ts";
import { loadCruxEval } from "./cruxeval.ts";
import { loadEvalPlus } from "./evalplus.ts";
import { BenchmarkFormatError } from "./jsonl.ts";
import { loadLiveCodeBench } from "./livecodebench.ts";
import { loadMath } from "./math.ts";

/** Reads and validates every problem of a benchmark from its `source`. Throws
 * BenchmarkFormatError naming the file, line and field of the first bad line. */
export async function loadProblems(def: BenchmarkDefinition): Promise<Problem[]> {
  if (!def.source) {
    throw new BenchmarkFormatError(def.name, 0, "source", "this benchmark has no source: point it at a JSONL file or directory (nothing is downloaded)");
  }
  switch (def.format) {
    case "evalplus":
      return loadEvalPlus(def, def.source);
    case "livecodebench":
      return loadLiveCodeBench(def, def.source);
    case "math-jsonl":
      return loadMath(def, def.source);
    case "cruxeval":
      return loadCruxEval(def, def.source);
  }
}
