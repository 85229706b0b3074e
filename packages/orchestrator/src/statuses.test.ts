import { describe, expect, it } from "vitest";
import { allowedFrom, canTransition, holdsCapacity, isDeletable, isFinished, isResumable, RUN_STATUSES } from "./statuses.ts";

describe("run state machine", () => {
  it("follows queued → provisioning → running ⇄ checkpointing → completed", () => {
    const path = ["queued", "provisioning", "running", "checkpointing", "running", "checkpointing", "completed"] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  it.each([
    ["queued", "running"],
    ["queued", "completed"],
    ["completed", "queued"],
    ["completed", "running"],
    ["cancelled", "running"],
    ["paused", "running"],
    ["failed", "completed"],
  ] as const)("rejects %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it("lets stopped and failed runs be resumed, never completed ones", () => {
    expect(RUN_STATUSES.filter(isResumable)).toEqual(["paused", "failed", "cancelled"]);
  });

  it("only runs that may have a worker hold capacity, and those cannot be deleted", () => {
    expect(RUN_STATUSES.filter(holdsCapacity)).toEqual(["provisioning", "running", "checkpointing"]);
    expect(RUN_STATUSES.filter((s) => !isDeletable(s))).toEqual(["provisioning", "running", "checkpointing"]);
    expect(RUN_STATUSES.filter(isFinished)).toEqual(["completed", "failed", "cancelled"]);
  });

  it("every status but completed can reach cancelled or queued, and allowedFrom inverts canTransition", () => {
    for (const to of RUN_STATUSES) {
      for (const from of RUN_STATUSES) expect(allowedFrom(to).includes(from)).toBe(canTransition(from, to));
    }
  });
});
