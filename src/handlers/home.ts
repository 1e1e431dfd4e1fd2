import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand } from '@slack/bolt';
import type { Deps } from '../deps.ts';
import { errorMessage } from '../errors.ts';
import { readId, readMetadata } from '../slack/form-state.ts';
import { HOME } from '../slack/ids.ts';
import { textMessage } from '../slack/text.ts';
import {
  approveFromHome,
  decideAskFromHome,
  denyFromHome,
  homeMetadata,
  publishHome,
  requestFromHome,
  showNamespaceDetails,
} from '../workflows/lifecycle/home.ts';
import { listNamespaces, listPageValue } from '../workflows/lifecycle/list.ts';
import { clickOf } from './click.ts';

const listFailed = textMessage('Sorry, I could not list those namespaces. Please try again.');

/**
 * `/platform list [team|@person|all]`: answered after the ack (it may ask Slack whether the
 * person is an approver), only to them.
 */
export async function listCommand(deps: Deps, command: SlashCommand, args: string, respond: RespondFn): Promise<void> {
  const message = await listNamespaces(deps, command.user_id, command.command, args).catch((err: unknown) => {
    deps.log.error({ err: errorMessage(err), user: command.user_id }, 'could not list namespaces');
    return listFailed;
  });
  await respond({ response_type: 'ephemeral', ...message }).catch((err: unknown) => deps.log.warn({ err }, 'could not send the list'));
}

/** The Home tab (opened, paged, its buttons), Details anywhere, and the pages of `/platform list`. */
export function register(app: App, deps: Deps): void {
  // Slack sends app_home_opened each time the person opens the tab (Home or Messages).
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    // The view as published last comes with the event: the person stays on the page they were on.
    await publishHome(deps, event.user, readMetadata(homeMetadata, event.view?.private_metadata)?.offset ?? 0);
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${HOME.page}(_previous)?$`), async ({ ack, body, action }) => {
    await ack();
    await publishHome(deps, body.user.id, readId(action.value) ?? 0);
  });

  app.action<BlockAction<ButtonAction>>(HOME.approve, async ({ ack, body, action }) => {
    await ack();
    await approveFromHome(deps, readId(action.value), body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(HOME.deny, async ({ ack, body, action }) => {
    await ack();
    await denyFromHome(deps, readId(action.value), body.user.id, body.trigger_id);
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^(${HOME.approveAsk}|${HOME.denyAsk})$`), async ({ ack, body, action }) => {
    await ack();
    await decideAskFromHome(deps, readId(action.value), body.user.id, action.action_id === HOME.approveAsk);
  });

  app.action<BlockAction<ButtonAction>>(HOME.request, async ({ ack, body }) => {
    await ack();
    await requestFromHome(deps, body.user.id, body.trigger_id);
  });

  app.action<BlockAction<ButtonAction>>(HOME.details, async ({ ack, body, action }) => {
    await ack();
    await showNamespaceDetails(deps, readId(action.value), { ...clickOf(body), triggerId: body.trigger_id });
  });

  app.action<BlockAction<ButtonAction>>(new RegExp(`^${HOME.listPage}(_previous)?$`), async ({ ack, body, action, respond }) => {
    await ack();
    const page = readMetadata(listPageValue, action.value);
    const message = page
      ? await listNamespaces(deps, body.user.id, '/platform', page.q, page.o).catch((err: unknown) => {
          deps.log.error({ err: errorMessage(err) }, 'could not list namespaces');
          return listFailed;
        })
      : listFailed;
    await respond({ response_type: 'ephemeral', replace_original: true, ...message }).catch((err: unknown) =>
      deps.log.warn({ err }, 'could not send the list'),
    );
  });
}
