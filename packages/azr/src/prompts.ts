import type { InductionTask, TaskType, TripletTask } from "./types.ts";

// Prompt templates are versioned data: a run records the version it used, and a run config may
// override any template (the overrides must keep the template's placeholders). The wording is
// ours; the structure follows azr-spec §0–1.

export const TEMPLATE_NAMES = [
  "wrapper",
  "deductionPropose",
  "abductionPropose",
  "inductionPropose",
  "deductionSolve",
  "abductionSolve",
  "inductionSolve",
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type PromptTemplates = Record<TemplateName, string>;

/** Placeholders each template must contain, so an override cannot silently drop the task. */
export const REQUIRED_PLACEHOLDERS: Record<TemplateName, readonly string[]> = {
  wrapper: ["prompt"],
  deductionPropose: ["references", "bannedModules"],
  abductionPropose: ["references", "bannedModules"],
  inductionPropose: ["program", "count"],
  deductionSolve: ["program", "input"],
  abductionSolve: ["program", "output"],
  inductionSolve: ["pairs", "message"],
};

const CODE_RULES = `### Requirements for the program
- The entry point is a function named \`f\`; you may define helper functions inside it.
- \`f\` takes at least one argument and returns a value.
- It must be deterministic: no randomness, no dates or clocks, no files or network, no printing or
  logging, no state outside the program.
- It should need several steps of state tracking to follow (loops, data structures, branches).
- It must finish in well under 10 seconds.
- Put imports and any class definitions at the top, before \`f\`.
- The program ends with \`f\`'s return statement; nothing after it is kept.
- Do not write the test input inside the program.

### Requirements for the input
- Exactly one input: the arguments of one call to \`f\`, separated by commas.
- Quote strings, e.g. \`'John', {'age': 20}\`.

### Format
Write the program in a \`\`\`python block and the input in an \`\`\`input block, for example:
\`\`\`python
def f(items, key):
    counts = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return sorted(counts.items())
\`\`\`
\`\`\`input
[{'k': 'a'}, {'k': 'b'}, {'k': 'a'}], 'k'
\`\`\``;

const CRITERIA = (hard: string) => `### How the task is judged
- It runs: the program executes on the input without errors.
- Difficulty: ${hard}
- Creativity: it differs clearly from the reference programs below.
- These words may not appear anywhere, not even in comments: {{bannedModules}}.

Plan first, then write the final program and input.

### Reference programs
{{references}}`;

const DEFAULT_TEMPLATES_V1: PromptTemplates = {
  wrapper:
    "The User gives a task and the Assistant completes it. The Assistant first reasons about the task privately, " +
    "then states the result. The reasoning goes between <think> and </think>, the result between <answer> and " +
    "</answer>: <think> reasoning </think> <answer> result </answer>.\nUser: {{prompt}}\nAssistant: <think>",
  deductionPropose:
    "## Task: write a new Python program together with one input for it, such that predicting the program's " +
    "OUTPUT from the program and the input takes real reasoning.\n\n" +
    CODE_RULES +
    "\n\n" +
    CRITERIA("working out the output by hand needs careful, multi-step tracing of the program.") +
    "\n",
  abductionPropose:
    "## Task: write a new Python program together with one input for it, such that recovering an INPUT from " +
    "the program and its output takes real reasoning.\n\n" +
    CODE_RULES +
    "\n\n" +
    CRITERIA("finding an input that produces the given output needs reasoning backwards through the program.") +
    "\n",
  inductionPropose:
    "## Task: propose {{count}} inputs for the program below, and a message that helps someone rebuild the " +
    "program from input/output examples alone.\n\n" +
    "```python\n{{program}}\n\nf(<|YOUR INPUT WILL BE PLUGGED HERE|>)\n```\n\n" +
    "### Requirements\n" +
    "- Write each input in its own ```input block, as the arguments of one call to `f` (quote strings).\n" +
    "- The inputs should cover the input space and give diverse outputs, so that together they pin the " +
    "program down.\n" +
    "- Write the message in a ```message block. It may read like a coding question or a hint, but it must " +
    "not contain the code.\n\n" +
    "### How the task is judged\n" +
    "- Every input runs without errors.\n" +
    "- Coverage and diversity of the inputs.\n" +
    "- The program can be inferred from the examples and the message: challenging but solvable.\n",
  deductionSolve:
    "## Task: predict what the program returns for the given input.\n\n" +
    "```python\n{{program}}\n```\n\n```input\n{{input}}\n```\n\n" +
    "Reason step by step, then write the return value in an ```output block as a Python literal " +
    "(quote strings; use a tuple for several values).\n",
  abductionSolve:
    "## Task: find an input for which the program returns the given output. Any such input is accepted.\n\n" +
    "```python\n{{program}}\n```\n\n```output\n{{output}}\n```\n\n" +
    "Reason step by step, then write the input in an ```input block as the arguments of one call to `f`, " +
    "using Python literals only (quote strings).\n",
  inductionSolve:
    "## Task: write the Python function `f` that produced these input/output pairs.\n\n" +
    "{{pairs}}\n\n```message\n{{message}}\n```\n\n" +
    "Reason step by step, then write the complete program, with `def f(...)`, in a ```python block. It " +
    "will be tested on further inputs.\n",
};

export const TEMPLATE_VERSIONS = { "azr-v1": DEFAULT_TEMPLATES_V1 } as const satisfies Record<string, PromptTemplates>;
export type TemplateVersion = keyof typeof TEMPLATE_VERSIONS;
export const DEFAULT_TEMPLATE_VERSION: TemplateVersion = "azr-v1";

/** The templates of a version with a run config's overrides applied. */
export function resolveTemplates(version: TemplateVersion, overrides: Partial<PromptTemplates> = {}): PromptTemplates {
  return { ...TEMPLATE_VERSIONS[version], ...overrides };
}

export function missingPlaceholders(name: TemplateName, template: string): string[] {
  return REQUIRED_PLACEHOLDERS[name].filter((p) => !template.includes(`{{${p}}}`));
}

/** Fills `{{name}}` placeholders in one pass, so values that contain braces stay as written. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => (key in values ? values[key]! : whole));
}

export function wrap(templates: PromptTemplates, prompt: string): string {
  return fill(templates.wrapper, { prompt });
}

export function renderReferences(refs: readonly TripletTask[]): string {
  if (refs.length === 0) return "(none yet)";
  return refs
    .map(
      (r, i) =>
        `<snippet_${i}>\n\`\`\`python\n${r.snippet}\n\`\`\`\n\`\`\`input\n${r.input}\n\`\`\`\n\`\`\`output\n${r.output}\n\`\`\`\n</snippet_${i}>`,
    )
    .join("\n");
}

/** Proposer prompt (already wrapped) for deduction or abduction. */
export function tripletProposePrompt(
  templates: PromptTemplates,
  type: "deduction" | "abduction",
  refs: readonly TripletTask[],
  bannedModules: readonly string[],
): string {
  const t = type === "deduction" ? templates.deductionPropose : templates.abductionPropose;
  return wrap(templates, fill(t, { references: renderReferences(refs), bannedModules: bannedModules.join(", ") }));
}

export function inductionProposePrompt(templates: PromptTemplates, program: string, count: number): string {
  return wrap(templates, fill(templates.inductionPropose, { program, count: String(count) }));
}

/** Number of pairs the induction solver sees; the rest are hidden tests (integer halving). */
export function givenPairCount(total: number): number {
  return Math.floor(total / 2);
}

export function solvePrompt(templates: PromptTemplates, type: TaskType, task: TripletTask | InductionTask): string {
  if (task.kind === "induction") {
    const given = givenPairCount(task.inputs.length);
    const pairs = task.inputs
      .slice(0, given)
      .map((input, i) => `\`\`\`input_${i}\n${input}\n\`\`\`\n\`\`\`output_${i}\n${task.outputs[i]}\n\`\`\``)
      .join("\n");
    return wrap(templates, fill(templates.inductionSolve, { pairs, message: task.message }));
  }
  if (type === "abduction") return wrap(templates, fill(templates.abductionSolve, { program: task.snippet, output: task.output }));
  return wrap(templates, fill(templates.deductionSolve, { program: task.snippet, input: task.input }));
}
