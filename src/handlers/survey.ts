import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { readId, readValue } from '../slack/form-state.ts';
import { SURVEY } from '../slack/ids.ts';
import { unknownButton } from '../slack/provisioning/messages.ts';
import { surveysPreference } from '../slack/surveys/blocks.ts';
import { answerPulse, setSurveys } from '../workflows/surveys/pulse.ts';
import { openCommentForm, parseCommentTarget, submitComment } from '../workflows/surveys/comments.ts';
import { answerProvisioning } from '../workflows/surveys/post-provisioning.ts';
import { clickOf } from './click.ts';
import { ackRecorded } from './ack.ts';

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

  // A forged value (not an id the bot wrote) is answered where the click was, and goes no further.
  const forged = (respond: RespondFn) =>
    respond({ response_type: 'ephemeral', replace_original: false, ...unknownButton() }).catch((err: unknown) =>
      deps.log.warn({ err }, 'could not answer a click'),
    );

  app.action<BlockAction<ButtonAction>>(SURVEY.pulseComment, async ({ ack, body, action, respond }) => {
    await ack();
    const click = clickOf(body);
    const surveyId = readId(action.value);
    if (surveyId === undefined) return void (await forged(respond));
    await openCommentForm(deps, { ...click, triggerId: body.trigger_id, target: { kind: 'pulse', surveyId, channel: click.channel } });
  });

  app.action<BlockAction<ButtonAction>>(SURVEY.readyComment, async ({ ack, body, action, respond }) => {
    await ack();
    const click = clickOf(body);
    const requestId = readId(action.value);
    if (requestId === undefined) return void (await forged(respond));
    await openCommentForm(deps, { ...click, triggerId: body.trigger_id, target: { kind: 'ready', requestId, channel: click.channel } });
  });

  app.view(SURVEY.commentModal, async ({ ack, body, view }) => {
    const target = parseCommentTarget(view.private_metadata);
    if (!target) {
      await ack({ response_action: 'errors', errors: { [SURVEY.commentText]: 'This form is out of date. Close it and click "Add a comment" again.' } });
      return;
    }
    const text = readValue(view.state.values, SURVEY.commentText);
    const result = await submitComment(deps, { user: body.user.id, target, text });
    if (!result.announce) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    await ackRecorded(deps, () => ack());
    await result.announce();
  });
}

/** `/platform surveys off|on`: answered to the person only. */
export async function surveysCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const result = await setSurveys(deps, command.user_id, args);
  const message = result
    ? surveysPreference({ ...result, command: command.command })
    : { text: `Use \`${command.command} surveys off\` or \`${command.command} surveys on\`.`, blocks: [] };
  await respond({ response_type: 'ephemeral', text: message.text, ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}) }).catch((err: unknown) =>
    deps.log.warn({ err }, 'could not answer /platform surveys'),
  );
}
