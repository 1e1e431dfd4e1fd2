/**
 * Errors with a stable `code` and a `userMessage` in plain words. Boundaries (handlers, the CLI)
 * turn them into a modal field error, an ephemeral reply, a thread message or an exit message.
 */
export class SlipwayError extends Error {
  readonly code: string;
  readonly userMessage: string;

  constructor(code: string, userMessage: string, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? userMessage, { cause: options?.cause });
    this.name = new.target.name;
    this.code = code;
    this.userMessage = userMessage;
  }
}

/** A bad or missing config file: every problem, by path, in one message. */
export class ConfigError extends SlipwayError {
  readonly problems: readonly string[];

  constructor(source: string, problems: string[]) {
    super(
      'config_invalid',
      `Slipway cannot start: ${source} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

/** Missing or malformed environment variables, listed together. */
export class EnvError extends SlipwayError {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super('env_invalid', `Slipway cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * A Kubernetes or EKS call failed, or Slipway refused to make it; `transient` says whether trying
 * again may help. `code` is `cluster_error`, or `namespace_not_managed` when Slipway refused to
 * delete a namespace that is not the request's own.
 */
export class ClusterError extends SlipwayError {
  readonly status: number | undefined;
  readonly transient: boolean;
  /** The server's Retry-After, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    userMessage: string,
    options: { status?: number; transient: boolean; retryAfterMs?: number | undefined; cause?: unknown; code?: 'cluster_error' | 'namespace_not_managed' },
  ) {
    super(options.code ?? 'cluster_error', userMessage, { cause: options.cause });
    this.status = options.status;
    this.transient = options.transient;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof SlipwayError) return err.userMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}
