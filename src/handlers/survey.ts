import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readValue } from '../slack/form-state.ts';
import { SURVEY } from '../slack/ids.ts';
import { surveysPreference } from '../slack/survey.ts';
import { answerPulse, openCommentForm, parseCommentTarget, setSurveys, submitComment } from '../workflows/survey.ts';
import { answerProvisioning } from '../workflows/survey-provisioning.ts';
import { clickOf } from './click.ts';

const scale = (prefix: string) => new RegExp(`^${prefix}_[1-5]$`);

/** The pulse's and the post-provisioning question's buttons, and the comment modal. */
export function register(app: App, deps: Deps): void {
  app.action<BlockAction<ButtonAction>>(scale(SURVEY.pulseAnswer), async ({ ack, body, action }) => {
    await ack();
    await answerPulse(deps, { ...clickOf(body), value: action.value });
  });

  app.action<BlockAction<ButtonAction>>(scale(SURVEY.readyAnswer), async ({ ack, body, action }) => {
    await ack();
    await answerProvisioning(deps, { ...clickOf(body), value: action.value });
  });

  app.action<BlockAction<ButtonAction>>(SURVEY.pulseComment, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    await openCommentForm(deps, { ...click, triggerId: body.trigger_id, target: { kind: 'pulse', surveyId: Number(action.value), channel: click.channel } });
  });

  app.action<BlockAction<ButtonAction>>(SURVEY.readyComment, async ({ ack, body, action }) => {
    await ack();
    const click = clickOf(body);
    await openCommentForm(deps, { ...click, triggerId: body.trigger_id, target: { kind: 'ready', requestId: Number(action.value), channel: click.channel } });
  });

  app.view(SURVEY.commentModal, async ({ ack, body, view }) => {
    const target = parseCommentTarget(view.private_metadata);
    if (!target) {
      await ack();
      return;
    }
    const text = readValue(view.state.values, SURVEY.commentText);
    const result = submitComment(deps, { user: body.user.id, target, text });
    if (!result.announce) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    await ack();
    await result.announce();
  });
}

/** `/platform surveys off|on`: answered to the person only. */
export async function surveysCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const result = setSurveys(deps, command.user_id, args);
  const message = result
    ? surveysPreference({ ...result, command: command.command })
    : { text: `Use \`${command.command} surveys off\` or \`${command.command} surveys on\`.`, blocks: [] };
  await respond({ response_type: 'ephemeral', text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}) }).catch((err: unknown) =>
    deps.log.warn({ err }, 'could not answer /platform surveys'),
  );
}
