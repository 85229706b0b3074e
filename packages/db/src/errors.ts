/** Errors the database layer raises for conditions a user can fix. The message says what is
 * wrong and what to do; callers print it as is, without a stack trace. */
export class DatabaseSetupError extends Error {
  constructor(
    message: string,
    readonly code:
      | "invalid-url"
      | "unreachable"
      | "locked"
      | "migration-failed"
      | "migration-history"
      | "migrations-folder",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DatabaseSetupError";
  }
}
