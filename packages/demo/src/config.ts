import { deepMerge, parseRunConfig, type PromptTemplates, type RunConfig, type RunConfigOverrides } from "@azr/azr";
import type { TinyConfig } from "@azr/protocol";

// What the demo run uses: the tiny model's shape, compact prompt templates and the byte budgets.
//
// Why compact templates: the tiny backend is byte-level (one token per byte) and its attention is
// quadratic, so on two CPU cores the cost of a sequence grows with the square of its length. The
// default azr-v1 proposer prompt is ~2,140 bytes before any reference; with the azr-v1 wording a
// demo step would spend minutes per generation batch. The demo keeps every placeholder and the
// same structure (R1 wrapper, fenced python/input/output/message blocks, references, banned
// modules) in about a quarter of the bytes, through the run config's own `prompts.overrides`.

/** The demo policy's shape: ~1.3M parameters; a checkpoint (weights + Adam state) is ~16 MB. */
export const DEMO_TINY_CONFIG = { nLayer: 6, nHead: 4, dModel: 128, contextLength: 1280 } as const satisfies TinyConfig;

const FORMAT = "Write f in a ```python block and one input (the arguments of a call to f, strings quoted) in an ```input block.";

export const DEMO_PROMPT_OVERRIDES: PromptTemplates = {
  wrapper:
    "The Assistant reasons in <think> </think>, then answers in <answer> </answer>.\nUser: {{prompt}}\nAssistant: <think>",
  deductionPropose:
    "Task: write a new deterministic Python function f (one or more arguments, returns a value) and one input, " +
    "so that predicting the OUTPUT takes reasoning. " +
    FORMAT +
    " Do not use: {{bannedModules}}.\nReference programs:\n{{references}}\n",
  abductionPropose:
    "Task: write a new deterministic Python function f (one or more arguments, returns a value) and one input, " +
    "so that recovering the INPUT from the output takes reasoning. " +
    FORMAT +
    " Do not use: {{bannedModules}}.\nReference programs:\n{{references}}\n",
  inductionPropose:
    "Task: write {{count}} diverse inputs for f, each in its own ```input block, and a hint in a ```message block " +
    "(no code).\n```python\n{{program}}\n```\n",
  deductionSolve: "Task: predict what f returns. Answer in an ```output block.\n```python\n{{program}}\n```\n```input\n{{input}}\n```\n",
  abductionSolve:
    "Task: find an input for which f returns this output. Answer in an ```input block.\n```python\n{{program}}\n```\n```output\n{{output}}\n```\n",
  inductionSolve: "Task: write the function f that maps these inputs to outputs, in a ```python block.\n{{pairs}}\n```message\n{{message}}\n```\n",
};

/** Byte budgets that fit DEMO_TINY_CONFIG.contextLength: the longest prompt plus the response. */
export const DEMO_MAX_RESPONSE_BYTES = 384;
export const DEMO_MAX_PROMPT_BYTES = DEMO_TINY_CONFIG.contextLength - DEMO_MAX_RESPONSE_BYTES - 1; // BOS

/** Run-config overrides for the demo, applied on top of the `tiny-cpu` preset. */
export const DEMO_RUN_OVERRIDES = {
  azr: {
    // One reference program per proposer prompt (tiny-cpu has 2): a step-1 prompt has only the
    // seed anyway, and every reference costs ~150 bytes of quadratic attention.
    references: 1,
    // Proposer prompts longer than this shed references (plan.ts), so they always fit the context.
    proposerPromptMaxTokens: DEMO_MAX_PROMPT_BYTES - 60,
  },
  sampling: { temperature: 1.0, maxPromptLength: DEMO_MAX_PROMPT_BYTES, maxResponseLength: DEMO_MAX_RESPONSE_BYTES },
  prompts: { version: "azr-v1", overrides: DEMO_PROMPT_OVERRIDES },
} as const satisfies RunConfigOverrides;

/** The demo run's config: `tiny-cpu` + DEMO_RUN_OVERRIDES (+ any further overrides). */
export function demoRunConfig(extra: RunConfigOverrides = {}): RunConfig {
  const r = parseRunConfig(deepMerge(DEMO_RUN_OVERRIDES, extra), "tiny-cpu");
  if (!r.ok) throw new Error(`demo run config is invalid: ${r.errors.join("; ")}`);
  return r.config;
}
