import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; tokens and authorization headers never reach them. */
export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: { app: 'slipway' },
    redact: {
      paths: ['token', '*.token', 'headers.authorization', '*.headers.authorization', 'signingSecret', '*.signingSecret'],
      censor: '[redacted]',
    },
  });
}
