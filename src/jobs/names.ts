/**
 * The jobs' names, apart from the jobs themselves: the CLI offers them in `slipway jobs run --help`
 * without loading the workflows behind them.
 */
export const JOB_NAMES = ['digest', 'usage-refresh', 'survey-open', 'survey-close', 'survey-remind', 'lifecycle', 'drift'] as const;
