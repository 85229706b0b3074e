import { collectImports, fill, resolveTemplates, solvePrompt, wrap, type PromptTemplates, type TripletTask } from "@azr/azr";
import type { BenchmarkDefinition, PromptTemplateId, TemplateStyle } from "./definition.ts";
import type { CodeProblem, IoProblem, MathProblem, Problem } from "./problem.ts";

// Evaluation prompts. Trained models get the reference's think/answer wrapper (the training
// templates of packages/azr, azr-v1), base models a plain instruction with a boxed (math) or
// fenced (code, io) answer; math for base models uses the reference's "qwen-boxed" chat layout
// (azr-spec §7). The maximum new tokens is the definition's `decoding.maxTokens`.

const AZR = resolveTemplates("azr-v1");

const BOXED = "Please reason step by step, and put your final answer within \\boxed{}.";

/** math-evaluation-harness's qwen-boxed template, which the reference uses for base models. */
const QWEN_BOXED = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n{{input}}\n" + BOXED + "<|im_end|>\n<|im_start|>assistant\n";

function codeTask(p: CodeProblem): string {
  if (p.tests.format === "evalplus" || p.tests.format === "check") {
    return (
      "## Task: complete the Python function below so that it does what its docstring says.\n\n" +
      "```python\n" + p.prompt.trimEnd() + "\n```\n\n" +
      `Write the complete function \`${p.entryPoint}\`, with any imports and helpers it needs, in one \`\`\`python block.\n`
    );
  }
  if (p.starterCode) {
    // lcb_runner's wording for problems with starter code (FORMATTING_MESSAGE_WITH_STARTER_CODE).
    return (
      "## Task: solve the programming problem below in Python.\n\n### Question:\n" + p.prompt.trim() + "\n\n" +
      "### Format: use the following starter code to write the solution and enclose your code within delimiters.\n" +
      "```python\n" + p.starterCode.trimEnd() + "\n```\n\nWrite the complete solution in one ```python block.\n"
    );
  }
  return (
    "## Task: solve the programming problem below in Python.\n\n### Question:\n" + p.prompt.trim() + "\n\n" +
    "### Format: read the inputs from stdin, solve the problem and write the answer to stdout (do not test on the sample " +
    "inputs yourself). Write the complete program in one ```python block.\n"
  );
}

function ioTask(p: IoProblem): TripletTask {
  return { kind: "triplet", snippet: p.code, input: p.input, output: p.output, imports: collectImports(p.code) };
}

function ioBody(templates: PromptTemplates, p: IoProblem): string {
  return p.mode === "output" ? fill(templates.deductionSolve, { program: p.code, input: p.input }) : fill(templates.abductionSolve, { program: p.code, output: p.output });
}

function render(id: PromptTemplateId, problem: Problem): string {
  switch (id) {
    case "azr-code":
      return wrap(AZR, codeTask(problem as CodeProblem));
    case "base-code":
      return codeTask(problem as CodeProblem);
    case "azr-math":
      return wrap(AZR, `${(problem as MathProblem).problem.trim()}\n${BOXED}`);
    case "base-math":
      return fill(QWEN_BOXED, { input: (problem as MathProblem).problem.trim() });
    case "azr-io": {
      const p = problem as IoProblem;
      // The training solver prompt itself: deduction for output prediction, abduction for input.
      return solvePrompt(AZR, p.mode === "output" ? "deduction" : "abduction", ioTask(p));
    }
    case "base-io":
      return ioBody(AZR, problem as IoProblem);
  }
}

/** The prompt for one problem with the definition's `azr` (trained models) or `base` template. */
export function buildPrompt(def: BenchmarkDefinition, problem: Problem, template: TemplateStyle): string {
  if (problem.kind !== def.kind) throw new Error(`problem ${problem.id} is ${problem.kind}, benchmark ${def.name} is ${def.kind}`);
  return render(def.promptTemplates[template], problem);
}

export { ioTask };
