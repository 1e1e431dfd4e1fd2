import type { DoctorDeps, DoctorLine } from './doctor-lines.ts';
import { membershipProblem } from '../surveys/pulse.ts';

/**
 * `slipway doctor`'s survey lines: each pulse channel (the pulse is never posted where the bot
 * is not a member), and the scope that lets replies in feedback threads be relayed. Warnings,
 * not failures: namespaces work without surveys.
 */
export async function checkSurveys(deps: Pick<DoctorDeps, 'config' | 'slack' | 'clusters'>): Promise<DoctorLine[]> {
  const { survey, slack } = deps.config;
  const lines: DoctorLine[] = [];
  const channels = survey.pulse.channels;
  if (channels.length === 0) {
    lines.push({ area: 'surveys', check: 'pulse channels', verdict: 'ok', detail: 'no weekly pulse (survey.pulse.channels is empty)' });
  } else if (survey.pulse.schedule === false) {
    lines.push({ area: 'surveys', check: 'pulse channels', verdict: 'ok', detail: 'the weekly pulse is off (survey.pulse.schedule: false)' });
  }
  if (survey.pulse.schedule !== false) {
    for (const channel of channels) {
      const problem = await membershipProblem(deps, channel);
      lines.push(
        problem
          ? { area: 'surveys', check: 'pulse channel', verdict: 'warn', detail: `${channel}: the pulse is not posted there: ${problem}` }
          : { area: 'surveys', check: 'pulse channel', verdict: 'ok', detail: `${channel}: the bot is a member; the pulse is posted there` },
      );
    }
  }
  if (slack.platformChannel) {
    try {
      const scopes = (await deps.slack.auth.test()).response_metadata?.scopes ?? [];
      lines.push(
        scopes.includes('channels:history') || scopes.includes('groups:history')
          ? { area: 'surveys', check: 'feedback replies', verdict: 'ok', detail: 'replies in feedback threads are relayed to their authors' }
          : {
              area: 'surveys',
              check: 'feedback replies',
              verdict: 'warn',
              detail:
                'missing channels:history (groups:history for a private platform channel): replies in feedback threads are not relayed; add it and the message.channels event (manifest.yml) and reinstall',
            },
      );
    } catch {
      // auth.test already failed above, with its reason.
    }
  }
  return lines;
}
