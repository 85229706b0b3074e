import { randomBytes } from "node:crypto";
import { tokenVerifier } from "@azr/worker-client";

/** The token one run attempt's worker dials in with. It is accepted only by that attempt's hub,
 * and `revoke` (called when the attempt ends) makes sure nothing accepts it afterwards. */
export interface IssuedWorkerToken {
  token: string;
  verify(token: string): Promise<boolean>;
  revoke(): Promise<void>;
}

/** Who mints worker tokens. The server uses the API's AuthService (tokens stored hashed in the
 * database, refused once their attempt ends, API tokens refused); without an API (tests, benches,
 * the CLI's embedded runs) a random in-memory secret per attempt does the same job. */
export interface WorkerCredentials {
  issue(runId: string, attempt: number): Promise<IssuedWorkerToken>;
}

export const ephemeralWorkerCredentials: WorkerCredentials = {
  async issue() {
    const token = randomBytes(32).toString("hex");
    const matches = tokenVerifier(token);
    let revoked = false;
    return {
      token,
      verify: async (candidate) => !revoked && matches(candidate),
      revoke: async () => {
        revoked = true;
      },
    };
  },
};
