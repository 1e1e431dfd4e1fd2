import type { InputBlock, ModalView, Option, PlainTextOption } from '@slack/types';
import type { Config } from '../../config.ts';
import { ACTION, BLOCK, CALLBACK, LIMITS } from '../ids.ts';
import { multilineInput, plain, truncate } from '../text.ts';

export interface ModalDefaults {
  name?: string | undefined;
  team?: string | undefined;
  environment?: string | undefined;
  cluster?: string | undefined;
  tier?: string | undefined;
}

const option = (text: string, value: string, description?: string): PlainTextOption => ({
  text: plain(truncate(text, 75)),
  value,
  ...(description ? { description: plain(truncate(description, 75)) } : {}),
});

function select(blockId: string, label: string, options: PlainTextOption[], initial: string | undefined, hint?: string) {
  const initialOption: Option | undefined = options.find((o) => o.value === initial);
  return {
    type: 'input' as const,
    block_id: blockId,
    label: plain(label),
    ...(hint ? { hint: plain(hint) } : {}),
    element: {
      type: 'static_select' as const,
      action_id: ACTION.input,
      placeholder: plain(`Choose ${label.toLowerCase()}`),
      options,
      ...(initialOption ? { initial_option: initialOption } : {}),
    },
  };
}

interface FormOptions {
  teams: PlainTextOption[];
  environments: PlainTextOption[];
  clusters: PlainTextOption[];
  tiers: PlainTextOption[];
}

/**
 * The form's choices depend on the config only, and the form opens on every command: they are
 * built once per config (the views that share them are only serialised, never changed).
 */
const optionsByConfig = new WeakMap<Config, FormOptions>();

function formOptions(config: Config): FormOptions {
  let options = optionsByConfig.get(config);
  if (!options) {
    options = {
      teams: config.teams.map((t) => option(t.displayName ?? t.name, t.name)),
      environments: Object.keys(config.environments).map((e) => option(e, e)),
      clusters: config.clusters.map((c) => option(c.displayName ?? c.name, c.name, c.environments ? `For ${c.environments.join(', ')}` : undefined)),
      tiers: Object.entries(config.tiers).map(([name, tier]) => option(name, name, tier.description)),
    };
    optionsByConfig.set(config, options);
  }
  return options;
}

/** What the namespace is for: shown to approvers and kept on it. */
function purposeBlock(initial?: string): InputBlock {
  return multilineInput({
    blockId: BLOCK.purpose,
    label: 'What is it for?',
    hint: 'Shown to approvers and kept on the namespace.',
    minLength: 3,
    maxLength: LIMITS.purpose,
    placeholder: 'e.g. Load tests for the new checkout service',
    initial,
  });
}

/** The optional end date; empty means none. */
function expiryBlock(config: Config, initial?: string): InputBlock {
  return {
    type: 'input',
    block_id: BLOCK.expiry,
    optional: true,
    label: plain('Expires on'),
    hint: plain(`For short-lived namespaces: at most ${config.namespaces.maxExpiryDays} days ahead.`),
    element: { type: 'datepicker', action_id: ACTION.input, placeholder: plain('No expiry'), ...(initial ? { initial_date: initial } : {}) },
  };
}

/** The request form opened by `/platform new-namespace`. */
export function newNamespaceModal(config: Config, defaults: ModalDefaults = {}): ModalView {
  const { teams, environments, clusters, tiers } = formOptions(config);
  const onlyOne = (options: PlainTextOption[]) => (options.length === 1 ? options[0]?.value : undefined);

  return {
    type: 'modal',
    callback_id: CALLBACK.newNamespace,
    title: plain('New namespace'),
    submit: plain('Request'),
    close: plain('Cancel'),
    blocks: [
      select(BLOCK.team, 'Team', teams, defaults.team ?? onlyOne(teams)),
      select(BLOCK.environment, 'Environment', environments, defaults.environment ?? onlyOne(environments)),
      select(BLOCK.cluster, 'Cluster', clusters, defaults.cluster ?? onlyOne(clusters)),
      select(BLOCK.tier, 'Size', tiers, defaults.tier ?? onlyOne(tiers), 'Sets the namespace quota and container defaults.'),
      {
        type: 'input',
        block_id: BLOCK.name,
        optional: true,
        label: plain('Namespace name'),
        hint: plain('Lowercase letters, digits and "-", up to 63 characters. Leave empty to use <team>-<environment>.'),
        element: {
          type: 'plain_text_input',
          action_id: ACTION.input,
          max_length: LIMITS.name,
          placeholder: plain('e.g. payments-dev'),
          ...(defaults.name ? { initial_value: truncate(defaults.name, LIMITS.name) } : {}),
        },
      },
      purposeBlock(),
      expiryBlock(config),
    ],
  };
}

/** A namespace's settings today, as the change form starts from them. */
export interface ChangeFormInput {
  namespace: string;
  /** Kept in the view's private_metadata and read back on submission. */
  privateMetadata: string;
  tier: string;
  expiresOn: string | undefined;
  purpose: string;
  /** The configured teams other than the owning one, which may get access. */
  otherTeams: readonly string[];
  edit: readonly string[];
  view: readonly string[];
}

function teamsSelect(config: Config, blockId: string, label: string, hint: string, teams: readonly string[], initial: readonly string[]): InputBlock {
  const options = formOptions(config).teams.filter((o) => teams.includes(o.value ?? ''));
  const chosen = options.filter((o) => initial.includes(o.value ?? ''));
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: plain(label),
    hint: plain(hint),
    element: {
      type: 'multi_static_select',
      action_id: ACTION.input,
      placeholder: plain('No team'),
      options,
      ...(chosen.length > 0 ? { initial_options: chosen } : {}),
    },
  };
}

/**
 * The request form as `/platform change` and *Change* on Home open it: the same size, purpose and
 * end date questions, prefilled with today's values, and other teams' access instead of team,
 * environment, cluster and name (which a namespace keeps).
 */
export function changeNamespaceModal(config: Config, input: ChangeFormInput): ModalView {
  const { tiers } = formOptions(config);
  const access =
    input.otherTeams.length === 0
      ? []
      : [
          teamsSelect(config, BLOCK.accessEdit, 'Same access for other teams', 'Their group gets the role your team has in it.', input.otherTeams, input.edit),
          teamsSelect(
            config,
            BLOCK.accessView,
            'Read-only access for other teams',
            'Their group may look (the view role), not change.',
            input.otherTeams,
            input.view,
          ),
        ];
  return {
    type: 'modal',
    callback_id: CALLBACK.changeNamespace,
    private_metadata: input.privateMetadata,
    title: plain(truncate(`Change ${input.namespace}`, 24)),
    submit: plain('Change'),
    close: plain('Cancel'),
    blocks: [
      select(BLOCK.tier, 'Size', tiers, input.tier, 'Sets the namespace quota and container defaults.'),
      purposeBlock(input.purpose),
      expiryBlock(config, input.expiresOn),
      ...access,
    ],
  };
}

/** Asks an approver why a request is denied; the reason reaches the requester. */
export function denyReasonModal(requestRef: string, privateMetadata: string): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK.denyReason,
    private_metadata: privateMetadata,
    title: plain(truncate(`Deny ${requestRef}`, 24)),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      multilineInput({
        blockId: BLOCK.denyReason,
        label: 'Why? The requester will see this.',
        minLength: 3,
        maxLength: LIMITS.denyReason,
        placeholder: 'e.g. Please use the shared staging namespace for this',
      }),
    ],
  };
}
